// A mapping of part of a file into an address space: the `vm_region` (or
// vm_area_struct) a page map keeps so a remover can find every PTE that may
// point at a file page. File pages are 4 KiB; a region covers whole pages.
#ifndef PTSIM_PAGEMAP_REGION_H_
#define PTSIM_PAGEMAP_REGION_H_

#include <cstdint>
#include <optional>

#include "src/base/addr.h"
#include "src/base/check.h"
#include "src/pt/attrs.h"

namespace ptsim {

inline constexpr unsigned kFilePageLg2 = 12;
inline constexpr uint64_t kFilePageSize = uint64_t{1} << kFilePageLg2;

struct Region {
  uint64_t id = 0;           // unique among a page map's regions; names it for removal
  int space = 0;             // the address space mapping it
  Va base;                   // first VA, page aligned
  uint64_t length = 0;       // bytes, a nonzero multiple of the page size
  uint64_t file_offset = 0;  // byte offset in the file of `base`, page aligned
  LeafAttrs prot;            // read / write / exec (and user) as PTEs get them
  bool shared = true;        // MAP_SHARED; false: private, written pages are copied
  bool locked = false;       // MAP_LOCKED: its pages are never removed

  constexpr bool operator==(const Region&) const = default;
};

// Page aligned, nonempty, and neither the VA range nor the file range wraps.
constexpr bool RegionValid(const Region& r) {
  return r.length != 0 && r.base.IsAligned(kFilePageLg2) && IsAligned(r.length, kFilePageLg2) &&
         IsAligned(r.file_offset, kFilePageLg2) && r.base.value() + (r.length - 1) >= r.base.value() &&
         r.file_offset + (r.length - 1) >= r.file_offset;
}

// The file page index of the region's first page.
constexpr uint64_t FirstIndex(const Region& r) { return r.file_offset >> kFilePageLg2; }
// One past the file page index of its last page.
constexpr uint64_t EndIndex(const Region& r) { return FirstIndex(r) + (r.length >> kFilePageLg2); }

constexpr bool HoldsIndex(const Region& r, uint64_t index) { return FirstIndex(r) <= index && index < EndIndex(r); }

// Whether the region maps any page of [first, last] (inclusive).
constexpr bool OverlapsIndices(const Region& r, uint64_t first, uint64_t last) {
  return first <= last && FirstIndex(r) <= last && first < EndIndex(r);
}

// Where the region maps file page `index`; the region must hold it.
constexpr Va VaOfIndex(const Region& r, uint64_t index) {
  PTSIM_CHECK(HoldsIndex(r, index), "region %u does not map file page %u", r.id, index);
  return r.base + ((index - FirstIndex(r)) << kFilePageLg2);
}

// Which file page a VA inside the region maps (a fault's question); none
// outside the region.
constexpr std::optional<uint64_t> IndexOfVa(const Region& r, Va va) {
  if (va < r.base || va - r.base >= r.length) return std::nullopt;
  return FirstIndex(r) + ((va - r.base) >> kFilePageLg2);
}

}  // namespace ptsim

#endif  // PTSIM_PAGEMAP_REGION_H_
