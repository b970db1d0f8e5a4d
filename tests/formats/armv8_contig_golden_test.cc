// Golden vectors for the ARMv8 Contiguous bit (knob contig on the stage 1
// and stage 2 formats; src/formats/armv8_tables.h), derived by hand from
// Arm ARM DDI 0487 chapter D8: "The Contiguous bit" and the pseudocode
// AArch64.ContiguousSize (group sizes), the stage 1 and stage 2 block and
// page descriptor formats, and "Misprogramming of the Contiguous bit".
//
// Bits used: valid 0x1, page/table 0x2, AP[1] (EL0) 0x40, AP[2] (RO) 0x80,
// SH inner 0x300, AF 0x400, nG 0x800, Contiguous bit 52 =
// 0x0010_0000_0000_0000, PXN bit 53 = 0x0020_..., UXN / stage 2 XN bit 54
// = 0x0040_...; stage 2 MemAttr 0b1111 in bits 5:2 = 0x3c, S2AP read 0x40,
// write 0x80. Entry i of a group holds the OA of its own part: base + i
// entries.
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <string_view>

#include "src/formats/armv8.h"
#include "src/formats/armv8_s2.h"
#include "src/harness/executor.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/ops/space.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::ArmV8S1_16K;
using fmt::ArmV8S1_4K;
using fmt::ArmV8S1_64K;
using fmt::ArmV8S2_4K;

using golden::Make;

using golden::Attrs;

uint64_t Bit(unsigned n) { return uint64_t{1} << n; }

// AArch64.ContiguousSize: 4KB 16 entries at L1/L2/L3 (ptsim 2/1/0): 16 GiB,
// 32 MiB, 64 KiB. 16KB: 32 at L2 (32 MiB x 32 = 1 GiB), 128 at L3 (16 KiB x
// 128 = 2 MiB). 64KB: 32 at L2 (512 MiB x 32 = 16 GiB) and L3 (2 MiB).
TEST(ArmV8ContigGolden, GroupSizesPerGranuleAndLevel) {
  const auto f4 = Make<ArmV8S1_4K>({"contig=1"});
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(0)), Bit(16));
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(1)), Bit(25));
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(2)), Bit(34));
  EXPECT_EQ(ReplicatedSizesLg2(f4, Level(3)), 0u) << "L0 has no blocks without 52-bit addresses";
  const auto f16 = Make<ArmV8S1_16K>({"contig=1"});
  EXPECT_EQ(ReplicatedSizesLg2(f16, Level(0)), Bit(21));
  EXPECT_EQ(ReplicatedSizesLg2(f16, Level(1)), Bit(30));
  EXPECT_EQ(ReplicatedSizesLg2(f16, Level(2)), 0u);
  const auto f64 = Make<ArmV8S1_64K>({"contig=1"});
  EXPECT_EQ(ReplicatedSizesLg2(f64, Level(0)), Bit(21));
  EXPECT_EQ(ReplicatedSizesLg2(f64, Level(1)), Bit(34));
  EXPECT_EQ(ReplicatedSizesLg2(Make<ArmV8S1_4K>(), Level(0)), 0u) << "off by default";
  EXPECT_EQ(ReplicatedSizesLg2(Make<ArmV8S2_4K>({"contig=1"}), Level(1)), Bit(25));
  // 4KB with 31-bit VAs starts at L1 with 2 entries: no room for 16.
  EXPECT_EQ(ReplicatedSizesLg2(Make<ArmV8S1_4K>({"contig=1", "va_bits=31"}), Level(2)), 0u);
}

// Stage 1, 4KB, L3 page group at 0x8000_0000, user RW (rw-u): 0x3 | AP[1]
// 0x40 | SH 0x300 | nG 0x800 = 0xb43, PXN (user page) and UXN (no exec) and
// Contiguous = 0x0070_..., OA 0x8000_0000 + i * 0x1000.
TEST(ArmV8ContigGolden, S1PageGroupEntriesHoldTheirOwnOutputAddress) {
  const auto f = Make<ArmV8S1_4K>({"contig=1"});
  EXPECT_EQ(f.EncodeReplica(Level(0), 16, Oa(0x80000000), Attrs("rw-u"), 0), 0x0070000080000b43ull);
  EXPECT_EQ(f.EncodeReplica(Level(0), 16, Oa(0x80000000), Attrs("rw-u"), 5), 0x0070000080005b43ull);
  EXPECT_EQ(f.EncodeReplica(Level(0), 16, Oa(0x80000000), Attrs("rw-u"), 15), 0x007000008000fb43ull);
  // Every entry decodes as the whole 64 KiB leaf at the group's base.
  EXPECT_EQ(f.Classify(0x0070000080005b43ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafSizeLg2(0x0070000080005b43ull, Level(0)), 16u);
  EXPECT_EQ(f.LeafOa(0x0070000080005b43ull, Level(0)), Oa(0x80000000));
  // Without the bit it is one 4 KiB page at its own address.
  EXPECT_EQ(f.LeafSizeLg2(0x0060000080005b43ull, Level(0)), 12u);
  EXPECT_EQ(f.LeafOa(0x0060000080005b43ull, Level(0)), Oa(0x80005000));
}

// Stage 1, 4KB, L2 block group (16 x 2 MiB = 32 MiB) at 0x4000_0000, kernel
// RWX global: block 0x1 | SH 0x300, UXN (kernel page) and Contiguous =
// 0x0050_...; entry 3 maps 0x4000_0000 + 3 * 0x20_0000 = 0x4060_0000.
TEST(ArmV8ContigGolden, S1BlockGroup) {
  const auto f = Make<ArmV8S1_4K>({"contig=1"});
  EXPECT_EQ(f.EncodeReplica(Level(1), 25, Oa(0x40000000), Attrs("rwx-g"), 3), 0x0050000040600301ull);
  EXPECT_EQ(f.LeafOa(0x0050000040600301ull, Level(1)), Oa(0x40000000));
  EXPECT_EQ(f.DecodeAttrs(0x0050000040600301ull, Level(1)), Attrs("rwx-g"));
}

// 16KB, L3 group of 128 pages (2 MiB) at 0x4000_0000, user read-only
// executable: 0x3 | 0x40 | 0x80 | 0x300 | 0x800, PXN (user) and
// Contiguous, UXN clear; entry 127 at 0x4000_0000 + 127 * 0x4000 =
// 0x401f_c000.
TEST(ArmV8ContigGolden, S1SixteenKGranule128PageGroup) {
  const auto f = Make<ArmV8S1_16K>({"contig=1"});
  EXPECT_EQ(f.EncodeReplica(Level(0), 21, Oa(0x40000000), Attrs("r-xu"), 127), 0x00300000401fcbc3ull);
  EXPECT_EQ(f.LeafOa(0x00300000401fcbc3ull, Level(0)), Oa(0x40000000));
  EXPECT_EQ(f.LeafSizeLg2(0x00300000401fcbc3ull, Level(0)), 21u);
}

// 64KB, L2 group of 32 x 512 MiB blocks (16 GiB) at 0x4_0000_0000, kernel
// read-only global, no exec: 0x1 | AP[2] 0x80 | 0x300, PXN, UXN,
// Contiguous; entry 31 at 0x4_0000_0000 + 31 * 0x2000_0000 = 0x7_e000_0000.
TEST(ArmV8ContigGolden, S1SixtyFourKGranuleBlockGroup) {
  const auto f = Make<ArmV8S1_64K>({"contig=1"});
  EXPECT_EQ(f.EncodeReplica(Level(1), 34, Oa(0x400000000), Attrs("r---g"), 31), 0x00700007e0000381ull);
  EXPECT_EQ(f.LeafOa(0x00700007e0000381ull, Level(1)), Oa(0x400000000));
}

// Stage 2, 4KB, L3 group at IPA-mapped PA 0x1234_0000, read-write, no
// exec: 0x3 | MemAttr 0x3c | S2AP 0xc0 | SH 0x300 = 0x3ff, XN and
// Contiguous = 0x0050_...; entry 15 at 0x1234_f000.
TEST(ArmV8ContigGolden, S2PageGroup) {
  const auto f = Make<ArmV8S2_4K>({"contig=1"});
  EXPECT_EQ(f.EncodeReplica(Level(0), 16, Oa(0x12340000), Attrs("rw-"), 15), 0x005000001234f3ffull);
  EXPECT_EQ(f.LeafOa(0x005000001234f3ffull, Level(0)), Oa(0x12340000));
}

using ArmContigWalkTest = golden::Table64Test;

// 4KB, 39-bit VAs (start at L1), root 0x1000. VA 0x4001_7abc: L1 index =
// va >> 30 = 1, L2 index = (va >> 21) & 511 = 0, L3 index = (va >> 12) &
// 511 = 0x17. Root entry 0x1008 -> 0x2000 (0x2003), 0x2000 -> 0x3000
// (0x3003); L3 entries 16..31 (0x3080..0x30f8) are the group of
// S1PageGroupEntriesHoldTheirOwnOutputAddress. The walk reads entry 0x17
// (0x30b8), translates to 0x8000_0000 + 0x7abc and sets AF (0x400) there
// only.
TEST_F(ArmContigWalkTest, WalkTranslatesTheGroupAndSetsAfInTheEntryUsed) {
  Put(0x1008, 0x2003);
  Put(0x2000, 0x3003);
  for (uint64_t i = 0; i < 16; ++i) Put(0x3080 + 8 * i, 0x0070000080000b43ull + i * 0x1000);
  const auto f = Make<ArmV8S1_4K>({"va_bits=39", "contig=1"});
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x40017abc), Access{AccessType::kWrite, true});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x80007abc));
  EXPECT_EQ(w.t.size_lg2, 16u);
  EXPECT_EQ(Get(0x30b8), 0x0070000080007f43ull);
  EXPECT_EQ(Get(0x30b0), 0x0070000080006b43ull);
}

// Ops build groups with contig=1, and CheckTree catches an entry whose own
// output address is wrong, which the walk of another entry would not see
// ("Misprogramming of the Contiguous bit").
TEST(ArmV8ContigOps, CheckTreeCatchesAnEntryWithTheWrongOutputAddress) {
  Arena arena;
  const auto f = Make<ArmV8S1_4K>({"va_bits=39", "contig=1"});
  Space<ArmV8S1_4K> s(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(s.Init().ok());
  ASSERT_TRUE(s.Map({Va(0x40010000), Va(0x4001ffff)}, Oa(0x80000000), Attrs("rw-u")).ok());
  EXPECT_EQ(s.leaves(), 1u);
  auto stats = CheckTree(f, &arena.mem(), arena.alloc(), s.root(), 1);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->leaves, 1u);
  const WalkResult w = Translate(f, &arena.mem(), s.root(), Va(0x40010000), Access{});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.size_lg2, 16u);
  // Entry 4 of the group: give it entry 0's output address.
  WalkTrace trace;
  (void)Translate(f, &arena.mem(), s.root(), Va(0x40014000), Access{}, MmuOptions{.update_ad = false}, &trace);
  const WalkStep& leaf = trace.steps[trace.count - 1];
  EXPECT_EQ(leaf.raw, 0x0070000080004b43ull);
  EntryPtr<ArmV8S1_4K>(&arena.mem(), leaf.entry_addr, Level(0))
      .Store({0x0070000080000b43ull, Level(0)}, std::memory_order_relaxed);
  EXPECT_FALSE(CheckTree(f, &arena.mem(), arena.alloc(), s.root(), 1).ok());
  s.Destroy();
}

}  // namespace
}  // namespace ptsim
