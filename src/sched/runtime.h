// What concurrent operations see of the machine that runs them: which
// simulated CPU they are, scheduling points, and blocking waits.
//
// Two runtimes implement it (DESIGN.md §7): the deterministic Scheduler
// (sched/scheduler.h), where simulated CPUs run one at a time and the input
// bytes choose who runs next, and ThreadRuntime (sched/thread_runtime.h),
// where they are real threads. Operations and primitives are written once
// against this interface, so the code that is fuzzed is the code that is
// stress-tested under ThreadSanitizer.
#ifndef PTSIM_SCHED_RUNTIME_H_
#define PTSIM_SCHED_RUNTIME_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"

namespace ptsim {

inline constexpr int kMaxCpus = 4;

// Every place where another CPU may be scheduled in.
enum class PointKind : uint8_t {
  kLoad,          // a table entry read
  kStore,         // a table entry write
  kCas,           // a table entry compare-and-swap
  kLock,          // a lock attempt
  kUnlock,
  kRcuEnter,
  kRcuExit,
  kIrqOff,
  kIrqOn,
  kShootdownSend,
  kShootdownAck,  // a target CPU's TLB flushed for a shootdown
  kRef,           // a frame reference, map or pin count change
  kAlloc,         // a table allocated
  kFree,          // a table freed (or queued for freeing)
  kOpBegin,
  kOpEnd,
};
inline constexpr int kPointKinds = 16;
const char* PointKindName(PointKind k);

// What a blocked CPU waits for, for deadlock reports.
enum class WaitKind : uint8_t { kNone, kLock, kShootdownAck, kGracePeriod };
const char* WaitKindName(WaitKind k);

struct WaitDesc {
  WaitKind kind = WaitKind::kNone;
  uint64_t object = 0;  // lock id, target CPU, grace-period number
  std::string ToString() const;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual int ncpus() const = 0;
  // The simulated CPU this code runs on.
  virtual int current() const = 0;
  // A scheduling point: another CPU may run before this returns.
  virtual void Point(PointKind kind, uint64_t object) = 0;
  // Returns once `ready()` holds. Never spins forever: the deterministic
  // runtime reports a deadlock when no CPU can run, the threaded one gives
  // up after its time budget; both then abandon the run (see SimAbort).
  virtual void WaitUntil(const WaitDesc& what, absl::FunctionRef<bool()> ready) = 0;
  // A monotonically increasing count of scheduling points: the time axis of
  // the per-address history. Exact in the deterministic runtime.
  virtual uint64_t Now() const = 0;
  // True when one CPU runs at a time (oracles that need an exact global
  // order, such as the per-address history, only run then).
  virtual bool deterministic() const = 0;
};

// Thrown by a runtime to unwind a simulated CPU when the run is abandoned
// (a finding, a deadlock, the step budget). It is the only exception in
// src/: it never crosses a public API, because the runtime that throws it
// also catches it at the top of each simulated CPU. Unwinding is what lets a
// CPU blocked deep inside an operation stop without a check at every call.
struct SimAbort {};

}  // namespace ptsim

#endif  // PTSIM_SCHED_RUNTIME_H_
