// ARMv7-A VMSA short-descriptor translation tables (32-bit VAs, TTBCR.N = 0,
// one TTBR).
//
// ARM Architecture Reference Manual ARMv7-A and ARMv7-R edition (DDI 0406C),
// chapter B3 "Virtual Memory System Architecture (VMSA)":
//   * B3.5 "Short-descriptor translation table format", B3.5.1 "Short-
//     descriptor translation table format descriptors" (first-level: fault,
//     page table, section, supersection; second-level: fault, large page,
//     small page; the rule that supersection and large page descriptors are
//     repeated in 16 consecutive, aligned entries), B3.5.4 "Selecting
//     between TTBR0 and TTBR1" (TTBCR.N = 0: a 16 KiB first-level table);
//   * B3.7.1 "Access permissions" (AP[2:0] with SCTLR.AFE = 0), B3.7.2
//     "Execute-never restrictions on instruction fetching" (XN, PXN, and
//     PXN in a page table descriptor), B3.7.3 "Domains" (DACR);
//   * B3.8 "Memory region attributes" (TEX[2:0], C, B, S).
//
// Levels (ptsim numbers from the bottom):
//   level 1: first-level table, 4096 32-bit entries (16 KiB, 16 KiB
//            aligned), each 1 MiB: a page table pointer, a 1 MiB section, or
//            one of 16 entries of a 16 MiB supersection;
//   level 0: second-level table, 256 entries (1 KiB, 1 KiB aligned: a
//            sub-page table from the allocator), each 4 KiB: a small page or
//            one of 16 entries of a 64 KiB large page.
// Supersections and large pages are replicated leaves (pt/geometry.h): the
// 16 entries are identical (B3.5.1 requires it; otherwise the result is
// UNPREDICTABLE, which CheckTree and ForEachLeaf report as a problem).
// Splitting goes 16 MiB -> 1 MiB sections in place, 1 MiB -> a second-level
// table of 64 KiB large pages, 64 KiB -> 4 KiB small pages in place; the
// architecture asks for no break-before-make here, so entries are rewritten
// in ascending order.
//
// First-level descriptor, bits [1:0]: 00 fault (kEmpty); 01 page table
// (bit 2 PXN, bit 3 NS, bits 8:5 domain, bits 31:10 table address); 1x
// section or supersection with bit 0 = PXN (bit 2 B, bit 3 C, bit 4 XN, bits
// 8:5 domain (section) or PA[39:36] (supersection), bits 11:10 AP[1:0],
// bits 14:12 TEX, bit 15 AP[2], bit 16 S, bit 17 nG, bit 18 supersection,
// bit 19 NS, bits 31:20 PA[31:20] (section) or 31:24 PA[31:24] and 23:20
// PA[35:32] (supersection)).
// Second-level descriptor, bits [1:0]: 00 fault; 01 large page (bit 2 B,
// bit 3 C, bits 5:4 AP[1:0], bit 9 AP[2], bit 10 S, bit 11 nG, bits 14:12
// TEX, bit 15 XN, bits 31:16 PA[31:16]); 1x small page with bit 0 = XN
// (bit 2 B, bit 3 C, bits 5:4 AP[1:0], bits 8:6 TEX, bit 9 AP[2], bit 10 S,
// bit 11 nG, bits 31:12 PA[31:12]).
//
// Permissions (AP[2:0], SCTLR.AFE = 0, B3.7.1), neutral <-> descriptor:
//   000 no access            <-> no read, write, user or exec
//   001 PL1 RW               <-> r w
//   011 PL1 RW, PL0 RW       <-> r w u
//   101 PL1 RO               <-> r
//   111 PL1 RO, PL0 RO       <-> r u (110, its deprecated twin, decodes so)
//   010 PL1 RW, PL0 RO       decodes as r u, not writable: the one write
//                            bit cannot say "PL1 only", and ptsim never
//                            grants more than hardware
//   100                      reserved: kInvalid
// Reads are always allowed where anything is, so Canonical adds read to
// write and exec requests, and a request without read is "no access".
// exec: XN clear. Sections also have PXN (bit 0 with bits [1:0] = 11);
// like the ARMv8 formats, a decoded PXN section is executable only if it
// is a user (PL0) section. EncodeLeaf writes PXN = 0. A page table
// descriptor's PXN forbids PL1 execution below it; TablePerms has one exec
// bit, so it forbids exec below for everyone (never more than hardware).
// global: nG clear. No accessed/dirty in the neutral walk: with SCTLR.AFE
// = 0 there is no Access flag, so MarkAccessed changes nothing.
// Memory attributes are written as Normal, Write-Back Write-Allocate (TEX
// 001, C = 1, B = 1), shareable (S = 1), and ignored on decode.
//
// Left to the architecture's rules (src/hw/armv7.h, with the CPU mode of
// src/hw/armv7_mode.h), not to the format and its neutral walk:
//   * domains: every descriptor is written with domain 0 and the neutral
//     walk treats every domain as Client (DACR = 01: permissions checked).
//     A No-access domain (domain fault) and a Manager domain (no permission
//     checks at all) cannot be expressed as monotone allow/deny masks over
//     the descriptor bits, because the outcome depends on DACR, not on the
//     tables; the domain field is ignored on decode;
//   * SCTLR.AFE = 1 (the simplified AP model and the Access flag).
// Not modelled at all:
//   * the supersection extended base address (PA[39:32] in bits 23:20 and
//     8:5): OaBits() is 32 and nonzero extension bits classify as kInvalid
//     (as on a core without the optional 40-bit supersection support);
//   * TTBCR.N > 0 and TTBR1, TEX remap (SCTLR.TRE), NS, and the Large
//     Physical Address Extension (that is the long-descriptor format).
#ifndef PTSIM_FORMATS_ARMV7_SHORT_H_
#define PTSIM_FORMATS_ARMV7_SHORT_H_

#include <array>
#include <string_view>

#include "src/formats/armv7_bits.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

class ArmV7Short {
 public:
  using Raw = uint32_t;
  static constexpr std::string_view kName = "armv7_short";
  static constexpr unsigned kEntryLg2 = 2;
  static constexpr std::array<ConfigKnob, 0> kKnobs{};
  // Section/supersection bit names first; page bits share some positions.
  static constexpr NamedBit kNamedBits[] = {
      {"pxn_or_xn", 0, true}, {"type1", 1},  {"b", 2},     {"c", 3},        {"xn_section", 4, true},
      {"ap0_section", 10},    {"ap1_section", 11},         {"ap2_section", 15}, {"s_section", 16},
      {"ng_section", 17},     {"supersection", 18},
  };

  explicit ArmV7Short(const FormatConfig&) {}

  Level TopLevel() const { return Level(1); }
  unsigned VaBits() const { return 32; }
  unsigned OaBits() const { return 32; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  std::string_view LevelName(Level l) const { return l.IsBottom() ? "L2" : "L1"; }
  unsigned IndexLg2(Level l) const { return l.IsBottom() ? 8 : 12; }
  unsigned ItemLg2(Level l) const { return l.IsBottom() ? 12 : 20; }
  bool CanLeaf(Level) const { return true; }
  bool CanTable(Level l) const { return !l.IsBottom(); }

  EntryKind Classify(Raw raw, Level l) const {
    const uint64_t type = Type::Get(raw);
    if (type == 0) return EntryKind::kEmpty;
    if (l.IsBottom()) return ApOf(raw, l) == kApReserved ? EntryKind::kInvalid : EntryKind::kLeaf;
    if (type == kL1PageTable) return EntryKind::kTable;
    if (ApOf(raw, l) == kApReserved) return EntryKind::kInvalid;
    if (Super::Test(raw) && (SuperPa35::Get(raw) != 0 || Domain::Get(raw) != 0)) return EntryKind::kInvalid;
    return EntryKind::kLeaf;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(L2Base::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(raw & ~LowMask(LeafSizeLg2(raw, l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level l) const {
    const uint64_t ap = ApOf(raw, l);
    const bool any = ap != kApNoAccess;
    const bool user = any && Ap1::Get(ap) != 0;
    const bool write = !Ap2::Test(ap) && Ap::Get(ap) != kAp1Pl1RwPl0Ro && any;
    const bool pxn = !l.IsBottom() && Type::Get(raw) == kL1SectionPxn;
    const bool exec = any && !XnOf(raw, l) && (user || !pxn);
    return LeafAttrs::Of(any, write, exec, user, !NgOf(raw, l), false, false);
  }
  TableRestrictions Restrictions() const { return {.deny_exec = PxnTable::kMask}; }
  Raw EncodeTable(Level, Oa table) const { return static_cast<Raw>(table.value() | kL1PageTable); }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    a = Canonical(a);
    const uint64_t ap = !a.Has(Attr::kRead) ? kApNoAccess
                                            : (a.Has(Attr::kUser) ? 0b011 : 0b001) | (a.Has(Attr::kWrite) ? 0 : 0b100);
    uint64_t r = oa.value() | Bb::kMask | Cc::kMask;
    if (l.IsBottom()) {
      r |= kL2Small;
      r = SmallXn::Set(r, !a.Has(Attr::kExec));
      r = SmallTex::Set(r, kTexNormal);
      r = PageAp10::Set(r, ap);
      r = PageAp2::Set(r, ap >> 2);
      r = PageS::Set(r, 1);
      return static_cast<Raw>(PageNg::Set(r, !a.Has(Attr::kGlobal)));
    }
    r |= kL1Section;
    r = XnSection::Set(r, !a.Has(Attr::kExec));
    r = SectionTex::Set(r, kTexNormal);
    r = SectionAp10::Set(r, ap);
    r = SectionAp2::Set(r, ap >> 2);
    r = SectionS::Set(r, 1);
    return static_cast<Raw>(SectionNg::Set(r, !a.Has(Attr::kGlobal)));
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    const bool read = a.Has(Attr::kRead) || a.Has(Attr::kWrite) || a.Has(Attr::kExec);
    return LeafAttrs::Of(read, a.Has(Attr::kWrite), a.Has(Attr::kExec), read && a.Has(Attr::kUser),
                         a.Has(Attr::kGlobal), false, false);
  }
  Raw MarkAccessed(Raw raw, Level, bool) const { return raw; }

  // Replicated leaves (pt/geometry.h): 16 MiB supersections at level 1 and
  // 64 KiB large pages at level 0, each 16 identical entries.
  uint64_t ReplicatedSizesLg2(Level l) const { return uint64_t{1} << (l.IsBottom() ? kLargeLg2 : kSuperLg2); }
  unsigned LeafSizeLg2(Raw raw, Level l) const {
    if (l.IsBottom()) return Type::Get(raw) == kL2Large ? kLargeLg2 : ItemLg2(l);
    return Super::Test(raw) ? kSuperLg2 : ItemLg2(l);
  }
  Raw EncodeReplica(Level l, unsigned, Oa oa, LeafAttrs a, uint64_t) const {
    const Raw r = EncodeLeaf(l, oa, a);
    if (!l.IsBottom()) return Super::Put(r, true);
    // A small page's XN (bit 0) and TEX (8:6) move: XN to bit 15, TEX to
    // 14:12, and bits 1:0 become 01.
    uint64_t large = (r & ~(Type::kMask | SmallTex::kMask)) | kL2Large;
    large = LargeXn::Set(large, SmallXn::Get(r));
    return static_cast<Raw>(LargeTex::Set(large, SmallTex::Get(r)));
  }

 private:
  static constexpr unsigned kSuperLg2 = 24;
  static constexpr unsigned kLargeLg2 = 16;
  // Bit positions and type codes: src/formats/armv7_bits.h.
  static constexpr uint64_t kL1PageTable = armv7_desc::kL1PageTable;
  static constexpr uint64_t kL1Section = armv7_desc::kL1Section;
  static constexpr uint64_t kL1SectionPxn = armv7_desc::kL1SectionPxn;
  static constexpr uint64_t kL2Large = armv7_desc::kL2Large;
  static constexpr uint64_t kL2Small = armv7_desc::kL2Small;
  static constexpr uint64_t kTexNormal = 0b001;  // with C = B = 1: Normal, WB WA
  // AP[2:0] values and fields of that 3-bit value.
  static constexpr uint64_t kApNoAccess = 0b000;
  static constexpr uint64_t kApReserved = 0b100;
  static constexpr uint64_t kAp1Pl1RwPl0Ro = 0b10;  // AP[1:0] = 10 with AP[2] = 0
  using Ap = Field<1, 0>;   // AP[1:0] of the 3-bit value
  using Ap1 = Field<1, 1>;  // AP[1]: PL0 access
  using Ap2 = Bit<2>;       // AP[2]: read-only

  using Type = armv7_desc::Type;
  using Bb = armv7_desc::Bb;
  using Cc = armv7_desc::Cc;
  using PxnTable = armv7_desc::PxnTable;
  using XnSection = armv7_desc::XnSection;
  using Domain = armv7_desc::Domain;
  using SectionAp10 = armv7_desc::SectionAp10;
  using SectionTex = armv7_desc::SectionTex;
  using SectionAp2 = armv7_desc::SectionAp2;
  using SectionS = armv7_desc::SectionS;
  using SectionNg = armv7_desc::SectionNg;
  using Super = armv7_desc::Super;
  using SuperPa35 = armv7_desc::SuperPa35;
  using L2Base = armv7_desc::L2Base;
  using SmallXn = armv7_desc::SmallXn;
  using PageAp10 = armv7_desc::PageAp10;
  using SmallTex = armv7_desc::SmallTex;
  using PageAp2 = armv7_desc::PageAp2;
  using PageS = armv7_desc::PageS;
  using PageNg = armv7_desc::PageNg;
  using LargeTex = armv7_desc::LargeTex;
  using LargeXn = armv7_desc::LargeXn;

  static uint64_t ApOf(Raw raw, Level l) { return armv7_desc::ApOf(raw, l.IsBottom()); }
  static bool XnOf(Raw raw, Level l) {
    if (!l.IsBottom()) return XnSection::Test(raw);
    return Type::Get(raw) == kL2Large ? LargeXn::Test(raw) : SmallXn::Test(raw);
  }
  static bool NgOf(Raw raw, Level l) { return l.IsBottom() ? PageNg::Test(raw) : SectionNg::Test(raw); }
};

static_assert(PageTableFormat<ArmV7Short>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_ARMV7_SHORT_H_
