// Everything that follows from a format's geometry, derived once here so
// formats cannot disagree with themselves.
#ifndef PTSIM_PT_GEOMETRY_H_
#define PTSIM_PT_GEOMETRY_H_

#include <cstdint>

#include "src/base/check.h"
#include "src/base/log2.h"
#include "src/pt/format.h"

namespace ptsim {

template <PageTableFormat F>
unsigned TableSizeLg2(const F& f, Level l) {
  return f.IndexLg2(l) + F::kEntryLg2;
}

// Index of `va` in a table at level l.
template <PageTableFormat F>
uint64_t IndexOf(const F& f, Va va, Level l) {
  return (va.value() >> f.ItemLg2(l)) & LowMask(f.IndexLg2(l));
}

template <PageTableFormat F>
EntryKind KindOf(const F& f, EntryVal<F> v) {
  return f.Classify(v.raw, v.level);
}

// The canonical VA whose translated bits are `low` (bits above VaBits are
// ignored and replaced by the format's extension).
template <PageTableFormat F>
Va CanonicalVa(const F& f, uint64_t low) {
  const unsigned bits = f.VaBits();
  low &= LowMask(bits);
  switch (f.VaExt()) {
    case VaExtension::kZero:
      return Va(low);
    case VaExtension::kOnes:
      return Va(low | ~LowMask(bits));
    case VaExtension::kSign:
      return Va(SignExtend(low, bits));
  }
  return Va(low);
}

template <PageTableFormat F>
bool IsCanonical(const F& f, Va va) {
  return CanonicalVa(f, va.value()) == va;
}

// The bit above which a range may not cross: a range of canonical addresses
// is contiguous in the translated space only if it stays on one side of it.
template <PageTableFormat F>
unsigned HalfBit(const F& f) {
  return f.VaExt() == VaExtension::kSign ? f.VaBits() - 1 : f.VaBits();
}

// True when [first, last] is a non-empty run of canonical addresses.
template <PageTableFormat F>
bool IsValidRange(const F& f, VaRange r) {
  if (r.first > r.last || !IsCanonical(f, r.first) || !IsCanonical(f, r.last)) return false;
  const unsigned hb = HalfBit(f);
  return hb >= 64 || (r.first.value() >> hb) == (r.last.value() >> hb);
}

// Replicated leaves (ARM Contiguous bit, RISC-V Svnapot, ARMv7
// supersections and large pages, AMD IOMMU next-level-7 pages): a leaf of
// 2^k bytes at level l with ItemLg2(l) < k < ItemLg2(l + 1), written as the
// 2^(k - ItemLg2(l)) consecutive entries of level l that it covers, starting
// at an entry aligned to that count. Every entry of the group is a kLeaf
// whose LeafOa is the base of the whole 2^k leaf; the entries may differ
// only where the format says (each its own accessed/dirty bits, which
// hardware sets in the entry it used; the part of the block it maps). A
// format that has them declares three optional members:
//
//   uint64_t ReplicatedSizesLg2(Level l) const;
//       the sizes at level l as a mask (bit k set = a 2^k replicated leaf);
//       each group fits in one table, and the next smaller leaf size is
//       again at level l (a smaller group, or ItemLg2(l) with CanLeaf(l)),
//       so splitting a group rewrites entries in place and never allocates.
//   unsigned LeafSizeLg2(Raw raw, Level l) const;
//       for a kLeaf entry: the size of the leaf it belongs to, ItemLg2(l)
//       for a one-entry leaf.
//   Raw EncodeReplica(Level l, unsigned size_lg2, Oa oa, LeafAttrs a, uint64_t i) const;
//       entry i (0-based in the group) of a 2^size_lg2 leaf mapping `oa`
//       (aligned to size_lg2) with Canonical(a).
//
// and optionally `static constexpr bool kReplicaBreakBeforeMake = true`
// when the architecture requires break-before-make to change a group's
// size (ARM): a split then clears every entry of the group and invalidates
// it before writing the new entries. Otherwise the entries are rewritten
// in ascending order, each in one store (single-threaded ops; the
// concurrent operations in src/conc decide what a racing walker may see).
//
// Without these members a format has one-entry leaves only, as before.
template <PageTableFormat F>
uint64_t ReplicatedSizesLg2(const F& f, Level l) {
  if constexpr (requires { { f.ReplicatedSizesLg2(l) } -> std::same_as<uint64_t>; }) {
    return f.ReplicatedSizesLg2(l);
  } else {
    return 0;
  }
}

// The size of the leaf a kLeaf entry belongs to.
template <PageTableFormat F>
unsigned LeafSizeLg2(const F& f, typename F::Raw raw, Level l) {
  if constexpr (requires { { f.LeafSizeLg2(raw, l) } -> std::same_as<unsigned>; }) {
    return f.LeafSizeLg2(raw, l);
  } else {
    return f.ItemLg2(l);
  }
}

// Entry i of a 2^size_lg2 leaf at level l: EncodeLeaf for a one-entry leaf.
template <PageTableFormat F>
typename F::Raw EncodeLeafEntry(const F& f, Level l, unsigned size_lg2, Oa oa, LeafAttrs a, uint64_t i) {
  if constexpr (requires { { f.EncodeReplica(l, size_lg2, oa, a, i) } -> std::same_as<typename F::Raw>; }) {
    if (size_lg2 != f.ItemLg2(l)) return f.EncodeReplica(l, size_lg2, oa, a, i);
  }
  return f.EncodeLeaf(l, oa, a);
}

template <PageTableFormat F>
constexpr bool ReplicaBreakBeforeMake() {
  if constexpr (requires { { F::kReplicaBreakBeforeMake } -> std::convertible_to<bool>; }) {
    return F::kReplicaBreakBeforeMake;
  } else {
    return false;
  }
}

// Leaf sizes the format can build at level l, as a bit mask of lg2 values
// (bit n set = a 2^n leaf exists): the one-entry leaf and replicated ones.
template <PageTableFormat F>
uint64_t LeafSizesLg2(const F& f, Level l) {
  return (f.CanLeaf(l) ? (uint64_t{1} << f.ItemLg2(l)) : 0) | ReplicatedSizesLg2(f, l);
}

// Every leaf size at any level.
template <PageTableFormat F>
uint64_t AllLeafSizesLg2(const F& f) {
  uint64_t m = 0;
  for (Level l(0); l <= f.TopLevel(); l = l.Above()) m |= LeafSizesLg2(f, l);
  return m;
}

// The largest leaf size below 2^lg2, or 0 when there is none: what a leaf
// splits into (the model splits the same way).
template <PageTableFormat F>
unsigned SmallerLeafLg2(const F& f, unsigned lg2) {
  const uint64_t below = AllLeafSizesLg2(f) & LowMask(lg2);
  return below == 0 ? 0 : FloorLog2(below);
}

// The level whose entries build a 2^lg2 leaf (one entry or a group): the
// level l with ItemLg2(l) <= lg2 < ItemLg2(l + 1).
template <PageTableFormat F>
Level LevelOfLeafSize(const F& f, unsigned lg2) {
  Level l(0);
  while (l < f.TopLevel() && f.ItemLg2(l.Above()) <= lg2) l = l.Above();
  return l;
}

// Output address bits a leaf at level l can hold. Optional member: most
// formats hold OaBits() at every level; x86 32-bit with PSE-36 holds 40 bits
// only in 4 MiB leaves.
template <PageTableFormat F>
unsigned LeafOaBits(const F& f, Level l) {
  if constexpr (requires { { f.LeafOaBits(l) } -> std::same_as<unsigned>; }) {
    return f.LeafOaBits(l);
  } else {
    return f.OaBits();
  }
}

// The bits a table entry at level l contributes to a walk's restrictions.
// Optional member: by default the entry itself. A format whose table levels
// differ (x86 PAE: a PDPTE has no R/W or U/S, so it must not count as
// denying them) returns the entry with the missing controls forced to
// "allowed"; folding stays one AND and one OR per level.
template <PageTableFormat F>
uint64_t RestrictingBits(const F& f, typename F::Raw raw, Level l) {
  if constexpr (requires { { f.RestrictingBits(raw, l) } -> std::same_as<uint64_t>; }) {
    return f.RestrictingBits(raw, l);
  } else {
    return raw;
  }
}

// What unmap and protect do with a leaf they cover only partly.
enum class PartialLeaf : uint8_t {
  kSplit,   // replace it by smaller leaves and change only the covered ones
  kRefuse,  // fail with FailedPrecondition and change nothing
};

// Optional member PartialLeafPolicy(): by default a partly covered leaf is
// split, as every format ptsim has so far does. A format whose users never
// split (an IOMMU driver that unmaps only what it mapped) returns kRefuse;
// the operations, the reference model and the differential runner follow
// the declaration.
template <PageTableFormat F>
PartialLeaf PartialLeafPolicyOf(const F& f) {
  if constexpr (requires { { f.PartialLeafPolicy() } -> std::same_as<PartialLeaf>; }) {
    return f.PartialLeafPolicy();
  } else {
    return PartialLeaf::kSplit;
  }
}

// Level skipping (AMD IOMMU v1: a PDE whose Next Level is below its own
// level minus one). A kTable entry at level l may point to a table of any
// lower level `next`, not only l - 1. The walk goes straight there; the
// VA bits that would have indexed the skipped levels (next + 1 .. l - 1)
// are not translated by anything and must be zero. So an entry that skips
// maps only the first ItemLg2(next + 1) bytes of its span, exactly as a
// chain of tables at the skipped levels whose only present entries are
// the first would; an address with a skipped bit set has no translation
// through it and faults as the walk of that chain would: not present, at
// the highest skipped level whose index is nonzero. A format with level
// skipping declares three optional members:
//
//   Level NextTableLevel(Raw raw, Level l) const;
//       for a kTable entry at level l: the level of the table it points
//       to, below l (l - 1 when it skips nothing);
//   Raw EncodeSkipTable(Level l, Level next, Oa table) const;
//       an entry at level l pointing to the level-`next` table at `table`
//       (next < l - 1), allowing everything below it, as EncodeTable does;
//   bool BuildsSkips() const;
//       whether the operations build skipping entries when they create a
//       new chain of tables (a configuration knob; see ops/space.h). Trees
//       that hold skips are walked, checked and changed correctly whether
//       or not the operations build them.
//
// A format that has them can skip from any level to any lower one.
// Without them every table entry points one level down.
template <PageTableFormat F>
constexpr bool HasLevelSkipping() {
  return requires(const F f, typename F::Raw raw, Level l, Oa oa) {
    { f.NextTableLevel(raw, l) } -> std::same_as<Level>;
    { f.EncodeSkipTable(l, l, oa) } -> std::same_as<typename F::Raw>;
    { f.BuildsSkips() } -> std::same_as<bool>;
  };
}

// The level of the table a kTable entry at level l points to.
template <PageTableFormat F>
Level NextTableLevel(const F& f, typename F::Raw raw, Level l) {
  if constexpr (HasLevelSkipping<F>()) {
    const Level next = f.NextTableLevel(raw, l);
    PTSIM_CHECK(next < l && !(next < Level(0)), "%s: a level-%d table entry points to level %d", F::kName,
                l.value(), next.value());
    return next;
  } else {
    return l.Below();
  }
}

// A table entry at level l pointing to the level-`next` table at `table`.
template <PageTableFormat F>
typename F::Raw EncodeTableTo(const F& f, Level l, Level next, Oa table) {
  if constexpr (HasLevelSkipping<F>()) {
    if (next != l.Below()) return f.EncodeSkipTable(l, next, table);
  }
  PTSIM_CHECK(next == l.Below(), "%s cannot skip levels", F::kName);
  return f.EncodeTable(l, table);
}

template <PageTableFormat F>
bool BuildsSkips(const F& f) {
  if constexpr (HasLevelSkipping<F>()) {
    return f.BuildsSkips();
  } else {
    return false;
  }
}

// The VA bits an entry at level l pointing to a level-`next` table skips:
// those that index levels next + 1 .. l - 1; zero when it skips nothing.
template <PageTableFormat F>
uint64_t SkippedVaMask(const F& f, Level l, Level next) {
  if (next.Above() == l) return 0;
  return LowMask(f.ItemLg2(l)) & ~LowMask(f.ItemLg2(next.Above()));
}

// For a VA with skipped bits set: the highest skipped level whose index is
// nonzero, where the walk of the equivalent chain of tables would fault.
template <PageTableFormat F>
Level SkipFaultLevel(const F& f, Va va, Level l, Level next) {
  for (Level k = l.Below(); k > next; k = k.Below()) {
    if (IndexOf(f, va, k) != 0) return k;
  }
  return next.Above();
}

// What one table entry at level l allows below it.
template <PageTableFormat F>
TablePerms TablePermsOf(const F& f, typename F::Raw raw, Level l) {
  PathBits p;
  p.Add(RestrictingBits(f, raw, l));
  return PermsOf(f.Restrictions(), p);
}

// Whether the top-level index uses all of VaBits; the level above the top
// would start at ItemLg2(top) + IndexLg2(top).
template <PageTableFormat F>
unsigned CoveredVaBits(const F& f) {
  return f.ItemLg2(f.TopLevel()) + f.IndexLg2(f.TopLevel());
}

}  // namespace ptsim

#endif  // PTSIM_PT_GEOMETRY_H_
