#include "tools/cli/oracle/qemu_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ptsim::oracle {
namespace {

std::string Errno(const char* what) { return absl::StrFormat("%s: %s", what, std::strerror(errno)); }

}  // namespace

absl::StatusOr<std::string> FindOnPath(const std::string& binary) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    const std::string full = absl::StrFormat("%s/%s", dir, binary);
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return absl::NotFoundError(absl::StrFormat("%s is not installed (not found on PATH); install the Debian QEMU "
                                             "packages with tools/bootstrap.sh",
                                             binary));
}

absl::StatusOr<std::unique_ptr<QemuProcess>> QemuProcess::Start(const QemuLaunch& l) {
  auto path = FindOnPath(l.binary);
  if (!path.ok()) return path.status();
  std::unique_ptr<QemuProcess> q(new QemuProcess());
  q->launch_ = l;

  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrFormat("%s/ptsim-qemu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(templ.data()) == nullptr) return absl::InternalError(Errno("mkdtemp"));
  q->dir_ = templ;
  q->ram_path_ = q->dir_ + "/ram";
  q->log_path_ = q->dir_ + "/qemu.log";

  const int fd = open(q->ram_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(Errno("creating the guest RAM file"));
  if (ftruncate(fd, static_cast<off_t>(l.ram_size)) != 0) {
    close(fd);
    return absl::InternalError(Errno("sizing the guest RAM file"));
  }
  void* p = mmap(nullptr, l.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return absl::InternalError(Errno("mapping the guest RAM file"));
  q->ram_ = static_cast<uint8_t*>(p);

  // A port picked here may be taken before QEMU binds it: try again.
  absl::Status last = absl::UnavailableError("could not pick two distinct loopback ports for QEMU");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto gdb_port = PickFreePort();
    auto qmp_port = PickFreePort();
    if (!gdb_port.ok()) return gdb_port.status();
    if (!qmp_port.ok()) return qmp_port.status();
    if (*gdb_port == *qmp_port) continue;
    last = q->Launch(*path, *gdb_port, *qmp_port);
    if (last.ok()) {
      // QEMU has mapped the file; nothing else needs its name.
      unlink(q->ram_path_.c_str());
      return q;
    }
    q->Kill();
    if (q->LogTail().find("ddress already in use") == std::string::npos) break;
  }
  return last;
}

absl::Status QemuProcess::Launch(const std::string& path, uint16_t gdb_port, uint16_t qmp_port) {
  std::vector<std::string> argv = {path, "-S", "-nodefaults", "-no-user-config", "-display", "none",
                                   "-machine", launch_.machine + ",memory-backend=ptsim-ram"};
  argv.insert(argv.end(), launch_.args.begin(), launch_.args.end());
  const std::vector<std::string> rest = {
      "-object",
      absl::StrFormat("memory-backend-file,id=ptsim-ram,size=%d,mem-path=%s,share=on", launch_.ram_size, ram_path_),
      "-m", absl::StrFormat("%dM", launch_.ram_size >> 20),
      "-gdb", absl::StrFormat("tcp:127.0.0.1:%d", gdb_port),
      "-qmp", absl::StrFormat("tcp:127.0.0.1:%d,server=on,wait=off,nodelay=on", qmp_port),
      "-serial", "none", "-monitor", "none"};
  argv.insert(argv.end(), rest.begin(), rest.end());
  command_line_ = absl::StrJoin(argv, " ");

  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(Errno("fork"));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int devnull = open("/dev/null", O_RDONLY);
    const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (devnull >= 0) dup2(devnull, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  pid_ = pid;

  const auto deadline = Clock::now() + launch_.timeout;
  auto fail = [&](const absl::Status& st) {
    return absl::UnavailableError(absl::StrFormat("starting QEMU (%s): %s%s", command_line_, st.message(),
                                                  LogTail().empty() ? "" : "; QEMU said: " + LogTail()));
  };
  auto qmp_conn = LoopbackConn::Connect(qmp_port, deadline, launch_.timeout);
  if (!qmp_conn.ok()) return fail(qmp_conn.status());
  qmp_.emplace(std::move(*qmp_conn));
  if (auto st = qmp_->Handshake(); !st.ok()) return fail(st);
  auto gdb_conn = LoopbackConn::Connect(gdb_port, deadline, launch_.timeout);
  if (!gdb_conn.ok()) return fail(gdb_conn.status());
  gdb_.emplace(std::move(*gdb_conn));
  if (auto st = gdb_->Handshake(); !st.ok()) return fail(st);
  return absl::OkStatus();
}

std::string QemuProcess::LogTail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s.size() > 600 ? s.substr(s.size() - 600) : s;
}

void QemuProcess::Kill() {
  gdb_.reset();
  qmp_.reset();
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
}

QemuProcess::~QemuProcess() {
  Kill();
  if (ram_ != nullptr) munmap(ram_, launch_.ram_size);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace ptsim::oracle
