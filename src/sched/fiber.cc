#include "src/sched/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "src/base/check.h"

// Which sanitizer is on: clang says so through __has_feature, GCC through
// macros.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PTSIM_FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define PTSIM_FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PTSIM_FIBER_ASAN)
#define PTSIM_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(PTSIM_FIBER_TSAN)
#define PTSIM_FIBER_TSAN 1
#endif

#if PTSIM_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if PTSIM_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace ptsim {
namespace bctx = boost::context::detail;

FiberSet::FiberSet(int n, Entry entry, void* arg) : n_(n), entry_(entry), arg_(arg) {
  PTSIM_CHECK(n >= 1 && n <= kMaxCpus, "%d fibers", n);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t per_fiber = page + kStackBytes;  // guard page, then the stack above it
  map_bytes_ = per_fiber * static_cast<size_t>(n);
  void* m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  PTSIM_CHECK(m != MAP_FAILED, "mmap of %d bytes of fiber stacks: %s", map_bytes_, std::strerror(errno));
  map_ = static_cast<char*>(m);
  for (int f = 0; f < n; ++f) {
    char* guard = map_ + per_fiber * static_cast<size_t>(f);
    PTSIM_CHECK(mprotect(guard, page, PROT_NONE) == 0, "mprotect of a guard page: %s", std::strerror(errno));
    Slot& s = fibers_[f];
    s.stack_lo = guard + page;
    s.stack_size = kStackBytes;
    // make_fcontext takes the top of the stack: it grows down.
    s.ctx = bctx::make_fcontext(s.stack_lo + s.stack_size, s.stack_size, &FiberSet::Trampoline);
#if PTSIM_FIBER_TSAN
    s.tsan_fiber = __tsan_create_fiber(0);
    static constexpr const char* kNames[kMaxCpus] = {"cpu0 fiber", "cpu1 fiber", "cpu2 fiber", "cpu3 fiber"};
    __tsan_set_fiber_name(s.tsan_fiber, kNames[f]);
#endif
  }
#if PTSIM_FIBER_TSAN
  main_.tsan_fiber = __tsan_get_current_fiber();
#endif
}

FiberSet::~FiberSet() {
  for (int f = 0; f < n_; ++f) {
    PTSIM_CHECK(!fibers_[f].started || fibers_[f].exited, "fiber %d destroyed while suspended, never unwound", f);
  }
#if PTSIM_FIBER_TSAN
  for (int f = 0; f < n_; ++f) __tsan_destroy_fiber(fibers_[f].tsan_fiber);
#endif
#if PTSIM_FIBER_ASAN
  // Frames that never returned (each fiber's entry, which ends in Exit)
  // leave their redzones poisoned; the next mapping at these addresses
  // must not inherit them.
  ASAN_UNPOISON_MEMORY_REGION(map_, map_bytes_);
#endif
  munmap(map_, map_bytes_);
}

void FiberSet::Run(int first) {
  PTSIM_CHECK(first >= 0 && first < n_, "fiber %d of %d", first, n_);
  Jump(kMain, first, /*exiting=*/false);
}

void FiberSet::Switch(int self, int to) {
  PTSIM_CHECK(self >= 0 && self < n_ && to >= 0 && to < n_ && to != self, "switch from fiber %d to %d", self, to);
  Jump(self, to, /*exiting=*/false);
}

void FiberSet::Exit(int self, int to) {
  PTSIM_CHECK(self >= 0 && self < n_ && to >= kMain && to < n_ && to != self, "exit from fiber %d to %d", self,
              to);
  Jump(self, to, /*exiting=*/true);
  PTSIM_CHECK(false, "fiber %d resumed after it exited", self);
  __builtin_unreachable();
}

void FiberSet::Jump(int self, int to, bool exiting) {
  Slot& dst = slot(to);
  dst.started = true;
  slot(self).exited = exiting;
  jumper_ = self;
  landing_ = to;
#if PTSIM_FIBER_ASAN
  // A null save slot tells ASan this stack is left for good: it frees its
  // fake stack.
  __sanitizer_start_switch_fiber(exiting ? nullptr : &slot(self).asan_fake_stack, dst.stack_lo, dst.stack_size);
#endif
#if PTSIM_FIBER_TSAN
  // Last before the jump: from here on TSan attributes accesses to `to`.
  __tsan_switch_to_fiber(dst.tsan_fiber, 0);
#endif
  const bctx::transfer_t t = bctx::jump_fcontext(dst.ctx, this);
  Landed(t.fctx, self);
}

void FiberSet::Landed(void* from_ctx, int self) {
  PTSIM_CHECK(landing_ == self, "jump to %d landed on %d", landing_, self);
  // The stack that jumped here stopped at from_ctx; a jump back resumes it.
  slot(jumper_).ctx = from_ctx;
#if PTSIM_FIBER_ASAN
  const void* from_lo = nullptr;
  size_t from_size = 0;
  __sanitizer_finish_switch_fiber(slot(self).asan_fake_stack, &from_lo, &from_size);
  // The thread's own stack is not one of ours: learn its bounds from the
  // first jump off it, before any fiber can jump back to it.
  if (jumper_ == kMain) {
    main_.stack_lo = static_cast<char*>(const_cast<void*>(from_lo));
    main_.stack_size = from_size;
  }
#endif
}

void FiberSet::Trampoline(bctx::transfer_t t) {
  FiberSet* fs = static_cast<FiberSet*>(t.data);
  const int self = fs->landing_;
  fs->Landed(t.fctx, self);
  fs->entry_(fs->arg_, self);
  PTSIM_CHECK(false, "fiber %d returned from its entry function instead of calling Exit", self);
}

}  // namespace ptsim
