#include "tools/cli/campaign_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli/common.h"

extern char** environ;

namespace ptsim::cli::campaign {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void OnInterrupt(int) { g_interrupted = 1; }

std::string KeyOf(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log,
                            const std::vector<std::string>& env, const std::string& err_log) {
  // The child's environment: ours, with `env` replacing what it names.
  absl::flat_hash_set<std::string> overridden;
  for (const std::string& kv : env) overridden.insert(KeyOf(kv));
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden.contains(KeyOf(*e))) envs.emplace_back(*e);
  }
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> envp, args;
  for (std::string& s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (std::string& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (err_log.empty()) {
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  // Its own process group, so the terminal's SIGINT reaches only ptsim, which
  // then stops every group it started; default signal handling in the child.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return absl::InternalError(absl::StrFormat("cannot start %s: %s", argv[0], std::strerror(err)));
  return pid;
}

void SignalGroup(pid_t pid, int sig) {
  if (pid <= 0) return;
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  if (r < 0) return 127;  // not our child any more: nothing to wait for
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return std::nullopt;
}

absl::StatusOr<int> RunWithTimeout(const std::vector<std::string>& argv, const std::string& log, double timeout,
                                   double grace, bool* timed_out, const std::vector<std::string>& env,
                                   const std::string& err_log) {
  *timed_out = false;
  auto pid = Spawn(argv, log, env, err_log);
  if (!pid.ok()) return pid.status();
  const double start = Now();
  bool killed = false;
  for (;;) {
    if (std::optional<int> rc = TryReap(*pid)) return *rc;
    const double t = Now() - start;
    if (!*timed_out && (t > timeout || Interrupted())) {
      *timed_out = true;
      SignalGroup(*pid, SIGTERM);
    } else if (*timed_out && !killed && t > timeout + grace) {
      killed = true;
      SignalGroup(*pid, SIGKILL);
    }
    SleepSeconds(0.02);
  }
}

double Now() {
  static const auto t0 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void SleepSeconds(double s) {
  timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  ::nanosleep(&ts, nullptr);
}

void CatchInterrupts() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleep ends at once
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted != 0; }

std::string ShellJoin(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ", [](std::string* out, const std::string& a) { out->append(ShellQuote(a)); });
}

}  // namespace ptsim::cli::campaign
