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
// Levels, descriptor types, output addresses, 52-bit addresses and the
// Address size fault are shared with stage 2: see armv8_tables.h, which
// also records how the manual's RES0 cases are decided.
//
// va_bits (64 - TnSZ) picks the start level: the walk starts at the lowest
// level whose entries together cover va_bits, and that top table holds only
// 2^(va_bits - ItemLg2(top)) entries. E.g. 4KB/39 bits starts at L1 with 512
// entries, 16KB/48 bits at L0 with 2, 64KB/48 bits at L1 with 64; with
// lpa = 1, 4KB/52 bits starts at L-1 with 16 entries.
//
// Descriptor (bits [1:0]): x0 invalid; 01 block at L0-L2 (if that level has
// blocks), reserved at L3; 11 table at L0-L2, page at L3. A reserved 01 at
// L3 or a block where the granule has none behaves like an invalid
// descriptor in hardware (Translation fault); ptsim classifies both as
// kInvalid because software must never write them, so they point at a
// page-table bug rather than at an unmapped address.
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
// (AArch64.TTBaseAddress: tsize = table bytes). A 2-entry top table
// (4KB/40, 16KB/48, 64KB/43 bits) is 16 bytes, below the allocator's
// 32-byte minimum: allocate max(TableSizeLg2, 5); the 32-byte block is also
// 16-byte aligned and its upper half is never indexed. With a 52-bit OA the
// TTBR holds OA[51:48] in bits 5:2, so a top table below 64 bytes (e.g.
// 4KB/49 bits: 2 entries at L-1) needs 64-byte alignment, which the
// allocator does not give; ptsim never encodes a TTBR, so nothing breaks,
// but a root it allocates may not be programmable as is.
//
// The Contiguous bit (knob `contig`) is described in armv8_tables.h.
//
// The Access flag fault (ha = 0 with AF = 0), PAN, WXN, EPAN and DBM with
// hardware dirty state are the architecture's rules (src/hw/armv8.h), not
// the neutral walk's. Not modelled at all: TBI, HPD (hierarchical
// permission disable), memory types (AttrIndx/MAIR) and shareability.
#ifndef PTSIM_FORMATS_ARMV8_H_
#define PTSIM_FORMATS_ARMV8_H_

#include <string_view>

#include "src/formats/armv8_tables.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

template <Granule G>
class ArmV8S1 : public ArmV8Tables<G> {
  using Base = ArmV8Tables<G>;
  using typename Base::Af;
  using typename Base::Valid;

 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = ArmV8GranuleTraits<G>::kS1Name;
  static constexpr ConfigKnob kKnobs[] = {
      {"va_bits", 25, 52, 48,
       "input address size, 64 - TCR_ELx.TnSZ; sets the start level; above 48 needs lpa=1, else 48"},
      {"ttbr1", 0, 1, 0, "0: the TTBR0 half (VA bits 63:va_bits zero); 1: the TTBR1 half (all ones)"},
      {"oa_bits", 32, 52, 48,
       "output address size, TCR_ELx.IPS/PS (32, 36, 40, 42, 44, 48, 52); a higher OA is an Address size "
       "fault; above 48 needs lpa=1, else 48"},
      {"ha", 0, 1, 1, "TCR_ELx.HA: hardware sets AF in a leaf it uses"},
      {"lpa", 0, 1, 0,
       "52-bit addresses: 64KB FEAT_LPA/LVA (OA[51:48] in bits 15:12); 4KB/16KB FEAT_LPA2 with TCR_ELx.DS = 1 "
       "(OA[51:50] in bits 9:8, SH from TCR, 4KB L-1 and L0 blocks, 16KB L1 blocks)"},
      {"contig", 0, 1, 0,
       "build Contiguous-bit groups: 4KB 16 x L3/L2/L1, 16KB 128 x L3 and 32 x L2, 64KB 32 x L3/L2 (the bit is "
       "always decoded)"},
  };
  // Named as the manual's field names, so a dump can be checked against it.
  // Bits 63:59 are the table descriptor's hierarchical controls; in a block
  // or page descriptor they are PBHA or ignored. With lpa = 1 bits 9:8
  // (4KB/16KB) or 15:12 (64KB) are address bits.
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
      : Base(static_cast<unsigned>(cfg.Get(0)), static_cast<unsigned>(cfg.Get(2)), cfg.Get(4) != 0, cfg.Get(5) != 0,
             StartLevel),
        ttbr1_(cfg.Get(1) != 0),
        ha_(cfg.Get(3) != 0) {}

  VaExtension VaExt() const { return ttbr1_ ? VaExtension::kOnes : VaExtension::kZero; }

  EntryKind Classify(Raw raw, Level l) const { return this->ClassifyShape(raw, l); }
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
  Raw EncodeTable(Level, Oa table) const { return this->TableDescriptor(table); }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    const bool user = a.Has(Attr::kUser);
    const bool exec = a.Has(Attr::kExec);
    Raw r = this->LeafDescriptor(l, oa);
    // MAIR slot 0, which ptsim assumes holds Normal memory (as Linux's
    // MT_NORMAL); memory types are not modelled.
    r = AttrIndx::Set(r, 0);
    r = Af::Put(r, a.Has(Attr::kAccessed));
    r = Ap2Ro::Put(r, !a.Has(Attr::kWrite));
    r = Ap1El0::Put(r, user);
    r = NotGlobal::Put(r, !a.Has(Attr::kGlobal));
    r = Pxn::Put(r, user || !exec);
    return Uxn::Put(r, !user || !exec);
  }
  // Entry i of a Contiguous group: the leaf for its own part of the block.
  Raw EncodeReplica(Level l, unsigned, Oa oa, LeafAttrs a, uint64_t i) const {
    return Base::Contiguous::Put(EncodeLeaf(l, oa + (i << this->ItemLg2(l)), a), true);
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
  // AArch64.S1StartLevel: as many levels as it takes for the strides above
  // the page offset to cover va_bits.
  static Level StartLevel(unsigned va_bits) {
    return Level(static_cast<int>((va_bits - Base::kGranuleLg2 + Base::kStride - 1) / Base::kStride) - 1);
  }

  using AttrIndx = armv8_desc::AttrIndx;
  using Ap1El0 = armv8_desc::Ap1El0;
  using Ap2Ro = armv8_desc::Ap2Ro;
  using NotGlobal = armv8_desc::NotGlobal;
  using Pxn = armv8_desc::Pxn;
  using Uxn = armv8_desc::Uxn;
  using PxnTable = armv8_desc::PxnTable;
  using UxnTable = armv8_desc::UxnTable;
  using ApTable0NoEl0 = armv8_desc::ApTable0NoEl0;
  using ApTable1Ro = armv8_desc::ApTable1Ro;

  bool ttbr1_;
  bool ha_;
};

using ArmV8S1_4K = ArmV8S1<Granule::k4K>;
using ArmV8S1_16K = ArmV8S1<Granule::k16K>;
using ArmV8S1_64K = ArmV8S1<Granule::k64K>;
static_assert(PageTableFormat<ArmV8S1_4K>);
static_assert(PageTableFormat<ArmV8S1_16K>);
static_assert(PageTableFormat<ArmV8S1_64K>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_ARMV8_H_
