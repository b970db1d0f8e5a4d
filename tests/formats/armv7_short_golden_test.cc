// Golden vectors for the ARMv7 short-descriptor format
// (src/formats/armv7_short.h), derived by hand from the ARM Architecture
// Reference Manual ARMv7-A/R (DDI 0406C): B3.5.1 "Short-descriptor
// translation table format descriptors" (cited "B3.5.1"), B3.7.1 "Access
// permissions" (AP[2:0] table, "B3.7.1") and B3.8 for TEX/C/B.
//
// Bits written for every leaf: C 0x8 and B 0x4 (0xc); TEX = 001 (section
// and large page: bits 14:12 = 0x1000; small page: bits 8:6 = 0x40); S
// (section bit 16 = 0x1_0000, page bit 10 = 0x400). AP[1:0]: section bits
// 11:10 (01 = 0x400, 11 = 0xc00), pages bits 5:4 (01 = 0x10, 11 = 0x30);
// AP[2]: section bit 15 (0x8000), pages bit 9 (0x200). nG: section bit 17
// (0x2_0000), pages bit 11 (0x800). XN: section bit 4 (0x10), small page
// bit 0, large page bit 15 (0x8000). Supersection: bit 18 (0x4_0000).
#include <gtest/gtest.h>

#include <atomic>
#include <string_view>

#include "src/formats/armv7_short.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::ArmV7Short;

const ArmV7Short kF{FormatConfig()};

using golden::Attrs;

// B3.5.1 with TTBCR.N = 0: 4096 first-level entries of 1 MiB (16 KiB
// table), 256 second-level entries of 4 KiB (1 KiB table); supersections
// (16 MiB) and large pages (64 KiB) are 16 repeated entries.
TEST(ArmV7ShortGolden, Geometry) {
  EXPECT_EQ(ArmV7Short::kName, "armv7_short");
  EXPECT_EQ(kF.TopLevel(), Level(1));
  EXPECT_EQ(TableSizeLg2(kF, Level(1)), 14u);
  EXPECT_EQ(TableSizeLg2(kF, Level(0)), 10u);
  EXPECT_EQ(kF.ItemLg2(Level(1)), 20u);
  EXPECT_EQ(kF.ItemLg2(Level(0)), 12u);
  EXPECT_EQ(LeafSizesLg2(kF, Level(1)), (uint64_t{1} << 24) | (uint64_t{1} << 20));
  EXPECT_EQ(LeafSizesLg2(kF, Level(0)), (uint64_t{1} << 16) | (uint64_t{1} << 12));
}

// Section at 0x8010_0000, PL1 RW (AP = 001), executable, global:
// 0x8010_0000 | S 0x1_0000 | TEX 0x1000 | AP 0x400 | C B 0xc | type 10 =
// 0x8011_140e.
TEST(ArmV7ShortGolden, SectionKernelRwx) {
  EXPECT_EQ(kF.EncodeLeaf(Level(1), Oa(0x80100000), Attrs("rwx-g")), 0x8011140eu);
  EXPECT_EQ(kF.Classify(0x8011140eu, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(kF.LeafOa(0x8011140eu, Level(1)), Oa(0x80100000));
  EXPECT_EQ(kF.DecodeAttrs(0x8011140eu, Level(1)), Attrs("rwx-g"));
}

// Section at 0x0020_0000, PL0 and PL1 read-only (AP = 111: 0xc00 | 0x8000),
// XN 0x10, nG 0x2_0000: 0x0023_9c1e.
TEST(ArmV7ShortGolden, SectionUserReadOnlyNotGlobal) {
  EXPECT_EQ(kF.EncodeLeaf(Level(1), Oa(0x00200000), Attrs("r--u")), 0x00239c1eu);
  EXPECT_EQ(kF.DecodeAttrs(0x00239c1eu, Level(1)), Attrs("r--u"));
}

// Supersection at 0x1200_0000, full access (AP = 011), exec, global:
// 0x1200_0000 | bit 18 0x4_0000 | 0x1_0000 | 0x1000 | 0xc00 | 0xc | 0x2 =
// 0x1205_1c0e, the same in all 16 entries (B3.5.1).
TEST(ArmV7ShortGolden, SupersectionIsSixteenIdenticalEntries) {
  for (uint64_t i : {0, 9, 15}) {
    EXPECT_EQ(kF.EncodeReplica(Level(1), 24, Oa(0x12000000), Attrs("rwxug"), i), 0x12051c0eu);
  }
  EXPECT_EQ(kF.LeafSizeLg2(0x12051c0eu, Level(1)), 24u);
  EXPECT_EQ(kF.LeafOa(0x12051c0eu, Level(1)), Oa(0x12000000));
  // PA[35:32] (bits 23:20) or PA[39:36] (bits 8:5) set: the 40-bit
  // extension is not modelled, so the entry is refused.
  EXPECT_EQ(kF.Classify(0x12151c0eu, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(kF.Classify(0x12051c2eu, Level(1)), EntryKind::kInvalid);
}

// Small page at 0x0034_5000, PL1 RW (AP[1:0] 01 = 0x10), XN (bit 0), not
// global (0x800): 0x0034_5000 | 0x800 | S 0x400 | TEX 0x40 | 0x10 | 0xc |
// type 1x with XN = 0x3 -> 0x0034_5c5f.
TEST(ArmV7ShortGolden, SmallPage) {
  EXPECT_EQ(kF.EncodeLeaf(Level(0), Oa(0x00345000), Attrs("rw--")), 0x00345c5fu);
  EXPECT_EQ(kF.DecodeAttrs(0x00345c5fu, Level(0)), Attrs("rw--"));
  EXPECT_EQ(kF.LeafSizeLg2(0x00345c5fu, Level(0)), 12u);
}

// Large page at 0x0035_0000, full access (AP[1:0] 11 = 0x30), exec,
// global: 0x0035_0000 | TEX 0x1000 | S 0x400 | 0x30 | 0xc | type 01 =
// 0x0035_143d in all 16 entries.
TEST(ArmV7ShortGolden, LargePage) {
  EXPECT_EQ(kF.EncodeReplica(Level(0), 16, Oa(0x00350000), Attrs("rwxug"), 3), 0x0035143du);
  EXPECT_EQ(kF.Classify(0x0035143du, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(kF.LeafSizeLg2(0x0035143du, Level(0)), 16u);
  EXPECT_EQ(kF.LeafOa(0x0035143du, Level(0)), Oa(0x00350000));
  EXPECT_EQ(kF.DecodeAttrs(0x0035143du, Level(0)), Attrs("rwxug"));
  // XN of a large page is bit 15.
  EXPECT_EQ(kF.EncodeReplica(Level(0), 16, Oa(0x00350000), Attrs("rw-ug"), 3), 0x0035943du);
}

// Page table descriptor: type 01, domain 0, table address 0x0040_1400.
TEST(ArmV7ShortGolden, PageTablePointer) {
  EXPECT_EQ(kF.EncodeTable(Level(1), Oa(0x00401400)), 0x00401401u);
  EXPECT_EQ(kF.Classify(0x00401401u, Level(1)), EntryKind::kTable);
  EXPECT_EQ(kF.TableOa(0x00401401u, Level(1)), Oa(0x00401400));
  EXPECT_EQ(TablePermsOf(kF, 0x00401405u, Level(1)).exec, false) << "PXN (bit 2) in a page table descriptor";
}

// B3.7.1: AP = 010 (PL1 RW, PL0 RO) decodes as user read-only; 100 is
// reserved. B3.7.2: bits 1:0 = 11 is a section with PXN: a PL1 section is
// then not executable, a PL0 one still is (for PL0).
TEST(ArmV7ShortGolden, AsymmetricAndReservedPermissions) {
  EXPECT_EQ(kF.DecodeAttrs(0x8011180eu, Level(1)), Attrs("r-xug"));
  EXPECT_EQ(kF.Classify(0x8011900eu, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(kF.DecodeAttrs(0x8011140fu, Level(1)), Attrs("rw--g"));
  EXPECT_EQ(kF.DecodeAttrs(0x80111c0fu, Level(1)), Attrs("rwxug"));
  EXPECT_EQ(kF.Classify(0x00000000u, Level(0)), EntryKind::kEmpty);
}

class ArmV7WalkTest : public ::testing::Test {
 protected:
  void Put(uint64_t addr, uint32_t raw) {
    std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(mem_.Writable(Oa(addr)))).store(raw);
  }
  PhysMem mem_{Oa(0), 1 << 20};
};

// First-level table at 0x4000. VA 0x0035_7abc: first-level index
// va >> 20 = 3 (0x400c) -> second-level table 0x8400 (0x8401); index
// (va >> 12) & 0xff = 0x57, in the large page held by entries 0x50..0x5f
// (0x8540..0x857c). VA 0x01ab_cdef: first-level index 0x1a, in the
// supersection held by entries 16..31 (0x4040..0x407c).
TEST_F(ArmV7WalkTest, LargePageAndSupersection) {
  Put(0x400c, 0x00008401u);
  for (uint64_t i = 0; i < 16; ++i) Put(0x8540 + 4 * i, 0x0035143du);
  for (uint64_t i = 0; i < 16; ++i) Put(0x4040 + 4 * i, 0x12051c0eu);
  const WalkResult w = Translate(kF, &mem_, Oa(0x4000), Va(0x00357abc), Access{AccessType::kWrite, true});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x00357abc));
  EXPECT_EQ(w.t.size_lg2, 16u);
  EXPECT_EQ(w.t.level, Level(0));
  const WalkResult s = Translate(kF, &mem_, Oa(0x4000), Va(0x01abcdef), Access{AccessType::kExec, true});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.t.oa, Oa(0x12abcdef));
  EXPECT_EQ(s.t.size_lg2, 24u);
  EXPECT_EQ(s.t.level, Level(1));

  int leaves = 0;
  ForEachLeaf(
      kF, &mem_, Oa(0x4000),
      [&](const LeafInfo& l) {
        ++leaves;
        EXPECT_TRUE(l.size_lg2 == 16 || l.size_lg2 == 24) << l.size_lg2;
        return true;
      },
      [&](const TreeProblem& p) {
        ADD_FAILURE() << p.what;
        return true;
      });
  EXPECT_EQ(leaves, 2);
}

}  // namespace
}  // namespace ptsim
