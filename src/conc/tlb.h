// One simulated CPU's TLB in the race harness: the TLB model of
// src/hw/tlb.h (the one every harness uses) behind a lock, because other
// CPUs invalidate it during a shootdown while its own CPU fills it. The
// lock makes that safe on real threads and costs nothing in the
// deterministic runtime.
//
// Entries are tagged with the history key (address space, or the shared
// kernel half) as their address-space id, whatever the family: a CPU here
// uses both spaces without switching, as if every architecture had ASIDs.
// Each leaf entry remembers the history version it was filled from, for the
// stale-translation oracle (World::CheckNoStaleTlb). Only leaf entries are
// kept: the race harness attaches no paging-structure caches.
//
// A shootdown runs the family's own invalidation instructions on each CPU's
// TLB (HwRules<F>::MakeInvalidator, src/hw/invalidate.h): INVLPG / INVPCID,
// TLBI, SFENCE.VMA, IOTLB or INVALIDATE_IOMMU_PAGES, with their manual's
// effect; a family that models none removes exactly the range.
#ifndef PTSIM_CONC_TLB_H_
#define PTSIM_CONC_TLB_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "src/hw/all_families.h"
#include "src/hw/tlb.h"

namespace ptsim {

class CpuTlb {
 public:
  static constexpr size_t kCapacity = 64;

  CpuTlb() : tlb_(hw::TlbConfig{.leaf_capacity = kCapacity, .walk_capacity_per_level = 0}) {}

  // The entry serving `va` in `key`'s space, if any; a hit counts as a use.
  std::optional<hw::LeafEntry> Lookup(int key, uint64_t va) {
    std::lock_guard<std::mutex> lk(mu_);
    const hw::LeafEntry* e = tlb_.FindLeaf(Tag(key), va);
    if (e == nullptr) return std::nullopt;
    tlb_.Touch(e);
    return *e;
  }
  void Fill(hw::LeafEntry e) {
    std::lock_guard<std::mutex> lk(mu_);
    tlb_.InsertLeaf(e);
  }
  // Drops this CPU's entries for `va` before it walks again (a permission
  // miss, or a write through a clean entry), as hardware does.
  void Drop(int key, uint64_t va) {
    std::lock_guard<std::mutex> lk(mu_);
    tlb_.Invalidate({.asid = Tag(key), .global = true, .first = va, .last = va});
  }
  // What the family's invalidation instructions remove after entries of
  // [first, last] changed (`tables`: after tables whose entries spanned it
  // were unhooked; the leaves below were invalidated before).
  template <PageTableFormat F>
  void InvalidateRange(const F& f, int key, Va first, Va last, bool tables) {
    std::lock_guard<std::mutex> lk(mu_);
    if constexpr (HwRules<F>::kHasInvalidator) {
      HwRules<F>::MakeInvalidator(&tlb_, Tag(key), f.ItemLg2(Level(0)), hw::InvalidatorOptions{})
          ->InvalidateRange(first, last, tables);
    } else {
      tlb_.Invalidate({.asid = Tag(key), .first = first.value(), .last = last.value(), .walks = true});
    }
  }
  std::vector<hw::LeafEntry> Leaves() const {
    std::lock_guard<std::mutex> lk(mu_);
    return tlb_.leaves();
  }
  static int KeyOf(const hw::LeafEntry& e) { return static_cast<int>(e.asid); }

 private:
  static hw::Asid Tag(int key) { return static_cast<hw::Asid>(key); }

  mutable std::mutex mu_;
  hw::Tlb tlb_;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_TLB_H_
