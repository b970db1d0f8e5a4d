// Golden vectors for the ARMv8-A VMSAv8-64 stage 1 formats (src/formats/armv8.h).
//
// Every expected value below was derived by hand from DDI 0487 chapter D8
// (D5 in older editions); the comment on each test shows the arithmetic.
// Notation: "D8 descriptors" = "VMSAv8-64 translation table format
// descriptors" (level 0-2 and level 3 descriptor formats); "D8 attributes" =
// "Memory attribute fields in the VMSAv8-64 translation table format
// descriptors"; "D8 granules" = "Translation granules" / "The algorithm for
// finding the translation table entries"; "D8 access control" = "Memory
// access control" (stage 1 data access permissions, instruction execution
// permissions, hierarchical control).
//
// Leaf bits used over and over (D8 attributes):
//   bit 0 valid = 0x1, bit 1 table/page = 0x2, AttrIndx[2:0] bits 4:2,
//   AP[1] bit 6 = 0x40 (EL0), AP[2] bit 7 = 0x80 (read-only),
//   SH bits 9:8 = 0x300 (inner shareable), AF bit 10 = 0x400,
//   nG bit 11 = 0x800, PXN bit 53 = 0x0020'0000'0000'0000,
//   UXN bit 54 = 0x0040'0000'0000'0000.
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

template <typename F>
F Make(std::initializer_list<std::string_view> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
  for (std::string_view s : settings) {
    const absl::Status st = ApplyConfigSetting(F::kKnobs, s, &cfg);
    EXPECT_TRUE(st.ok()) << s;
  }
  return F(cfg);
}

template <typename F>
void Put(PhysMem* mem, uint64_t table, int level, uint64_t index, uint64_t raw) {
  TablePtr<F>{Oa(table), Level(level)}.At(mem, index).Store(EntryVal<F>{raw, Level(level)},
                                                           std::memory_order_relaxed);
}

template <typename F>
uint64_t Get(PhysMem* mem, uint64_t table, int level, uint64_t index) {
  return TablePtr<F>{Oa(table), Level(level)}.At(mem, index).Load(std::memory_order_relaxed).raw;
}

const Access kKernelRead{AccessType::kRead, /*user=*/false};
const Access kKernelWrite{AccessType::kWrite, /*user=*/false};
const Access kKernelExec{AccessType::kExec, /*user=*/false};
const Access kUserRead{AccessType::kRead, /*user=*/true};
const Access kUserWrite{AccessType::kWrite, /*user=*/true};

using golden::Attrs;

// ---------------------------------------------------------------------------
// Names and knobs.

// The names are corpus IDs (format.h): pin them.
TEST(ArmV8Golden, NamesAndKnobDefaults) {
  EXPECT_EQ(ArmV8S1_4K::kName, "armv8_s1_4k");
  EXPECT_EQ(ArmV8S1_16K::kName, "armv8_s1_16k");
  EXPECT_EQ(ArmV8S1_64K::kName, "armv8_s1_64k");
  const auto f = Make<ArmV8S1_4K>();
  EXPECT_EQ(f.VaBits(), 48u);
  EXPECT_EQ(f.OaBits(), 48u);
  EXPECT_EQ(f.VaExt(), VaExtension::kZero);
  EXPECT_EQ(ConfigToString(ArmV8S1_4K::kKnobs, FormatConfig::Defaults(ArmV8S1_4K::kKnobs)),
            "va_bits=48 ttbr1=0 oa_bits=48 ha=1 lpa=0 contig=0");
}

// ---------------------------------------------------------------------------
// 4KB granule (stride 9, page 2^12).

// D8 granules: 4KB, TnSZ = 25 -> 39-bit IA. L3 resolves VA[20:12], L2
// VA[29:21], L1 VA[38:30]: 39 - 12 = 27 = 3 * 9, so the walk starts at L1
// with a full 512-entry table. Blocks: L1 (1 GiB) and L2 (2 MiB).
TEST(ArmV8Golden, Geometry4KVa39StartsAtL1) {
  const auto f = Make<ArmV8S1_4K>({"va_bits=39"});
  EXPECT_EQ(f.TopLevel(), Level(2));
  EXPECT_EQ(f.LevelName(f.TopLevel()), "L1");
  EXPECT_EQ(f.IndexLg2(Level(2)), 9u);
  EXPECT_EQ(f.ItemLg2(Level(0)), 12u);
  EXPECT_EQ(f.ItemLg2(Level(1)), 21u);
  EXPECT_EQ(f.ItemLg2(Level(2)), 30u);
  EXPECT_TRUE(f.CanLeaf(Level(2)));
  EXPECT_TRUE(f.CanLeaf(Level(1)));
  EXPECT_TRUE(f.CanLeaf(Level(0)));
  EXPECT_TRUE(f.CanTable(Level(2)));
  EXPECT_FALSE(f.CanTable(Level(0)));
  EXPECT_EQ(CoveredVaBits(f), 39u);
}

// D8 granules: 4KB, 48-bit IA: 48 - 12 = 36 = 4 * 9 -> four levels from L0
// (VA[47:39], 512 entries of 512 GiB). L0 holds no blocks.
TEST(ArmV8Golden, Geometry4KVa48FourLevels) {
  const auto f = Make<ArmV8S1_4K>();
  EXPECT_EQ(f.TopLevel(), Level(3));
  EXPECT_EQ(f.LevelName(Level(3)), "L0");
  EXPECT_EQ(f.LevelName(Level(0)), "L3");
  EXPECT_EQ(f.IndexLg2(Level(3)), 9u);
  EXPECT_EQ(f.ItemLg2(Level(3)), 39u);
  EXPECT_FALSE(f.CanLeaf(Level(3)));
  EXPECT_TRUE(f.CanTable(Level(3)));
  EXPECT_EQ(TableSizeLg2(f, Level(3)), 12u);
}

// D8 granules, AArch64.S1StartLevel: 4KB, 40-bit IA: 40 - 12 = 28 needs
// ceil(28 / 9) = 4 levels; L0 resolves only VA[39] -> 2 entries, 16 bytes.
// 25-bit IA (TnSZ = 39, the maximum): ceil(13 / 9) = 2 levels from L2,
// which resolves VA[24:21] -> 16 entries; L1 is above the walk, so it can
// hold neither a block nor a table.
TEST(ArmV8Golden, Geometry4KPartialTopTables) {
  const auto f40 = Make<ArmV8S1_4K>({"va_bits=40"});
  EXPECT_EQ(f40.TopLevel(), Level(3));
  EXPECT_EQ(f40.IndexLg2(Level(3)), 1u);
  EXPECT_EQ(TableSizeLg2(f40, Level(3)), 4u);
  EXPECT_EQ(f40.IndexLg2(Level(2)), 9u);

  const auto f25 = Make<ArmV8S1_4K>({"va_bits=25"});
  EXPECT_EQ(f25.TopLevel(), Level(1));
  EXPECT_EQ(f25.LevelName(f25.TopLevel()), "L2");
  EXPECT_EQ(f25.IndexLg2(Level(1)), 4u);
  EXPECT_TRUE(f25.CanLeaf(Level(1)));
  EXPECT_FALSE(f25.CanLeaf(Level(2)));
  EXPECT_FALSE(f25.CanTable(Level(2)));
}

// D8 descriptors (level 3 page) + D8 attributes: kernel RW, accessed,
// global, not executable at OA 0x4000'1000.
//   bits[1:0] = 11 (page)                   0x003
//   AttrIndx 0, AP[2:1] = 00 (EL1 RW)      0x000
//   SH = 11                                 0x300
//   AF = 1                                  0x400
//   nG = 0, kernel page: UXN = 1, PXN = !exec = 1
//   OA[47:12] in place                      0x4000'1000
//   = 0x0060'0000'4000'1703
TEST(ArmV8Golden, Encode4KPageKernelRw) {
  const auto f = Make<ArmV8S1_4K>();
  const LeafAttrs a = Attrs("rwga");
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x40001000), a);
  EXPECT_EQ(raw, 0x0060000040001703ull);
  EXPECT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), f.Canonical(a));
}

// Same page format, user read-only executable, not global, AF clear:
//   0x003 | AP[1]=1 0x040 | AP[2]=1 0x080 | SH 0x300 | nG 0x800 = 0xBC3
//   user page: PXN = 1 (bit 53), UXN = !exec = 0
//   OA 0x1234'5000 -> 0x0020'0000'1234'5BC3
TEST(ArmV8Golden, Encode4KPageUserRoExecNotGlobal) {
  const auto f = Make<ArmV8S1_4K>();
  const LeafAttrs a = Attrs("rxu");
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x12345000), a);
  EXPECT_EQ(raw, 0x0020000012345BC3ull);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rxu"));
}

// D8 descriptors (level 1 block, 4KB: OA[47:30]): kernel RWX, accessed,
// global, 1 GiB at OA 0x8000'0000.
//   bits[1:0] = 01 (block) 0x001 | SH 0x300 | AF 0x400 = 0x701
//   kernel exec: PXN = 0, UXN = 1 (bit 54) -> 0x0040'0000'8000'0701
TEST(ArmV8Golden, Encode4KBlock1GKernelRwx) {
  const auto f = Make<ArmV8S1_4K>();
  const uint64_t raw = f.EncodeLeaf(Level(2), Oa(0x80000000), Attrs("rwxga"));
  EXPECT_EQ(raw, 0x0040000080000701ull);
  EXPECT_EQ(f.Classify(raw, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(2)), Oa(0x80000000));
}

// D8 descriptors (level 2 block, 4KB: OA[47:21]): user RW, no exec,
// accessed, global, 2 MiB at OA 0x20'0000.
//   0x001 | AP[1] 0x040 | SH 0x300 | AF 0x400 = 0x741
//   user no-exec: PXN = 1, UXN = 1 -> 0x0060'0000'0020'0741
TEST(ArmV8Golden, Encode4KBlock2MUserRw) {
  const auto f = Make<ArmV8S1_4K>();
  const uint64_t raw = f.EncodeLeaf(Level(1), Oa(0x200000), Attrs("rwuga"));
  EXPECT_EQ(raw, 0x0060000000200741ull);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(1)), Attrs("rwuga"));
}

// D8 descriptors (table descriptor): bits[1:0] = 11, next-level table
// address bits 47:12 in place, PXNTable/UXNTable/APTable/NSTable = 0.
//   table at 0x1000 -> 0x1003; at 0xAB'CDE0'00 -> 0xAB'CDE0'03
TEST(ArmV8Golden, Encode4KTable) {
  const auto f = Make<ArmV8S1_4K>();
  EXPECT_EQ(f.EncodeTable(Level(3), Oa(0x1000)), 0x1003ull);
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0xABCDE000)), 0xABCDE003ull);
  EXPECT_EQ(f.TableOa(0xABCDE003ull, Level(1)), Oa(0xABCDE000));
  EXPECT_EQ(TablePermsOf(f, 0xABCDE003ull, Level(1)), TablePerms{});
}

// Hand-written page, D8 attributes, decoded field by field:
//   0x0020'0008'7654'3F4B
//   low 12 bits 0xF4B = 1111 0100 1011b: valid, page, AttrIndx = 010b,
//   NS 0, AP[1] = 1 (EL0), AP[2] = 0 (RW), SH = 11, AF = 1, nG = 1.
//   bits 47:12 = 0x8'7654'3 -> OA 0x8'7654'3000. Bit 53 PXN = 1, UXN = 0:
//   a user page executable at EL0 -> attrs r w x u a (not global).
TEST(ArmV8Golden, Decode4KHandWrittenUserPage) {
  const auto f = Make<ArmV8S1_4K>();
  const uint64_t raw = 0x0020000876543F4Bull;
  EXPECT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x876543000));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rwxua"));
}

// D8 descriptors, level 2 block (4KB): bits[20:12] are RES0, bit 16 is nT
// with FEAT_BBM. AArch64.LeafBase aligns the descriptor's OA down to the
// block, so hardware ignores them:
//   0x0060'0000'4021'1701: OA field 0x4021'1000 -> block base 0x4020'0000
//   (bits 16 and 12 dropped), still a valid kernel block.
TEST(ArmV8Golden, Decode4KBlockIgnoresRes0LowOaBits) {
  const auto f = Make<ArmV8S1_4K>();
  const uint64_t raw = 0x0060000040211701ull;
  EXPECT_EQ(f.Classify(raw, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(1)), Oa(0x40200000));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(1)), Attrs("rwga"));
}

// D8 descriptors: "4KB granule: level 0 descriptors cannot describe a
// block". 0x80'0000'0701 = 01 block at L0 (VA 48 bits, ptsim level 3):
// behaves as invalid -> kInvalid. With bit 1 set (0x80'0000'0703) the same
// word is a table at OA 0x80'0000'0000.
TEST(ArmV8Golden, Invalid4KBlockAtL0) {
  const auto f = Make<ArmV8S1_4K>();
  EXPECT_EQ(f.Classify(0x8000000701ull, Level(3)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x8000000703ull, Level(3)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x8000000703ull, Level(3)), Oa(0x8000000000));
}

// D8 descriptors (level 3): "bit[1] = 0: reserved, behaves identically to
// bit[0] = 0; must not be used". 0x1234'5701 at L3 -> kInvalid; the same
// bits at L2 are a 2 MiB block (OA 0x1220'0000 after dropping RES0 bits
// 20:12 = 0x14'5000). Bit 0 clear is empty whatever else is set.
TEST(ArmV8Golden, Invalid4KReservedBlockEncodingAtL3) {
  const auto f = Make<ArmV8S1_4K>();
  EXPECT_EQ(f.Classify(0x12345701ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x12345701ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x12345701ull, Level(1)), Oa(0x12200000));
  EXPECT_EQ(f.Classify(0xFFFFFFFFFFFFFFFEull, Level(0)), EntryKind::kEmpty);
  EXPECT_EQ(f.Classify(0xFFFFFFFFFFFFFFFEull, Level(3)), EntryKind::kEmpty);
}

// D8 "Address size fault": with TCR.IPS = 40 bits, an OA with bit 40 set
// faults, for a page (0x100'0000'0703: OA 0x100'0000'0000 = 2^40) and for a
// next-level table pointer (0x100'0000'1003). With oa_bits = 48 both are
// fine. Bits 49:48 are OA bits only with LPA2 (TCR.DS = 1): RES0 and not
// part of the OA here (0x3'0000'0000'1703 -> OA 0x1000).
TEST(ArmV8Golden, Invalid4KOaAboveOaBits) {
  const auto f40 = Make<ArmV8S1_4K>({"oa_bits=40"});
  EXPECT_EQ(f40.OaBits(), 40u);
  EXPECT_EQ(f40.Classify(0x10000000703ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(f40.Classify(0x10000001003ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f40.Classify(0x0FF00000703ull, Level(0)), EntryKind::kLeaf);  // OA < 2^40
  const auto f48 = Make<ArmV8S1_4K>();
  EXPECT_EQ(f48.Classify(0x10000000703ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f48.Classify(0x10000001003ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f48.Classify(0x0003000000001703ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f48.LeafOa(0x0003000000001703ull, Level(0)), Oa(0x1000));
}

// D8 access control, hierarchical control (table descriptor bits 63:59):
//   APTable = 01 (bit 61, 0x2000'...) : no EL0 access below
//   APTable = 10 (bit 62, 0x4000'...) : no write below, at any EL
//   UXNTable (bit 60, 0x1000'...)      : EL0 may not execute below
//   PXNTable (bit 59, 0x0800'...)      : EL1 may not execute below
//   NSTable  (bit 63, 0x8000'...)      : security state only, no permission
// The neutral exec bit survives only if neither XN table bit is set (see the
// header: one exec bit cannot say which privilege is denied).
TEST(ArmV8Golden, TablePerms4KHierarchicalControls) {
  const auto f = Make<ArmV8S1_4K>();
  const Level l(2);
  EXPECT_EQ(f.Classify(0x2000000000001003ull, l), EntryKind::kTable);
  EXPECT_EQ(TablePermsOf(f, 0x2000000000001003ull, l), (TablePerms{.write = true, .exec = true, .user = false}));
  EXPECT_EQ(TablePermsOf(f, 0x4000000000001003ull, l), (TablePerms{.write = false, .exec = true, .user = true}));
  EXPECT_EQ(TablePermsOf(f, 0x6000000000001003ull, l), (TablePerms{.write = false, .exec = true, .user = false}));
  EXPECT_EQ(TablePermsOf(f, 0x1000000000001003ull, l), (TablePerms{.write = true, .exec = false, .user = true}));
  EXPECT_EQ(TablePermsOf(f, 0x0800000000001003ull, l), (TablePerms{.write = true, .exec = false, .user = true}));
  EXPECT_EQ(TablePermsOf(f, 0x8000000000001003ull, l), TablePerms{});
  EXPECT_EQ(f.TableOa(0xF800000000001003ull, l), Oa(0x1000));
}

// D8 "Hardware management of the Access flag": with TCR.HA = 1 the walk sets
// AF (bit 10, 0x400) in the leaf: 0x0060'0000'4000'1303 -> ...1703. With
// HA = 0 nothing changes. Table descriptors have no AF (FEAT_HAFT not
// modelled), so a table word is returned as is.
TEST(ArmV8Golden, MarkAccessed4KFollowsHa) {
  const auto on = Make<ArmV8S1_4K>();
  const auto off = Make<ArmV8S1_4K>({"ha=0"});
  EXPECT_EQ(on.MarkAccessed(0x0060000040001303ull, Level(0), false), 0x0060000040001703ull);
  EXPECT_EQ(on.MarkAccessed(0x0060000040001303ull, Level(0), true), 0x0060000040001703ull);
  EXPECT_EQ(off.MarkAccessed(0x0060000040001303ull, Level(0), false), 0x0060000040001303ull);
  EXPECT_EQ(on.MarkAccessed(0x2003ull, Level(1), false), 0x2003ull);
  EXPECT_EQ(on.MarkAccessed(0x0ull, Level(0), false), 0x0ull);
}

// D8 "Selection between TTBR0 and TTBR1": with T1SZ = 25 (39-bit IA) the
// TTBR1 half is VA[63:39] all ones, i.e. 0xFFFF'FF80'0000'0000 and up; the
// TTBR0 half with T0SZ = 25 is 0 .. 0x7F'FFFF'FFFF.
TEST(ArmV8Golden, Ttbr1HalfIsAllOnesAbove4KVa39) {
  const auto hi = Make<ArmV8S1_4K>({"va_bits=39", "ttbr1=1"});
  EXPECT_EQ(hi.VaExt(), VaExtension::kOnes);
  EXPECT_TRUE(IsCanonical(hi, Va(0xFFFFFF8000000000ull)));
  EXPECT_TRUE(IsCanonical(hi, Va(0xFFFFFFFFFFFFFFFFull)));
  EXPECT_FALSE(IsCanonical(hi, Va(0xFFFF800000000000ull)));  // bits 46:39 zero
  EXPECT_FALSE(IsCanonical(hi, Va(0x0000000000001000ull)));
  EXPECT_EQ(CanonicalVa(hi, 0x1000), Va(0xFFFFFF8000001000ull));
  const auto lo = Make<ArmV8S1_4K>({"va_bits=39"});
  EXPECT_TRUE(IsCanonical(lo, Va(0x7FFFFFFFFFull)));
  EXPECT_FALSE(IsCanonical(lo, Va(0x8000000000ull)));
  EXPECT_FALSE(IsCanonical(lo, Va(0xFFFFFF8000000000ull)));
}

// ---------------------------------------------------------------------------
// 16KB granule (stride 11, page 2^14).

// D8 granules: 16KB, 47-bit IA: L3 VA[24:14], L2 VA[35:25], L1 VA[46:36].
// 47 - 14 = 33 = 3 * 11 -> three levels from L1, full 2048-entry top.
// 16KB has blocks only at L2 (32 MiB), none at L1.
TEST(ArmV8Golden, Geometry16KVa47ThreeLevels) {
  const auto f = Make<ArmV8S1_16K>({"va_bits=47"});
  EXPECT_EQ(f.TopLevel(), Level(2));
  EXPECT_EQ(f.LevelName(f.TopLevel()), "L1");
  EXPECT_EQ(f.IndexLg2(Level(2)), 11u);
  EXPECT_EQ(f.ItemLg2(Level(0)), 14u);
  EXPECT_EQ(f.ItemLg2(Level(1)), 25u);
  EXPECT_EQ(f.ItemLg2(Level(2)), 36u);
  EXPECT_FALSE(f.CanLeaf(Level(2)));
  EXPECT_TRUE(f.CanLeaf(Level(1)));
  EXPECT_TRUE(f.CanLeaf(Level(0)));
  EXPECT_EQ(TableSizeLg2(f, Level(1)), 14u);
}

// D8 granules: 16KB, 48-bit IA: 48 - 14 = 34 -> ceil(34 / 11) = 4 levels; L0
// resolves VA[47] only -> 2 entries (16 bytes). 25-bit IA: 25 - 14 = 11 ->
// one level: the walk starts at L3 (AArch64.S1StartLevel = 3 - (24 - 14)
// DIV 11 = 3) with 2048 page descriptors and no table level at all.
// 36-bit IA: 36 - 14 = 22 -> two levels from L2, full 2048 entries.
TEST(ArmV8Golden, Geometry16KVa48And25And36) {
  const auto f48 = Make<ArmV8S1_16K>();
  EXPECT_EQ(f48.TopLevel(), Level(3));
  EXPECT_EQ(f48.LevelName(Level(3)), "L0");
  EXPECT_EQ(f48.IndexLg2(Level(3)), 1u);
  EXPECT_EQ(f48.ItemLg2(Level(3)), 47u);
  EXPECT_EQ(TableSizeLg2(f48, Level(3)), 4u);

  const auto f25 = Make<ArmV8S1_16K>({"va_bits=25"});
  EXPECT_EQ(f25.TopLevel(), Level(0));
  EXPECT_EQ(f25.LevelName(f25.TopLevel()), "L3");
  EXPECT_EQ(f25.IndexLg2(Level(0)), 11u);
  EXPECT_FALSE(f25.CanTable(Level(0)));
  EXPECT_FALSE(f25.CanLeaf(Level(1)));

  const auto f36 = Make<ArmV8S1_16K>({"va_bits=36"});
  EXPECT_EQ(f36.TopLevel(), Level(1));
  EXPECT_EQ(f36.IndexLg2(Level(1)), 11u);
}

// D8 descriptors (level 3 page, 16KB: OA[47:14]): kernel RW, accessed,
// global at OA 0x1234'4000 (0x4000-aligned: 0x1234'4000 = 0x48D1 * 0x4000).
//   0x003 | SH 0x300 | AF 0x400 = 0x703, PXN | UXN -> 0x0060'0000'1234'4703
TEST(ArmV8Golden, Encode16KPageKernelRw) {
  const auto f = Make<ArmV8S1_16K>();
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x12344000), Attrs("rwga"));
  EXPECT_EQ(raw, 0x0060000012344703ull);
  EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x12344000));
}

// D8 descriptors (level 2 block, 16KB: OA[47:25], 32 MiB): user RWX,
// accessed, global at OA 0x600'0000 = 3 * 32 MiB.
//   0x001 | AP[1] 0x040 | SH 0x300 | AF 0x400 = 0x741
//   user exec: PXN = 1, UXN = 0 -> 0x0020'0000'0600'0741
TEST(ArmV8Golden, Encode16KBlock32MUserRwx) {
  const auto f = Make<ArmV8S1_16K>();
  const uint64_t raw = f.EncodeLeaf(Level(1), Oa(0x6000000), Attrs("rwxuga"));
  EXPECT_EQ(raw, 0x0020000006000741ull);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(1)), Attrs("rwxuga"));
  EXPECT_EQ(f.EncodeTable(Level(2), Oa(0x8000)), 0x8003ull);
}

// D8 descriptors: 16KB L1 descriptors cannot be blocks. 0x10'0000'0701 (01,
// OA 64 GiB) at L1 (ptsim 2, va_bits 47) -> kInvalid; with bit 1 set it is a
// table. The 16KB table address is bits 47:14, so bits 13:12 of a table
// descriptor are not address bits: 0x7003 -> table at 0x4000.
TEST(ArmV8Golden, Invalid16KBlockAtL1AndTableLowBits) {
  const auto f = Make<ArmV8S1_16K>({"va_bits=47"});
  EXPECT_EQ(f.Classify(0x1000000701ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x1000000703ull, Level(2)), EntryKind::kTable);
  EXPECT_EQ(f.Classify(0x7003ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x7003ull, Level(1)), Oa(0x4000));
  // Level 3 with bits[1:0] = 01: reserved.
  EXPECT_EQ(f.Classify(0x0060000012344701ull, Level(0)), EntryKind::kInvalid);
}

// ---------------------------------------------------------------------------
// 64KB granule (stride 13, page 2^16).

// D8 granules: 64KB, 42-bit IA: L3 VA[28:16], L2 VA[41:29]. 42 - 16 = 26 =
// 2 * 13 -> two levels from L2, full 8192 entries (64 KiB table).
TEST(ArmV8Golden, Geometry64KVa42TwoLevels) {
  const auto f = Make<ArmV8S1_64K>({"va_bits=42"});
  EXPECT_EQ(f.TopLevel(), Level(1));
  EXPECT_EQ(f.LevelName(f.TopLevel()), "L2");
  EXPECT_EQ(f.IndexLg2(Level(1)), 13u);
  EXPECT_EQ(f.ItemLg2(Level(0)), 16u);
  EXPECT_EQ(f.ItemLg2(Level(1)), 29u);
  EXPECT_TRUE(f.CanLeaf(Level(1)));
  EXPECT_EQ(TableSizeLg2(f, Level(1)), 16u);
}

// D8 granules: 64KB, 48-bit IA: 48 - 16 = 32 -> ceil(32 / 13) = 3 levels
// from L1, which resolves VA[47:42]: 6 bits, 64 entries, 512 bytes. L1
// holds no blocks without 52-bit LPA. 43-bit IA: L1 resolves VA[42] only.
TEST(ArmV8Golden, Geometry64KVa48SixtyFourEntryTop) {
  const auto f = Make<ArmV8S1_64K>();
  EXPECT_EQ(f.TopLevel(), Level(2));
  EXPECT_EQ(f.LevelName(Level(2)), "L1");
  EXPECT_EQ(f.IndexLg2(Level(2)), 6u);
  EXPECT_EQ(f.ItemLg2(Level(2)), 42u);
  EXPECT_EQ(TableSizeLg2(f, Level(2)), 9u);
  EXPECT_FALSE(f.CanLeaf(Level(2)));
  EXPECT_TRUE(f.CanTable(Level(2)));
  const auto f43 = Make<ArmV8S1_64K>({"va_bits=43"});
  EXPECT_EQ(f43.TopLevel(), Level(2));
  EXPECT_EQ(f43.IndexLg2(Level(2)), 1u);
}

// D8 descriptors (level 3 page, 64KB: OA[47:16]): kernel read-only, no
// exec, not accessed, not global at OA 0x3'0000.
//   0x003 | AP[2] 0x080 | SH 0x300 | nG 0x800 = 0xB83, PXN | UXN
//   -> 0x0060'0000'0003'0B83
TEST(ArmV8Golden, Encode64KPageKernelRoNotGlobal) {
  const auto f = Make<ArmV8S1_64K>();
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x30000), Attrs("r"));
  EXPECT_EQ(raw, 0x0060000000030B83ull);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("r"));
}

// D8 descriptors (level 2 block, 64KB: OA[47:29], 512 MiB): kernel RWX,
// accessed, global at OA 0x6000'0000 = 3 * 512 MiB.
//   0x001 | SH 0x300 | AF 0x400 = 0x701, kernel exec: UXN only
//   -> 0x0040'0000'6000'0701. Table at 0x2'0000 -> 0x2'0003.
TEST(ArmV8Golden, Encode64KBlock512MKernelRwx) {
  const auto f = Make<ArmV8S1_64K>();
  const uint64_t raw = f.EncodeLeaf(Level(1), Oa(0x60000000), Attrs("rwxga"));
  EXPECT_EQ(raw, 0x0040000060000701ull);
  EXPECT_EQ(f.EncodeTable(Level(2), Oa(0x20000)), 0x20003ull);
}

// D8 descriptors, 64KB: bits 15:12 hold OA[51:48] when FEAT_LPA is
// implemented (whatever TCR.IPS), RES0 otherwise. Nonzero they name an OA
// >= 2^48, an Address size fault on an LPA core: kInvalid, for pages
// (0x3'1703: bit 12 set) and tables (0x2'1003). Block RES0 bits 28:16 are
// never read (AArch64.LeafBase): 0x0040'0000'6001'0701 is the block at
// 0x6000'0000.
TEST(ArmV8Golden, Invalid64KLpaBitsAndBlockRes0) {
  const auto f = Make<ArmV8S1_64K>();
  EXPECT_EQ(f.Classify(0x31703ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x21003ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x0040000060010701ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x0040000060010701ull, Level(1)), Oa(0x60000000));
}

// D8 descriptors: 64KB L1 descriptors cannot be blocks without LPA:
// 0x400'0000'0701 (01, OA 4 TiB) at L1 (ptsim 2) -> kInvalid. With
// oa_bits = 42 the same word as a table (…0703) points at 2^42: Address size
// fault -> kInvalid; with 48 bits it is a table.
TEST(ArmV8Golden, Invalid64KBlockAtL1AndOaSize) {
  const auto f = Make<ArmV8S1_64K>();
  EXPECT_EQ(f.Classify(0x40000000701ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x40000000703ull, Level(2)), EntryKind::kTable);
  const auto f42 = Make<ArmV8S1_64K>({"oa_bits=42"});
  EXPECT_EQ(f42.Classify(0x40000000703ull, Level(2)), EntryKind::kInvalid);
}

// ---------------------------------------------------------------------------
// Round trip, every granule: DecodeAttrs(EncodeLeaf(a)) == Canonical(a) for
// all 128 attribute sets at every level that can hold a leaf (format.h).
template <typename F>
void CheckRoundTrip(const F& f) {
  for (int bits = 0; bits < 128; ++bits) {
    const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
    for (Level l(0); l <= f.TopLevel(); l = l.Above()) {
      if (!f.CanLeaf(l)) continue;
      const Oa oa(uint64_t{1} << f.ItemLg2(l));
      const uint64_t raw = f.EncodeLeaf(l, oa, a);
      ASSERT_EQ(f.Classify(raw, l), EntryKind::kLeaf) << F::kName << " " << l.value();
      EXPECT_EQ(f.LeafOa(raw, l), oa);
      EXPECT_EQ(f.DecodeAttrs(raw, l), f.Canonical(a)) << F::kName << " " << AttrsToString(a);
    }
  }
}

TEST(ArmV8Golden, EncodeDecodeRoundTripsAllGranules) {
  CheckRoundTrip(Make<ArmV8S1_4K>());
  CheckRoundTrip(Make<ArmV8S1_16K>());
  CheckRoundTrip(Make<ArmV8S1_64K>());
  EXPECT_EQ(Make<ArmV8S1_4K>().Canonical(Attrs("wd")), Attrs("rw"));
}

// ---------------------------------------------------------------------------
// Full walks over hand-built tables (D8 "The algorithm for finding the
// translation table entries"; entry address = table + index * 8).

// 4KB, va_bits 39: L1 -> L2 -> L3. VA 0x1'4060'3ABC:
//   L1 index VA[38:30] = 0x1'4060'3ABC >> 30 = 5      (entry 0x1000 + 0x28)
//   L2 index VA[29:21] = 0x60'3ABC >> 21    = 3      (entry 0x2000 + 0x18)
//   L3 index VA[20:12] = 0x3ABC >> 12       = 3      (entry 0x3000 + 0x18)
//   offset VA[11:0] = 0xABC
// Tables: 0x2003 (L2 table at 0x2000), 0x3003 (L3 table at 0x3000), page
// 0x0060'0000'0ABC'D303 (kernel RW, AF clear, OA 0xABC'D000).
// -> OA 0xABC'DABC, 4 KiB leaf at ptsim level 0; HA sets AF: ...D703.
TEST(ArmV8Golden, Walk4KVa39ThreeLevelsSetsAf) {
  for (const bool ha : {true, false}) {
    const auto f = Make<ArmV8S1_4K>({"va_bits=39", ha ? "ha=1" : "ha=0"});
    PhysMem mem(Oa(0), 1 << 24);
    Put<ArmV8S1_4K>(&mem, 0x1000, 2, 5, 0x2003);
    Put<ArmV8S1_4K>(&mem, 0x2000, 1, 3, 0x3003);
    Put<ArmV8S1_4K>(&mem, 0x3000, 0, 3, 0x006000000ABCD303ull);
    const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x140603ABCull), kKernelRead);
    ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
    EXPECT_EQ(r.t.oa, Oa(0xABCDABC));
    EXPECT_EQ(r.t.size_lg2, 12u);
    EXPECT_EQ(r.t.level, Level(0));
    EXPECT_EQ(Get<ArmV8S1_4K>(&mem, 0x3000, 0, 3), ha ? 0x006000000ABCD703ull : 0x006000000ABCD303ull);
    EXPECT_EQ(r.t.attrs.Has(Attr::kAccessed), ha);
    // Tables carry no AF: untouched.
    EXPECT_EQ(Get<ArmV8S1_4K>(&mem, 0x1000, 2, 5), 0x2003ull);

    // Index 4 of the L2 table is empty: Translation fault at L2 (ptsim 1).
    // VA 0x1'4080'0000: L1 index 5, L2 index 0x80'0000 >> 21 = 4.
    const WalkResult e = Translate(f, &mem, Oa(0x1000), Va(0x140800000ull), kKernelRead);
    EXPECT_FALSE(e.ok);
    EXPECT_EQ(e.fault, (Fault{FaultKind::kNotPresent, Level(1)}));

    // L3 index 4 (VA 0x1'4060'4000) holds 01 (a block encoding at L3):
    // reserved.
    Put<ArmV8S1_4K>(&mem, 0x3000, 0, 4, 0x006000000ABCE701ull);
    const WalkResult v = Translate(f, &mem, Oa(0x1000), Va(0x140604000ull), kKernelRead);
    EXPECT_EQ(v.fault, (Fault{FaultKind::kReserved, Level(0)}));

    // 0x80'0000'0000 = 2^39 is outside the TTBR0 half: non-canonical.
    const WalkResult n = Translate(f, &mem, Oa(0x1000), Va(0x8000000000ull), kKernelRead);
    EXPECT_EQ(n.fault.kind, FaultKind::kNonCanonical);
  }
}

// 4KB, va_bits 48: L0 -> L1 block (1 GiB). VA 0xC0'4012'3456:
//   L0 index VA[47:39] = 0xC0'4012'3456 >> 39 = 1    (entry 0x1'0000 + 0x8)
//   L1 index VA[38:30] = 0x40'4012'3456 >> 30 = 0x101 (entry 0x1'1000 + 0x808)
//   offset VA[29:0] = 0x12'3456
// L0[1] = 0x1'1003; L1[0x101] = 0x0060'0001'C000'0301 (kernel RW block, AF
// clear, OA 0x1'C000'0000 = 7 GiB). -> OA 0x1'C012'3456, size 2^30, ptsim
// level 2; AF set -> ...0701. An EL0 read of the kernel block is a
// Permission fault at that level, and does not set AF.
TEST(ArmV8Golden, Walk4KVa48L1Block) {
  const auto f = Make<ArmV8S1_4K>();
  PhysMem mem(Oa(0), 1 << 24);
  Put<ArmV8S1_4K>(&mem, 0x10000, 3, 1, 0x11003);
  Put<ArmV8S1_4K>(&mem, 0x11000, 2, 0x101, 0x00600001C0000301ull);
  const WalkResult u = Translate(f, &mem, Oa(0x10000), Va(0xC040123456ull), kUserRead);
  EXPECT_EQ(u.fault, (Fault{FaultKind::kPermission, Level(2)}));
  EXPECT_EQ(Get<ArmV8S1_4K>(&mem, 0x11000, 2, 0x101), 0x00600001C0000301ull);

  const WalkResult r = Translate(f, &mem, Oa(0x10000), Va(0xC040123456ull), kKernelWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x1C0123456ull));
  EXPECT_EQ(r.t.size_lg2, 30u);
  EXPECT_EQ(r.t.level, Level(2));
  EXPECT_EQ(Get<ArmV8S1_4K>(&mem, 0x11000, 2, 0x101), 0x00600001C0000701ull);
  // Kernel block with PXN = 1: no kernel instruction fetch.
  const WalkResult x = Translate(f, &mem, Oa(0x10000), Va(0xC040123456ull), kKernelExec);
  EXPECT_EQ(x.fault, (Fault{FaultKind::kPermission, Level(2)}));
}

// 16KB, va_bits 36: L2 -> L3. VA 0x8'0A01'2345:
//   L2 index VA[35:25] = 0x8'0A01'2345 >> 25 = 0x405 (entry 0x4000 + 0x2028)
//   L3 index VA[24:14] = 0x1'2345 >> 14      = 4     (entry 0x8000 + 0x20)
//   offset VA[13:0] = 0x2345
// L2[0x405] = 0x8003; L3[4] = 0x0060'0000'1234'C743 (user RW, no exec, AF,
// OA 0x1234'C000). -> OA 0x1234'E345, size 2^14.
// L2[0x406] = 0x4000'0000'0000'8003: same L3 table under APTable[1] = 1, so
// VA 0x8'0C01'2345 (L2 index 0x406) reads but does not write.
TEST(ArmV8Golden, Walk16KVa36WithApTable) {
  const auto f = Make<ArmV8S1_16K>({"va_bits=36"});
  PhysMem mem(Oa(0), 1 << 24);
  Put<ArmV8S1_16K>(&mem, 0x4000, 1, 0x405, 0x8003);
  Put<ArmV8S1_16K>(&mem, 0x4000, 1, 0x406, 0x4000000000008003ull);
  Put<ArmV8S1_16K>(&mem, 0x8000, 0, 4, 0x006000001234C743ull);
  EXPECT_EQ(Get<ArmV8S1_16K>(&mem, 0x6028, 1, 0), 0x8003ull);  // the hand-computed address

  const WalkResult r = Translate(f, &mem, Oa(0x4000), Va(0x80A012345ull), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x1234E345));
  EXPECT_EQ(r.t.size_lg2, 14u);
  EXPECT_EQ(r.t.level, Level(0));
  EXPECT_EQ(r.t.attrs, Attrs("rwuga"));

  EXPECT_TRUE(Translate(f, &mem, Oa(0x4000), Va(0x80C012345ull), kUserRead).ok);
  const WalkResult w = Translate(f, &mem, Oa(0x4000), Va(0x80C012345ull), kKernelWrite);
  EXPECT_EQ(w.fault, (Fault{FaultKind::kPermission, Level(0)}));
}

// 16KB, va_bits 25 (TnSZ = 39): the walk starts at L3 (see
// Geometry16KVa48And25And36), so the root holds pages. VA 0x1AB'CDEF:
//   L3 index VA[24:14] = 0x1AB'CDEF >> 14 = 0x6AF (0x6AF * 0x4000 = 0x1AB'C000)
//   offset VA[13:0] = 0x1AB'CDEF - 0x1AB'C000 = 0xDEF
// L3[0x6AF] = 0x0060'0000'1000'0703 (kernel RW, AF, OA 0x1000'0000).
// -> OA 0x1000'0DEF in one step. 0x200'0000 = 2^25 is non-canonical.
TEST(ArmV8Golden, Walk16KVa25SingleLevel) {
  const auto f = Make<ArmV8S1_16K>({"va_bits=25"});
  PhysMem mem(Oa(0), 1 << 24);
  Put<ArmV8S1_16K>(&mem, 0x4000, 0, 0x6AF, 0x0060000010000703ull);
  WalkTrace trace;
  const WalkResult r = Translate(f, &mem, Oa(0x4000), Va(0x1ABCDEF), kKernelRead, {}, &trace);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x10000DEF));
  EXPECT_EQ(r.t.size_lg2, 14u);
  EXPECT_EQ(trace.count, 1);
  EXPECT_EQ(trace.steps[0].entry_addr, Oa(0x4000 + 0x6AF * 8));
  EXPECT_EQ(Translate(f, &mem, Oa(0x4000), Va(0x2000000), kKernelRead).fault.kind,
            FaultKind::kNonCanonical);
}

// 64KB, va_bits 48, TTBR1 half: L1 (64 entries) -> L2 block (512 MiB).
// VA 0xFFFF'FC00'2345'6789 (bits 63:48 all ones: canonical for TTBR1):
//   L1 index VA[47:42] = 0xFC00'2345'6789 >> 42 = 0x3F (entry 0x1'0000 + 0x1F8)
//   L2 index VA[41:29] = 0x2345'6789 >> 29     = 1    (entry 0x2'0000 + 0x8)
//   offset VA[28:0] = 0x345'6789
// L1[0x3F] = 0x2'0003; L2[1] = 0x0040'0001'4000'0301 (kernel RWX block, AF
// clear, OA 0x1'4000'0000 = 10 * 512 MiB). -> OA 0x1'4345'6789, size 2^29,
// ptsim level 1; AF set. The same low bits without the ones are
// non-canonical for TTBR1.
TEST(ArmV8Golden, Walk64KTtbr1L2Block) {
  const auto f = Make<ArmV8S1_64K>({"ttbr1=1"});
  PhysMem mem(Oa(0), 1 << 24);
  Put<ArmV8S1_64K>(&mem, 0x10000, 2, 0x3F, 0x20003);
  Put<ArmV8S1_64K>(&mem, 0x20000, 1, 1, 0x0040000140000301ull);
  EXPECT_EQ(Get<ArmV8S1_64K>(&mem, 0x101F8, 2, 0), 0x20003ull);

  const WalkResult r = Translate(f, &mem, Oa(0x10000), Va(0xFFFFFC0023456789ull), kKernelExec);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x143456789ull));
  EXPECT_EQ(r.t.size_lg2, 29u);
  EXPECT_EQ(r.t.level, Level(1));
  EXPECT_EQ(Get<ArmV8S1_64K>(&mem, 0x20000, 1, 1), 0x0040000140000701ull);

  const WalkResult n = Translate(f, &mem, Oa(0x10000), Va(0x0000FC0023456789ull), kKernelRead);
  EXPECT_EQ(n.fault, (Fault{FaultKind::kNonCanonical, Level(2)}));
}

}  // namespace
}  // namespace ptsim
