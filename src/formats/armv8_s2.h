// ARMv8-A VMSAv8-64 stage 2 translation tables (EL1&0 regime, IPA -> PA):
// 4KB, 16KB and 64KB granules, with concatenated initial tables.
//
// Arm Architecture Reference Manual for A-profile architecture (DDI 0487),
// chapter D8, by name (shared geometry and addresses: armv8_tables.h):
//   * "Concatenated translation tables for the initial stage 2 lookup" and
//     the VTCR_EL2 fields T0SZ, SL0 (SL2 with FEAT_LPA2), PS, DS; the
//     pseudocode AArch64.S2StartLevel, AArch64.S2InconsistentSL and
//     AArch64.S2InvalidSL;
//   * "Stage 2 memory region attributes" / the stage 2 block and page
//     descriptor attribute fields: MemAttr[3:0] (bits 5:2), S2AP[1:0]
//     (bits 7:6), SH (9:8), AF (10), DBM (51), Contiguous (52), XN[1:0]
//     (54:53, bit 53 only with FEAT_XNX);
//   * "Data access permissions for stage 2" (S2AP) and "Access permissions
//     for instruction execution" at stage 2 (XN, and XN[1:0] with FEAT_XNX);
//   * "The Access flag" / "Hardware management of the Access flag"
//     (VTCR_EL2.HA).
//
// Start level and concatenation: the initial lookup may resolve between 1
// and stride + 4 input bits (AArch64.S2InconsistentSL): beyond a full
// table, up to 16 tables are concatenated, contiguous and aligned to their
// total size, so the top table here has 2^(ipa_bits - ItemLg2(top))
// entries, up to 16 granules (1 MiB with 64KB). Several start levels are
// often legal for one IPA size (4KB, 40 bits: L0 with 2 entries or L1 with
// 2 concatenated tables); the `concat` knob picks the deepest legal one (1,
// what KVM does: concatenate to save a level) or the shallowest (0). The
// legal ones are those SL0/SL2 can encode for the granule (4KB: L0, L1, L2,
// and L-1 with DS; L3 needs FEAT_TTST, not modelled. 16KB: L1 to L3, and L0
// with DS. 64KB: L1 to L3), assuming PAMax >= 44 so that AArch64.S2InvalidSL
// rejects none of them. An IPA size above the PA size is CONSTRAINED
// UNPREDICTABLE in hardware; ptsim does not tie the two knobs.
//
// Permissions (neutral attribute <-> descriptor):
//   read   S2AP[0] (bit 6)
//   write  S2AP[1] (bit 7); S2AP = 00 (no access) and 10 (write-only) are
//          real encodings and kept as asked
//   exec   XN (bit 54) clear; with FEAT_XNX (`xnx`) XN[1:0] = 00 only:
//          01 and 11 allow one EL and not the other, which the one exec
//          attribute cannot say, so they decode as not executable (never
//          more than hardware allows). Instruction fetch at stage 2 checks
//          XN only, not S2AP, so exec is independent of read.
//   user   always: stage 2 does not distinguish EL0 from EL1 data accesses
//   global never: stage 2 TLB entries are tagged by VMID, there is no nG
//   accessed AF (bit 10); dirty: DBM not modelled, always false.
// Stage 2 table descriptors carry no hierarchical attributes: Restrictions
// is empty.
//
// EncodeLeaf writes MemAttr = 0b1111 (Normal, Inner and Outer Write-Back
// Cacheable, as KVM's MT_S2_NORMAL with FWB off) and SH = Inner Shareable
// where the descriptor holds SH (not with DS = 1).
//
// The Contiguous bit (knob `contig`) is described in armv8_tables.h.
//
// DBM with hardware dirty state and the Access flag fault (ha = 0 with AF =
// 0) are the architecture's rules (src/hw/armv8.h). Not modelled:
// FEAT_S2FWB, FEAT_S2PIE, FEAT_TTST.
#ifndef PTSIM_FORMATS_ARMV8_S2_H_
#define PTSIM_FORMATS_ARMV8_S2_H_

#include <string_view>

#include "src/formats/armv8_tables.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

template <Granule G>
class ArmV8S2 : public ArmV8Tables<G> {
  using Base = ArmV8Tables<G>;
  using Traits = ArmV8GranuleTraits<G>;
  using typename Base::Af;

 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = Traits::kS2Name;
  static constexpr ConfigKnob kKnobs[] = {
      {"ipa_bits", 25, 52, 40, "input (IPA) size, 64 - VTCR_EL2.T0SZ; above 48 needs lpa=1, else 48"},
      {"oa_bits", 32, 52, 48,
       "output address size, VTCR_EL2.PS; a higher OA is an Address size fault; above 48 needs lpa=1, else 48"},
      {"lpa", 0, 1, 0,
       "52-bit addresses: 64KB FEAT_LPA (OA[51:48] in bits 15:12); 4KB/16KB FEAT_LPA2 with VTCR_EL2.DS = 1 "
       "(OA[51:50] in bits 9:8)"},
      {"concat", 0, 1, 1,
       "1: start at the deepest level VTCR_EL2.SL0 allows, concatenating 2-16 initial tables (as KVM); 0: the "
       "shallowest"},
      {"ha", 0, 1, 1, "VTCR_EL2.HA: hardware sets AF in a leaf it uses"},
      {"xnx", 0, 1, 0, "FEAT_XNX: bit 53 is XN[0] (per-EL execute never); 0 = bit 53 is RES0 and ignored"},
      {"contig", 0, 1, 0,
       "build Contiguous-bit groups: 4KB 16 x L3/L2/L1, 16KB 128 x L3 and 32 x L2, 64KB 32 x L3/L2 (the bit is "
       "always decoded)"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"valid", 0},       {"table_or_page", 1}, {"s2ap_read", 6}, {"s2ap_write", 7},  {"af", 10},
      {"dbm", 51},        {"contiguous", 52},   {"xn0", 53, true}, {"xn1", 54, true},
  };

  explicit ArmV8S2(const FormatConfig& cfg)
      : Base(static_cast<unsigned>(cfg.Get(0)), static_cast<unsigned>(cfg.Get(1)), cfg.Get(2) != 0, cfg.Get(6) != 0,
             [&cfg](unsigned ipa_bits) { return StartLevel(ipa_bits, cfg.Get(2) != 0, cfg.Get(3) != 0); }),
        ha_(cfg.Get(4) != 0),
        xn_mask_(cfg.Get(5) != 0 ? Xn::kMask : Xn1::kMask) {}

  // An IPA has no TTBR1-style upper half.
  VaExtension VaExt() const { return VaExtension::kZero; }

  EntryKind Classify(Raw raw, Level l) const { return this->ClassifyShape(raw, l); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(S2apRead::Test(raw), S2apWrite::Test(raw), (raw & xn_mask_) == 0, /*user=*/true,
                         /*global=*/false, Af::Test(raw), /*dirty=*/false);
  }
  TableRestrictions Restrictions() const { return {}; }
  Raw EncodeTable(Level, Oa table) const { return this->TableDescriptor(table); }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    Raw r = this->LeafDescriptor(l, oa);
    r = MemAttr::Set(r, kMemAttrNormalWriteBack);
    r = S2apRead::Put(r, a.Has(Attr::kRead));
    r = S2apWrite::Put(r, a.Has(Attr::kWrite));
    r = Af::Put(r, a.Has(Attr::kAccessed));
    // XN[1] alone means "no execution at any EL" with and without FEAT_XNX.
    return Xn1::Put(r, !a.Has(Attr::kExec));
  }
  // Entry i of a Contiguous group: the leaf for its own part of the block.
  Raw EncodeReplica(Level l, unsigned, Oa oa, LeafAttrs a, uint64_t i) const {
    return Base::Contiguous::Put(EncodeLeaf(l, oa + (i << this->ItemLg2(l)), a), true);
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    return LeafAttrs::Of(a.Has(Attr::kRead), a.Has(Attr::kWrite), a.Has(Attr::kExec), true, false,
                         a.Has(Attr::kAccessed), false);
  }
  // VTCR_EL2.HA: AF set in the leaf the walk used, as at stage 1.
  Raw MarkAccessed(Raw raw, Level l, bool) const {
    if (!ha_ || Classify(raw, l) != EntryKind::kLeaf) return raw;
    return Af::Put(raw, true);
  }

 private:
  // AArch64.S2InconsistentSL: the initial lookup resolves 1 to stride + 4
  // bits. Walks the start levels SL0/SL2 can encode from the shallowest and
  // keeps the first legal one, or the last with `concat`. Every ipa_bits in
  // 25..52 has one (a full stride plus 4 covers each gap between levels).
  static Level StartLevel(unsigned ipa_bits, bool pa52, bool concat) {
    const int shallowest = pa52 ? Traits::kS2ShallowestStart52 : Traits::kS2ShallowestStart;
    Level found(-1);
    for (int arm = shallowest; arm <= Traits::kS2DeepestStart; ++arm) {
      const int top_bits =
          static_cast<int>(ipa_bits) - static_cast<int>(Base::kGranuleLg2 + Base::kStride * (3 - arm));
      if (top_bits < 1 || top_bits > static_cast<int>(Base::kStride) + kMaxConcatLg2) continue;
      found = Base::FromArmLevel(arm);
      if (!concat) break;
    }
    return found;
  }

  static constexpr int kMaxConcatLg2 = 4;  // up to 16 tables
  static constexpr uint64_t kMemAttrNormalWriteBack = 0b1111;

  using MemAttr = armv8_desc::MemAttr;
  using S2apRead = armv8_desc::S2apRead;
  using S2apWrite = armv8_desc::S2apWrite;
  using Xn1 = armv8_desc::Xn1;
  using Xn = armv8_desc::Xn;

  bool ha_;
  uint64_t xn_mask_;  // XN[1:0] with xnx, XN[1] alone without
};

using ArmV8S2_4K = ArmV8S2<Granule::k4K>;
using ArmV8S2_16K = ArmV8S2<Granule::k16K>;
using ArmV8S2_64K = ArmV8S2<Granule::k64K>;
static_assert(PageTableFormat<ArmV8S2_4K>);
static_assert(PageTableFormat<ArmV8S2_16K>);
static_assert(PageTableFormat<ArmV8S2_64K>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_ARMV8_S2_H_
