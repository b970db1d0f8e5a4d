// Golden vectors for AMD IOMMU v1 host page tables
// (src/formats/amd_iommu_v1.h), derived by hand from the AMD I/O
// Virtualization Technology (IOMMU) Specification (48882), 2.2.3 "I/O Page
// Tables for Host Translations": the PDE/PTE figures (cited "PTE format"),
// the Next Level field, the "Example Page Size Encodings" table (cited
// "page size encodings") and the "Page Table Level Parameters" table.
//
// Bits used: PR 0x1, Next Level bits 11:9 (1 = 0x200, 7 = 0xe00), address
// bits 51:12 in place, IR bit 61 = 0x2000_0000_0000_0000, IW bit 62 =
// 0x4000_0000_0000_0000.
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <string_view>

#include "src/formats/amd_iommu_v1.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::AmdIommuV1;

AmdIommuV1 Make(std::initializer_list<std::string_view> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(AmdIommuV1::kKnobs);
  for (std::string_view s : settings) EXPECT_TRUE(ApplyConfigSetting(AmdIommuV1::kKnobs, s, &cfg).ok()) << s;
  return AmdIommuV1(cfg);
}

using golden::Attrs;

// Page Table Level Parameters: level n entries map 2^(12 + 9 (n - 1))
// bytes; a 6-level table translates 64 bits, its top table only bits 63:57
// (128 entries) and holds no PTEs.
TEST(AmdIommuV1Golden, Geometry) {
  EXPECT_EQ(AmdIommuV1::kName, "amd_iommu_v1");
  const auto f4 = Make();
  EXPECT_EQ(f4.TopLevel(), Level(3));
  EXPECT_EQ(f4.VaBits(), 48u);
  EXPECT_EQ(f4.OaBits(), 52u);
  const auto f6 = Make({"levels=6"});
  EXPECT_EQ(f6.VaBits(), 64u);
  EXPECT_EQ(f6.IndexLg2(Level(5)), 7u);
  EXPECT_FALSE(f6.CanLeaf(Level(5)));
  EXPECT_TRUE(f6.CanLeaf(Level(4)));
  // Next Level 7 sizes: 8 KiB .. 1 MiB at level 1, 4 MiB .. 512 MiB at
  // level 2; at level 5 (2^48 entries) only up to 2^52.
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(0)), LowMask(21) & ~LowMask(13));
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(1)), LowMask(30) & ~LowMask(22));
  EXPECT_EQ(ReplicatedSizesLg2(f6, Level(4)), LowMask(53) & ~LowMask(49));
}

// PTE format: a 4 KiB PTE (Next Level 0) at 0x1234_5000 with IR and IW:
// 0x6000_0000_1234_5001.
TEST(AmdIommuV1Golden, DefaultSizePte) {
  const auto f = Make();
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("rw")), 0x6000000012345001ull);
  EXPECT_EQ(f.Classify(0x6000000012345001ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.DecodeAttrs(0x6000000012345001ull, Level(0)), Attrs("rw-u"));
  // A 2 MiB PTE at level 2 (ptsim 1); with an address bit below 2 MiB it
  // is refused.
  EXPECT_EQ(f.Classify(0x6000000000200001ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.Classify(0x6000000000201001ull, Level(1)), EntryKind::kInvalid);
}

// Page size encodings: a 32 KiB page at 0x4000_8000 has address bits 13:12
// set and 14 clear: 0x4000_8000 | 0x3000; Next Level 7 (0xe00); read only
// (IR): 0x2000_0000_4000_be01, in each of its 8 PTEs.
TEST(AmdIommuV1Golden, NextLevel7PageSizeInTheAddress) {
  const auto f = Make();
  for (uint64_t i : {0, 7}) {
    EXPECT_EQ(f.EncodeReplica(Level(0), 15, Oa(0x40008000), Attrs("r"), i), 0x200000004000be01ull);
  }
  EXPECT_EQ(f.LeafSizeLg2(0x200000004000be01ull, Level(0)), 15u);
  EXPECT_EQ(f.LeafOa(0x200000004000be01ull, Level(0)), Oa(0x40008000));
  // A 4 MiB write-only page at level 2: bits 20:12 set (0x1f_f000), bit 21
  // clear: 0x8040_0000 | 0x1f_f000 | 0xe00 | PR | IW.
  EXPECT_EQ(f.EncodeReplica(Level(1), 22, Oa(0x80400000), Attrs("-w"), 1), 0x40000000805ffe01ull);
  EXPECT_EQ(f.Classify(0x40000000805ffe01ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.DecodeAttrs(0x40000000805ffe01ull, Level(1)), Attrs("-w-u"));
  // Bits 20:12 set at level 1 would be a 2 MiB page of 512 level-1 PTEs:
  // not a size ptsim accepts there.
  EXPECT_EQ(f.Classify(0x20000000001ffe01ull, Level(0)), EntryKind::kInvalid);
}

// PDE at level 2 (ptsim 1) pointing to the level-1 table at 0x3000: Next
// Level 1 (0x200), IR, IW: 0x6000_0000_0000_3201. Next Level 1 in a level-3
// PDE would skip level 2: not modelled, refused. Next Level above the
// entry's own level is invalid. The 6-level top holds no PTEs.
TEST(AmdIommuV1Golden, PdesAndLevelSkipping) {
  const auto f = Make({"levels=6"});
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0x3000)), 0x6000000000003201ull);
  EXPECT_EQ(f.Classify(0x6000000000003201ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x6000000000003201ull, Level(1)), Oa(0x3000));
  EXPECT_EQ(f.Classify(0x6000000000003201ull, Level(2)), EntryKind::kInvalid) << "a skip";
  EXPECT_EQ(f.Classify(0x6000000000003401ull, Level(1)), EntryKind::kInvalid) << "Next Level 2 at level 2";
  EXPECT_EQ(f.Classify(0x6000000000003001ull, Level(5)), EntryKind::kInvalid) << "a PTE at level 6";
  EXPECT_EQ(TablePermsOf(f, 0x2000000000003201ull, Level(1)).write, false) << "IW clear in a PDE";
}

using AmdWalkTest = golden::Table64Test;

// 3 levels, root 0x1000. VA 0x4000_9abc: level-3 index va >> 30 = 1
// (0x1008 -> 0x2000, Next Level 2 = 0x400: 0x6000_0000_0000_2401), level-2
// index (va >> 21) & 511 = 0 (0x2000 -> 0x3000: 0x6000_0000_0000_3201),
// level-1 index (va >> 12) & 511 = 9, in the 32 KiB page of entries 8..15
// (0x3040..0x3078).
TEST_F(AmdWalkTest, WalkThroughASizedPage) {
  Put(0x1008, 0x6000000000002401ull);
  Put(0x2000, 0x6000000000003201ull);
  for (uint64_t i = 8; i < 16; ++i) Put(0x3000 + 8 * i, 0x200000004000be01ull);
  const auto f = Make({"levels=3"});
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x40009abc), Access{AccessType::kRead, false});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x40009abc));
  EXPECT_EQ(w.t.size_lg2, 15u);
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x40009abc), Access{AccessType::kWrite, false}).fault,
            (Fault{FaultKind::kPermission, Level(0)}));
  int leaves = 0;
  ForEachLeaf(
      f, &mem_, Oa(0x1000),
      [&](const LeafInfo& l) {
        ++leaves;
        EXPECT_EQ(l.va, Va(0x40008000));
        EXPECT_EQ(l.size_lg2, 15u);
        return true;
      },
      [&](const TreeProblem& p) {
        ADD_FAILURE() << p.what;
        return true;
      });
  EXPECT_EQ(leaves, 1);
}

}  // namespace
}  // namespace ptsim
