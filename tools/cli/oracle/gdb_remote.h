// A minimal client for the GDB remote serial protocol, as QEMU's gdb stub
// speaks it (GDB manual, appendix "Remote Serial Protocol": "Overview"
// for packet framing, checksums, acknowledgments, escaping and run-length
// encoding; "Packets" for 'p'/'P'; "General Query Packets" for
// qSupported, QStartNoAckMode and qXfer:features:read; "Target
// Descriptions" for the XML that numbers the registers).
//
// Only what the oracle needs: read and write registers by name, with the
// numbering taken from the target's own description, and single-step the
// guest ('s', "Packets"; the stop reply is "Stop Reply Packets").
#ifndef PTSIM_TOOLS_CLI_ORACLE_GDB_REMOTE_H_
#define PTSIM_TOOLS_CLI_ORACLE_GDB_REMOTE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/oracle/net.h"

namespace ptsim::oracle {

class GdbRemote {
 public:
  explicit GdbRemote(LoopbackConn conn) : conn_(std::move(conn)) {}

  // qSupported, no-ack mode, and the register map from target.xml and
  // everything it includes.
  absl::Status Handshake();

  // One request, one reply (the payload, unescaped and expanded).
  absl::StatusOr<std::string> Request(std::string_view payload);

  bool HasRegister(std::string_view name) const { return regs_.count(std::string(name)) != 0; }
  // Registers are little-endian in QEMU's targets; the value's width is
  // whatever the stub sends for the register now (x86 control registers
  // are 4 or 8 bytes depending on the CPU mode).
  absl::StatusOr<uint64_t> ReadRegister(std::string_view name);
  absl::Status WriteRegister(std::string_view name, uint64_t value);
  // Executes one guest instruction and waits for the stop reply.
  absl::Status Step();

 private:
  absl::StatusOr<std::string> ReadPacket();
  absl::StatusOr<std::string> ReadFeature(const std::string& annex);
  absl::Status AddRegisters(const std::string& annex, int depth, int* next_regnum);
  absl::StatusOr<int> RegNum(std::string_view name) const;

  LoopbackConn conn_;
  std::string buf_;  // received, not yet consumed
  bool ack_ = true;
  std::map<std::string, int, std::less<>> regs_;
};

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_GDB_REMOTE_H_
