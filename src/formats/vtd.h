// Intel VT-d second-stage paging, 3, 4 and 5 levels.
//
// Intel Virtualization Technology for Directed I/O, Architecture
// Specification, Rev. 5.10 (D51397-018):
//   * §3.7 "Second-Stage Translation": Table 4 (structures, the input bits
//     that index each, which entries can map a page), the list of reserved
//     bits after it, and §3.7.1 "Access Rights" (read and write are granted
//     only if every entry on the walk grants them);
//   * §3.7.2 (accessed and dirty flags, as §3.6.2 for the first stage);
//   * §9.8 "Second-Stage Paging Entries": Figure 9-8 and Tables 41-47
//     (SS-PML5E, SS-PML4E, SS-PDPE, SS-PDE, SS-PTE);
//   * §11.4.2 "Capability Register": SSLPS (bits 37:34), SAGAW, MGAW.
// Rev. 3.x of the same specification defined bit 2 as X (execute, with
// ECAP.ERS and the PASID entry's SSEE) and bit 62 as TM (transient
// mapping); both are gone in Rev. 5.10 (bit 2 ignored; bit 62 is IW,
// reserved unless Second Stage I/O Read/Write is enabled).
//
//   ptsim level | name     | one entry maps            | 3 / 4 / 5-level root
//   4           | SS-PML5E | 256 TiB, table only       |           5
//   3           | SS-PML4E | 512 GiB, table only       |       4
//   2           | SS-PDPE  | 1 GiB page if PS = 1      |   3
//   1           | SS-PDE   | 2 MiB page if PS = 1      |
//   0           | SS-PTE   | 4 KiB page                |
// Every table is one 4 KiB page of 512 entries; the root holds bits
// AGAW-1:top of the input address (AGAW = 39, 48, 57; SAGAW picks it).
// Input addresses above AGAW are blocked, not sign-extended: VaExt is
// kZero. MGAW below AGAW is not modelled (ptsim's VA space is the AGAW).
//
// Entry (Figure 9-8): R (0), W (1), bit 2 X with `ers` else ignored,
// EMT (5:3) and IPAT (6) in leaves, PS (7) in SS-PDPE/SS-PDE (reserved in
// SS-PML5E/SS-PML4E, ignored in SS-PTE), A (8), D (9, leaves), SNP (11,
// leaves), address (HAW-1):12, reserved 51:HAW, bit 62 reserved (IW with
// Second Stage I/O Read/Write, not modelled), 63 and 61:52 ignored.
//
// Classification (§3.7):
//   R = W = 0                        kEmpty: "used neither to reference
//                                    another paging-structure entry nor to
//                                    map a page"; there is no present bit
//   any reserved bit                 kInvalid: bits 51:HAW, bit 62; PS in
//                                    SS-PML5E/SS-PML4E or where SSLPS lacks
//                                    the size; a large page's address bits
//                                    below its size (29:12, 20:12); SNP in
//                                    a non-leaf entry, or in a leaf without
//                                    ECAP.SC; EMT 2, 3 or 7 with EMTE
//   SS-PTE, or PS = 1                kLeaf
//   otherwise                        kTable
//
// Attributes: read R, write W (write-only pages exist: R = 0, W = 1 is a
// leaf), exec X only with `ers` (execute requests are unsupported
// otherwise, so nothing is executable). A leaf needs R or W, so Canonical
// adds read when neither is asked. No privilege (user) or global concept:
// user is always true, global always false. A/D only with `ssade`.
// Non-leaf R, W (and X with `ers`) restrict everything below (§3.7.1).
// TableRestrictions has no read control, so a non-leaf entry with R = 0 and
// W = 1 does not deny reads below it in ptsim's walk; EncodeTable always
// grants both.
//
// EncodeLeaf writes IPAT = 0, SNP = 0, and EMT = 6 (WB) with `emte`, else
// 0; memory types are not in LeafAttrs.
#ifndef PTSIM_FORMATS_VTD_H_
#define PTSIM_FORMATS_VTD_H_

#include <string_view>

#include "src/formats/x86_flags.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

template <int kLevels>
class VtdSs {
  static_assert(kLevels >= 3 && kLevels <= 5, "SAGAW offers 3-, 4- and 5-level tables");

 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = kLevels == 3   ? "vtd_ss_3level"
                                            : kLevels == 4 ? "vtd_ss_4level"
                                                           : "vtd_ss_5level";
  static constexpr unsigned kEntryLg2 = 3;
  static constexpr ConfigKnob kKnobs[] = {
      {"haw", 32, 52, 48, "host address width (DMAR ACPI table): address bits 51:HAW are reserved"},
      {"large_pages", 0, 2, 2,
       "CAP.SSLPS: 0 = 4 KiB only (0000b), 1 = 2 MiB (0001b), 2 = 2 MiB and 1 GiB (0011b); PS is reserved "
       "for an unsupported size"},
      {"ssade", 0, 1, 1, "PASID-entry SSADE: hardware sets A in every entry it uses and D in the leaf on a write"},
      {"sc", 0, 1, 1, "ECAP.SC snoop control: SNP (bit 11) is legal in leaves; 0 = reserved"},
      {"emte", 0, 1, 0, "ECAP.MTS and PASID-entry EMTE: EMT (bits 5:3) is used and 2, 3, 7 are reserved"},
      {"ers", 0, 1, 0,
       "ECAP.ERS and PASID-entry SSEE (Rev. 3.x): bit 2 is X, execute permission; 0 = bit 2 ignored and no "
       "execute requests"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"read", 0},        {"write", 1}, {"execute", 2}, {"ipat", 6},
      {"page_size", 7},   {"accessed", 8}, {"dirty", 9}, {"snoop", 11},
  };

  explicit VtdSs(const FormatConfig& cfg)
      : haw_(static_cast<unsigned>(cfg.Get(0))),
        large_pages_(static_cast<int>(cfg.Get(1))),
        ssade_(cfg.Get(2) != 0),
        sc_(cfg.Get(3) != 0),
        emte_(cfg.Get(4) != 0),
        ers_(cfg.Get(5) != 0),
        rsvd_mask_(x86::ReservedAddrBits(haw_) | IoWrite::kMask),
        x_mask_(ers_ ? X::kMask : 0) {}

  Level TopLevel() const { return Level(kLevels - 1); }
  unsigned VaBits() const { return kPageLg2 + kStride * kLevels; }
  unsigned OaBits() const { return haw_; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"SS-PTE", "SS-PDE", "SS-PDPE", "SS-PML4E", "SS-PML5E"};
    return kNames[l.value()];
  }
  unsigned IndexLg2(Level) const { return kStride; }
  unsigned ItemLg2(Level l) const { return kPageLg2 + kStride * static_cast<unsigned>(l.value()); }
  // SSLPS: 2 MiB in SS-PDEs, 1 GiB in SS-PDPEs; never above.
  bool CanLeaf(Level l) const { return l.value() <= large_pages_; }
  bool CanTable(Level l) const { return l.value() >= 1; }

  EntryKind Classify(Raw raw, Level l) const {
    if ((raw & (R::kMask | W::kMask)) == 0) return EntryKind::kEmpty;
    if ((raw & rsvd_mask_) != 0) return EntryKind::kInvalid;
    if (!l.IsBottom() && !x86::Ps::Test(raw)) {
      return Snp::Test(raw) ? EntryKind::kInvalid : EntryKind::kTable;
    }
    if (!l.IsBottom()) {
      if (!CanLeaf(l)) return EntryKind::kInvalid;
      if ((raw & LowMask(ItemLg2(l)) & ~LowMask(kPageLg2)) != 0) return EntryKind::kInvalid;
    }
    if (!sc_ && Snp::Test(raw)) return EntryKind::kInvalid;
    if (emte_ && IsReservedEmt(Emt::Get(raw))) return EntryKind::kInvalid;
    return EntryKind::kLeaf;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(x86::Addr52::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(x86::Addr52::InPlace(raw) & ~LowMask(ItemLg2(l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(R::Test(raw), W::Test(raw), (raw & x_mask_) != 0, /*user=*/true, /*global=*/false,
                         ssade_ && A::Test(raw), ssade_ && D::Test(raw));
  }
  TableRestrictions Restrictions() const { return {.allow_write = W::kMask, .allow_exec = x_mask_}; }
  Raw EncodeTable(Level, Oa table) const {
    return R::kMask | W::kMask | x_mask_ | x86::Addr52::InPlace(table.value());
  }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    a = Canonical(a);
    Raw r = R::Put(Raw{0}, a.Has(Attr::kRead));
    r = W::Put(r, a.Has(Attr::kWrite));
    r = X::Put(r, a.Has(Attr::kExec));
    r = Emt::Set(r, emte_ ? kEmtWriteBack : 0);
    r = x86::Ps::Put(r, !l.IsBottom());
    r = A::Put(r, a.Has(Attr::kAccessed));
    r = D::Put(r, a.Has(Attr::kDirty));
    return r | x86::Addr52::InPlace(oa.value());
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    const bool read = a.Has(Attr::kRead) || !a.Has(Attr::kWrite);
    return LeafAttrs::Of(read, a.Has(Attr::kWrite), ers_ && a.Has(Attr::kExec), true, false,
                         ssade_ && a.Has(Attr::kAccessed), ssade_ && a.Has(Attr::kDirty));
  }
  // §3.7.2: with SSADE, A in every entry used, and D (with A) in the leaf
  // on a write.
  Raw MarkAccessed(Raw raw, Level l, bool write) const {
    if (!ssade_) return raw;
    switch (Classify(raw, l)) {
      case EntryKind::kTable:
        return A::Put(raw, true);
      case EntryKind::kLeaf:
        return D::Put(A::Put(raw, true), write || D::Test(raw));
      case EntryKind::kEmpty:
      case EntryKind::kInvalid:
        return raw;
    }
    return raw;
  }

 private:
  static constexpr unsigned kPageLg2 = 12;
  static constexpr unsigned kStride = 9;
  static constexpr uint64_t kEmtWriteBack = 6;
  // EMT encodings: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB; the rest are reserved.
  static constexpr bool IsReservedEmt(uint64_t emt) { return emt == 2 || emt == 3 || emt == 7; }


 public:
  // Entry fields (VT-d §9.8), declared once: the architecture's rules
  // (src/hw/iommu.h) read them too.
  using R = Bit<0>;
  using W = Bit<1>;
  using X = Bit<2>;
  using Emt = Field<5, 3>;
  using A = Bit<8>;
  using D = Bit<9>;
  using Snp = Bit<11>;
  using IoWrite = Bit<62>;  // IW (Rev. 5.x) / TM (Rev. 3.x): reserved here

 private:

  unsigned haw_;
  int large_pages_;
  bool ssade_;
  bool sc_;
  bool emte_;
  bool ers_;
  // Derived once: the walk tests them on every entry.
  uint64_t rsvd_mask_;  // address bits 51:HAW and bit 62
  uint64_t x_mask_;     // X with ers, else nothing
};

using VtdSs3 = VtdSs<3>;
using VtdSs4 = VtdSs<4>;
using VtdSs5 = VtdSs<5>;
static_assert(PageTableFormat<VtdSs3>);
static_assert(PageTableFormat<VtdSs4>);
static_assert(PageTableFormat<VtdSs5>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_VTD_H_
