// A TCP connection to 127.0.0.1 with a deadline on every read and write, so
// a QEMU that hangs or dies turns into an error, never into a hung ptsim.
// Loopback only: the oracle never talks to another machine.
#ifndef PTSIM_TOOLS_CLI_ORACLE_NET_H_
#define PTSIM_TOOLS_CLI_ORACLE_NET_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ptsim::oracle {

using Clock = std::chrono::steady_clock;

class LoopbackConn {
 public:
  LoopbackConn() = default;
  LoopbackConn(const LoopbackConn&) = delete;
  LoopbackConn& operator=(const LoopbackConn&) = delete;
  LoopbackConn(LoopbackConn&& o) noexcept : fd_(o.fd_), timeout_(o.timeout_) { o.fd_ = -1; }
  LoopbackConn& operator=(LoopbackConn&& o) noexcept;
  ~LoopbackConn();

  // Connects to 127.0.0.1:port, retrying refused connections until
  // `deadline` (QEMU opens its sockets a little after it starts).
  static absl::StatusOr<LoopbackConn> Connect(uint16_t port, Clock::time_point deadline,
                                              std::chrono::milliseconds io_timeout);

  absl::Status SendAll(std::string_view bytes);
  // Appends at least one byte to *out; fails on timeout or end of stream.
  absl::Status RecvSome(std::string* out);

 private:
  int fd_ = -1;
  std::chrono::milliseconds timeout_{10000};
};

// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it,
// close). Another process may take it before QEMU binds it; callers retry.
absl::StatusOr<uint16_t> PickFreePort();

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_NET_H_
