// The CPU mode of a race program: its hardware accesses walk under the
// family's own rules in that mode, through the TLB as through the tables,
// and the mode travels in the text and binary forms.
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

// What each op of `text` gave, in op order; the run must end clean.
std::vector<std::string> Results(const std::string& text) {
  const RaceProgram p = MustParse(text);
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(p, arena);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  EXPECT_TRUE(r->ok()) << FormatRaceReport(p, *r);
  std::vector<std::string> out(p.ops.size());
  for (const RaceOpOutcome& o : r->outcomes) out[static_cast<size_t>(o.op)] = o.result;
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

}  // namespace
}  // namespace ptsim
