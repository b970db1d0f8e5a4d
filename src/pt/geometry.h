// Everything that follows from a format's geometry, derived once here so
// formats cannot disagree with themselves.
#ifndef PTSIM_PT_GEOMETRY_H_
#define PTSIM_PT_GEOMETRY_H_

#include <cstdint>

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

// Leaf sizes the format can build at level l, as a bit mask of lg2 values
// (bit n set = a 2^n leaf exists). Contiguous groups join later.
template <PageTableFormat F>
uint64_t LeafSizesLg2(const F& f, Level l) {
  return f.CanLeaf(l) ? (uint64_t{1} << f.ItemLg2(l)) : 0;
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
