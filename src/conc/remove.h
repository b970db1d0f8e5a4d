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
//   5. Reclaim, bottom-up, every table the range touched that is now empty
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

#include "src/conc/space_sync.h"
#include "src/ops/space.h"

namespace ptsim {
namespace conc_internal {

template <PageTableFormat F>
struct Gather {
  std::vector<Oa> tables;
};

// Steps over the entries of a level-l table that intersect [first, last].
template <PageTableFormat F, typename Fn>
void ForEachEntryIn(const World<F>& w, Level l, Va first, Va last, Fn&& fn) {
  const unsigned item = w.f.ItemLg2(l);
  const uint64_t span_last = first.value() | LowMask(item + w.f.IndexLg2(l));
  const uint64_t stop = std::min(last.value(), span_last);
  for (uint64_t va = first.value();;) {
    const uint64_t item_last = va | LowMask(item);
    fn(Va(va), Va(std::min(item_last, stop)));
    if (item_last >= stop) break;
    va = item_last + 1;
  }
}

template <PageTableFormat F>
bool LooksEmpty(World<F>& w, Oa table, Level l) {
  const QuietScan<F> quiet(w);
  for (uint64_t i = 0; i < (uint64_t{1} << w.f.IndexLg2(l)); ++i) {
    const EntryVal<F> v = TablePtr<F>{table, l}.At(w.mem, i).Load(std::memory_order_acquire);
    if (w.f.Classify(v.raw, l) != EntryKind::kEmpty) return false;
  }
  return true;
}

// Reclaims empty tables below `table` (level l) in [first, last],
// children first.
template <PageTableFormat F>
void Reclaim(World<F>& w, int key, Oa table, Level l, Va first, Va last, Gather<F>& g) {
  const F& f = w.f;
  if (l.IsBottom()) return;
  ForEachEntryIn(w, l, first, last, [&](Va a, Va b) {
    const EntryPtr<F> ep = TablePtr<F>{table, l}.At(w.mem, IndexOf(f, a, l));
    const EntryVal<F> v = ep.Load(std::memory_order_acquire);
    if (f.Classify(v.raw, l) != EntryKind::kTable) return;
    const Oa child = f.TableOa(v.raw, l);
    // A skipping entry maps only the first part of its span.
    const Level below = NextTableLevel(f, v.raw, l);
    const uint64_t part_last = AlignDown(a.value(), f.ItemLg2(l)) + LowMask(f.ItemLg2(below) + f.IndexLg2(below));
    if (a.value() <= part_last) Reclaim(w, key, child, below, a, Va(std::min(b.value(), part_last)), g);
    if (l == f.TopLevel() && key == kKernelKey) return;  // shared by every space
    if (!LooksEmpty(w, child, below)) return;
    SpinLock& outer = w.LockFor(table, l, key);
    SpinLock& inner = w.LockFor(child, below, key);
    outer.Lock(w.m);
    if (&inner != &outer) inner.Lock(w.m);
    const bool still = w.StillPoints(&ep, child);
    if (still && (w.cfg.Has(Bug::kReclaimNoRecheck) || LooksEmpty(w, child, below))) {
      ep.Store(EntryVal<F>{0, l}, std::memory_order_release);
      g.tables.push_back(child);
    }
    if (&inner != &outer) inner.Unlock(w.m);
    outer.Unlock(w.m);
  });
}

template <PageTableFormat F>
void ShootdownRange(World<F>& w, int key, Va first, Va last) {
  w.m.Shootdown(w.cfg.shootdown, [&](int c) { w.tlbs[c].FlushRange(key, first.value(), last.value()); });
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

  Gather<F> g;

  if (w.cfg.free == FreeScheme::kRcu) {
    const WalkerSection<F> section(w, key);
    Reclaim(w, key, w.spaces[space].root, w.f.TopLevel(), first, last, g);
  } else {
    w.MmapLock(key).WriteLock(w.m);
    Reclaim(w, key, w.spaces[space].root, w.f.TopLevel(), first, last, g);
    w.MmapLock(key).WriteUnlock(w.m);
  }
  if (!g.tables.empty()) {
    if (w.cfg.Has(Bug::kFreeBeforeFlush)) {
      for (Oa t : g.tables) w.FreeTable(t);
      ShootdownRange(w, key, first, last);
    } else {
      ShootdownRange(w, key, first, last);
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
      for (Oa t : g.tables) w.FreeTable(t);
    }
  }
  pending.fetch_sub(1, std::memory_order_seq_cst);
  w.CheckNoStaleTlb("remove", key, first, last, flush_time);
  return st;
}

}  // namespace ptsim

#endif  // PTSIM_CONC_REMOVE_H_
