// remove: clear every leaf that intersects a range, then reclaim tables
// left empty, racing everything.
//
// Protocol (mmu_gather, research §2.1: "unhook, invalidate, free"):
//   1. Count this operation in the space's pending flushes.
//   2. Clear leaves with the sequential unmap (src/ops/space.h) under the
//      racing sync (space_sync.h): each under its table's lock after
//      checking the table is still hooked, a leaf the range covers in part
//      split first (split_huge_pmd); remember their frames.
//   3. Shoot down the range if anything was cleared, or if another remove or
//      fork is pending on the same space (mm_tlb_flush_nested: it may have
//      cleared entries this one then found empty, and not flushed yet).
//   4. Only now drop the frames' map counts: a page must not be freed while
//      a TLB may still reach it.
//   5. Reclaim (space.h's Reclaim, whose unhook is the racing sync's
//      UnhookIfEmpty), bottom-up, every table the range touched that is now empty
//      (with RCU freeing, alongside other walkers; otherwise under the
//      exclusive mmap_lock, so only lockless walkers can still be inside):
//      under the parent's lock and the table's own, check the parent still
//      points to it and scan it again (it may have been refilled since the
//      lockless look), then unhook it. Kernel-half tables under the top
//      level are shared by every space and never reclaimed.
//   6. Shoot down again (paging-structure caches; and with IPIs, every
//      interrupts-off walker is out), then free through the configured
//      scheme: another IPI round trip, a grace period, or at once.
#ifndef PTSIM_CONC_REMOVE_H_
#define PTSIM_CONC_REMOVE_H_

#include <algorithm>
#include <vector>

#include "src/conc/sections.h"
#include "src/conc/space_sync.h"
#include "src/ops/space.h"

namespace ptsim {
namespace conc_internal {

// Every CPU runs the family's invalidation for [first, last] on its TLB
// (tlb.h): after leaves changed, or with `tables` after tables were unhooked.
template <PageTableFormat F>
void ShootdownRange(World<F>& w, int key, Va first, Va last, bool tables = false) {
  w.m.Shootdown(w.cfg.shootdown, [&](int c) { w.tlbs[c].InvalidateRange(w.f, key, first, last, tables); });
}

// After a remove invalidated the tables it unhooked: no CPU's paging-
// structure cache may still point to one (it is freed, or about to be, and
// a walk resuming there would read whatever the memory holds next).
template <PageTableFormat F>
void CheckNoCachedTable(World<F>& w, Va first, Va last, const std::vector<Oa>& unhooked) {
  if (!w.m.rt().deterministic() || unhooked.empty()) return;
  for (int c = 0; c < w.m.ncpus(); ++c) {
    for (const hw::WalkEntry& e : w.tlbs[c].Walks()) {
      if (std::find(unhooked.begin(), unhooked.end(), e.next_table) == unhooked.end()) continue;
      w.Fail("stale-walk-cache",
             absl::StrFormat("after cpu%d's remove of [0x%x, 0x%x] unhooked the table at 0x%x and invalidated, "
                             "cpu%d's %s",
                             w.m.self(), first.value(), last.value(), e.next_table.value(), c, hw::DescribeWalk(e)));
    }
  }
}

}  // namespace conc_internal

// Returns the unmap's refusal (a split the format cannot make) or failure
// (no table memory for a split); what was cleared before is flushed and
// reclaimed all the same.
template <PageTableFormat F>
absl::Status Remove(World<F>& w, int space, Va first, Va last) {
  using namespace conc_internal;
  const int key = w.KeyOf(space, first);
  std::atomic<int>& pending = w.flush_pending[key];
  pending.fetch_add(1, std::memory_order_seq_cst);
  w.m.rt().Point(PointKind::kRef, 0x40000 + key);

  typename ConcSync<F>::Deferred d;
  absl::Status st;
  {
    const WalkerSection<F> section(w, key);
    Space<F, ConcSync<F>> s(w.f, SpaceEnv{.mem = w.mem}, ConcSync<F>(w, space, key, &d));
    s.Adopt(w.spaces[space].root);
    st = s.Unmap({first, last});
  }

  const uint64_t flush_time = w.m.rt().Now();
  const bool nested = pending.load(std::memory_order_seq_cst) > 1 && !w.cfg.Has(Bug::kNoNestedFlush);
  if (d.invalidated || nested) ShootdownRange(w, key, first, last);
  for (uint64_t head : d.unmapped) w.frames.Unmap(w.m, head);

  // Tables the unmap emptied are unhooked only now, after the shootdown
  // (free_pgtables), by the same range descent under the racing sync.
  std::vector<Oa> unhooked;
  auto reclaim = [&] {
    typename ConcSync<F>::Deferred none;
    Space<F, ConcSync<F>> s(w.f, SpaceEnv{.mem = w.mem}, ConcSync<F>(w, space, key, &none));
    s.Adopt(w.spaces[space].root);
    s.Reclaim({first, last}, unhooked);
  };
  if (w.cfg.free == FreeScheme::kRcu) {
    const WalkerSection<F> section(w, key);
    reclaim();
  } else {
    w.MmapLock(key).WriteLock(w.m);
    reclaim();
    w.MmapLock(key).WriteUnlock(w.m);
  }
  if (!unhooked.empty()) {
    if (w.cfg.Has(Bug::kFreeBeforeFlush)) {
      for (Oa t : unhooked) w.FreeTable(t);
      ShootdownRange(w, key, first, last, /*tables=*/true);
    } else {
      ShootdownRange(w, key, first, last, /*tables=*/true);
      switch (w.cfg.free) {
        case FreeScheme::kIpi:
          w.m.SyncIpi();
          break;
        case FreeScheme::kRcu:
          w.m.SynchronizeRcu();
          break;
        case FreeScheme::kImmediate:
          break;
      }
      for (Oa t : unhooked) w.FreeTable(t);
    }
    CheckNoCachedTable(w, first, last, unhooked);
  }
  pending.fetch_sub(1, std::memory_order_seq_cst);
  w.CheckNoStaleTlb("remove", key, first, last, flush_time);
  return st;
}

}  // namespace ptsim

#endif  // PTSIM_CONC_REMOVE_H_
