#include "tools/cli/oracle/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_format.h"

namespace ptsim::oracle {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Waits for `events` on fd for at most `timeout`; false on timeout.
absl::StatusOr<bool> WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return absl::InternalError(absl::StrFormat("poll: %s", std::strerror(errno)));
  }
}

}  // namespace

LoopbackConn& LoopbackConn::operator=(LoopbackConn&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    timeout_ = o.timeout_;
    o.fd_ = -1;
  }
  return *this;
}

LoopbackConn::~LoopbackConn() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<LoopbackConn> LoopbackConn::Connect(uint16_t port, Clock::time_point deadline,
                                                   std::chrono::milliseconds io_timeout) {
  for (;;) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrFormat("socket: %s", std::strerror(errno)));
    const sockaddr_in a = Loopback(port);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
      const int one = 1;
      // Small request/response packets: do not wait to coalesce them.
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      LoopbackConn c;
      c.fd_ = fd;
      c.timeout_ = io_timeout;
      return c;
    }
    const int err = errno;
    close(fd);
    if (err != ECONNREFUSED || Clock::now() >= deadline) {
      return absl::UnavailableError(absl::StrFormat("cannot connect to 127.0.0.1:%d: %s", port, std::strerror(err)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::Status LoopbackConn::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    auto ready = WaitFor(fd_, POLLOUT, timeout_);
    if (!ready.ok()) return ready.status();
    if (!*ready) return absl::DeadlineExceededError(absl::StrFormat("send timed out after %d ms", timeout_.count()));
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(absl::StrFormat("send: %s", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status LoopbackConn::RecvSome(std::string* out) {
  for (;;) {
    auto ready = WaitFor(fd_, POLLIN, timeout_);
    if (!ready.ok()) return ready.status();
    if (!*ready) return absl::DeadlineExceededError(absl::StrFormat("no answer within %d ms", timeout_.count()));
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError("connection closed by QEMU");
    if (errno != EINTR && errno != EAGAIN) return absl::UnavailableError(absl::StrFormat("recv: %s", std::strerror(errno)));
  }
}

absl::StatusOr<uint16_t> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrFormat("socket: %s", std::strerror(errno)));
  sockaddr_in a = Loopback(0);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrFormat("cannot pick a loopback port: %s", std::strerror(err)));
  }
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace ptsim::oracle
