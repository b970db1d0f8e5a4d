// The refusals Space's operations make before they change anything: a
// range the format cannot address or that is not page aligned, a forced
// leaf size the format lacks or the addresses do not fit, and a range edge
// inside a leaf the format cannot split (or whose output address no smaller
// leaf can hold). Free functions over the format and the tables, so that
// space.h holds only the operations.
#ifndef PTSIM_OPS_SPACE_CHECKS_H_
#define PTSIM_OPS_SPACE_CHECKS_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/mem/phys_mem.h"
#include "src/pt/entry.h"
#include "src/pt/geometry.h"
#include "src/walk/lookup.h"

namespace ptsim {

template <PageTableFormat F>
absl::Status CheckSpaceRange(const F& f, VaRange r) {
  if (!IsValidRange(f, r)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "[%#x, %#x] is not a range of canonical %d-bit addresses", r.first.value(), r.last.value(),
        f.VaBits()));
  }
  const unsigned min_lg2 = f.ItemLg2(Level(0));
  if (!r.first.IsAligned(min_lg2) || (r.last.value() & LowMask(min_lg2)) != LowMask(min_lg2)) {
    return absl::InvalidArgumentError(absl::StrFormat("[%#x, %#x] is not aligned to %d-byte pages",
                                                      r.first.value(), r.last.value(),
                                                      uint64_t{1} << min_lg2));
  }
  return absl::OkStatus();
}

template <PageTableFormat F>
absl::Status CheckLeafSize(const F& f, VaRange r, Oa oa, unsigned lg2) {
  bool exists = false;
  for (Level l(0); l <= f.TopLevel(); l = l.Above()) exists |= (LeafSizesLg2(f, l) >> lg2) & 1;
  if (!exists) {
    return absl::InvalidArgumentError(absl::StrFormat("%s has no 2^%d-byte leaf", F::kName, lg2));
  }
  if (!r.first.IsAligned(lg2) || !oa.IsAligned(lg2) || (r.last.value() & LowMask(lg2)) != LowMask(lg2)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "va [%#x, %#x] and oa %#x are not aligned to the forced leaf size 2^%d", r.first.value(),
        r.last.value(), oa.value(), lg2));
  }
  return absl::OkStatus();
}

// A leaf is split only where a range edge falls inside it, into leaves of
// the next smaller size (SmallerLeafLg2), again and again until the edge
// is a leaf boundary. Every size on the way must hold the leaf's output
// address: x86 PSE-36 4 MiB pages above 4 GiB cannot become 4 KiB pages.
// Refuse before changing anything.
template <PageTableFormat F>
absl::Status CheckSplitAt(const F& f, PhysMem* mem, Oa root, uint64_t low) {
  const auto found = Lookup(f, mem, root, CanonicalVa(f, low));
  if (!found.ok) return absl::OkStatus();  // nothing maps it
  const unsigned size = found.t.size_lg2;
  if (IsAligned(low, size)) return absl::OkStatus();
  if (PartialLeafPolicyOf(f) == PartialLeaf::kRefuse) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "va %#x lies inside the 2^%d leaf at va %#x, and %s does not split leaves", CanonicalVa(f, low).value(), size,
        CanonicalVa(f, AlignDown(low, size)).value(), F::kName));
  }
  const uint64_t oa_last = AlignDown(found.t.oa.value(), size) + LowMask(size);
  for (unsigned s = SmallerLeafLg2(f, size);; s = SmallerLeafLg2(f, s)) {
    PTSIM_CHECK(s != 0, "%s: a page-aligned edge lies inside the smallest leaf", F::kName);
    const Level k = LevelOfLeafSize(f, s);
    if ((oa_last >> LeafOaBits(f, k)) != 0) {
      return absl::OutOfRangeError(absl::StrFormat(
          "splitting the 2^%d leaf at va %#x: oa %#x does not fit a level-%d leaf (%d address bits)", size,
          CanonicalVa(f, AlignDown(low, size)).value(), oa_last, k.value(), LeafOaBits(f, k)));
    }
    if (IsAligned(low, s)) return absl::OkStatus();
  }
}

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_CHECKS_H_
