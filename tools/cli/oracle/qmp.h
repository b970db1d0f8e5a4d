// A minimal QMP client (QEMU's JSON machine protocol, docs/interop/qmp-spec
// in QEMU's sources: greeting, capabilities negotiation, one JSON object
// per line, asynchronous events interleaved with replies). The oracle uses
// only human-monitor-command, which runs an HMP command (gva2gpa, info mem)
// and returns its text.
#ifndef PTSIM_TOOLS_CLI_ORACLE_QMP_H_
#define PTSIM_TOOLS_CLI_ORACLE_QMP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/oracle/net.h"

namespace ptsim::oracle {

class Qmp {
 public:
  explicit Qmp(LoopbackConn conn) : conn_(std::move(conn)) {}

  // Reads the greeting and leaves capabilities-negotiation mode.
  absl::Status Handshake();
  // Runs HMP commands, pipelined (all sent, then all replies read in
  // order); returns each command's text output.
  absl::StatusOr<std::vector<std::string>> Hmp(const std::vector<std::string>& commands);
  absl::StatusOr<std::string> Hmp(const std::string& command);

 private:
  // The next line that is not an event.
  absl::StatusOr<std::string> ReadReply();

  LoopbackConn conn_;
  std::string buf_;
};

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_QMP_H_
