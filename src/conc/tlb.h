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
// stale-translation oracle (World::CheckNoStaleTlb). Paging-structure
// caches are kept only when the run attaches them (`caches tlb`); a walk
// entry keeps the table entries above it, so that a walk resuming there
// folds them under the family's rules (HwResume, src/hw/family.h).
//
// A shootdown runs the family's own invalidation instructions on each CPU's
// TLB (HwRules<F>::MakeInvalidator, src/hw/invalidate.h): INVLPG / INVPCID,
// TLBI, SFENCE.VMA, IOTLB or INVALIDATE_IOMMU_PAGES, with their manual's
// effect and any bug the run plants in them; a family that models none
// removes exactly the range.
#ifndef PTSIM_CONC_TLB_H_
#define PTSIM_CONC_TLB_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "src/hw/all_families.h"
#include "src/hw/tlb.h"

namespace ptsim {

class CpuTlb {
 public:
  static constexpr size_t kCapacity = 64;
  static constexpr size_t kWalkCapacityPerLevel = 16;

  CpuTlb() : tlb_(hw::TlbConfig{.leaf_capacity = kCapacity, .walk_capacity_per_level = 0}) {}

  // Before the run: paging-structure caches or not, and the invalidator bug.
  void Configure(bool walk_caches, uint8_t invalidator_bug) {
    std::lock_guard<std::mutex> lk(mu_);
    walk_caches_ = walk_caches;
    tlb_ = hw::Tlb(hw::TlbConfig{.leaf_capacity = kCapacity,
                                 .walk_capacity_per_level = walk_caches ? kWalkCapacityPerLevel : 0});
    bug_ = static_cast<hw::Bug>(invalidator_bug);
  }
  bool walk_caches() const { return walk_caches_; }

  // The entry serving `va` in `key`'s space, if any; a hit counts as a use.
  std::optional<hw::LeafEntry> Lookup(int key, uint64_t va) {
    std::lock_guard<std::mutex> lk(mu_);
    const hw::LeafEntry* e = tlb_.FindLeaf(Tag(key), va);
    if (e == nullptr) return std::nullopt;
    tlb_.Touch(e);
    return *e;
  }
  // The deepest paging-structure-cache entry for `va`, if any.
  std::optional<hw::WalkEntry> LookupWalk(int key, uint64_t va) {
    std::lock_guard<std::mutex> lk(mu_);
    const hw::WalkEntry* e = walk_caches_ ? tlb_.FindWalk(Tag(key), va) : nullptr;
    if (e == nullptr) return std::nullopt;
    tlb_.Touch(e);
    return *e;
  }
  void Fill(hw::LeafEntry e) {
    std::lock_guard<std::mutex> lk(mu_);
    tlb_.InsertLeaf(e);
  }
  // Caches every table entry of a walk that reached the level below it:
  // `above` (a walk-cache hit's entries, the walk resumed below them), then
  // the walk's own steps.
  template <PageTableFormat F>
  void FillWalks(const F& f, int key, Oa root, Va va, std::span<const WalkStep> above, const WalkTrace& trace) {
    if (!walk_caches_) return;
    std::array<WalkStep, 2 * kMaxLevels> steps;
    int n = 0;
    for (const WalkStep& s : above) steps[n++] = s;
    for (int i = 0; i < trace.count; ++i) steps[n++] = trace.steps[i];
    std::lock_guard<std::mutex> lk(mu_);
    PathBits path;
    for (int i = 0; i + 1 < n && i < kMaxLevels; ++i) {
      const WalkStep& s = steps[i];
      if (s.kind != EntryKind::kTable) break;
      const auto raw = static_cast<typename F::Raw>(s.raw);
      path.Add(RestrictingBits(f, raw, s.level));
      hw::WalkEntry w{.asid = Tag(key),
                      .level = s.level,
                      .va_base = AlignDown(va.value(), f.ItemLg2(s.level)),
                      .span_lg2 = f.ItemLg2(s.level),
                      .next_table = f.TableOa(raw, s.level),
                      .next_level = steps[i + 1].level,
                      .path = path,
                      .entry_addr = s.entry_addr,
                      .raw = s.raw,
                      .source_root = root};
      for (int j = 0; j <= i; ++j) w.above[j] = steps[j];
      w.above_count = i + 1;
      tlb_.InsertWalk(w);
    }
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
      // The wrong-ASID bug names the other address space's id.
      const hw::InvalidatorOptions o{.bug = bug_, .wrong_asid = Tag(key == 0 ? 1 : 0)};
      HwRules<F>::MakeInvalidator(&tlb_, Tag(key), f.ItemLg2(Level(0)), o)->InvalidateRange(first, last, tables);
    } else {
      tlb_.Invalidate({.asid = Tag(key), .first = first.value(), .last = last.value(), .walks = true});
    }
  }
  std::vector<hw::LeafEntry> Leaves() const {
    std::lock_guard<std::mutex> lk(mu_);
    return tlb_.leaves();
  }
  std::vector<hw::WalkEntry> Walks() const {
    std::lock_guard<std::mutex> lk(mu_);
    return tlb_.walks();
  }
  static int KeyOf(const hw::LeafEntry& e) { return static_cast<int>(e.asid); }

 private:
  static hw::Asid Tag(int key) { return static_cast<hw::Asid>(key); }

  mutable std::mutex mu_;
  hw::Tlb tlb_;
  bool walk_caches_ = false;
  hw::Bug bug_ = hw::Bug::kNone;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_TLB_H_
