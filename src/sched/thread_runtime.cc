#include "src/sched/thread_runtime.h"

#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace ptsim {
namespace {
thread_local int tls_cpu = -1;
}  // namespace

ThreadRuntime::ThreadRuntime(int ncpus, std::chrono::milliseconds wait_budget)
    : ncpus_(ncpus), wait_budget_(wait_budget) {
  PTSIM_CHECK(ncpus >= 1 && ncpus <= kMaxCpus, "%d CPUs", ncpus);
}

int ThreadRuntime::current() const { return tls_cpu; }

std::string ThreadRuntime::message() const {
  std::lock_guard<std::mutex> lk(mu_);
  return message_;
}

void ThreadRuntime::Abandon(std::string message) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!abandoned_.load(std::memory_order_relaxed)) message_ = std::move(message);
  }
  abandoned_.store(true, std::memory_order_release);
  throw SimAbort{};
}

void ThreadRuntime::Point(PointKind, uint64_t) {
  // Relaxed: the count only spaces out the yields below.
  const uint64_t n = points_.fetch_add(1, std::memory_order_relaxed);
  if ((n & 31) == 0) std::this_thread::yield();
}

void ThreadRuntime::WaitUntil(const WaitDesc& what, absl::FunctionRef<bool()> ready) {
  const auto deadline = std::chrono::steady_clock::now() + wait_budget_;
  while (!ready()) {
    if (abandoned() && std::uncaught_exceptions() == 0) throw SimAbort{};
    if (std::chrono::steady_clock::now() > deadline) {
      Abandon(absl::StrFormat("cpu%d waited more than %d ms for %s", tls_cpu, wait_budget_.count(),
                              what.ToString()));
    }
    std::this_thread::yield();
  }
}

void ThreadRuntime::Run(const std::function<void(int cpu)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(ncpus_);
  for (int c = 0; c < ncpus_; ++c) {
    threads.emplace_back([c, &body] {
      tls_cpu = c;
      try {
        body(c);
      } catch (const SimAbort&) {
      }
      tls_cpu = -1;
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace ptsim
