// The same operations on real threads (DESIGN.md §7): real atomics, real
// spinning, real preemption by the OS. Scheduling points cost nothing but an
// occasional yield that widens race windows; waits spin with a time budget,
// after which the run is abandoned as stuck rather than hung.
//
// Time is read here, and only here: a stress run is bounded by seconds, not
// by input bytes, and is not expected to be deterministic.
#ifndef PTSIM_SCHED_THREAD_RUNTIME_H_
#define PTSIM_SCHED_THREAD_RUNTIME_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "src/sched/runtime.h"

namespace ptsim {

class ThreadRuntime final : public Runtime {
 public:
  ThreadRuntime(int ncpus, std::chrono::milliseconds wait_budget);

  // Runs body(cpu) on `ncpus` threads at once and joins them.
  void Run(const std::function<void(int cpu)>& body);
  // Ends the run from any thread with a finding; throws SimAbort.
  [[noreturn]] void Abandon(std::string message);
  bool abandoned() const { return abandoned_.load(std::memory_order_acquire); }
  std::string message() const;

  int ncpus() const override { return ncpus_; }
  int current() const override;
  void Point(PointKind kind, uint64_t object) override;
  void WaitUntil(const WaitDesc& what, absl::FunctionRef<bool()> ready) override;
  uint64_t Now() const override { return points_.load(std::memory_order_relaxed); }
  bool deterministic() const override { return false; }

 private:
  const int ncpus_;
  const std::chrono::milliseconds wait_budget_;
  std::atomic<uint64_t> points_{0};
  std::atomic<bool> abandoned_{false};
  mutable std::mutex mu_;
  std::string message_;
};

}  // namespace ptsim

#endif  // PTSIM_SCHED_THREAD_RUNTIME_H_
