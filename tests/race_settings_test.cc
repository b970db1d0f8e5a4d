// What a race program's settings do besides its operations. The CPU mode:
// hardware accesses walk under the family's own rules in it, through the
// TLB as through the tables. The caches: with `caches tlb` every CPU keeps
// paging-structure caches, which a walk resumes from and the family's
// invalidation instructions must empty of a table before it is freed; a
// planted invalidator bug leaves one there. Both travel in the text and
// binary forms.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/harness/race_mutator.h"
#include "src/harness/race_program.h"
#include "src/harness/race_runner.h"
#include "src/harness/executor.h"

namespace ptsim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

RaceProgram MustParse(const std::string& text) {
  absl::StatusOr<RaceProgram> p = ParseRaceText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

RaceReport MustRun(const RaceProgram& p) {
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(p, arena);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : RaceReport{};
}

// What each op of `text` gave, in op order; the run must end clean.
std::vector<std::string> Results(const std::string& text) {
  const RaceProgram p = MustParse(text);
  const RaceReport r = MustRun(p);
  EXPECT_TRUE(r.ok()) << FormatRaceReport(p, r);
  std::vector<std::string> out(p.ops.size());
  for (const RaceOpOutcome& o : r.outcomes) out[static_cast<size_t>(o.op)] = o.result;
  return out;
}

constexpr char kUserPage[] = "race cpus=2\ncpu0 populate s0 0x0 0xfff oa=0x40000000 attrs=rwxu size_lg2=12\n";

// x86: a supervisor instruction fetch from a user page goes through unless
// CR4.SMEP is set (Intel SDM Vol. 3A §4.6.1).
TEST(RaceMode, ASupervisorFetchFromAUserPageFaultsOnlyWithSmep) {
  const std::string ops = "cpu0 access s0 0x0 exec\n";
  EXPECT_THAT(Results(absl::StrCat("format x86_64_4level\n", kUserPage, ops))[1], StartsWith("oa 0x40000000"));
  EXPECT_THAT(Results(absl::StrCat("format x86_64_4level\nmode smep=1\n", kUserPage, ops))[1],
              StartsWith("fault: permission"));
}

// A translation a user access left in the TLB does not let a supervisor
// read through under SMAP: the entry's permissions are judged in the mode
// of the access, as a walk would judge them.
TEST(RaceMode, ATlbHitIsJudgedInTheModeOfTheAccess) {
  const std::string ops = "cpu0 access s0 0x0 read user\ncpu0 access s0 0x0 read\n";
  const std::vector<std::string> plain = Results(absl::StrCat("format x86_64_4level\n", kUserPage, ops));
  EXPECT_EQ(plain[2], "oa 0x40000000 (TLB)");
  const std::vector<std::string> smap = Results(absl::StrCat("format x86_64_4level\nmode smap=1\n", kUserPage, ops));
  EXPECT_EQ(smap[1], "oa 0x40000000");
  EXPECT_THAT(smap[2], StartsWith("fault: permission"));
}

// RISC-V: S-mode loads from a U page only with sstatus.SUM (privileged
// spec, "Virtual address translation process", step 5).
TEST(RaceMode, ASupervisorLoadFromAUserPageNeedsSumOnRiscv) {
  const std::string ops = "cpu0 access s0 0x0 read\ncpu0 access s0 0x0 read user\n";
  const std::vector<std::string> plain = Results(absl::StrCat("format riscv_sv39\n", kUserPage, ops));
  EXPECT_THAT(plain[1], StartsWith("fault: permission"));
  EXPECT_THAT(plain[2], StartsWith("oa 0x40000000"));
  EXPECT_THAT(Results(absl::StrCat("format riscv_sv39\nmode sum=1\n", kUserPage, ops))[1], StartsWith("oa 0x40000000"));
}

TEST(RaceMode, TheModeRoundTripsInTextAndBinary) {
  const RaceProgram p =
      MustParse(absl::StrCat("format x86_64_4level\nmode smep=1,smap=1\n", kUserPage, "cpu1 access s0 0x0 read\n",
                             "schedule cpu1:3 cpu0:*\n"));
  ASSERT_TRUE(p.mode.has_value());
  EXPECT_THAT(ToRaceText(p), HasSubstr("\nmode smep=1,smap=1\n"));
  EXPECT_EQ(MustParse(ToRaceText(p)), p);
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)[0], kRaceTagMode);
  EXPECT_EQ(DecodeRace(*bin), p);
  absl::StatusOr<RaceProgram> any = ParseAnyRace(*bin);
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(*any, p);
  // The mutator's split keeps the mode bytes with the header.
  RaceBytes split;
  ASSERT_TRUE(SplitRace(*bin, &split));
  EXPECT_EQ(JoinRace(split), *bin);
  EXPECT_EQ(split.ops.size(), p.ops.size());

  // Without a mode line the program is what it was: version 4, no mode.
  RaceProgram plain = p;
  plain.mode.reset();
  absl::StatusOr<std::vector<uint8_t>> v4 = EncodeRace(plain);
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ((*v4)[0], kRaceTag);
  EXPECT_EQ(DecodeRace(*v4), plain);
}

TEST(RaceMode, ABadModeLineIsAnErrorNamingIt) {
  absl::StatusOr<RaceProgram> p = ParseRaceText(absl::StrCat("format x86_64_4level\nmode smep=7\n", kUserPage));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("smep"));
  p = ParseRaceText(absl::StrCat("format x86_64_4level\nmode smep=1\nmode smap=1\n", kUserPage));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("a second 'mode' line"));
}

// One CPU reads a page and a neighbour under the same last-level table;
// another removes the page, which empties that table and reclaims it.
constexpr char kReclaimed[] =
    "race cpus=2 free=rcu shootdown=ipi\n"
    "cpu0 populate s0 0x0 0xfff oa=0x40000000 attrs=rw-u size_lg2=12\n"
    "cpu1 access s0 0x0 read user\n"
    "cpu1 access s0 0x1000 read user\n"
    "cpu0 remove s0 0x0 0xfff\n"
    "cpu1 access s0 0x0 read user\n"
    "schedule cpu0:40 cpu1:* cpu0:*\n";

// A walk that hits the paging-structure caches reads only the levels below
// the cached entry: the neighbour's walk reads the last-level table alone.
TEST(RaceCaches, AWalkCacheHitReadsOnlyTheLevelsBelowTheCachedEntry) {
  auto steps_of_op = [](const std::string& text, int op) {
    const RaceProgram p = MustParse(text);
    const RaceReport r = MustRun(p);
    EXPECT_TRUE(r.ok()) << FormatRaceReport(p, r);
    for (const RaceOpOutcome& o : r.outcomes)
      if (o.op == op) return o.last_step - o.first_step;
    return uint64_t{0};
  };
  const uint64_t plain = steps_of_op(absl::StrCat("format x86_64_4level\n", kReclaimed), 2);
  const uint64_t cached = steps_of_op(absl::StrCat("format x86_64_4level\ncaches tlb\n", kReclaimed), 2);
  EXPECT_EQ(plain - cached, 3u) << "the three upper levels are not read again";
}

// A table invalidation that covers only last-level entries (TLBI VALE1,
// SFENCE.VMA with rs1 = va, INVALIDATE_IOMMU_PAGES with PDE = 0) leaves the
// paging-structure caches pointing at the table the remove unhooked: the
// finding the race harness reports when the remove returns. The correct
// instructions leave nothing behind.
TEST(RaceCaches, ALeafOnlyTableInvalidationLeavesAFreedTableCached) {
  for (const char* format : {"armv8_s1_4k", "riscv_sv39", "amd_iommu_v1"}) {
    SCOPED_TRACE(format);
    const std::string head = absl::StrCat("format ", format, "\n");
    const RaceProgram good = MustParse(absl::StrCat(head, "caches tlb\n", kReclaimed));
    const RaceReport clean = MustRun(good);
    EXPECT_TRUE(clean.ok()) << FormatRaceReport(good, clean);
    const RaceProgram bad = MustParse(absl::StrCat(head, "caches tlb bug=leaf_only\n", kReclaimed));
    const RaceReport found = MustRun(bad);
    EXPECT_EQ(found.check, "stale-walk-cache") << FormatRaceReport(bad, found);
    EXPECT_THAT(found.message, HasSubstr("walk-cache entry"));
  }
}

// x86's INVLPG for the page already empties the paging-structure caches of
// the PCID (Intel SDM Vol. 3A §4.10.4.1), so skipping the table's own
// invalidation is a bug only when a walk refills them between the leaf
// flush and the unhook: a race. Some single preemption of the remove finds
// it; the same schedules without the bug are clean.
TEST(RaceCaches, OnX86ALeafOnlyTableInvalidationIsFoundByAPreemption) {
  const std::string body =
      "race cpus=2 free=rcu shootdown=ipi\n"
      "cpu0 populate s0 0x0 0xfff oa=0x40000000 attrs=rw-u size_lg2=12\n"
      "cpu0 remove s0 0x0 0xfff\n"
      "cpu1 access s0 0x1000 read user\n"
      "cpu1 access s0 0x1000 read user\n";
  RaceProgram bad = MustParse(absl::StrCat("format x86_64_4level\ncaches tlb bug=leaf_only\n", body));
  RaceProgram good = bad;
  good.run.invalidator_bug = 0;
  const RaceReport base = MustRun(bad);
  ASSERT_TRUE(base.ok()) << FormatRaceReport(bad, base);
  ScheduleLog log;
  for (const TraceEvent& e : base.trace) log.cpu_of_step.push_back(e.cpu);
  log.decisions = base.decisions;
  int hits = 0;
  for (uint64_t step : PreemptionPoints(log)) {
    for (unsigned run : {1u, 5u, 15u, 63u}) {
      bad.schedule = good.schedule = PreemptAt(bad.schedule, log, step, 1, run);
      if (bad.schedule.empty()) continue;
      const RaceReport r = MustRun(bad);
      hits += r.check == "stale-walk-cache";
      const RaceReport g = MustRun(good);
      EXPECT_TRUE(g.ok()) << FormatRaceReport(good, g);
    }
  }
  EXPECT_GT(hits, 0);
}

TEST(RaceCaches, TheCachesRoundTripInTextAndBinary) {
  const RaceProgram p = MustParse(absl::StrCat("format armv8_s1_4k\ncaches tlb bug=wrong_asid\n", kReclaimed));
  EXPECT_TRUE(p.run.tlb);
  EXPECT_THAT(ToRaceText(p), HasSubstr("\ncaches tlb bug=wrong_asid\n"));
  EXPECT_EQ(MustParse(ToRaceText(p)), p);
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)[0], kRaceTagMode);
  EXPECT_EQ(DecodeRace(*bin), p);
  RaceBytes split;
  ASSERT_TRUE(SplitRace(*bin, &split));
  EXPECT_EQ(JoinRace(split), *bin);
  // A non-coherent view is for ops programs; a race program says so.
  absl::StatusOr<RaceProgram> nc = ParseRaceText(absl::StrCat("format amd_iommu_v1\ncaches noncoherent\n", kReclaimed));
  ASSERT_FALSE(nc.ok());
  EXPECT_THAT(nc.status().message(), HasSubstr("caches only"));
}

}  // namespace
}  // namespace ptsim
