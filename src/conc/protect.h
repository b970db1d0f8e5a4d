// protect (mprotect): new permissions for every leaf of a range, racing
// GUP-fast and hardware walks.
//
// Protocol (mm/mprotect.c change_protection):
//   * hold the space's mmap_lock exclusively: populate, remove and copy
//     wait, as page faults and munmap wait for mprotect; GUP-fast and the
//     hardware hold nothing and race it;
//   * count in the space's pending flushes (inc_tlb_flush_pending), so a
//     remove that finds the range already changed still flushes;
//   * rewrite each leaf with the sequential protect (src/ops/space.h) under
//     the racing sync (space_sync.h): under its table's lock after the
//     "still hooked, still that leaf" check, keeping the accessed/dirty bits
//     hardware set; a large leaf the range covers in part is split first,
//     its table built and published under the lock (split_huge_pmd);
//   * shoot the range down before returning: until then other CPUs may
//     still write through writable TLB entries; the stale-TLB oracle checks
//     it after the return. Also when it changed nothing but another remove
//     or protect is pending on the space: that one may have cleared what
//     this one then found gone, and not flushed yet (mprotect's mmu_gather
//     ends in tlb_finish_mmu, whose mm_tlb_flush_nested check does this);
//   * drop the map count of a split leaf's frame only after the shootdown.
#ifndef PTSIM_CONC_PROTECT_H_
#define PTSIM_CONC_PROTECT_H_

#include "src/conc/remove.h"
#include "src/conc/space_sync.h"
#include "src/ops/space.h"

namespace ptsim {

// Returns the protect's refusal (a split the format cannot make) or failure
// (no table memory for a split); what changed before is flushed all the
// same.
template <PageTableFormat F>
absl::Status Protect(World<F>& w, int space, Va first, Va last, LeafAttrs attrs) {
  const int key = w.KeyOf(space, first);
  RwLock& mmap_lock = w.MmapLock(key);
  mmap_lock.WriteLock(w.m);
  std::atomic<int>& pending = w.flush_pending[key];
  pending.fetch_add(1, std::memory_order_seq_cst);

  typename ConcSync<F>::Deferred d;
  Space<F, ConcSync<F>> s(w.f, SpaceEnv{.mem = w.mem}, ConcSync<F>(w, space, key, &d));
  s.Adopt(w.spaces[space].root);
  const absl::Status st = s.Protect({first, last}, attrs);

  const uint64_t flush_time = w.m.rt().Now();
  const bool nested = pending.load(std::memory_order_seq_cst) > 1;
  if (d.invalidated || nested) conc_internal::ShootdownRange(w, key, first, last);
  for (uint64_t head : d.unmapped) w.frames.Unmap(w.m, head);
  pending.fetch_sub(1, std::memory_order_seq_cst);
  mmap_lock.WriteUnlock(w.m);
  w.CheckNoStaleTlb("protect", key, first, last, flush_time);
  return st;
}

}  // namespace ptsim

#endif  // PTSIM_CONC_PROTECT_H_
