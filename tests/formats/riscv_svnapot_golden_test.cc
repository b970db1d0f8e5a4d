// Golden vectors for Svnapot on Sv39/48/57 (src/formats/riscv.h, knob
// svnapot), derived by hand from The RISC-V Instruction Set Manual, Volume
// II: Privileged Architecture, chapter '"Svnapot" Extension for NAPOT
// Translation Contiguity' (cited as "Svnapot": the N bit, the table of
// NAPOT PTE encodings, the reserved encodings and the non-leaf rule) and
// the Sv39 "Virtual Address Translation Process" (cited as "step n").
//
// Bits used: V 0x1, R 0x2, W 0x4, X 0x8, U 0x10, A 0x40, D 0x80, PPN from
// bit 10 (a PPN p lands in the PTE as p << 10), N = bit 63 =
// 0x8000_0000_0000_0000. A 64 KiB NAPOT PTE has PPN[0][3:0] = 1000, so a
// 64 KiB-aligned PA p is written as PPN (p >> 12) | 0x8.
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <string_view>

#include "src/formats/riscv.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::RiscvSv32;
using fmt::RiscvSv39;
using fmt::RiscvSv48;
using fmt::RiscvSv57;

using golden::Make;

using golden::Attrs;

// Svnapot: the extension needs Sv39 or wider; Sv32 has no N bit. The only
// NAPOT size defined is 64 KiB, at level 0 (i = 0 in the encoding table).
TEST(RiscvSvnapotGolden, SizesAndKnob) {
  EXPECT_EQ(ReplicatedSizesLg2(Make<RiscvSv39>(), Level(0)), 0u) << "off by default";
  EXPECT_EQ(ReplicatedSizesLg2(Make<RiscvSv32>(), Level(0)), 0u);
  const auto f = Make<RiscvSv39>({"svnapot=1"});
  EXPECT_EQ(ReplicatedSizesLg2(f, Level(0)), uint64_t{1} << 16);
  EXPECT_EQ(ReplicatedSizesLg2(f, Level(1)), 0u);
  EXPECT_EQ(LeafSizesLg2(f, Level(0)), (uint64_t{1} << 16) | (uint64_t{1} << 12));
  EXPECT_EQ(ReplicatedSizesLg2(Make<RiscvSv48>({"svnapot=1"}), Level(0)), uint64_t{1} << 16);
  EXPECT_EQ(ReplicatedSizesLg2(Make<RiscvSv57>({"svnapot=1"}), Level(0)), uint64_t{1} << 16);
}

// Svnapot encoding table, i = 0, PPN[0] = x xxxx 1000: 64 KiB at PA
// 0x8012_0000 for a user RW page. PPN = 0x80120 | 0x8 = 0x80128;
// 0x80128 << 10 = 0x2004_a000; | U W R V (0x17) | N = 0x8000_0000_2004_a017.
// All 16 PTEs of the range are that same value.
TEST(RiscvSvnapotGolden, Encode64KiBUserRwPage) {
  const auto f = Make<RiscvSv39>({"svnapot=1"});
  for (uint64_t i : {0, 7, 15}) {
    EXPECT_EQ(f.EncodeReplica(Level(0), 16, Oa(0x80120000), Attrs("rw-u"), i), 0x800000002004a017ull) << i;
  }
  EXPECT_EQ(f.Classify(0x800000002004a017ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafSizeLg2(0x800000002004a017ull, Level(0)), 16u);
  EXPECT_EQ(f.LeafOa(0x800000002004a017ull, Level(0)), Oa(0x80120000)) << "PPN[3:0] come from the VA";
}

// Decode: N | PPN 0x18 (PPN[3:0] = 1000) << 10 = 0x6000 | X R V (0xb) =
// 0x8000_0000_0000_600b: a kernel RX 64 KiB page at (0x18 & ~0xf) << 12 =
// 0x1_0000.
TEST(RiscvSvnapotGolden, DecodeKernelRxPage) {
  const auto f = Make<RiscvSv48>({"svnapot=1"});
  ASSERT_EQ(f.Classify(0x800000000000600bull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x800000000000600bull, Level(0)), Oa(0x10000));
  EXPECT_EQ(f.DecodeAttrs(0x800000000000600bull, Level(0)), Attrs("r-x-"));
}

// Svnapot: every other encoding with N = 1 is reserved and raises a page
// fault: PPN[3:0] != 1000 at i = 0 (0x0b = 1011, 0x10 = 0000, 0x14 =
// 0100), N in a leaf at i > 0, and N in a non-leaf PTE. Without the
// extension N is a reserved bit (step 3 of the walk).
TEST(RiscvSvnapotGolden, ReservedNapotEncodings) {
  const auto f = Make<RiscvSv39>({"svnapot=1"});
  EXPECT_EQ(f.Classify(0x8000000000002c0bull, Level(0)), EntryKind::kInvalid) << "PPN[3:0] = 1011";
  EXPECT_EQ(f.Classify(0x800000000000400bull, Level(0)), EntryKind::kInvalid) << "PPN[3:0] = 0000";
  EXPECT_EQ(f.Classify(0x800000000000500bull, Level(0)), EntryKind::kInvalid) << "PPN[3:0] = 0100";
  // A 2 MiB megapage at PA 0x20_0000 (PPN 0x200 << 10 = 0x8_0000) with N,
  // and with PPN[3:0] = 1000 too: both reserved at level 1.
  EXPECT_EQ(f.Classify(0x800000000008000bull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x800000000008200bull, Level(1)), EntryKind::kInvalid);
  // A pointer to 0x2000 (0x801) with N.
  EXPECT_EQ(f.Classify(0x8000000000000801ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x0000000000000801ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(Make<RiscvSv39>().Classify(0x800000002004a017ull, Level(0)), EntryKind::kInvalid) << "svnapot=0";
}

// Hardware marking (step 7, Svadu) sets A and D in the PTE the walk read,
// and keeps N and the PPN: 0x8000_0000_2004_a017 | A | D = ..._a0d7.
TEST(RiscvSvnapotGolden, MarkingKeepsTheNapotEncoding) {
  const auto f = Make<RiscvSv39>({"svnapot=1"});
  EXPECT_EQ(f.MarkAccessed(0x800000002004a017ull, Level(0), true), 0x800000002004a0d7ull);
}

using SvnapotWalkTest = golden::Table64Test;

// Sv39, root 0x1000. VA 0x4021_0000: VPN[2] = 1, VPN[1] = 1, VPN[0] =
// 0x10. Root PTE 0x1008 -> 0x2000 (0x801), 0x2008 -> 0x3000 (0xc01); the 16
// PTEs 0x3000 + 8 * (16..31) = 0x3080..0x30f8 hold the NAPOT page of
// Encode64KiBUserRwPage. VA 0x4021_abcd uses PTE 16 + 0xa at 0x30d0 and
// translates to 0x8012_0000 + 0xabcd (step 8: PPN[0][3:0] from VPN[0]).
TEST_F(SvnapotWalkTest, Sv39WalkUsesTheWholeRangeAndMarksOnePte) {
  Put(0x1008, 0x801);
  Put(0x2008, 0xc01);
  for (uint64_t i = 16; i < 32; ++i) Put(0x3000 + 8 * i, 0x800000002004a017ull);
  const auto f = Make<RiscvSv39>({"svnapot=1"});
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x4021abcd), Access{AccessType::kWrite, true});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x8012abcd));
  EXPECT_EQ(w.t.size_lg2, 16u);
  EXPECT_EQ(w.t.level, Level(0));
  EXPECT_EQ(Get(0x30d0), 0x800000002004a0d7ull) << "A and D in the PTE used";
  EXPECT_EQ(Get(0x30c8), 0x800000002004a017ull) << "the other PTEs are left alone";

  // The range is one leaf, with the A/D of any of its PTEs.
  int leaves = 0;
  ForEachLeaf(
      f, &mem_, Oa(0x1000),
      [&](const LeafInfo& l) {
        ++leaves;
        EXPECT_EQ(l.va, Va(0x40210000));
        EXPECT_EQ(l.size_lg2, 16u);
        EXPECT_EQ(l.oa, Oa(0x80120000));
        EXPECT_EQ(l.attrs, Attrs("rw-u-ad"));
        return true;
      },
      [&](const TreeProblem& p) {
        ADD_FAILURE() << p.what;
        return true;
      });
  EXPECT_EQ(leaves, 1);

  // One PTE with W cleared (0x17 -> 0x13) makes the range inconsistent: a
  // problem, not a leaf (Svnapot: hardware would pick one of the
  // translations, unpredictably).
  Put(0x30f8, 0x800000002004a013ull);
  int problems = 0;
  ForEachLeaf(
      f, &mem_, Oa(0x1000), [&](const LeafInfo&) { return true; },
      [&](const TreeProblem&) {
        ++problems;
        return true;
      });
  EXPECT_EQ(problems, 1);
}

}  // namespace
}  // namespace ptsim
