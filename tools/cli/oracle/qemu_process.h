// One paused QEMU (-S) whose guest RAM is a file ptsim maps too, driven
// over loopback: its gdb stub for registers, QMP for monitor commands.
//
// Memory: `-object memory-backend-file,share=on` makes guest RAM a shared
// mapping of a file ptsim creates, so writing a page-table image into
// guest memory is a memcpy, not thousands of gdb packets. QEMU's walkers
// read guest RAM directly, so what ptsim writes is what they see.
//
// Lifetime: the destructor kills QEMU (SIGKILL) and reaps it; the child
// also gets PR_SET_PDEATHSIG, so it dies with ptsim even if ptsim is
// killed. Every socket read has a timeout.
#ifndef PTSIM_TOOLS_CLI_ORACLE_QEMU_PROCESS_H_
#define PTSIM_TOOLS_CLI_ORACLE_QEMU_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/oracle/gdb_remote.h"
#include "tools/cli/oracle/qmp.h"

namespace ptsim::oracle {

struct QemuLaunch {
  std::string binary;             // "qemu-system-x86_64"; searched on PATH
  std::vector<std::string> args;  // machine and CPU options; not -m, -gdb, -qmp
  std::string machine;            // "-machine" value, memory-backend is appended
  uint64_t ram_base = 0;          // guest physical address where RAM starts
  uint64_t ram_size = 0;
  std::chrono::milliseconds timeout{10000};  // start-up and every reply
};

// The full path of `binary` on PATH, or NotFound naming it.
absl::StatusOr<std::string> FindOnPath(const std::string& binary);

class QemuProcess {
 public:
  static absl::StatusOr<std::unique_ptr<QemuProcess>> Start(const QemuLaunch& l);
  ~QemuProcess();
  QemuProcess(const QemuProcess&) = delete;
  QemuProcess& operator=(const QemuProcess&) = delete;

  GdbRemote& gdb() { return *gdb_; }
  Qmp& qmp() { return *qmp_; }
  // Host view of guest physical [ram_base, ram_base + ram_size).
  uint8_t* ram() { return ram_; }
  uint64_t ram_base() const { return launch_.ram_base; }
  uint64_t ram_size() const { return launch_.ram_size; }
  const std::string& command_line() const { return command_line_; }

 private:
  QemuProcess() = default;
  absl::Status Launch(const std::string& path, uint16_t gdb_port, uint16_t qmp_port);
  // QEMU's own messages, for error reports.
  std::string LogTail() const;
  void Kill();

  QemuLaunch launch_;
  std::string dir_;       // private temporary directory
  std::string ram_path_;
  std::string log_path_;
  std::string command_line_;
  pid_t pid_ = -1;
  uint8_t* ram_ = nullptr;
  std::optional<GdbRemote> gdb_;
  std::optional<Qmp> qmp_;
};

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_QEMU_PROCESS_H_
