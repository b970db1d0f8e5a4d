// What a CPU holds while it runs part of an operation over a World<F>:
// a quiet scan (one step of the interleaving, however many entries it
// reads), and a software walker's section (mmap_lock shared, RCU read side).
#ifndef PTSIM_CONC_SECTIONS_H_
#define PTSIM_CONC_SECTIONS_H_

#include "src/conc/world.h"

namespace ptsim {

// A read-only scan of a whole table whose answer is checked again under
// locks (remove's "is this table empty?"): its reads are still checked
// against freed tables, but they are not scheduling points, so the scan is
// one step of the interleaving. The kernel never scans (free_pgtables knows
// from the VMA what to free); as scheduling points, the 512 reads of one
// scan would use up a whole schedule tape and leave nothing for the
// interleavings that matter (docs/architecture.md, "Quiet scans").
template <PageTableFormat F>
class QuietScan {
 public:
  explicit QuietScan(World<F>& w) : ctx_(w.cpu[w.m.self()]) { ++ctx_.quiet; }
  ~QuietScan() { --ctx_.quiet; }
  QuietScan(const QuietScan&) = delete;
  QuietScan& operator=(const QuietScan&) = delete;

 private:
  typename World<F>::CpuCtx& ctx_;
};

// A software walker that may block: the key's mmap_lock shared, and an RCU
// read-side section (see "Table lifetime" above).
template <PageTableFormat F>
class WalkerSection {
 public:
  WalkerSection(World<F>& w, int key) : w_(w), lock_(w.MmapLock(key)) {
    lock_.ReadLock(w_.m);
    w_.m.RcuReadLock();
  }
  // Its points may throw SimAbort when another CPU ended the run while this
  // one was switched out there (scheduler.h); during unwinding they do not.
  ~WalkerSection() noexcept(false) {
    w_.m.RcuReadUnlock();
    lock_.ReadUnlock(w_.m);
  }
  WalkerSection(const WalkerSection&) = delete;
  WalkerSection& operator=(const WalkerSection&) = delete;

 private:
  World<F>& w_;
  RwLock& lock_;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_SECTIONS_H_
