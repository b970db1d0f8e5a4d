// ARMv8-A VMSAv8-64 stage 1 translation tables: 4KB, 16KB and 64KB granules.
//
// Arm Architecture Reference Manual for A-profile architecture (DDI 0487),
// chapter D8 "The AArch64 Virtual Memory System Architecture" (chapter D5 in
// editions F-H, D4 in the first ones). Sections used, by name:
//   * "Translation granules" / "Memory translation granule size" and "The
//     algorithm for finding the translation table entries": stride, levels,
//     the start level and the size of the initial table;
//   * "VMSAv8-64 translation table format descriptors": "translation table
//     level 0, level 1, and level 2 descriptor formats" (table and block
//     descriptors) and "level 3 descriptor formats" (page descriptors);
//   * "Memory attribute fields in the VMSAv8-64 translation table format
//     descriptors": AttrIndx, NS, AP[2:1], SH, AF, nG, DBM, Contiguous,
//     PXN, UXN, and the table descriptor's PXNTable, UXNTable, APTable,
//     NSTable;
//   * "Memory access control": "Data access permissions for stage 1",
//     "Access permissions for instruction execution" and "Hierarchical
//     control of data access permissions" (APTable, PXNTable, UXNTable);
//   * "The Access flag" / "Hardware management of the Access flag";
//   * "Address size fault" (under "MMU faults");
//   * the shared pseudocode AArch64.S1StartLevel, AArch64.TTBaseAddress,
//     AArch64.DecodeDescriptorType, AArch64.NextTableBase and
//     AArch64.LeafBase, where the prose leaves a case open.
//
// Levels: Arm numbers lookup levels from the top (L0) down to L3, which
// holds page descriptors; ptsim numbers from the bottom.
//
//   ptsim level | Arm level | 4KB granule entry   | 16KB granule entry  | 64KB granule entry
//   3           | L0        | 512 GiB, table only | 128 TiB, table only | (needs 52-bit VA)
//   2           | L1        | 1 GiB block / table | 64 GiB, table only  | 4 TiB, table only
//   1           | L2        | 2 MiB block / table | 32 MiB block/table  | 512 MiB block/table
//   0           | L3        | 4 KiB page          | 16 KiB page         | 64 KiB page
//
// va_bits (64 - TnSZ) picks the start level: the walk starts at the lowest
// level whose entries together cover va_bits, and that top table holds only
// 2^(va_bits - ItemLg2(top)) entries. E.g. 4KB/39 bits starts at L1 with 512
// entries, 16KB/48 bits at L0 with 2, 64KB/48 bits at L1 with 64.
//
// Descriptor (bits [1:0]): x0 invalid; 01 block at L0-L2 (if that level has
// blocks), reserved at L3; 11 table at L0-L2, page at L3. A reserved 01 at
// L3 or a block where the granule has none behaves like an invalid
// descriptor in hardware (Translation fault); ptsim classifies both as
// kInvalid because software must never write them, so they point at a
// page-table bug rather than at an unmapped address.
//
// Output addresses: bits 47:G hold OA[47:G] in table, block and page
// descriptors (G = 12, 14, 16), never above 47 without LPA/LPA2. What the
// manual marks RES0 is decided here as the pseudocode decides it:
//   * block descriptor bits below the block size (e.g. 29:12 at 4KB L1) are
//     RES0 but never read: AArch64.LeafBase aligns the descriptor's address
//     bits down to the block size, and FEAT_BBM reuses bit 16 (nT) there. So
//     they are ignored (kLeaf, LeafOa drops them), unlike x86's reserved
//     bits;
//   * bits 49:48 (4KB, 16KB) are OA bits only with LPA2 (TCR.DS = 1), so
//     they are ignored here;
//   * 64KB bits 15:12 are OA[51:48] on every core that implements FEAT_LPA,
//     whatever TCR.IPS says, and RES0 elsewhere: nonzero they make an
//     address at or above 2^48 > 2^oa_bits, an Address size fault on such
//     a core, so ptsim reports kInvalid;
//   * an OA (leaf or next table) with a bit at or above oa_bits set is an
//     Address size fault: kInvalid.
//
// Permissions (stage 1, EL1&0 regime, neutral attribute <-> descriptor):
//   read   always (stage 1 has no write-only or no-access-at-EL1 encoding)
//   write  AP[2] (bit 7) clear
//   user   AP[1] (bit 6) set: EL0 may access
//   exec   for the owner only: a user page has PXN = 1 and UXN = !exec, a
//          kernel page has UXN = 1 and PXN = !exec. UXN = 1 on kernel pages
//          matters: EL0 may execute a page it cannot read (AP[1] = 0) when
//          UXN = 0. PXN = 1 on user pages is also what hardware forces on
//          EL0-writable pages. Decoding reads the owner's bit only, so an
//          EL0 execute-only kernel page (AP[1] = 0, UXN = 0) decodes as
//          not user-executable.
//   global nG (bit 11) clear; accessed: AF (bit 10); dirty: not modelled
//          (DBM comes with hardware dirty state), always false.
// Table descriptors restrict what lies below (Hierarchical permissions):
// APTable[1] (bit 62) forbids writes at every EL, APTable[0] (bit 61)
// forbids EL0 access, UXNTable (bit 60) / PXNTable (bit 59) force UXN / PXN
// below. TablePerms has one exec bit and the table restrictions cannot see whether the
// leaf below is a user or a kernel page, so exec below is allowed only when
// both XN table bits are clear: never more than hardware allows, but a
// one-sided table (Linux puts PXNTable on user tables and UXNTable on kernel
// tables) also hides the exec hardware would grant the owner. EncodeTable
// writes all four controls as zero, where the two rules agree.
//
// Table memory: every table below the top is exactly one granule (4, 16 or
// 64 KiB), aligned to it. The top table is 2^(IndexLg2(top) + 3) bytes and,
// with a 48-bit OA, hardware aligns its base to its own size only
// (AArch64.TTBaseAddress: tsize = table bytes); the 64-byte minimum
// alignment applies only when TTBR bits 5:2 hold OA[51:48] (52-bit PA). A
// 2-entry top table (4KB/40, 16KB/48, 64KB/43 bits) is 16 bytes, below the
// allocator's 32-byte minimum: allocate max(TableSizeLg2, 5); the 32-byte
// block is also 16-byte aligned and its upper half is never indexed. The
// 52-bit issue must revisit this: there a 16- or 32-byte top table needs
// 64-byte alignment, which "aligned to its size" does not give.
//
// Not yet modelled: stage 2 (concatenated initial tables), the Contiguous
// hint, 52-bit LPA/LPA2, DBM and the dirty state, the Access flag fault
// (ha = 0 with AF = 0), PAN, WXN, TBI, HPD (hierarchical permission
// disable), memory types (AttrIndx/MAIR) and shareability.
#ifndef PTSIM_FORMATS_ARMV8_H_
#define PTSIM_FORMATS_ARMV8_H_

#include <string_view>

#include "src/pt/format.h"

namespace ptsim::fmt {

enum class Granule : uint8_t { k4K, k16K, k64K };

// Everything that depends on the granule alone. Stage 2 and LPA/LPA2 add
// columns here rather than conditionals in the format.
template <Granule G>
struct ArmV8GranuleTraits;

template <>
struct ArmV8GranuleTraits<Granule::k4K> {
  static constexpr std::string_view kS1Name = "armv8_s1_4k";
  static constexpr unsigned kPageLg2 = 12;
  // Shallowest Arm level that may hold a block descriptor (1 GiB at L1).
  static constexpr int kFirstBlockArmLevel = 1;
};

template <>
struct ArmV8GranuleTraits<Granule::k16K> {
  static constexpr std::string_view kS1Name = "armv8_s1_16k";
  static constexpr unsigned kPageLg2 = 14;
  static constexpr int kFirstBlockArmLevel = 2;  // 32 MiB at L2
};

template <>
struct ArmV8GranuleTraits<Granule::k64K> {
  static constexpr std::string_view kS1Name = "armv8_s1_64k";
  static constexpr unsigned kPageLg2 = 16;
  // L1 blocks (4 TiB) exist only with 52-bit LPA.
  static constexpr int kFirstBlockArmLevel = 2;  // 512 MiB at L2
};

template <Granule G>
class ArmV8S1 {
  using Traits = ArmV8GranuleTraits<G>;

 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = Traits::kS1Name;
  static constexpr unsigned kEntryLg2 = 3;
  static constexpr ConfigKnob kKnobs[] = {
      {"va_bits", 25, 48, 48, "input address size, 64 - TCR_ELx.TnSZ; sets the start level"},
      {"ttbr1", 0, 1, 0, "0: the TTBR0 half (VA bits 63:va_bits zero); 1: the TTBR1 half (all ones)"},
      {"oa_bits", 32, 48, 48,
       "output address size, TCR_ELx.IPS/PS (32, 36, 40, 42, 44, 48); a higher OA is an Address size fault"},
      {"ha", 0, 1, 1, "TCR_ELx.HA: hardware sets AF in a leaf it uses"},
  };
  // Named as the manual's field names, so a dump can be checked against it.
  // Bits 63:59 are the table descriptor's hierarchical controls; in a block
  // or page descriptor they are PBHA or ignored.
  static constexpr NamedBit kNamedBits[] = {
      {"valid", 0},
      {"table_or_page", 1},
      {"ns", 5},
      {"ap1_el0", 6},
      {"ap2_ro", 7, true},
      {"af", 10},
      {"ng", 11},
      {"dbm", 51},
      {"contiguous", 52},
      {"pxn", 53, true},
      {"uxn", 54, true},
      {"pxn_table", 59, true},
      {"uxn_table", 60, true},
      {"ap_table0_no_el0", 61, true},
      {"ap_table1_ro", 62, true},
      {"ns_table", 63},
  };

  explicit ArmV8S1(const FormatConfig& cfg)
      : va_bits_(static_cast<unsigned>(cfg.Get(0))),
        ttbr1_(cfg.Get(1) != 0),
        oa_bits_(static_cast<unsigned>(cfg.Get(2))),
        ha_(cfg.Get(3) != 0),
        // AArch64.S1StartLevel: as many levels as it takes for the strides
        // above the page offset to cover va_bits.
        top_(static_cast<int>((va_bits_ - kGranuleLg2 + kStride - 1) / kStride) - 1) {}

  Level TopLevel() const { return top_; }
  unsigned VaBits() const { return va_bits_; }
  unsigned OaBits() const { return oa_bits_; }
  VaExtension VaExt() const { return ttbr1_ ? VaExtension::kOnes : VaExtension::kZero; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"L3", "L2", "L1", "L0"};
    return kNames[l.value()];
  }
  // The top table resolves only the VA bits left above the levels below it.
  unsigned IndexLg2(Level l) const { return l == top_ ? va_bits_ - ItemLg2(l) : kStride; }
  unsigned ItemLg2(Level l) const { return kGranuleLg2 + kStride * static_cast<unsigned>(l.value()); }
  bool CanLeaf(Level l) const {
    return l <= top_ && (l.IsBottom() || ArmLevel(l) >= Traits::kFirstBlockArmLevel);
  }
  bool CanTable(Level l) const { return l <= top_ && !l.IsBottom(); }

  EntryKind Classify(Raw raw, Level l) const {
    if (!Valid::Test(raw)) return EntryKind::kEmpty;
    EntryKind kind;
    if (l.IsBottom()) {
      // At L3 bit 1 = 0 is "reserved, behaves as invalid" and must not be
      // written; bit 1 = 1 is a page.
      if (!TypeBit::Test(raw)) return EntryKind::kInvalid;
      kind = EntryKind::kLeaf;
    } else if (TypeBit::Test(raw)) {
      if (!CanTable(l)) return EntryKind::kInvalid;
      kind = EntryKind::kTable;
    } else {
      if (!CanLeaf(l)) return EntryKind::kInvalid;
      kind = EntryKind::kLeaf;
    }
    // Address size fault. The RES0 bits below a block's size all lie below
    // 2^32 <= 2^oa_bits (static_assert below), so testing the whole field is
    // testing the block's OA.
    if ((OaField::InPlace(raw) & ~LowMask(oa_bits_)) != 0) return EntryKind::kInvalid;
    if constexpr (G == Granule::k64K) {
      if (Lpa64kOaHigh::Get(raw) != 0) return EntryKind::kInvalid;
    }
    return kind;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(OaField::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(OaField::InPlace(raw) & ~LowMask(ItemLg2(l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    const bool user = Ap1El0::Test(raw);
    return LeafAttrs()
        .With(Attr::kRead)
        .With(Attr::kWrite, !Ap2Ro::Test(raw))
        .With(Attr::kExec, user ? !Uxn::Test(raw) : !Pxn::Test(raw))
        .With(Attr::kUser, user)
        .With(Attr::kGlobal, !NotGlobal::Test(raw))
        .With(Attr::kAccessed, Af::Test(raw));
  }
  TableRestrictions Restrictions() const {
    return {.deny_write = ApTable1Ro::kMask,
            .deny_exec = UxnTable::kMask | PxnTable::kMask,
            .deny_user = ApTable0NoEl0::kMask};
  }
  // No hierarchical restriction: the leaves say everything.
  Raw EncodeTable(Level, Oa table) const {
    Raw r = Valid::Put(Raw{0}, true);
    r = TypeBit::Put(r, true);
    return OaField::Set(r, table.value() >> OaField::kLo);
  }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    const bool user = a.Has(Attr::kUser);
    const bool exec = a.Has(Attr::kExec);
    Raw r = Valid::Put(Raw{0}, true);
    r = TypeBit::Put(r, l.IsBottom());  // page at L3, block above
    // MAIR slot 0, which ptsim assumes holds Normal memory (as Linux's
    // MT_NORMAL); memory types are not modelled.
    r = AttrIndx::Set(r, 0);
    r = Sh::Set(r, kShInnerShareable);
    r = Af::Put(r, a.Has(Attr::kAccessed));
    r = Ap2Ro::Put(r, !a.Has(Attr::kWrite));
    r = Ap1El0::Put(r, user);
    r = NotGlobal::Put(r, !a.Has(Attr::kGlobal));
    r = Pxn::Put(r, user || !exec);
    r = Uxn::Put(r, !user || !exec);
    return OaField::Set(r, oa.value() >> OaField::kLo);
  }
  LeafAttrs Canonical(LeafAttrs a) const { return a.With(Attr::kRead).Without(Attr::kDirty); }
  // Hardware management of the Access flag (TCR.HA): AF is set in the leaf
  // the walk used; table descriptors have no AF without FEAT_HAFT. Dirty
  // state (DBM) is not modelled, so `write` changes nothing.
  Raw MarkAccessed(Raw raw, Level l, bool) const {
    if (!ha_ || Classify(raw, l) != EntryKind::kLeaf) return raw;
    return Af::Put(raw, true);
  }

 private:
  static constexpr unsigned kGranuleLg2 = Traits::kPageLg2;
  // Index bits per full table: a granule of 8-byte descriptors.
  static constexpr unsigned kStride = kGranuleLg2 - kEntryLg2;
  static constexpr int kFinalArmLevel = 3;
  static constexpr uint64_t kShInnerShareable = 0b11;
  // Without LPA/LPA2 an OA has at most 48 bits, held in place in bits 47:G.
  static constexpr unsigned kMaxOaBits = 48;
  static_assert(kGranuleLg2 + kStride * (kFinalArmLevel - Traits::kFirstBlockArmLevel) < 32,
                "Classify's address size check assumes every block is smaller than the minimum OA size");

  static constexpr int ArmLevel(Level l) { return kFinalArmLevel - l.value(); }

  using Valid = Bit<0>;
  using TypeBit = Bit<1>;  // table (L0-L2) or page (L3); 0 = block
  using AttrIndx = Field<4, 2>;
  using Ap1El0 = Bit<6>;  // AP[1]
  using Ap2Ro = Bit<7>;   // AP[2]
  using Sh = Field<9, 8>;
  using Af = Bit<10>;
  using NotGlobal = Bit<11>;
  using Pxn = Bit<53>;
  using Uxn = Bit<54>;
  using PxnTable = Bit<59>;
  using UxnTable = Bit<60>;
  using ApTable0NoEl0 = Bit<61>;  // APTable[0]
  using ApTable1Ro = Bit<62>;     // APTable[1]
  using OaField = Field<kMaxOaBits - 1, kGranuleLg2>;
  // 64KB granule: OA[51:48] with FEAT_LPA, RES0 otherwise.
  using Lpa64kOaHigh = Field<15, 12>;

  unsigned va_bits_;
  bool ttbr1_;
  unsigned oa_bits_;
  bool ha_;
  Level top_;
};

using ArmV8S1_4K = ArmV8S1<Granule::k4K>;
using ArmV8S1_16K = ArmV8S1<Granule::k16K>;
using ArmV8S1_64K = ArmV8S1<Granule::k64K>;
static_assert(PageTableFormat<ArmV8S1_4K>);
static_assert(PageTableFormat<ArmV8S1_16K>);
static_assert(PageTableFormat<ArmV8S1_64K>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_ARMV8_H_
