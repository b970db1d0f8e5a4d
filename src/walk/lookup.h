// A software walk of the tables (not the MMU's): which leaf maps a VA, if
// any. It is the one walker's descent (walk.h) with nothing written back
// and no permission check, under rules that tell only a table, a leaf and
// nothing apart; skips and replicated groups are followed as the hardware
// follows them. Used where an operation must know what maps an address
// before it acts (the split check, GUP).
#ifndef PTSIM_WALK_LOOKUP_H_
#define PTSIM_WALK_LOOKUP_H_

#include <cstdint>

#include "src/walk/walk.h"

namespace ptsim {

template <PageTableFormat F>
struct LookupRules {
  // Why no leaf was found: nothing maps the VA (an empty entry, or a
  // skipped index that is not zero), an entry with an invalid encoding, an
  // entry outside memory, or a VA outside the space.
  enum class Stop : uint8_t { kAbsent, kInvalid, kOutside, kNonCanonical };
  struct Fault {
    Stop stop = Stop::kAbsent;
    Level level;
    uint64_t raw = 0;  // the entry read; for kOutside the address that could not be read
  };
  struct Path {
    Oa table;  // the table being read
  };

  // What one entry is, as any software walk sees it.
  static Step<Fault> Of(const F& f, uint64_t raw, Level l) {
    switch (f.Classify(static_cast<typename F::Raw>(raw), l)) {
      case EntryKind::kEmpty:
        return Step<Fault>::Stop({Stop::kAbsent, l, raw});
      case EntryKind::kInvalid:
        return Step<Fault>::Stop({Stop::kInvalid, l, raw});
      case EntryKind::kLeaf:
        return Step<Fault>::Leaf(raw);
      case EntryKind::kTable:
        break;
    }
    return Step<Fault>::Table(raw);
  }

  Fault NonCanonical(const F&, Va) const { return {Stop::kNonCanonical, Level(), 0}; }
  Fault OutsideMemory(const F& f, Va va, Level l, const Path& p) const {
    return {Stop::kOutside, l, p.table.value() + (IndexOf(f, va, l) << F::kEntryLg2)};
  }
  Fault SkippedIndex(const F&, Va, Level at) const { return {Stop::kAbsent, at, 0}; }
  Step<Fault> Entry(const F& f, uint64_t raw, Level l, Va, Path& p) const {
    const Step<Fault> s = Of(f, raw, l);
    if (s.kind == StepKind::kTable) p.table = f.TableOa(static_cast<typename F::Raw>(raw), l);
    return s;
  }
};

// The leaf that maps `va` under the tables at `root`; `trace`, when given,
// receives every entry read.
template <PageTableFormat F>
BasicWalkResult<typename LookupRules<F>::Fault> Lookup(const F& f, PhysMem* mem, Oa root, Va va,
                                                       WalkTrace* trace = nullptr) {
  const LookupRules<F> rules;
  if (!IsCanonical(f, va)) return {false, {}, rules.NonCanonical(f, va), 0};
  return WalkFrom(f, mem, WalkStart<typename LookupRules<F>::Path>{root, f.TopLevel(), {root}}, va, rules, trace,
                  /*write_back=*/false);
}

}  // namespace ptsim

#endif  // PTSIM_WALK_LOOKUP_H_
