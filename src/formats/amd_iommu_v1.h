// AMD IOMMU v1 page tables ("host" translation tables), 1 to 6 levels.
//
// AMD I/O Virtualization Technology (IOMMU) Specification (pub. 48882),
// section 2.2.3 "I/O Page Tables for Host Translations": the PDE and PTE
// formats, Next Level, the page size encoding for Next Level = 7h (the
// "Example Page Size Encodings" table), the "Page Table Level Parameters"
// table (the top level of a 6-level table holds no PTEs; it translates
// address bits 63:57), and the rule that IR and IW are ANDed down the walk.
// The number of levels is DTE.Mode (knob `levels`, 1 to 6).
//
// Levels: AMD numbers from 1 (PTEs of 4 KiB pages) up; ptsim level = AMD
// level - 1, so ptsim level l has entries of 2^(12 + 9 l) bytes. Every table
// is 512 8-byte entries (4 KiB), except that with 6 levels the top one
// translates only bits 63:57 (128 entries).
//
// Entry (64 bits): PR (0) present; bits 4:1 ignored; A (5); D (6); bits 8:7
// ignored; Next Level (11:9); address (51:12); bits 58:52 reserved (60:52
// in a PDE); U (59), FC (60) in a PTE; IR (61) read; IW (62) write; bit 63
// ignored.
//   PR = 0                    kEmpty
//   reserved bits set         kInvalid
//   Next Level 0              a PTE of the level's own size (not at the
//                             top of a 6-level table); address bits below
//                             the size set: kInvalid (ptsim never writes
//                             them)
//   Next Level 7              a PTE whose page size is in its address: the
//                             lowest zero bit of address bits 51:12 is bit
//                             n - 1 of a 2^n page (bits n-2..12 are ones).
//                             ptsim allows 2 to 256 entries' worth at each
//                             level, 2^(item + 1) .. 2^(item + 8) (and at
//                             most 2^52): a replicated leaf (pt/geometry.h)
//                             of that many identical PTEs. Other sizes:
//                             kInvalid
//   Next Level 1-6 = l        a PDE pointing to the table of the next level
//                             (AMD level l = ptsim level l - 1)
//   Next Level 1-6 = n < l    a PDE that skips levels: it points to the
//                             table of AMD level n (ptsim n - 1), skipping
//                             AMD levels n + 1 .. l (see "Level skipping")
//   Next Level > l            kInvalid (at or above the PDE's own level)
//   any PDE at level 0        kInvalid (there is no level below)
//
// Permissions: read IR, write IW, in PTEs and PDEs; a PDE's IW (allow
// mask) limits writes below it. A PDE's IR limits reads below it too, but
// TablePerms has no read control (the same gap as VT-d, see
// docs/architecture.md); ops write PDEs with IR = IW = 1. A PTE with
// neither is a present, no-access mapping and stays as asked. DMA has no
// execute or privilege: exec is always false, user always true, global
// always false. Accessed/dirty (A, D; with DTE.HAD) are not modelled:
// EncodeLeaf writes them as 0 and MarkAccessed changes nothing.
//
// Level skipping (2.2.3, the PDE's Next Level): the address bits that
// would have indexed the skipped levels are translated by nothing and
// must be zero; an address with one of them set has no translation and
// the access faults. ptsim reports that as not present at the highest
// skipped level whose index is nonzero: what a walk of the same tree with
// the skipped tables present, each holding only its first entry, reports,
// so a skip and its expansion translate alike (pt/geometry.h). Walks,
// dumps and tree checks accept skipping PDEs in every configuration, as
// hardware does; the knob `skip` (default 0) makes map build them for new
// chains of tables and expand them when it needs the rest of their span
// (the policy is in ops/space.h).
//
// Not modelled:
//   * Next Level 7 PTEs of 512 entries' worth (a size equal to the level
//     above's) classify as kInvalid; ptsim builds that size as one entry
//     of the level above;
//   * A/D (HAD), FC, U, SME encryption bits, the DTE and its Mode 0/7.
#ifndef PTSIM_FORMATS_AMD_IOMMU_V1_H_
#define PTSIM_FORMATS_AMD_IOMMU_V1_H_

#include <algorithm>
#include <string_view>

#include "src/pt/format.h"

namespace ptsim::fmt {

class AmdIommuV1 {
 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = "amd_iommu_v1";
  static constexpr unsigned kEntryLg2 = 3;
  static constexpr ConfigKnob kKnobs[] = {
      {"levels", 1, 6, 4, "DTE.Mode: page table levels; 6 translates all 64 address bits"},
      {"skip", 0, 1, 0, "map builds PDEs that skip levels (Next Level below the PDE's level minus one)"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"present", 0}, {"accessed", 5}, {"dirty", 6}, {"fc", 60}, {"ir", 61}, {"iw", 62},
  };

  explicit AmdIommuV1(const FormatConfig& cfg) : levels_(static_cast<int>(cfg.Get(0))), skip_(cfg.Get(1) != 0) {}

  Level TopLevel() const { return Level(levels_ - 1); }
  unsigned VaBits() const { return std::min(kPageLg2 + kStride * static_cast<unsigned>(levels_), 64u); }
  unsigned OaBits() const { return kOaBits; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"L1", "L2", "L3", "L4", "L5", "L6"};
    return kNames[l.value()];
  }
  unsigned IndexLg2(Level l) const { return l == TopLevel() ? VaBits() - ItemLg2(l) : kStride; }
  unsigned ItemLg2(Level l) const { return kPageLg2 + kStride * static_cast<unsigned>(l.value()); }
  // Page Table Level Parameters: AMD level 6 holds no PTEs.
  bool CanLeaf(Level l) const { return l.value() < kMaxLevels - 1; }
  bool CanTable(Level l) const { return !l.IsBottom(); }

  EntryKind Classify(Raw raw, Level l) const {
    if (!Pr::Test(raw)) return EntryKind::kEmpty;
    const uint64_t next = NextLevel::Get(raw);
    const bool pte = next == kNextDefault || next == kNextSized;
    if ((raw & (pte ? PteReserved::kMask : PdeReserved::kMask)) != 0) return EntryKind::kInvalid;
    if (!pte) {
      // Next Level = l is the table one level down; 1 .. l - 1 skips the
      // levels between (pt/geometry.h); above l, or at level 0, invalid.
      return next <= static_cast<uint64_t>(l.value()) && CanTable(l) ? EntryKind::kTable : EntryKind::kInvalid;
    }
    if (!CanLeaf(l)) return EntryKind::kInvalid;
    const unsigned size = LeafSizeLg2(raw, l);
    if (next == kNextDefault) return IsAligned(Addr::InPlace(raw), size) ? EntryKind::kLeaf : EntryKind::kInvalid;
    return (ReplicatedSizesLg2(l) >> size) & 1 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(Addr::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(Addr::InPlace(raw) & ~LowMask(LeafSizeLg2(raw, l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(Ir::Test(raw), Iw::Test(raw), false, true, false, false, false);
  }
  TableRestrictions Restrictions() const { return {.allow_write = Iw::kMask}; }
  Raw EncodeTable(Level l, Oa table) const { return EncodeSkipTable(l, l.Below(), table); }
  Raw EncodeLeaf(Level, Oa oa, LeafAttrs a) const {
    Raw r = Pr::kMask | Addr::InPlace(oa.value());
    r = Ir::Put(r, a.Has(Attr::kRead));
    return Iw::Put(r, a.Has(Attr::kWrite));
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    return LeafAttrs::Of(a.Has(Attr::kRead), a.Has(Attr::kWrite), false, true, false, false, false);
  }
  Raw MarkAccessed(Raw raw, Level, bool) const { return raw; }

  // Replicated leaves (pt/geometry.h): Next Level 7 pages of 2 to 256
  // entries at every level that holds PTEs, up to 2^52 bytes.
  uint64_t ReplicatedSizesLg2(Level l) const {
    if (!CanLeaf(l)) return 0;
    const unsigned lo = ItemLg2(l) + 1;
    const unsigned hi = std::min(ItemLg2(l) + kMaxReplicaLg2, kOaBits);
    return lo > hi ? 0 : (LowMask(hi + 1) & ~LowMask(lo));
  }
  unsigned LeafSizeLg2(Raw raw, Level l) const {
    if (NextLevel::Get(raw) != kNextSized) return ItemLg2(l);
    // The lowest zero bit of the address field is bit size - 1.
    return Ctz(~(Addr::InPlace(raw) | LowMask(kPageLg2))) + 1;
  }
  // The size in the address: bits size-2 .. 12 set, bit size-1 clear.
  Raw EncodeReplica(Level l, unsigned size_lg2, Oa oa, LeafAttrs a, uint64_t) const {
    const Raw r = EncodeLeaf(l, oa, a) | Addr::InPlace(LowMask(size_lg2 - 1));
    return NextLevel::Set(r, kNextSized);
  }

  // Level skipping (pt/geometry.h): Next Level is the AMD level of the
  // table pointed to, which is ptsim level Next Level - 1.
  Level NextTableLevel(Raw raw, Level) const { return Level(static_cast<int>(NextLevel::Get(raw)) - 1); }
  Raw EncodeSkipTable(Level, Level next, Oa table) const {
    const Raw r = Pr::kMask | Ir::kMask | Iw::kMask | Addr::InPlace(table.value());
    return NextLevel::Set(r, static_cast<uint64_t>(next.value() + 1));
  }
  bool BuildsSkips() const { return skip_; }

 private:
  static constexpr int kMaxLevels = 6;
  static constexpr unsigned kPageLg2 = 12;
  static constexpr unsigned kStride = 9;
  static constexpr unsigned kOaBits = 52;
  static constexpr unsigned kMaxReplicaLg2 = 8;  // 256 entries
  static constexpr uint64_t kNextDefault = 0;
  static constexpr uint64_t kNextSized = 7;


 public:
  // Entry fields (AMD IOMMU spec §2.2.3), declared once: the architecture's
  // rules (src/hw/iommu.h) read them too.
  using Pr = Bit<0>;
  using NextLevel = Field<11, 9>;
  using Addr = Field<51, 12>;
  using PteReserved = Field<58, 52>;
  using PdeReserved = Field<60, 52>;
  using Ir = Bit<61>;
  using Iw = Bit<62>;

 private:

  int levels_;
  bool skip_;
};

static_assert(PageTableFormat<AmdIommuV1>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_AMD_IOMMU_V1_H_
