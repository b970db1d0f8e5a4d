// Golden vectors for Intel VT-d second-stage paging (src/formats/vtd.h),
// each derived by hand from the VT-d Architecture Specification Rev. 5.10:
// "§3.7" = "Second-Stage Translation" (Table 4 and the reserved-bit list),
// "§3.7.1" = "Access Rights", "§3.7.2" = accessed/dirty handling, "Table
// 41".."Table 47" = the §9.8 entry formats (SS-PML5E, SS-PML4E, SS-PDPE
// 1 GiB / table, SS-PDE 2 MiB / table, SS-PTE).
//
// Bits used over and over (Figure 9-8): R 0x1, W 0x2, X 0x4 (Rev. 3.x, the
// `ers` knob), EMT bits 5:3 (WB = 6 -> 0x30), IPAT 0x40, PS 0x80, A 0x100,
// D 0x200, SNP 0x800, address bits 51:12 in place, bit 62 (IW/TM) 0x4000...
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <string_view>

#include "src/formats/vtd.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::VtdSs3;
using fmt::VtdSs4;
using fmt::VtdSs5;

using golden::Make;

using golden::Attrs;

const Access kRead{AccessType::kRead, /*user=*/false};
const Access kWrite{AccessType::kWrite, /*user=*/false};
const Access kUserWrite{AccessType::kWrite, /*user=*/true};

// ---------------------------------------------------------------------------
// Names, knobs, geometry.

TEST(VtdGolden, NamesAndKnobDefaults) {
  EXPECT_EQ(VtdSs3::kName, "vtd_ss_3level");
  EXPECT_EQ(VtdSs4::kName, "vtd_ss_4level");
  EXPECT_EQ(VtdSs5::kName, "vtd_ss_5level");
  EXPECT_EQ(ConfigToString(VtdSs4::kKnobs, FormatConfig::Defaults(VtdSs4::kKnobs)),
            "haw=48 large_pages=2 ssade=1 sc=1 emte=0 ers=0");
}

// §3.7 Table 4 and SAGAW (§11.4.2): AGAW 39 / 48 / 57 = 3 / 4 / 5 levels of
// 9-bit strides over 4 KiB pages. The 3-level root is the SS-PDPT (bits
// 38:30, 1 GiB entries), the 5-level root the SS-PML5 table (bits 56:48).
TEST(VtdGolden, GeometryOfThreeFourAndFiveLevels) {
  const auto f3 = Make<VtdSs3>();
  const auto f4 = Make<VtdSs4>();
  const auto f5 = Make<VtdSs5>();
  EXPECT_EQ(f3.VaBits(), 39u);
  EXPECT_EQ(f4.VaBits(), 48u);
  EXPECT_EQ(f5.VaBits(), 57u);
  EXPECT_EQ(f3.TopLevel(), Level(2));
  EXPECT_EQ(f3.LevelName(Level(2)), "SS-PDPE");
  EXPECT_EQ(f5.LevelName(Level(4)), "SS-PML5E");
  EXPECT_EQ(f4.LevelName(Level(0)), "SS-PTE");
  EXPECT_EQ(f4.ItemLg2(Level(1)), 21u);
  EXPECT_EQ(f4.ItemLg2(Level(2)), 30u);
  EXPECT_EQ(f5.ItemLg2(Level(4)), 48u);
  EXPECT_EQ(TableSizeLg2(f5, Level(4)), 12u);
  EXPECT_TRUE(f3.CanLeaf(Level(2))) << "a 3-level root SS-PDPE may map 1 GiB";
  EXPECT_FALSE(f4.CanLeaf(Level(3))) << "PS is reserved in SS-PML4Es";
  EXPECT_FALSE(f5.CanLeaf(Level(4)));
  EXPECT_EQ(f4.OaBits(), 48u);
}

// §3.7: input addresses above the guest address width are blocked, not
// sign-extended. 3-level: 0x7f_ffff_ffff is the last IOVA, 2^39 is out.
TEST(VtdGolden, InputAddressesAreZeroExtended) {
  const auto f3 = Make<VtdSs3>();
  EXPECT_EQ(f3.VaExt(), VaExtension::kZero);
  EXPECT_TRUE(IsCanonical(f3, Va(0x7fffffffffull)));
  EXPECT_FALSE(IsCanonical(f3, Va(0x8000000000ull)));
  EXPECT_FALSE(IsCanonical(Make<VtdSs4>(), Va(0xffff800000000000ull)));
}

// CAP.SSLPS (§11.4.2, Table 43 and 45 "PS ... treated as Reserved"): with
// large_pages = 0 no level above 0 maps; with 1 only SS-PDEs (2 MiB).
TEST(VtdGolden, LargePageSupportPicksLeafLevels) {
  const auto none = Make<VtdSs4>({"large_pages=0"});
  const auto two_m = Make<VtdSs4>({"large_pages=1"});
  EXPECT_FALSE(none.CanLeaf(Level(1)));
  EXPECT_TRUE(two_m.CanLeaf(Level(1)));
  EXPECT_FALSE(two_m.CanLeaf(Level(2)));
  EXPECT_TRUE(Make<VtdSs4>().CanLeaf(Level(2)));
}

// ---------------------------------------------------------------------------
// Encodings.

// Table 47 (SS-PTE): read/write, accessed and dirty at 0x1234_5000:
//   R|W 0x3 | A 0x100 | D 0x200 | 0x1234_5000 = 0x1234_5303.
TEST(VtdGolden, EncodePteReadWriteAccessedDirty) {
  const auto f = Make<VtdSs4>();
  const uint64_t raw = f.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("rwad"));
  EXPECT_EQ(raw, 0x12345303ull);
  EXPECT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rwuad")) << "no privilege: every leaf is 'user'";
}

// Table 45 (SS-PDE, 2 MiB): read-only, accessed at 0x4020_0000:
//   R 0x1 | PS 0x80 | A 0x100 | 0x4020_0000 = 0x4020_0181.
// Table 43 (SS-PDPE, 1 GiB): write-only at 0x1_c000_0000 (W without R is
// legal in the second stage): W 0x2 | PS 0x80 = 0x1_c000_0082.
TEST(VtdGolden, EncodeLargePagesIncludingWriteOnly) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.EncodeLeaf(Level(1), Oa(0x40200000), Attrs("ra")), 0x40200181ull);
  const uint64_t wo = f.EncodeLeaf(Level(2), Oa(0x1c0000000ull), Attrs("w"));
  EXPECT_EQ(wo, 0x1c0000082ull);
  EXPECT_EQ(f.Classify(wo, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(wo, Level(2)), Oa(0x1c0000000ull));
  EXPECT_EQ(f.DecodeAttrs(wo, Level(2)), Attrs("wu"));
}

// Tables 41, 42, 44, 46: a table entry is R|W and the 4 KiB-aligned table
// address: 0x5000 -> 0x5003 at every non-leaf level.
TEST(VtdGolden, EncodeTables) {
  const auto f = Make<VtdSs5>();
  for (int l = 1; l <= 4; ++l) {
    EXPECT_EQ(f.EncodeTable(Level(l), Oa(0x5000)), 0x5003ull) << l;
    EXPECT_EQ(f.Classify(0x5003ull, Level(l)), EntryKind::kTable) << l;
  }
  EXPECT_EQ(f.TableOa(0x5003ull, Level(3)), Oa(0x5000));
  EXPECT_EQ(TablePermsOf(f, 0x5003ull, Level(3)), TablePerms{});
}

// §3.7 last paragraph: R = W = 0 means the entry is used neither as a table
// nor as a page, whatever else is set: X alone (0x1234_5004), A|D|PS
// (0x1234_5380), all-ones except R/W.
TEST(VtdGolden, ReadAndWriteClearIsNotPresent) {
  const auto f = Make<VtdSs4>({"ers=1"});
  for (int l = 0; l <= 3; ++l) {
    EXPECT_EQ(f.Classify(0x12345004ull, Level(l)), EntryKind::kEmpty) << l;
    EXPECT_EQ(f.Classify(0x12345380ull, Level(l)), EntryKind::kEmpty) << l;
    EXPECT_EQ(f.Classify(~uint64_t{3}, Level(l)), EntryKind::kEmpty) << l;
  }
  EXPECT_EQ(f.Canonical(Attrs("x")), Attrs("rxu")) << "a leaf needs R or W";
  EXPECT_EQ(f.Canonical(Attrs("")), Attrs("ru"));
}

// ---------------------------------------------------------------------------
// Reserved and ignored bits (§3.7 list, Tables 41-47).

// 51:HAW reserved: with haw = 48 bit 48 (0x1_0000_0000_5003) faults; with
// haw = 52 it is an address bit. Bit 62 (IW without SSIRW; TM before Rev.
// 3.2) is reserved; 63, 61 and 60:52 are ignored.
TEST(VtdGolden, AddressWidthAndHighBits) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.Classify(0x0001000000005003ull, Level(1)), EntryKind::kInvalid);
  const auto f52 = Make<VtdSs4>({"haw=52"});
  EXPECT_EQ(f52.Classify(0x0001000000005003ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f52.TableOa(0x0001000000005003ull, Level(1)), Oa(0x0001000000005000ull));
  EXPECT_EQ(f.Classify(0x4000000000005003ull, Level(1)), EntryKind::kInvalid) << "bit 62";
  EXPECT_EQ(f.Classify(0x4000000012345003ull, Level(0)), EntryKind::kInvalid) << "bit 62 in a leaf";
  EXPECT_EQ(f.Classify(0xa000000000005003ull, Level(1)), EntryKind::kTable) << "63, 61 ignored";
  EXPECT_EQ(f.Classify(0x1ff0000000005003ull, Level(1)), EntryKind::kTable) << "60:52 ignored";
  EXPECT_EQ(f.TableOa(0x1ff0000000005003ull, Level(1)), Oa(0x5000));
  EXPECT_EQ(f.LeafOa(0xbff0000012345003ull, Level(0)), Oa(0x12345000));
}

// PS: reserved in an SS-PML4E (0x5083 at level 3) and, with large_pages =
// 1, in an SS-PDPE (0x4000_0083 at level 2); by default that SS-PDPE is a
// 1 GiB page at 0x4000_0000. In an SS-PTE bit 7 is ignored: 0x1234_5083 is
// a 4 KiB page.
TEST(VtdGolden, PageSizeBitWhereItIsReserved) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.Classify(0x5083ull, Level(3)), EntryKind::kInvalid);
  EXPECT_EQ(Make<VtdSs4>({"large_pages=1"}).Classify(0x40000083ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x40000083ull, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x40000083ull, Level(2)), Oa(0x40000000));
  EXPECT_EQ(f.Classify(0x12345083ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(Make<VtdSs5>().Classify(0x5083ull, Level(4)), EntryKind::kInvalid) << "SS-PML5E";
}

// §3.7: a large page's address bits below its size are reserved: a 2 MiB
// SS-PDE with bit 12 set (0x4020_1083) faults; 0x4020_0083 is a good 2 MiB
// page but, as an SS-PDPE, has bit 21 inside 29:12 set and faults.
TEST(VtdGolden, MisalignedLargePagesAreReserved) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.Classify(0x40201083ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x40200083ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.Classify(0x40200083ull, Level(2)), EntryKind::kInvalid);
}

// SNP (bit 11): reserved in non-leaf entries (0x5803 at level 1); legal in
// a leaf with ECAP.SC (0x1234_5803), reserved without (sc = 0).
TEST(VtdGolden, SnoopBit) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.Classify(0x5803ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x12345803ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.Classify(0x40200883ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(Make<VtdSs4>({"sc=0"}).Classify(0x12345803ull, Level(0)), EntryKind::kInvalid);
}

// Table 45/47 EMT: with EMTE, 0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3, 7 are
// reserved. EMT = 2 (0x10): 0x1234_5013; EMT = 7 (0x38): 0x1234_503b. Without
// EMTE the field is ignored. EncodeLeaf writes WB (6 << 3 = 0x30) with EMTE:
// rw at 0x1234_5000 -> 0x1234_5033.
TEST(VtdGolden, ExtendedMemoryType) {
  const auto on = Make<VtdSs4>({"emte=1"});
  EXPECT_EQ(on.Classify(0x12345013ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(on.Classify(0x1234503bull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(on.Classify(0x12345023ull, Level(0)), EntryKind::kLeaf) << "4 = WT";
  EXPECT_EQ(on.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("rw")), 0x12345033ull);
  const auto off = Make<VtdSs4>();
  EXPECT_EQ(off.Classify(0x12345013ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(off.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("rw")), 0x12345003ull);
}

// Rev. 3.x X (bit 2) with ERS/SSEE (knob ers): read+exec at 0x2000 ->
// R|X = 0x2005; a table grants X too (0x5007) and one without X (0x5003)
// forbids execution below it. Without ers bit 2 is ignored and nothing is
// executable.
TEST(VtdGolden, ExecuteWithErs) {
  const auto f = Make<VtdSs4>({"ers=1"});
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x2000), Attrs("rx")), 0x2005ull);
  EXPECT_EQ(f.DecodeAttrs(0x2005ull, Level(0)), Attrs("rxu"));
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0x5000)), 0x5007ull);
  EXPECT_FALSE(TablePermsOf(f, 0x5003ull, Level(1)).exec);
  const auto g = Make<VtdSs4>();
  EXPECT_EQ(g.DecodeAttrs(0x2005ull, Level(0)), Attrs("ru"));
  EXPECT_EQ(g.Canonical(Attrs("rx")), Attrs("ru"));
  EXPECT_EQ(g.EncodeLeaf(Level(0), Oa(0x2000), Attrs("rx")), 0x2001ull);
}

// §3.7.2 with SSADE: A in every entry used, D (and A) in the leaf on a
// write. Table 0x5003 -> 0x5103; leaf 0x1234_5003 read -> 0x1234_5103,
// write -> 0x1234_5303. Without SSADE nothing is written and A/D decode as
// clear.
TEST(VtdGolden, AccessedAndDirty) {
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(f.MarkAccessed(0x5003ull, Level(1), false), 0x5103ull);
  EXPECT_EQ(f.MarkAccessed(0x12345003ull, Level(0), false), 0x12345103ull);
  EXPECT_EQ(f.MarkAccessed(0x12345003ull, Level(0), true), 0x12345303ull);
  EXPECT_EQ(f.MarkAccessed(0x12345004ull, Level(0), true), 0x12345004ull) << "not present: untouched";
  const auto off = Make<VtdSs4>({"ssade=0"});
  EXPECT_EQ(off.MarkAccessed(0x12345003ull, Level(0), true), 0x12345003ull);
  EXPECT_EQ(off.DecodeAttrs(0x12345303ull, Level(0)), Attrs("rwu"));
  EXPECT_EQ(off.Canonical(Attrs("rwad")), Attrs("rwu"));
}

// ---------------------------------------------------------------------------
// Walks (§3.7: entry address = table + index * 8).

using VtdWalkTest = golden::Table64Test;

// 4-level, root at 0x1000. IOVA 0x80_4060_1abc:
//   SS-PML4 index bits 47:39 = 1          entry 0x1008 -> 0x2003
//   SS-PDPT index bits 38:30 = 1          entry 0x2008 -> 0x3003
//   SS-PD   index bits 29:21 = 3          entry 0x3018 -> 0x4003
//   SS-PT   index bits 20:12 = 1          entry 0x4008 = 0x1234_5003 (RW)
//   offset 0xabc -> PA 0x1234_5abc.
// A write sets A in the three tables (0x..103) and A|D in the leaf.
// IOVA 0x80_4080_0123: SS-PD index 4, entry 0x3020 = 0x4020_0083, a 2 MiB
// page -> PA 0x4020_0123.
TEST_F(VtdWalkTest, FourLevelsToAPageAndA2MiBPage) {
  Put(0x1008, 0x2003);
  Put(0x2008, 0x3003);
  Put(0x3018, 0x4003);
  Put(0x4008, 0x12345003);
  Put(0x3020, 0x40200083);
  const auto f = Make<VtdSs4>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x8040601abcull), kWrite);
  ASSERT_TRUE(w.ok) << FaultKindName(w.fault.kind);
  EXPECT_EQ(w.t.oa, Oa(0x12345abc));
  EXPECT_EQ(w.t.size_lg2, 12u);
  EXPECT_EQ(Get(0x4008), 0x12345303ull);
  EXPECT_EQ(Get(0x1008), 0x2103ull);
  EXPECT_EQ(Get(0x2008), 0x3103ull);
  EXPECT_EQ(Get(0x3018), 0x4103ull);

  const WalkResult m = Translate(f, &mem_, Oa(0x1000), Va(0x8040800123ull), kUserWrite);
  ASSERT_TRUE(m.ok) << FaultKindName(m.fault.kind);
  EXPECT_EQ(m.t.oa, Oa(0x40200123));
  EXPECT_EQ(m.t.size_lg2, 21u);
  EXPECT_EQ(m.t.level, Level(1));

  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x1000000000000ull), kRead).fault.kind, FaultKind::kNonCanonical);
}

// §3.7.1: write needs W in every entry. The SS-PDE at 0x3018 granting read
// only (0x4001) makes the RW page below read-only: a write faults at the
// leaf, a read succeeds. R = W = 0 at 0x2008 (0x3000): not present at
// the SS-PDPE.
TEST_F(VtdWalkTest, NonLeafEntriesRestrictAndReadWriteClearIsNotPresent) {
  Put(0x1008, 0x2003);
  Put(0x2008, 0x3003);
  Put(0x3018, 0x4001);
  Put(0x4008, 0x12345003);
  const auto f = Make<VtdSs4>();
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x8040601abcull), kWrite).fault,
            (Fault{FaultKind::kPermission, Level(0)}));
  EXPECT_TRUE(Translate(f, &mem_, Oa(0x1000), Va(0x8040601abcull), kRead).ok);
  Put(0x2008, 0x3000);
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x8040601abcull), kRead).fault,
            (Fault{FaultKind::kNotPresent, Level(2)}));
}

// 3-level, root is the SS-PDPT at 0x1000: IOVA 0x40_0123_4567 -> index
// bits 38:30 = 0x100 (entry 0x1800) holding the 1 GiB page 0x8000_0083 ->
// PA 0x8000_0000 + 0x0123_4567 = 0x8123_4567.
TEST_F(VtdWalkTest, ThreeLevelRootMapsOneGiB) {
  Put(0x1800, 0x80000083);
  const auto f = Make<VtdSs3>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x4001234567ull), kRead);
  ASSERT_TRUE(w.ok) << FaultKindName(w.fault.kind);
  EXPECT_EQ(w.t.oa, Oa(0x81234567));
  EXPECT_EQ(w.t.size_lg2, 30u);
  EXPECT_EQ(w.t.level, Level(2));
  EXPECT_EQ(Get(0x1800), 0x80000183ull);
}

}  // namespace
}  // namespace ptsim
