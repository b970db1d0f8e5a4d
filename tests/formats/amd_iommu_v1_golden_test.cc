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
#include <vector>

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

// PDE format, Next Level: a PDE at level 2 (ptsim 1) pointing to the
// level-1 table at 0x3000: Next Level 1 (0x200), IR, IW:
// 0x6000_0000_0000_3201. Next Level above the entry's own level minus one
// is invalid, and so is any PDE at level 1 or a PTE at the 6-level top.
TEST(AmdIommuV1Golden, Pdes) {
  const auto f = Make({"levels=6"});
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0x3000)), 0x6000000000003201ull);
  EXPECT_EQ(f.Classify(0x6000000000003201ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x6000000000003201ull, Level(1)), Oa(0x3000));
  EXPECT_EQ(NextTableLevel(f, 0x6000000000003201ull, Level(1)), Level(0));
  EXPECT_EQ(f.Classify(0x6000000000003401ull, Level(1)), EntryKind::kInvalid) << "Next Level 2 at level 2";
  EXPECT_EQ(f.Classify(0x6000000000003201ull, Level(0)), EntryKind::kInvalid) << "a PDE at level 1";
  EXPECT_EQ(f.Classify(0x6000000000003001ull, Level(5)), EntryKind::kInvalid) << "a PTE at level 6";
  EXPECT_EQ(TablePermsOf(f, 0x2000000000003201ull, Level(1)).write, false) << "IW clear in a PDE";
}

// Level skipping (2.2.3, Next Level): a PDE at level L whose Next Level N
// is 1 <= N < L - 1 points to a table of level N; levels N + 1 .. L - 1
// are skipped. The same 0x6000_0000_0000_3201 in a level-3 PDE (ptsim 2)
// points to the level-1 table (ptsim 0). At level 6 (ptsim 5): Next Level
// 5 (0xa00) is the ordinary PDE, 4 (0x800) skips level 5, 1 skips 5..2,
// and 6 (0xc00) is the PDE's own level: invalid, as at level 3 Next Level
// 3 (0x600) is.
TEST(AmdIommuV1Golden, PdesThatSkipLevels) {
  const auto f = Make({"levels=6"});
  EXPECT_EQ(f.Classify(0x6000000000003201ull, Level(2)), EntryKind::kTable);
  EXPECT_EQ(NextTableLevel(f, 0x6000000000003201ull, Level(2)), Level(0));
  EXPECT_EQ(f.TableOa(0x6000000000003201ull, Level(2)), Oa(0x3000));
  EXPECT_EQ(f.EncodeSkipTable(Level(2), Level(0), Oa(0x3000)), 0x6000000000003201ull);
  EXPECT_EQ(EncodeTableTo(f, Level(2), Level(0), Oa(0x3000)), 0x6000000000003201ull);
  EXPECT_EQ(EncodeTableTo(f, Level(2), Level(1), Oa(0x3000)), 0x6000000000003401ull) << "no skip: EncodeTable";
  EXPECT_EQ(f.Classify(0x6000000000003601ull, Level(2)), EntryKind::kInvalid) << "Next Level 3 at level 3";
  EXPECT_EQ(NextTableLevel(f, 0x6000000000003a01ull, Level(5)), Level(4));
  EXPECT_EQ(f.Classify(0x6000000000003801ull, Level(5)), EntryKind::kTable);
  EXPECT_EQ(NextTableLevel(f, 0x6000000000003801ull, Level(5)), Level(3));
  EXPECT_EQ(NextTableLevel(f, 0x6000000000003201ull, Level(5)), Level(0));
  EXPECT_EQ(f.Classify(0x6000000000003c01ull, Level(5)), EntryKind::kInvalid) << "Next Level 6 at level 6";
  // Reserved bits 60:52 still make a skipping PDE invalid.
  EXPECT_EQ(f.Classify(0x6010000000003201ull, Level(2)), EntryKind::kInvalid);
  // The skipped address bits: 29:21 for level 3 -> 1; 56:21 for 6 -> 1.
  EXPECT_EQ(SkippedVaMask(f, Level(2), Level(0)), 0x3fe00000ull);
  EXPECT_EQ(SkippedVaMask(f, Level(5), Level(0)), 0x01ffffffffe00000ull);
  EXPECT_EQ(SkippedVaMask(f, Level(2), Level(1)), 0u);
  // The knob only says whether ops build skips; decoding never depends on it.
  EXPECT_FALSE(f.BuildsSkips());
  const auto s = Make({"levels=6", "skip=1"});
  EXPECT_TRUE(s.BuildsSkips());
  EXPECT_EQ(s.EncodeTable(Level(1), Oa(0x3000)), 0x6000000000003201ull);
  EXPECT_EQ(s.Classify(0x6000000000003201ull, Level(2)), EntryKind::kTable);
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


// Level skipping (2.2.3): 3 levels, root 0x1000. Its entry 0 is a level-3
// PDE with Next Level 1 (0x6000_0000_0000_3201) pointing to the level-1
// table at 0x3000, skipping level 2, whose index bits 29:21 must then be
// zero. Entry 9 there (0x3048) is a 4 KiB PTE at 0x7654_3000, IR IW:
// 0x6000_0000_7654_3001. VA 0x9abc: top index 0, bits 29:21 zero, level-1
// index 9: 0x7654_3abc, read from two entries. VA 0x20_9abc has bit 21 set
// (level-2 index 1): no translation, a not-present fault at level 2
// (ptsim 1) where the walk of an explicit level-2 table would have found
// an empty entry. VA 0x4000_9abc: top index 1, empty: not present at 3.
TEST_F(AmdWalkTest, ThreeLevelTopSkipsToLevelOne) {
  Put(0x1000, 0x6000000000003201ull);
  Put(0x3048, 0x6000000076543001ull);
  const auto f = Make({"levels=3"});
  const Access rd{AccessType::kRead, false};
  WalkTrace trace;
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x9abc), rd, {}, &trace);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x76543abc));
  EXPECT_EQ(w.t.size_lg2, 12u);
  EXPECT_EQ(w.t.level, Level(0));
  ASSERT_EQ(trace.count, 2);
  EXPECT_EQ(trace.steps[0].level, Level(2));
  EXPECT_EQ(trace.steps[0].entry_addr, Oa(0x1000));
  EXPECT_EQ(trace.steps[0].kind, EntryKind::kTable);
  EXPECT_EQ(trace.steps[1].level, Level(0));
  EXPECT_EQ(trace.steps[1].table, Oa(0x3000));
  EXPECT_EQ(trace.steps[1].index, 9u);
  EXPECT_EQ(trace.steps[1].entry_addr, Oa(0x3048));
  EXPECT_EQ(trace.steps[1].raw, 0x6000000076543001ull);
  const WalkResult skipped_bit = Translate(f, &mem_, Oa(0x1000), Va(0x209abc), rd, {}, &trace);
  EXPECT_EQ(skipped_bit.fault, (Fault{FaultKind::kNotPresent, Level(1)}));
  EXPECT_FALSE(skipped_bit.ok);
  EXPECT_EQ(trace.count, 1) << "nothing is read for a skipped level";
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x3fe09abc), rd).fault, (Fault{FaultKind::kNotPresent, Level(1)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x40009abc), rd).fault, (Fault{FaultKind::kNotPresent, Level(2)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0xa000), rd).fault, (Fault{FaultKind::kNotPresent, Level(0)}));
  std::vector<LeafInfo> leaves;
  ForEachLeaf(
      f, &mem_, Oa(0x1000),
      [&](const LeafInfo& l) {
        leaves.push_back(l);
        return true;
      },
      [&](const TreeProblem& p) {
        ADD_FAILURE() << p.what;
        return true;
      });
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].va, Va(0x9000));
  EXPECT_EQ(leaves[0].oa, Oa(0x76543000));
  EXPECT_EQ(leaves[0].level, Level(0));
}

// The same tree with level 2 present: root 0x5000 entry 0 -> 0x2000
// (Next Level 2: 0x6000_0000_0000_2401), whose entry 0 -> 0x3000 (Next
// Level 1). Every walk, fault level included, is the skipping tree's.
TEST_F(AmdWalkTest, ASkipWalksLikeTheChainOfFirstEntriesItReplaces) {
  Put(0x1000, 0x6000000000003201ull);
  Put(0x5000, 0x6000000000002401ull);
  Put(0x2000, 0x6000000000003201ull);
  Put(0x3000, 0x6000000011111001ull);
  Put(0x3048, 0x6000000076543001ull);
  Put(0x3ff8, 0x2000000022222001ull);
  const auto f = Make({"levels=3"});
  for (uint64_t va : {0x0ull, 0x9abcull, 0x1ff000ull, 0x1fffffull, 0x200000ull, 0x209abcull, 0x3fffffffull,
                      0x40000000ull, 0x7fffffffffull, 0x8000000000ull}) {
    for (AccessType t : {AccessType::kRead, AccessType::kWrite}) {
      const WalkResult skip = Translate(f, &mem_, Oa(0x1000), Va(va), Access{t, false});
      const WalkResult full = Translate(f, &mem_, Oa(0x5000), Va(va), Access{t, false});
      EXPECT_EQ(skip.ok, full.ok) << std::hex << va;
      EXPECT_EQ(skip.fault, full.fault) << std::hex << va;
      EXPECT_EQ(skip.t.oa, full.t.oa) << std::hex << va;
      EXPECT_EQ(skip.t.size_lg2, full.t.size_lg2) << std::hex << va;
    }
  }
}

// 6 levels (bits 63:57 index the 128-entry top): the top's entry 0 is a
// PDE with Next Level 3 (0x600) to the level-3 table at 0x2000:
// 0x6000_0000_0000_2601, skipping levels 5 and 4 (bits 56:48 and 47:39).
// Entry 1 there (0x2008, bits 38:30 = 1) is a 1 GiB PTE at 0x8000_0000,
// read only (IR): 0x2000_0000_8000_0001. Top entry 1 (bits 63:57 = 1) is a
// PDE with Next Level 1 to the level-1 table at 0x3000, skipping 5..2
// (bits 56:21); its entry 5 (0x3028) maps 4 KiB at 0x9000 with IR IW.
TEST_F(AmdWalkTest, SixLevelTopSkipsToLevelsThreeAndOne) {
  Put(0x1000, 0x6000000000002601ull);
  Put(0x2008, 0x2000000080000001ull);
  Put(0x1008, 0x6000000000003201ull);
  Put(0x3028, 0x6000000000009001ull);
  const auto f = Make({"levels=6"});
  const Access rd{AccessType::kRead, false};
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x41234567), rd);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x81234567));
  EXPECT_EQ(w.t.size_lg2, 30u);
  EXPECT_EQ(w.t.level, Level(2));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x41234567), Access{AccessType::kWrite, false}).fault,
            (Fault{FaultKind::kPermission, Level(2)}));
  // Bit 48: level-5 index 1; bit 39: level-4 index 1; both: the higher.
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x0001000041234567ull), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(4)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x0000008041234567ull), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(3)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x0001008041234567ull), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(4)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x01234567), rd).fault, (Fault{FaultKind::kNotPresent, Level(2)}));
  const uint64_t second = uint64_t{1} << 57;
  const WalkResult w1 = Translate(f, &mem_, Oa(0x1000), Va(second | 0x5abc), rd);
  ASSERT_TRUE(w1.ok);
  EXPECT_EQ(w1.t.oa, Oa(0x9abc));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(second | 0x205abc), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(1)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(second | (uint64_t{1} << 56) | 0x5abc), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(4)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(uint64_t{2} << 57), rd).fault,
            (Fault{FaultKind::kNotPresent, Level(5)}));
  std::vector<LeafInfo> leaves;
  ForEachLeaf(
      f, &mem_, Oa(0x1000),
      [&](const LeafInfo& l) {
        leaves.push_back(l);
        return true;
      },
      [&](const TreeProblem& p) {
        ADD_FAILURE() << p.what;
        return true;
      });
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0].va, Va(0x40000000));
  EXPECT_EQ(leaves[0].size_lg2, 30u);
  EXPECT_EQ(leaves[1].va, Va(second | 0x5000));
  EXPECT_EQ(leaves[1].oa, Oa(0x9000));
}

// IW in a skipping PDE limits writes below it as in any PDE: the level-3
// PDE 0x2000_0000_0000_3201 (IR only, Next Level 1) over a read-write PTE.
TEST_F(AmdWalkTest, ASkippingPdeRestrictsLikeAnyPde) {
  Put(0x1000, 0x2000000000003201ull);
  Put(0x3000, 0x6000000000007001ull);
  const auto f = Make({"levels=3"});
  EXPECT_TRUE(Translate(f, &mem_, Oa(0x1000), Va(0x123), Access{AccessType::kRead, false}).ok);
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x123), Access{AccessType::kWrite, false}).fault,
            (Fault{FaultKind::kPermission, Level(0)}));
}

}  // namespace
}  // namespace ptsim
