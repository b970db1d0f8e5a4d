// The one hardware walk: Walk<F, Rules> descends byte-exact tables the way a
// table walker does, and a Rules object decides what each entry means for
// the access at hand. The descent (index, the entry read, level skips,
// replicated groups, the accessed/dirty compare-and-swap with a restart) is
// written here once; what differs between architectures, and between the
// neutral rules the reference model is compared with and each
// architecture's own, is a Rules type:
//
//   struct Rules {
//     using Fault = ...;   // what the walk reports when it stops
//     using Path = ...;    // what it remembers of the entries above
//     Fault NonCanonical(const F&, Va) const;          // before any read
//     Fault OutsideMemory(const F&, Va, Level, const Path&) const;  // entry unreadable
//     Step<Fault> Entry(const F&, uint64_t raw, Level, Va, Path&) const;
//     Fault SkippedIndex(const F&, Va, Level at) const;  // formats that skip levels
//   };
//
// Entry() sees every level's own bits and folds what it needs into Path, so
// hierarchical controls (x86 U/S and R/W, ARM APTable / PXNTable /
// UXNTable, IOMMU R/W in every entry) are decided by the rules with every
// bit the hardware has, not reduced to one neutral flag first.
//
// Protocol (what a hardware walker does, and what it must survive when
// mutators run beside it):
//   * each level's entry is read once, with acquire order: it pairs with the
//     release store that publishes a new table, so the table's zeroed
//     contents are visible before the pointer to it;
//   * an entry the rules want changed (accessed/dirty, ARM AP[2] for DBM) is
//     written by compare-and-swap against the value that was read; if the
//     entry changed meanwhile the whole walk restarts from the root, so an
//     entry cleared by a mutator is never written back (resurrected);
//   * a table entry that skips levels (AMD IOMMU, pt/geometry.h) leads
//     straight to the lower table, provided the VA's skipped index bits are
//     zero; otherwise the rules name the fault (SkippedIndex);
//   * a replicated leaf (ARM Contiguous, Svnapot, ...) translates through any
//     of its entries: the entry's LeafOa is the whole group's base.
#ifndef PTSIM_WALK_WALK_H_
#define PTSIM_WALK_WALK_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "src/base/check.h"
#include "src/mem/phys_mem.h"
#include "src/pt/geometry.h"

namespace ptsim {

// What the rules decide about one entry.
enum class StepKind : uint8_t { kTable, kLeaf, kFault };

template <typename FaultT>
struct Step {
  StepKind kind = StepKind::kFault;
  // kTable / kLeaf: the entry as the hardware leaves it, which the walk
  // follows. When it differs from the value read, the walk writes it by
  // compare-and-swap (unless it only inspects).
  uint64_t update = 0;
  FaultT fault{};
  // kLeaf: the effective attributes in neutral terms, of `update`.
  LeafAttrs attrs{};

  static Step Table(uint64_t update) { return {StepKind::kTable, update, FaultT{}, LeafAttrs{}}; }
  static Step Leaf(uint64_t update, LeafAttrs attrs = {}) { return {StepKind::kLeaf, update, FaultT{}, attrs}; }
  static Step Stop(FaultT f) { return {StepKind::kFault, 0, f, LeafAttrs{}}; }
};

struct Translation {
  Oa oa;              // the output address of the VA itself
  unsigned size_lg2;  // size of the leaf that maps it (a replicated group counts whole)
  Level level;        // level of that leaf
  LeafAttrs attrs;    // effective attributes, as the rules computed them
  uint64_t raw;       // the leaf entry after any hardware update
};

template <typename FaultT>
struct BasicWalkResult {
  bool ok = false;
  Translation t{};
  FaultT fault{};
  int restarts = 0;  // walks restarted after a failed compare-and-swap
};

// One entry read during a walk, for reports.
struct WalkStep {
  Level level;
  Oa table;
  uint64_t index = 0;
  Oa entry_addr;
  uint64_t raw = 0;
  EntryKind kind = EntryKind::kEmpty;
};

struct WalkTrace {
  std::array<WalkStep, kMaxLevels> steps{};
  int count = 0;
};

// Where a walk begins: the root table at the top level with nothing folded
// yet, or, for a walk-cache hit (src/hw/tlb.h), a cached table entry's
// table, its level and what the levels above had folded.
template <typename Path>
struct WalkStart {
  Oa table;
  Level level;
  Path path{};
};

// Walks `va` from `start` under `rules`. `trace`, when given, receives every
// entry read by the final (non-restarted) walk. With `write_back` false the
// walk writes nothing (an inspection: the result is what the hardware would
// return, the entries stay as they are). A failed compare-and-swap restarts
// from `start`. The caller has checked that `va` is canonical.
//
// Always inlined: the level loop then unrolls with the format's geometry
// as constants, and the rules' per-entry decisions inline into it, which is
// what makes the generic walk cost what a hand-written one does
// (bench/translate_bench.cc measures the ratio).
template <PageTableFormat F, typename R>
[[gnu::always_inline]] inline BasicWalkResult<typename R::Fault> WalkFrom(const F& f, PhysMem* mem,
                                                                           const WalkStart<typename R::Path>& start,
                                                                           Va va, const R& rules, WalkTrace* trace,
                                                                           bool write_back) {
  using Raw = typename F::Raw;
  BasicWalkResult<typename R::Fault> res;
  // Each pass is one walk from the start; a failed compare-and-swap ends the
  // pass and starts the next.
  for (;; ++res.restarts) {
    if (trace) trace->count = 0;
    Oa table = start.table;
    typename R::Path path = start.path;
    bool restart = false;
    PTSIM_UNROLL_LOOP
    for (int lv = start.level.value(); lv >= 0 && !restart; --lv) {
      const Level l(lv);
      const uint64_t index = IndexOf(f, va, l);
      const EntryPtr<F> ep = TablePtr<F>{table, l}.At(mem, index);
      // The walker reads one entry; a read outside memory is the
      // architecture's external abort / access fault.
      if (!mem->Contains(ep.addr(), sizeof(Raw))) {
        res.fault = rules.OutsideMemory(f, va, l, path);
        return res;
      }
      EntryVal<F> v = ep.Load(std::memory_order_acquire);
      if (trace) trace->steps[trace->count++] = {l, table, index, ep.addr(), v.raw, f.Classify(v.raw, l)};
      const Step<typename R::Fault> s = rules.Entry(f, v.raw, l, va, path);
      if (s.kind == StepKind::kFault) {
        res.fault = s.fault;
        return res;
      }
      if (write_back && s.update != v.raw) {
        const EntryVal<F> updated{static_cast<Raw>(s.update), l};
        if (!ep.CompareExchange(v, updated, std::memory_order_acq_rel)) {
          restart = true;
          continue;
        }
      }
      if (s.kind == StepKind::kTable) {
        // The walk follows the entry as the rules leave it (the value read,
        // plus any accessed bit: the same table).
        const Raw entry = static_cast<Raw>(s.update);
        table = f.TableOa(entry, l);
        if constexpr (HasLevelSkipping<F>()) {
          // A table entry that skips levels (geometry.h): the skipped index
          // bits must be zero; the walk resumes at the level pointed to.
          const Level next = NextTableLevel(f, entry, l);
          if ((va.value() & SkippedVaMask(f, l, next)) != 0) {
            res.fault = rules.SkippedIndex(f, va, SkipFaultLevel(f, va, l, next));
            return res;
          }
          lv = next.value() + 1;
        }
        continue;
      }
      const Raw leaf = static_cast<Raw>(s.update);
      const unsigned lg2 = LeafSizeLg2(f, leaf, l);
      res.ok = true;
      res.t = {f.LeafOa(leaf, l) + va.Mod(lg2), lg2, l, s.attrs, leaf};
      return res;
    }
    PTSIM_CHECK(restart, "%s: the rules treated a level-0 entry as a table", F::kName);
  }
}

// Walks `va` from the root table at `root` under `rules`: the input address
// check, then the descent from the top level.
template <PageTableFormat F, typename R>
[[gnu::always_inline]] inline BasicWalkResult<typename R::Fault> Walk(const F& f, PhysMem* mem, Oa root, Va va,
                                                                       const R& rules, WalkTrace* trace = nullptr,
                                                                       bool write_back = true) {
  if (!IsCanonical(f, va)) {
    if (trace) trace->count = 0;
    BasicWalkResult<typename R::Fault> res;
    res.fault = rules.NonCanonical(f, va);
    return res;
  }
  return WalkFrom(f, mem, WalkStart<typename R::Path>{root, f.TopLevel()}, va, rules, trace, write_back);
}

}  // namespace ptsim

#endif  // PTSIM_WALK_WALK_H_
