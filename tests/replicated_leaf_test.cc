// Replicated leaves (src/pt/geometry.h) through the generic operations, the
// MMU, the tree checks and the model: every program below runs through the
// executor, which compares statuses, the exact leaf set and translations
// with the model after every step, so a wrong size choice, split or
// rewrite is a divergence. Byte-level expectations live in the formats'
// golden tests.
#include <gtest/gtest.h>

#include <string>

#include "src/harness/executor.h"

namespace ptsim {
namespace {

Program MustParse(std::string_view text) {
  auto p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

ExecResult MustRun(std::string_view text) {
  Arena arena;
  const Program p = MustParse(text);
  ExecResult r = Execute(p, arena);
  EXPECT_TRUE(r.ok()) << FormatReport(p, r);
  return r;
}

// Outcome of step n (1-based, as FormatReport numbers them).
std::string Outcome(const ExecResult& r, size_t n) { return n <= r.steps.size() ? r.steps[n - 1].outcome : ""; }

// Best fit picks the 64 KiB NAPOT leaf where both addresses allow it, 4 KiB
// pages around it; a forced size needs its alignment.
TEST(ReplicatedLeaf, SvnapotBestFitAndForcedSize) {
  const ExecResult r = MustRun(R"(
format riscv_sv39
config svnapot=1
map 0xf000 0x20fff oa=0x10f000 attrs=rw-u
access 0xf000 read
access 0x10000 read
access 0x20000 read
map 0x100000 0x11ffff oa=0x300000 attrs=r-x- size_lg2=16
access 0x11fffc exec
map 0x200000 0x20ffff oa=0x401000 attrs=r--- size_lg2=16
)");
  EXPECT_EQ(Outcome(r, 2), "oa 0x10f000 size 2^12 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 3), "oa 0x110000 size 2^16 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 4), "oa 0x120000 size 2^12 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 6), "oa 0x31fffc size 2^16 attrs r-x----");
  EXPECT_NE(Outcome(r, 7).find("INVALID_ARGUMENT"), std::string::npos) << "oa not 64 KiB aligned";
}

// Unmapping one page of a 64 KiB leaf splits it into 4 KiB pages (the next
// smaller size) in place; protecting a whole one rewrites its 16 entries.
TEST(ReplicatedLeaf, SvnapotPartialUnmapSplitsAndProtectRewrites) {
  const ExecResult r = MustRun(R"(
format riscv_sv48
config svnapot=1
map 0x40000000 0x4003ffff oa=0x80000000 attrs=rw-u
access 0x40005000 write user
unmap 0x40003000 0x40003fff
access 0x40002000 read user
access 0x40003000 read user
protect 0x40010000 0x4001ffff attrs=r--u
access 0x40010000 write user
access 0x40011000 read user
protect 0x40020000 0x40020fff attrs=r---
access 0x40021000 write user
unmap 0x40000000 0x4003ffff
)");
  EXPECT_EQ(Outcome(r, 2), "oa 0x80005000 size 2^16 attrs rw-u---");
}

TEST(ReplicatedLeaf, SvnapotSplitsAndProtectsUnderA2MiBLeaf) {
  const ExecResult r = MustRun(R"(
format riscv_sv39
config svnapot=1
map 0x200000 0x3fffff oa=0x600000 attrs=rwxu
unmap 0x210000 0x210fff
access 0x200000 read
access 0x211000 read
access 0x220000 read
protect 0x230000 0x23ffff attrs=r--u
access 0x230000 read user
unmap 0x200000 0x3fffff
)");
  EXPECT_EQ(Outcome(r, 3), "oa 0x600000 size 2^16 attrs rwxu---") << "the megapage split into NAPOT pages";
  EXPECT_EQ(Outcome(r, 4), "oa 0x611000 size 2^12 attrs rwxu---") << "and the cut one into 4 KiB pages";
  EXPECT_EQ(Outcome(r, 5), "oa 0x620000 size 2^16 attrs rwxu---");
}


// ARMv7 short descriptors: supersections and large pages, split down level
// by level (16 MiB -> 1 MiB sections in place -> a second-level table of
// 64 KiB large pages -> 4 KiB small pages in place).
TEST(ReplicatedLeaf, ArmV7SupersectionsSectionsLargeAndSmallPages) {
  const ExecResult r = MustRun(R"(
format armv7_short
map 0x1000000 0x2ffffff oa=0x12000000 attrs=rwxug
access 0x1abcdef exec user
unmap 0x1100000 0x11fffff
access 0x1200000 read
map 0x350000 0x35ffff oa=0x350000 attrs=rw-u
access 0x357abc write user
unmap 0x2345000 0x2345fff
access 0x2400000 read
access 0x2350000 read
access 0x2344000 read
protect 0x2000000 0x2ffffff attrs=r--u
access 0x2346000 write user
unmap 0x0 0xffffffff
)");
  EXPECT_EQ(Outcome(r, 2), "oa 0x12abcdef size 2^24 attrs rwxug--");
  EXPECT_EQ(Outcome(r, 4), "oa 0x12200000 size 2^20 attrs rwxug--");
  EXPECT_EQ(Outcome(r, 6), "oa 0x357abc size 2^16 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 8), "oa 0x13400000 size 2^20 attrs rwxug--");
  EXPECT_EQ(Outcome(r, 9), "oa 0x13350000 size 2^16 attrs rwxug--");
  EXPECT_EQ(Outcome(r, 10), "oa 0x13344000 size 2^12 attrs rwxug--");
  EXPECT_NE(Outcome(r, 12).find("permission"), std::string::npos);
}

// ARMv8 Contiguous groups at two levels, a split of a 2 MiB block into
// 64 KiB groups, and a split of a 32 MiB group into 2 MiB blocks.
TEST(ReplicatedLeaf, ArmV8ContiguousGroups) {
  const ExecResult r = MustRun(R"(
format armv8_s1_4k
config va_bits=39 contig=1
map 0x40000000 0x43ffffff oa=0x80000000 attrs=rw-u
access 0x41234567 read user
unmap 0x40400000 0x40400fff
access 0x40600000 read user
access 0x40410000 read user
access 0x40401000 read user
protect 0x42000000 0x43ffffff attrs=r--u
access 0x42000000 write user
)");
  EXPECT_EQ(Outcome(r, 2), "oa 0x81234567 size 2^25 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 4), "oa 0x80600000 size 2^21 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 5), "oa 0x80410000 size 2^16 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 6), "oa 0x80401000 size 2^12 attrs rw-u---");
}

// AMD IOMMU v1: Next Level 7 pages of every size between the levels; a
// split walks down the sizes one by one (1 MiB -> 512 KiB + ... + 4 KiB).
TEST(ReplicatedLeaf, AmdIommuV1EveryPowerOfTwo) {
  const ExecResult r = MustRun(R"(
format amd_iommu_v1
config levels=3
map 0x0 0x1fffff oa=0x40000000 attrs=rw
map 0x200000 0x2fffff oa=0x80300000 attrs=r-
access 0x2abcde read
unmap 0x2ff000 0x2fffff
access 0x200000 read
access 0x2fe000 read
access 0x2f0000 read
unmap 0x1000 0x1fff
access 0x100000 write
access 0x2000 write
protect 0x0 0x1fffff attrs=r-
access 0x180000 write
unmap 0x0 0x3fffff
)");
  EXPECT_EQ(Outcome(r, 3), "oa 0x803abcde size 2^20 attrs r--u---");
  EXPECT_EQ(Outcome(r, 5), "oa 0x80300000 size 2^19 attrs r--u---");
  EXPECT_EQ(Outcome(r, 6), "oa 0x803fe000 size 2^12 attrs r--u---");
  EXPECT_EQ(Outcome(r, 7), "oa 0x803f0000 size 2^15 attrs r--u---");
  EXPECT_EQ(Outcome(r, 9), "oa 0x40100000 size 2^20 attrs rw-u---");
  EXPECT_EQ(Outcome(r, 10), "oa 0x40002000 size 2^13 attrs rw-u---");
  EXPECT_NE(Outcome(r, 12).find("permission"), std::string::npos);
}

}  // namespace
}  // namespace ptsim
