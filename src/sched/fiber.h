// Fibers: several call stacks on one OS thread, switched explicitly. The
// deterministic scheduler (sched/scheduler.h) runs each simulated CPU on
// one, so a context switch is a jump (Boost.Context's fcontext: saves the
// callee-saved registers and swaps the stack pointer) instead of waking
// another OS thread and waiting for the kernel to run it.
//
// The sanitizers are told about every switch, so they stay exact:
//   * ASan keeps per-stack state: the bounds it unpoisons when an exception
//     is thrown, and the fake stack of use-after-return detection.
//     __sanitizer_start_switch_fiber goes before each jump and
//     __sanitizer_finish_switch_fiber after it, on the stack jumped to.
//   * TSan keeps a shadow call stack and a vector clock per thread: each
//     fiber is a TSan fiber (__tsan_create_fiber), and every switch orders
//     what came before it before what comes after (flag 0), which is true:
//     the fibers run one after another. That is the order the baton's mutex
//     used to give the threads, so TSan reports what it reported before.
//
// Stacks: one anonymous mapping holds every fiber's stack, each with a
// PROT_NONE guard page below it, so an overflow faults instead of writing
// into the next stack. Pages are committed as they are touched, and the
// mapping goes when the FiberSet does.
//
// Rules for code that runs on a fiber: it ends with Exit, never by
// returning from its entry function (a fiber has no caller to return to);
// no exception may leave the entry function (it is noexcept); and no
// std::mutex may be held across a switch (one OS thread: the next fiber
// that locks it deadlocks).
#ifndef PTSIM_SCHED_FIBER_H_
#define PTSIM_SCHED_FIBER_H_

#include <array>
#include <cstddef>

#include "boost/context/detail/fcontext.hpp"
#include "src/sched/runtime.h"

namespace ptsim {

class FiberSet {
 public:
  // The thread's own stack, where Run was called.
  static constexpr int kMain = -1;
  // Per fiber. The deepest path, a finding reported from the failing CPU,
  // touched 16 KiB of it under ASan (8 KiB in release builds); untouched
  // pages cost nothing.
  static constexpr size_t kStackBytes = size_t{1} << 20;
  // What a fiber runs: entry(arg, fiber), which must end with Exit.
  using Entry = void (*)(void* arg, int fiber) noexcept;

  FiberSet(int n, Entry entry, void* arg);
  FiberSet(const FiberSet&) = delete;
  FiberSet& operator=(const FiberSet&) = delete;
  // On the thread's own stack. Every fiber that started must have exited:
  // one still suspended has frames whose destructors never ran.
  ~FiberSet();

  // From the thread's own stack: starts fiber `first`, returns when a
  // fiber exits to kMain.
  void Run(int first);
  // From fiber `self`: runs fiber `to` (started or not) and returns when
  // another fiber switches back to `self`.
  void Switch(int self, int to);
  // From fiber `self`, for good: runs `to` (a fiber or kMain); `self`'s
  // stack is never used again. Nothing with a destructor may be alive on
  // it.
  [[noreturn]] void Exit(int self, int to);

 private:
  struct Slot {
    void* ctx = nullptr;         // where the fiber stopped (fcontext_t)
    char* stack_lo = nullptr;    // lowest address of its stack
    size_t stack_size = 0;
    void* asan_fake_stack = nullptr;
    void* tsan_fiber = nullptr;
    bool started = false;
    bool exited = false;
  };
  Slot& slot(int f) { return f == kMain ? main_ : fibers_[f]; }
  // Jumps from `self` to `to`; returns when someone jumps back to `self`
  // (never when `exiting`).
  void Jump(int self, int to, bool exiting);
  // First thing on a stack after a jump lands on it.
  void Landed(void* from_ctx, int self);
  static void Trampoline(boost::context::detail::transfer_t t);

  const int n_;
  const Entry entry_;
  void* const arg_;
  char* map_ = nullptr;
  size_t map_bytes_ = 0;
  std::array<Slot, kMaxCpus> fibers_{};
  Slot main_;
  int jumper_ = kMain;   // the stack the last jump left
  int landing_ = kMain;  // the stack the last jump went to
};

}  // namespace ptsim

#endif  // PTSIM_SCHED_FIBER_H_
