// A program's CPU mode: the `mode` line of the text form and the mode bytes
// of binary version 3 round-trip; the executor walks the architecture's
// rules in that mode and reports where they refuse what the neutral rules
// allow; programs without a mode keep their old encodings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/harness/diff.h"
#include "src/harness/executor.h"
#include "src/harness/program.h"

namespace ptsim {
namespace {

using ::testing::HasSubstr;

Program MustParse(const std::string& text) {
  absl::StatusOr<Program> p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Program{};
}

constexpr char kSmep[] = R"(format x86_64_4level
mode smep=1,pke=1,pkru=0xc
map 0x400000 0x400fff oa=0x1000 attrs=rwxu
access 0x400000 exec
)";

TEST(ProgramMode, RoundTripsInTextAndBinary) {
  const Program p = MustParse(kSmep);
  ASSERT_TRUE(p.mode.has_value());
  const FormatEntry* e = FindFormat("x86_64_4level");
  EXPECT_EQ(SettingsDiff(e->mode_knobs, *p.mode), "smep=1,pke=1,pkru=0xc");
  EXPECT_THAT(ToText(p), HasSubstr("\nmode smep=1,pke=1,pkru=0xc\n"));
  EXPECT_EQ(MustParse(ToText(p)), p);
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeBinary(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)[0], kProgramVersionMode);
  EXPECT_EQ(DecodeBinary(*bin), p);
  absl::StatusOr<Program> any = ParseAny(*bin);
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(*any, p);
  // A bare `mode` line says the default mode explicitly, and stays said.
  const Program d = MustParse("format riscv_sv39\nmode\nunmap 0x0 0xfff\n");
  ASSERT_TRUE(d.mode.has_value());
  EXPECT_EQ(*d.mode, FormatConfig::Defaults(FindFormat("riscv_sv39")->mode_knobs));
  EXPECT_EQ(MustParse(ToText(d)), d);
  EXPECT_EQ(DecodeBinary(*EncodeBinary(d)), d);
}

TEST(ProgramMode, WithoutAModeTheOldVersionsStay) {
  Program p = MustParse(kSmep);
  p.mode.reset();
  EXPECT_EQ((*EncodeBinary(p))[0], kProgramVersion);
  EXPECT_THAT(ToText(p), ::testing::Not(HasSubstr("\nmode")));
  p.run.tlb = true;
  EXPECT_EQ((*EncodeBinary(p))[0], kProgramVersionSettings);
}

// Binary mode bytes: one per narrow knob, four for a mask; any value maps
// into the knob's range; a short input keeps the remaining defaults.
TEST(ProgramMode, BinaryModeBytesWrapIntoRange) {
  const FormatEntry* e = FindFormat("armv7_short");
  ASSERT_NE(e, nullptr);
  std::vector<uint8_t> b = {kProgramVersionMode, static_cast<uint8_t>(e->id), static_cast<uint8_t>(e->id >> 8),
                            static_cast<uint8_t>(e->id >> 16), static_cast<uint8_t>(e->id >> 24)};
  b.push_back(0);                        // run settings: none
  b.push_back(7);                        // pl: 0 + 7 % 2 = 1
  for (uint8_t x : {0x03, 0x00, 0x00, 0x00}) b.push_back(x);  // dacr = 3 (domain 0 Manager)
  const Program p = DecodeBinary(b);
  ASSERT_TRUE(p.mode.has_value());
  EXPECT_EQ(SettingsDiff(e->mode_knobs, *p.mode), "dacr=0x3");
  EXPECT_EQ(p.mode->Get(2), 0u) << "afe keeps its default when the input ends";
  EXPECT_EQ(DecodeBinary(*EncodeBinary(p)), p);
}

TEST(ProgramMode, BadModeLinesNameTheLine) {
  auto message = [](const std::string& text) { return std::string(ParseText(text).status().message()); };
  EXPECT_THAT(message("format x86_64_4level\nmode smep=2\n"), HasSubstr("line 2: mode smep=2 is outside [0, 1]"));
  EXPECT_THAT(message("format x86_64_4level\nmode el=0\n"), HasSubstr("line 2: unknown mode key 'el'"));
  EXPECT_THAT(message("format x86_64_4level\nmode\nmode cpl=3\n"), HasSubstr("line 3: a second 'mode' line"));
}

// The executor walks the rules in the program's mode: SMEP refuses the
// supervisor fetch the neutral rules allow, the step says so, and the
// manual's verdict agrees, so the run holds.
TEST(ProgramMode, TheExecutorWalksInTheProgramsMode) {
  Arena arena;
  const ExecResult r = Execute(MustParse(kSmep), arena);
  ASSERT_TRUE(r.ok()) << FormatReport(MustParse(kSmep), r);
  ASSERT_GE(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[1].architecture, "fault permission (#PF error code 0x11 [P I/D])");
  EXPECT_THAT(FormatReport(MustParse(kSmep), r), HasSubstr("; architecture: fault permission (#PF error code 0x11"));
  // Without the mode the same fetch goes through under both rule sets.
  Program plain = MustParse(kSmep);
  plain.mode.reset();
  const ExecResult q = Execute(plain, arena);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.steps[1].architecture, "");
}

// In a differential run the mode is the frame format's own, as its
// configuration is: the other formats run in their default modes.
TEST(ProgramMode, ModesAreTheFramesOwn) {
  const Program p = MustParse(kSmep);
  Arena arena;
  const std::vector<std::string> formats = {"x86_64_4level", "riscv_sv39"};
  const DiffResult r = RunDiff(p, formats, arena);
  ASSERT_EQ(r.runs.size(), 2u);
  EXPECT_EQ(r.runs[0].program.mode, p.mode);
  EXPECT_FALSE(r.runs[1].program.mode.has_value());
  EXPECT_EQ(r.FirstDivergentRun(), -1);
}

}  // namespace
}  // namespace ptsim
