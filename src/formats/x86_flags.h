// The flag bits every x86 paging mode shares. Intel SDM Vol. 3A Tables 4-4
// to 4-6 (32-bit), 4-8 to 4-10 (PAE) and 4-15 to 4-20 (4/5-level) give the
// low byte of PDEs, PTEs and their 64-bit counterparts the same layout; only
// the address fields, the reserved bits and XD differ, and those stay in each
// format's own header. (PAE PDPTEs, Table 4-7, do not follow it: x86_pae.h
// handles them.) The 64-bit address field and its reserved top are shared
// with VT-d second-stage entries (VT-d spec §9.8, "bitwise compatible with
// the EPT entry format"), which otherwise use their own low bits.
#ifndef PTSIM_FORMATS_X86_FLAGS_H_
#define PTSIM_FORMATS_X86_FLAGS_H_

#include "src/base/bits.h"
#include "src/pt/attrs.h"

namespace ptsim::fmt::x86 {

using P = Bit<0>;
using Rw = Bit<1>;
using Us = Bit<2>;
using A = Bit<5>;
using D = Bit<6>;
using Ps = Bit<7>;  // in a PDE/PDPTE; the same bit is PAT in a PTE
using G = Bit<8>;
// 64-bit entries: the address of the page or table, bits 51:12 in place.
using Addr52 = Field<51, 12>;
// 4-level and 5-level entries that map a page: the protection key (Tables
// 4-16, 4-18, 4-20). Space writes key 0; the architecture's rules
// (src/hw/x86.h) read it.
using Pkey = Field<62, 59>;

// Address bits at or above `oa_bits` (MAXPHYADDR, VT-d's HAW): reserved in
// every 64-bit entry.
constexpr uint64_t ReservedAddrBits(unsigned oa_bits) { return Addr52::kMask & ~LowMask(oa_bits); }

// A table entry that restricts nothing below it: P, R/W, U/S.
template <typename Raw>
constexpr Raw TableFlags() {
  return Us::Put(Rw::Put(P::Put(Raw{0}, true), true), true);
}

// The flags of a leaf with attributes `a`; `large` sets PS (a 2 MiB, 4 MiB
// or 1 GiB page). XD and the address are the format's.
template <typename Raw>
constexpr Raw LeafFlags(LeafAttrs a, bool large) {
  Raw r = P::Put(Raw{0}, true);
  r = Rw::Put(r, a.Has(Attr::kWrite));
  r = Us::Put(r, a.Has(Attr::kUser));
  r = A::Put(r, a.Has(Attr::kAccessed));
  r = D::Put(r, a.Has(Attr::kDirty));
  r = G::Put(r, a.Has(Attr::kGlobal));
  return Ps::Put(r, large);
}

// §4.8: the processor sets A in every paging-structure entry it uses, and D
// in the entry that maps the page, on a write (D is ignored elsewhere).
template <typename Raw>
constexpr Raw MarkAccessed(Raw raw, bool leaf, bool write) {
  raw = A::Put(raw, true);
  return write && leaf ? D::Put(raw, true) : raw;
}

}  // namespace ptsim::fmt::x86

#endif  // PTSIM_FORMATS_X86_FLAGS_H_
