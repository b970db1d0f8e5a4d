// Golden vectors for 52-bit addresses on the ARMv8 stage 1 formats (the
// `lpa` knob; src/formats/armv8_tables.h and armv8.h), derived by hand from
// DDI 0487 chapter D8. Notation: "D8 52-bit" = "52-bit output address"
// with FEAT_LPA (64KB granule: OA[51:48] in descriptor bits 15:12) and
// FEAT_LPA2 with TCR_ELx.DS = 1 (4KB/16KB: OA[49:G] in place, OA[51:50] in
// bits 9:8, no SH field in descriptors); "D8 granules" = "Translation
// granules" / AArch64.S1StartLevel; "BlockDescSupported" = the pseudocode
// AArch64.BlockDescSupported.
//
// Bits used (D8 attributes, as in armv8_golden_test.cc): valid 0x1,
// table/page 0x2, AP[1] 0x40, AP[2] 0x80, SH 0x300 (only without DS),
// AF 0x400, nG 0x800, PXN 0x0020'0000'0000'0000, UXN 0x0040'0000'0000'0000.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>

#include "src/formats/armv8.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::ArmV8S1_16K;
using fmt::ArmV8S1_4K;
using fmt::ArmV8S1_64K;

using golden::Make;

using golden::Attrs;

template <typename F>
void Put(PhysMem* mem, uint64_t addr, int level, uint64_t raw) {
  EntryPtr<F>(mem, Oa(addr), Level(level)).Store(EntryVal<F>{raw, Level(level)}, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Sizes: without lpa a 52-bit TnSZ or IPS is treated as 48 bits.

TEST(ArmV8LpaGolden, SizesAbove48BitsNeedLpa) {
  const auto off = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52"});
  EXPECT_EQ(off.VaBits(), 48u);
  EXPECT_EQ(off.OaBits(), 48u);
  EXPECT_EQ(off.TopLevel(), Level(3));
  const auto on = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  EXPECT_EQ(on.VaBits(), 52u);
  EXPECT_EQ(on.OaBits(), 52u);
}

// D8 granules, 4KB with DS = 1 and 52-bit VA: 52 - 12 = 40 bits need
// ceil(40 / 9) = 5 levels, from L-1 (ptsim 4), which resolves VA[51:48]:
// 16 entries, 128 bytes. 49 bits: L-1 resolves VA[48] only, 2 entries.
// BlockDescSupported: L0 (512 GiB) holds blocks only with DS; L-1 never.
TEST(ArmV8LpaGolden, Geometry4KLpa2AddsLevelMinusOne) {
  const auto f = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  EXPECT_EQ(f.TopLevel(), Level(4));
  EXPECT_EQ(f.LevelName(Level(4)), "L-1");
  EXPECT_EQ(f.IndexLg2(Level(4)), 4u);
  EXPECT_EQ(f.ItemLg2(Level(4)), 48u);
  EXPECT_EQ(TableSizeLg2(f, Level(4)), 7u);
  EXPECT_TRUE(f.CanTable(Level(4)));
  EXPECT_FALSE(f.CanLeaf(Level(4)));
  EXPECT_TRUE(f.CanLeaf(Level(3)));
  EXPECT_FALSE(Make<ArmV8S1_4K>().CanLeaf(Level(3)));
  EXPECT_EQ(CoveredVaBits(f), 52u);
  const auto f49 = Make<ArmV8S1_4K>({"va_bits=49", "lpa=1"});
  EXPECT_EQ(f49.TopLevel(), Level(4));
  EXPECT_EQ(f49.IndexLg2(Level(4)), 1u);
}

// D8 granules: 16KB with DS, 52 bits: ceil(38 / 11) = 4 levels from L0,
// which resolves VA[51:47] (32 entries); L1 (64 GiB) gains blocks. 64KB
// with LPA/LVA, 52 bits: ceil(36 / 13) = 3 levels from L1, VA[51:42]
// (1024 entries, 8 KiB); L1 (4 TiB) gains blocks.
TEST(ArmV8LpaGolden, Geometry16KAnd64KAt52Bits) {
  const auto f16 = Make<ArmV8S1_16K>({"va_bits=52", "lpa=1"});
  EXPECT_EQ(f16.TopLevel(), Level(3));
  EXPECT_EQ(f16.IndexLg2(Level(3)), 5u);
  EXPECT_TRUE(f16.CanLeaf(Level(2)));
  EXPECT_FALSE(Make<ArmV8S1_16K>().CanLeaf(Level(2)));
  const auto f64 = Make<ArmV8S1_64K>({"va_bits=52", "lpa=1"});
  EXPECT_EQ(f64.TopLevel(), Level(2));
  EXPECT_EQ(f64.IndexLg2(Level(2)), 10u);
  EXPECT_EQ(TableSizeLg2(f64, Level(2)), 13u);
  EXPECT_TRUE(f64.CanLeaf(Level(2)));
}

// ---------------------------------------------------------------------------
// 64KB, FEAT_LPA: OA[51:48] in bits 15:12.

// Page, kernel RW, accessed, global at OA 0xf'1234'5678'0000:
//   OA[51:48] = 0xf -> bits 15:12 = 0xf000; OA[47:16] in place
//   0x003 | SH 0x300 | AF 0x400 = 0x703; kernel: PXN | UXN
//   = 0x0060'1234'5678'f703
// With oa_bits = 48 the same word names an OA >= 2^48: Address size fault.
TEST(ArmV8LpaGolden, Encode64KLpaPage) {
  const auto f = Make<ArmV8S1_64K>({"oa_bits=52", "lpa=1"});
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x000f123456780000ull), Attrs("rwga"));
  EXPECT_EQ(raw, 0x006012345678f703ull);
  EXPECT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x000f123456780000ull));
  EXPECT_EQ(Make<ArmV8S1_64K>({"lpa=1"}).Classify(raw, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(Make<ArmV8S1_64K>().Classify(raw, Level(0)), EntryKind::kInvalid) << "RES0 without LPA";
}

// L1 block (4 TiB = 2^42), kernel RWX, at OA 0xc'0400'0000'0000:
//   bits 15:12 = 0xc -> 0xc000; OA[47:42] in place 0x0400'0000'0000
//   0x001 | SH 0x300 | AF 0x400 = 0x701; kernel exec: UXN only
//   = 0x0040'0400'0000'c701
// A table at 0x8'0000'0001'0000: 0x1'0000 | 0x8000 | 0x3 = 0x1'8003.
TEST(ArmV8LpaGolden, Encode64KLpaL1BlockAndTable) {
  const auto f = Make<ArmV8S1_64K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  const uint64_t raw = f.EncodeLeaf(Level(2), Oa(0x000c040000000000ull), Attrs("rwxga"));
  EXPECT_EQ(raw, 0x004004000000c701ull);
  EXPECT_EQ(f.Classify(raw, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(2)), Oa(0x000c040000000000ull));
  EXPECT_EQ(f.EncodeTable(Level(2), Oa(0x0008000000010000ull)), 0x18003ull);
  EXPECT_EQ(f.TableOa(0x18003ull, Level(2)), Oa(0x0008000000010000ull));
  EXPECT_EQ(Make<ArmV8S1_64K>().Classify(0x18003ull, Level(1)), EntryKind::kInvalid);
}

// ---------------------------------------------------------------------------
// 4KB, FEAT_LPA2 with DS = 1: OA[49:12] in place, OA[51:50] in bits 9:8.

// Page, kernel RW, accessed, global at OA 0x4'0000'1234'5000:
//   OA[51:50] = 01 -> bits 9:8 = 0x100; OA[47:12] in place
//   0x003 | AF 0x400 | 0x100 = 0x503 (no SH with DS); PXN | UXN
//   = 0x0060'0000'1234'5503
// OA 0x3'0000'0000'1000: OA[49:48] = 11 in place -> 0x0063'0000'0000'1403.
// Without lpa bits 49:48 are not address bits: that word maps 0x1000.
TEST(ArmV8LpaGolden, Encode4KLpa2Pages) {
  const auto f = Make<ArmV8S1_4K>({"oa_bits=52", "lpa=1"});
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x0004000012345000ull), Attrs("rwga"));
  EXPECT_EQ(raw, 0x0060000012345503ull);
  EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x0004000012345000ull));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rwga"));
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x0003000000001000ull), Attrs("rwga")), 0x0063000000001403ull);
  EXPECT_EQ(f.LeafOa(0x0063000000001403ull, Level(0)), Oa(0x0003000000001000ull));
  EXPECT_EQ(Make<ArmV8S1_4K>().LeafOa(0x0063000000001403ull, Level(0)), Oa(0x1000));
}

// BlockDescSupported with DS: an L0 block (512 GiB = 2^39), user RW, no
// exec, accessed, global at OA 0x8'0080'0000'0000:
//   OA[51:50] = 10 -> 0x200; OA[47:39] in place 0x80'0000'0000
//   0x001 | AP[1] 0x040 | AF 0x400 | 0x200 = 0x641; PXN | UXN
//   = 0x0060'0080'0000'0641
// The same word at L0 without DS: no L0 blocks -> kInvalid.
TEST(ArmV8LpaGolden, Encode4KLpa2L0Block) {
  const auto f = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  const uint64_t raw = f.EncodeLeaf(Level(3), Oa(0x0008008000000000ull), Attrs("rwuga"));
  EXPECT_EQ(raw, 0x0060008000000641ull);
  EXPECT_EQ(f.Classify(raw, Level(3)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(3)), Oa(0x0008008000000000ull));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(3)), Attrs("rwuga"));
  EXPECT_EQ(Make<ArmV8S1_4K>().Classify(raw, Level(3)), EntryKind::kInvalid);
}

// Table descriptors with DS carry OA[51:50] in bits 9:8 too: an L-1 entry
// pointing at 0xc'0000'0000'2000 is 0x2000 | 0x300 | 0x3 = 0x2303. Without
// DS bits 9:8 of a table descriptor are ignored: a table at 0x2000.
// oa_bits = 50 with DS: the same table is at or above 2^50 -> Address size.
TEST(ArmV8LpaGolden, Encode4KLpa2Table) {
  const auto f = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  EXPECT_EQ(f.EncodeTable(Level(4), Oa(0x000c000000002000ull)), 0x2303ull);
  EXPECT_EQ(f.Classify(0x2303ull, Level(4)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x2303ull, Level(4)), Oa(0x000c000000002000ull));
  EXPECT_EQ(Make<ArmV8S1_4K>().TableOa(0x2303ull, Level(3)), Oa(0x2000));
  EXPECT_EQ(Make<ArmV8S1_4K>({"oa_bits=50", "lpa=1"}).Classify(0x2303ull, Level(3)), EntryKind::kInvalid);
}

// ---------------------------------------------------------------------------
// 16KB, FEAT_LPA2: L1 block (64 GiB = 2^36), kernel RWX, accessed, global
// at OA 0xd'0010'0000'0000: OA[51:50] = 11 -> 0x300, OA[49:48] = 01 in
// place, OA[47:36] in place 0x10'0000'0000:
//   0x001 | AF 0x400 | 0x300 = 0x701; UXN -> 0x0041'0010'0000'0701
// Page at 0x4'0000'0000'4000 (OA[51:50] = 01): 0x0060'0000'0000'4503.
TEST(ArmV8LpaGolden, Encode16KLpa2BlockAndPage) {
  const auto f = Make<ArmV8S1_16K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  const uint64_t block = f.EncodeLeaf(Level(2), Oa(0x000d001000000000ull), Attrs("rwxga"));
  EXPECT_EQ(block, 0x0041001000000701ull);
  EXPECT_EQ(f.Classify(block, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(block, Level(2)), Oa(0x000d001000000000ull));
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x0004000000004000ull), Attrs("rwga")), 0x0060000000004503ull);
}

// ---------------------------------------------------------------------------
// A five-level walk (D8 "The algorithm for finding the translation table
// entries"), 4KB, DS = 1, 52-bit VA and OA. VA 0xa'0080'4060'3abc:
//   L-1 index VA[51:48] = 0xa    entry 0x1000 + 0x50 = 0x1050 -> 0x2003
//   L0  index VA[47:39] = 1      entry 0x2008 -> 0x3003
//   L1  index VA[38:30] = 1      entry 0x3008 -> 0x4003
//   L2  index VA[29:21] = 3      entry 0x4018 -> 0x5003
//   L3  index VA[20:12] = 3      entry 0x5018 = page at 0xf'0000'abcd'e000:
//       OA[51:50] = 11 -> 0x300, OA[49:48] = 11 in place, kernel RW, AF
//       clear: 0x0063'0000'abcd'e303
//   offset 0xabc -> OA 0xf'0000'abcd'eabc; HA sets AF: ...e703.
// 2^52 is outside the TTBR0 half.
TEST(ArmV8LpaGolden, Walk4KLpa2FiveLevels) {
  const auto f = Make<ArmV8S1_4K>({"va_bits=52", "oa_bits=52", "lpa=1"});
  PhysMem mem(Oa(0), 1 << 20);
  Put<ArmV8S1_4K>(&mem, 0x1050, 4, 0x2003);
  Put<ArmV8S1_4K>(&mem, 0x2008, 3, 0x3003);
  Put<ArmV8S1_4K>(&mem, 0x3008, 2, 0x4003);
  Put<ArmV8S1_4K>(&mem, 0x4018, 1, 0x5003);
  Put<ArmV8S1_4K>(&mem, 0x5018, 0, 0x00630000abcde303ull);
  WalkTrace trace;
  const WalkResult r =
      Translate(f, &mem, Oa(0x1000), Va(0x000a008040603abcull), {AccessType::kRead, false}, {}, &trace);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x000f0000abcdeabcull));
  EXPECT_EQ(r.t.size_lg2, 12u);
  EXPECT_EQ(trace.count, 5);
  EXPECT_EQ(trace.steps[0].entry_addr, Oa(0x1050));
  EXPECT_EQ(EntryPtr<ArmV8S1_4K>(&mem, Oa(0x5018), Level(0)).Load(std::memory_order_relaxed).raw,
            0x00630000abcde703ull);
  EXPECT_EQ(Translate(f, &mem, Oa(0x1000), Va(0x0010000000000000ull), {AccessType::kRead, false}).fault.kind,
            FaultKind::kNonCanonical);
}

}  // namespace
}  // namespace ptsim
