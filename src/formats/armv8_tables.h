// What ARMv8-A VMSAv8-64 stage 1 (armv8.h) and stage 2 (armv8_s2.h)
// translation tables share: the granule geometry, the descriptor type
// (bits 1:0), where the output address sits in a descriptor with and
// without 52-bit addresses, and the Address size fault.
//
// Arm Architecture Reference Manual for A-profile architecture (DDI 0487),
// chapter D8 "The AArch64 Virtual Memory System Architecture", by name:
//   * "Translation granules", "The algorithm for finding the translation
//     table entries": stride, levels, the start level;
//   * "VMSAv8-64 translation table format descriptors": table, block and
//     page descriptors, "Descriptor bits[1:0]";
//   * "52-bit output address": FEAT_LPA (64KB granule: OA[51:48] in
//     descriptor bits 15:12) and FEAT_LPA2 with TCR_ELx.DS / VTCR_EL2.DS = 1
//     (4KB and 16KB granules: OA[51:50] in bits 9:8, OA[49:48] in bits
//     49:48, shareability taken from TCR_ELx.SH / VTCR_EL2.SH0 instead);
//   * "Address size fault";
//   * the pseudocode AArch64.DecodeDescriptorType, AArch64.BlockDescSupported
//     (which levels hold blocks, with and without 52-bit addresses),
//     AArch64.NextTableBase, AArch64.LeafBase and AArch64.PAMax;
//   * "The Contiguous bit" (under "Memory attribute fields ...") with the
//     pseudocode AArch64.ContiguousSize (how many entries a group has per
//     granule and level), "Misprogramming of the Contiguous bit", and
//     "Using break-before-make when updating translation table entries"
//     (a change of the Contiguous bit or of a block's size needs it).
//
// Levels: Arm numbers from the top (L0, or L-1 with FEAT_LPA2 and the 4KB
// granule) down to L3, which holds pages; ptsim numbers from the bottom,
// so Arm level = 3 - ptsim level and L-1 is ptsim level 4:
//
//   ptsim | Arm | 4KB granule entry    | 16KB granule entry  | 64KB granule entry
//   4     | L-1 | 256 TiB, table only  |                     |
//   3     | L0  | 512 GiB; block w/ 52 | 128 TiB, table only |
//   2     | L1  | 1 GiB block / table  | 64 GiB; block w/ 52 | 4 TiB; block w/ 52
//   1     | L2  | 2 MiB block / table  | 32 MiB block/table  | 512 MiB block/table
//   0     | L3  | 4 KiB page           | 16 KiB page         | 64 KiB page
// ("block w/ 52": AArch64.BlockDescSupported allows it only with 52-bit
// addresses: DS = 1 for 4KB/16KB, a PAMax of 52 for 64KB.)
//
// The `pa52` switch of this class is the formats' `lpa` knob. For 64KB it
// models a core with FEAT_LPA (and FEAT_LVA for 52-bit input addresses);
// without it, bits 15:12 are RES0 and nonzero they name an OA >= 2^48, an
// Address size fault (kInvalid), as before. For 4KB/16KB it is DS = 1;
// without it, bits 49:48 are not address bits and are ignored. Output and
// input sizes above 48 bits without `pa52` are treated as 48, as hardware
// treats a 52-bit IPS/PS with DS = 0.
//
// Contiguous bit (bit 52, `contig` knob at both stages): a hint that the
// leaf is one of a naturally aligned group of entries, translated as one
// leaf (pt/geometry.h, replicated leaves). AArch64.ContiguousSize gives the
// group: 4KB granule 16 entries at L1 (16 GiB), L2 (32 MiB) and L3
// (64 KiB); 16KB granule 32 at L2 (1 GiB) and 128 at L3 (2 MiB); 64KB
// granule 32 at L2 (16 GiB) and L3 (2 MiB). Each entry holds the output
// address of its own part of the block (entry i: base + i entries), and
// the walk uses the group's base (the OA aligned down to the group size)
// plus the offset, as a TLB that cached the group from any entry would.
// The bit is decoded whatever the knob says, as hardware does; the knob
// only lets ops build groups. Not modelled: the bit in the blocks that
// exist only with 52-bit addresses (4KB L0, 16KB L1, 64KB L1), and in a
// top table too small to hold a group, is ignored (a one-entry leaf).
// Groups whose entries disagree are "misprogramming of the Contiguous
// bit" (TLB conflict aborts or any entry's translation): CheckTree and
// ForEachLeaf report them. A split changes the size, so it clears the
// group, invalidates it, then writes the new entries (break-before-make,
// kReplicaBreakBeforeMake); a permission change rewrites the entries in
// place.
//
// Output address (AArch64.LeafBase, AArch64.NextTableBase): the address
// bits are assembled first, then a leaf's base is aligned down to its
// size, so RES0 address bits below a block's size are never read (FEAT_BBM
// reuses bit 16 there). The Address size fault compares that aligned
// address (or a table's) with OaBits(): any bit at or above it is kInvalid.
#ifndef PTSIM_FORMATS_ARMV8_TABLES_H_
#define PTSIM_FORMATS_ARMV8_TABLES_H_

#include <algorithm>
#include <string_view>

#include "src/formats/armv8_bits.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

enum class Granule : uint8_t { k4K, k16K, k64K };

// Everything that depends on the granule alone.
template <Granule G>
struct ArmV8GranuleTraits;

template <>
struct ArmV8GranuleTraits<Granule::k4K> {
  static constexpr std::string_view kS1Name = "armv8_s1_4k";
  static constexpr std::string_view kS2Name = "armv8_s2_4k";
  static constexpr unsigned kPageLg2 = 12;
  // Shallowest Arm level that may hold a block descriptor, without and with
  // 52-bit addresses (AArch64.BlockDescSupported).
  static constexpr int kFirstBlockArmLevel = 1;
  static constexpr int kFirstBlockArmLevel52 = 0;
  // Stage 2 start levels VTCR_EL2.SL0 (and SL2) can select: L0 (or L-1 with
  // DS) down to L2; L3 needs FEAT_TTST, not modelled.
  static constexpr int kS2ShallowestStart = 0;
  static constexpr int kS2ShallowestStart52 = -1;
  static constexpr int kS2DeepestStart = 2;
  // log2 of the Contiguous group's entries at ptsim levels 0..4
  // (AArch64.ContiguousSize); 0 = no group.
  static constexpr unsigned kContigLg2[] = {4, 4, 4, 0, 0};
};

template <>
struct ArmV8GranuleTraits<Granule::k16K> {
  static constexpr std::string_view kS1Name = "armv8_s1_16k";
  static constexpr std::string_view kS2Name = "armv8_s2_16k";
  static constexpr unsigned kPageLg2 = 14;
  static constexpr int kFirstBlockArmLevel = 2;  // 32 MiB at L2
  static constexpr int kFirstBlockArmLevel52 = 1;
  // SL0 = 3 (start at L0) exists only with DS = 1.
  static constexpr int kS2ShallowestStart = 1;
  static constexpr int kS2ShallowestStart52 = 0;
  static constexpr int kS2DeepestStart = 3;
  static constexpr unsigned kContigLg2[] = {7, 5, 0, 0, 0};
};

template <>
struct ArmV8GranuleTraits<Granule::k64K> {
  static constexpr std::string_view kS1Name = "armv8_s1_64k";
  static constexpr std::string_view kS2Name = "armv8_s2_64k";
  static constexpr unsigned kPageLg2 = 16;
  static constexpr int kFirstBlockArmLevel = 2;  // 512 MiB at L2
  static constexpr int kFirstBlockArmLevel52 = 1;
  // There is no L0 with the 64KB granule: L1 covers 52 bits.
  static constexpr int kS2ShallowestStart = 1;
  static constexpr int kS2ShallowestStart52 = 1;
  static constexpr int kS2DeepestStart = 3;
  static constexpr unsigned kContigLg2[] = {5, 5, 0, 0, 0};
};

template <Granule G>
class ArmV8Tables {
  using Traits = ArmV8GranuleTraits<G>;

 public:
  using Raw = uint64_t;
  static constexpr unsigned kEntryLg2 = 3;

  Level TopLevel() const { return top_; }
  unsigned VaBits() const { return va_bits_; }
  unsigned OaBits() const { return oa_bits_; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"L3", "L2", "L1", "L0", "L-1"};
    return kNames[l.value()];
  }
  // The top table resolves the input bits left above the levels below it:
  // fewer than a full stride (a partial table) or, at stage 2, up to 4
  // more (2 to 16 concatenated tables).
  unsigned IndexLg2(Level l) const { return l == top_ ? va_bits_ - ItemLg2(l) : kStride; }
  unsigned ItemLg2(Level l) const { return kGranuleLg2 + kStride * static_cast<unsigned>(l.value()); }
  bool CanLeaf(Level l) const { return l <= top_ && (l.IsBottom() || ArmLevel(l) >= first_block_arm_level_); }
  bool CanTable(Level l) const { return l <= top_ && !l.IsBottom(); }
  Oa TableOa(Raw raw, Level) const { return Oa(OaOf(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(OaOf(raw) & ~LowMask(LeafSizeLg2(raw, l))); }
  // Replicated leaves (pt/geometry.h): Contiguous groups.
  uint64_t ReplicatedSizesLg2(Level l) const {
    const unsigned n = ContigLg2(l);
    return contig_ && n != 0 && CanLeaf(l) ? uint64_t{1} << (ItemLg2(l) + n) : 0;
  }
  unsigned LeafSizeLg2(Raw raw, Level l) const { return ItemLg2(l) + (Contiguous::Test(raw) ? ContigLg2(l) : 0); }
  static constexpr bool kReplicaBreakBeforeMake = true;

 protected:
  static constexpr unsigned kGranuleLg2 = Traits::kPageLg2;
  // Index bits per full table: a granule of 8-byte descriptors.
  static constexpr unsigned kStride = kGranuleLg2 - kEntryLg2;
  static constexpr unsigned kMaxOaBits = 48;
  static constexpr unsigned kMaxOaBits52 = 52;
  static constexpr uint64_t kShInnerShareable = 0b11;

  // `va_bits` and `oa_bits` as configured; both are capped at 48 without
  // `pa52`. `top_for` picks the start level from the capped input size.
  template <typename TopFor>
  ArmV8Tables(unsigned va_bits, unsigned oa_bits, bool pa52, bool contig, TopFor top_for)
      : pa52_(pa52),
        contig_(contig),
        va_bits_(std::min(va_bits, pa52 ? kMaxOaBits52 : kMaxOaBits)),
        oa_bits_(std::min(oa_bits, pa52 ? kMaxOaBits52 : kMaxOaBits)),
        first_block_arm_level_(pa52 ? Traits::kFirstBlockArmLevel52 : Traits::kFirstBlockArmLevel),
        top_(top_for(va_bits_)) {}

  static constexpr int ArmLevel(Level l) { return kFinalArmLevel - l.value(); }
  static constexpr Level FromArmLevel(int arm) { return Level(kFinalArmLevel - arm); }
  // Bits 9:8 hold SH unless DS = 1 moved OA[51:50] there.
  bool ShInDescriptor() const { return !pa52_ || G == Granule::k64K; }

  // AArch64.DecodeDescriptorType plus the Address size fault, identical at
  // both stages. Attribute checks are the stage's own.
  EntryKind ClassifyShape(Raw raw, Level l) const {
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
    if constexpr (G == Granule::k64K) {
      if (!pa52_ && Oa64kHigh::Get(raw) != 0) return EntryKind::kInvalid;
    }
    const uint64_t oa = kind == EntryKind::kLeaf ? LeafOa(raw, l).value() : OaOf(raw);
    return (oa & ~LowMask(oa_bits_)) == 0 ? kind : EntryKind::kInvalid;
  }

  // A table descriptor: valid, bits 1:0 = 11, the next table's address.
  Raw TableDescriptor(Oa table) const { return PutOa(TypeBit::Put(Valid::Put(Raw{0}, true), true), table.value()); }
  // A leaf's type bits (page at L3, block above), address and, where the
  // descriptor holds it, inner shareability; attributes are the stage's.
  Raw LeafDescriptor(Level l, Oa oa) const {
    Raw r = TypeBit::Put(Valid::Put(Raw{0}, true), l.IsBottom());
    if (ShInDescriptor()) r = Sh::Set(r, kShInnerShareable);
    return PutOa(r, oa.value());
  }

  using Valid = armv8_desc::Valid;
  using TypeBit = armv8_desc::TypeBit;
  using Sh = armv8_desc::Sh;
  using Af = armv8_desc::Af;
  using Contiguous = armv8_desc::Contiguous;

 private:
  static constexpr int kFinalArmLevel = 3;

  // OA[47:G] in place, always.
  using Oa47 = Field<kMaxOaBits - 1, kGranuleLg2>;
  // 64KB with FEAT_LPA: OA[51:48] in bits 15:12 (RES0 without it).
  using Oa64kHigh = Field<15, 12>;
  // 4KB/16KB with DS = 1: OA[49:48] in place, OA[51:50] in bits 9:8.
  using Oa49 = Field<49, kGranuleLg2>;
  using OaDsHigh = Field<9, 8>;

  // Entries in a Contiguous group at level l, log2; 0 where the bit is
  // ignored (no group at that level, or a top table too small for one).
  unsigned ContigLg2(Level l) const {
    const unsigned n = Traits::kContigLg2[l.value()];
    return n <= IndexLg2(l) ? n : 0;
  }

  uint64_t OaOf(Raw raw) const {
    if (!pa52_) return Oa47::InPlace(raw);
    if constexpr (G == Granule::k64K) {
      return Oa47::InPlace(raw) | Oa64kHigh::Get(raw) << kMaxOaBits;
    } else {
      return Oa49::InPlace(raw) | OaDsHigh::Get(raw) << 50;
    }
  }
  Raw PutOa(Raw r, uint64_t oa) const {
    if (!pa52_) return Oa47::Set(r, oa >> kGranuleLg2);
    if constexpr (G == Granule::k64K) {
      return Oa64kHigh::Set(Oa47::Set(r, oa >> kGranuleLg2), oa >> kMaxOaBits);
    } else {
      return OaDsHigh::Set(Oa49::Set(r, oa >> kGranuleLg2), oa >> 50);
    }
  }

  bool pa52_;
  bool contig_;
  unsigned va_bits_;
  unsigned oa_bits_;
  int first_block_arm_level_;
  Level top_;
};

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_ARMV8_TABLES_H_
