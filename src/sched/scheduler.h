// The deterministic scheduler: simulated CPUs run one at a time, and the
// next CPU is read from the program's schedule bytes (the "tape").
//
// Each simulated CPU is a fiber (sched/fiber.h): its own stack, on the one
// OS thread that called Run, so exactly one runs at a time by construction
// and a context switch is a jump. The first version gave each CPU an OS
// thread and passed a baton (a mutex, a condition variable, the id of the
// CPU allowed to run), which kept sanitizers and debuggers working with no
// help; but every switch then waited for the kernel to wake the next
// thread, and every run created a thread per CPU, which on a loaded machine
// left the fuzzer idle for a fifth of its time. Fibers cost the sanitizer
// annotations in fiber.cc, and a debugger shows only the running CPU's
// stack. Real threads remain where they are the point: ThreadRuntime, for
// `ptsim stress` under ThreadSanitizer.
//
// Tape encoding: one byte per scheduling decision, not per scheduling
// point. A byte names a CPU and how long it runs:
//   bits 1:0  the CPU (modulo the CPU count; when that CPU cannot run, the
//             next one that can, counting upwards and wrapping);
//   bits 7:2  k, the run length in scheduling points (RunLength): k + 1 for
//             k < 32, then 40 to 224 in steps of 8, then 256 to 16384
//             doubling, and k = 63 for "until it finishes or blocks".
// The next byte is read when the running CPU's run length is used up, when
// it blocks, or when it finishes, and only when more than one CPU could
// run: a lone CPU keeps running without using the tape. When the tape runs
// out the current CPU runs until it finishes or blocks, then the
// lowest-numbered runnable CPU: every run terminates.
//
// Why decisions rather than points (docs/architecture.md, "The schedule
// tape"): the interleavings that matter are a CPU stopped at one precise
// point while another runs a whole operation. With a byte per point, a
// random tape switches every few points and almost never leaves one CPU
// alone for the 50 or 100 points an operation takes; with a byte per
// decision, that is one byte, and a mutation of one byte moves one
// preemption.
//
// A CPU that must wait (a held lock, an unacknowledged shootdown, a grace
// period) is not runnable until its condition holds. If no CPU can run, the
// run ends as a deadlock with every CPU's wait state; a run that exceeds its
// step budget ends as a livelock. Neither is ever waited out.
//
// An abandoned run (a finding, a deadlock, a livelock) unwinds every CPU:
// SimAbort is thrown on the CPU that ends it and caught at the bottom of
// its fiber; then each other CPU in turn is switched to and throws SimAbort
// from the scheduling point it stopped at, so the destructors on every
// stack run, one CPU at a time. No exception crosses from one fiber to
// another, and none is in flight at a switch (scheduling points reached
// while unwinding return at once), so the one thread's exception state is
// only ever the running CPU's.
//
// Same binary + same program + same tape => same trace, same hash.
#ifndef PTSIM_SCHED_SCHEDULER_H_
#define PTSIM_SCHED_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "src/base/hash.h"
#include "src/sched/runtime.h"

namespace ptsim {

class FiberSet;

struct TraceEvent {
  uint8_t cpu = 0;
  PointKind kind = PointKind::kLoad;
  uint64_t object = 0;
};

// A scheduling decision taken where more than one CPU could run: the tape
// byte it read (-1 once the tape had run out) and the CPU it chose. Kept
// with the trace; the custom mutator replays a run's decisions to put a
// preemption at an exact point (harness/race_mutator.h).
struct Decision {
  uint64_t step = 0;  // scheduling points completed when it was taken
  int byte = -1;
  int cpu = -1;
};

enum class RunEnd : uint8_t { kCompleted, kFinding, kDeadlock, kLivelock };
const char* RunEndName(RunEnd e);

// The number of scheduling points a tape byte with run field k (0..63)
// grants; kRunForever for k = 63.
inline constexpr uint64_t kRunForever = ~uint64_t{0};
uint64_t RunLength(unsigned k);
// The byte for CPU `cpu` (0..3) and the run field k (0..63).
inline constexpr uint8_t TapeByte(unsigned cpu, unsigned k) { return static_cast<uint8_t>((k << 2) | (cpu & 3)); }
// The run field that grants exactly `points`, or -1 when no field does.
int RunFieldFor(uint64_t points);

struct SchedOptions {
  uint64_t step_budget = 1'000'000;
  bool keep_trace = true;  // keep every event (repro); the hash is always kept
};

class Scheduler final : public Runtime {
 public:
  Scheduler(int ncpus, absl::Span<const uint8_t> tape, SchedOptions opt = {});
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs body(cpu) for every CPU until all have returned or the run is
  // abandoned. Call once.
  void Run(const std::function<void(int cpu)>& body);

  // Ends the run with a finding, from the running CPU. Throws SimAbort.
  [[noreturn]] void Abandon(RunEnd why, std::string message);

  // Called at every context switch with the event the old CPU just did and
  // the one the new CPU is about to do: interleaving coverage.
  void set_on_switch(std::function<void(const TraceEvent&, const TraceEvent&)> f) { on_switch_ = std::move(f); }

  int ncpus() const override { return ncpus_; }
  int current() const override;
  void Point(PointKind kind, uint64_t object) override;
  void WaitUntil(const WaitDesc& what, absl::FunctionRef<bool()> ready) override;
  uint64_t Now() const override { return steps_; }
  bool deterministic() const override { return true; }

  RunEnd end() const { return end_; }
  const std::string& message() const { return message_; }
  uint64_t trace_hash() const { return hash_.value(); }
  const std::vector<TraceEvent>& trace() const { return trace_; }
  // Kept with the trace (SchedOptions::keep_trace).
  const std::vector<Decision>& decisions() const { return decisions_; }
  uint64_t steps() const { return steps_; }
  uint64_t switches() const { return switches_; }
  size_t tape_used() const { return tape_pos_; }
  // "cpu1 waits for lock 0x..." per blocked CPU: the state at a deadlock.
  std::string WaitStates() const;

 private:
  struct Cpu {
    bool finished = false;
    WaitDesc wait;                                // kind kNone when runnable
    absl::FunctionRef<bool()>* ready = nullptr;  // set while waiting
    TraceEvent last;
  };

  bool Runnable(int c) const;
  // The CPU to run next, `self` included when it is runnable.
  int Choose(int self, bool may_stay);
  // Runs `next` and returns when it is `self`'s turn again.
  void SwitchTo(int self, int next);
  void Record(int cpu, PointKind kind, uint64_t object);
  // The bottom of CPU `cpu`'s fiber: its body, then the hand-off.
  static void CpuMain(void* scheduler, int cpu) noexcept;
  // Marks `self` finished; returns the CPU to run next, -1 when none is left.
  int Finish(int self);
  bool Unwinding() const;

  const int ncpus_;
  const std::vector<uint8_t> tape_;  // a copy: callers pass temporaries
  SchedOptions opt_;
  size_t tape_pos_ = 0;
  uint64_t quantum_ = 0;  // points the running CPU may still run; kRunForever

  // Set during Run. Only the running CPU's fiber touches the scheduler, so
  // nothing here needs a lock.
  FiberSet* fibers_ = nullptr;
  const std::function<void(int cpu)>* body_ = nullptr;
  int running_ = -1;
  std::array<Cpu, kMaxCpus> cpus_{};

  uint64_t steps_ = 0;
  uint64_t switches_ = 0;
  Fnv1a64 hash_;
  std::vector<TraceEvent> trace_;
  std::vector<Decision> decisions_;
  RunEnd end_ = RunEnd::kCompleted;
  std::string message_;
  bool aborted_ = false;
  std::function<void(const TraceEvent&, const TraceEvent&)> on_switch_;
};

}  // namespace ptsim

#endif  // PTSIM_SCHED_SCHEDULER_H_
