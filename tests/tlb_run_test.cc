// Programs that attach caches (tlb_fuzzer's inputs): the run settings in
// the text and binary codecs, tlb_fuzzer's restriction stamped into
// mutants, and every planted-bug program under corpus/tlb_fuzzer/bugs/
// reporting from its own settings.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/harness/program.h"
#include "src/harness/tlb_runner.h"

namespace ptsim {
namespace {

using ::testing::HasSubstr;

constexpr const char* kProgram = R"(format x86_64_4level
caches tlb noncoherent bug=forget_global
map 0x40200000 0x403fffff oa=0xc0200000 attrs=rw-ug
access 0x40234000 write user
unmap 0x40200000 0x403fffff
)";

Program MustParse(const std::string& text) {
  absl::StatusOr<Program> p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(RunSettings, RoundTripInTextAndBinary) {
  const Program p = MustParse(kProgram);
  EXPECT_TRUE(p.run.tlb);
  EXPECT_TRUE(p.run.noncoherent);
  EXPECT_EQ(InvalidatorBugName(p.run.invalidator_bug), "forget_global");
  EXPECT_THAT(ToText(p), HasSubstr("\ncaches tlb noncoherent bug=forget_global\n"));
  EXPECT_EQ(MustParse(ToText(p)), p);
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeBinary(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)[0], kProgramVersionSettings);
  EXPECT_EQ(DecodeBinary(*bin), p);
  absl::StatusOr<Program> any = ParseAny(*bin);
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(*any, p);
  // Either cache alone.
  for (const char* line : {"caches tlb", "caches noncoherent", "caches tlb bug=wrong_asid"}) {
    const Program q = MustParse(std::string("format riscv_sv39\n") + line + "\nunmap 0x0 0xfff\n");
    EXPECT_EQ(MustParse(ToText(q)), q) << line;
    EXPECT_EQ(DecodeBinary(*EncodeBinary(q)), q) << line;
  }
}

// Programs without run settings keep the version 1 encoding that every
// ops_fuzzer and diff_fuzzer file has, and decode with nothing attached.
TEST(RunSettings, ProgramsWithoutThemStayVersion1) {
  Program p = MustParse(kProgram);
  p.run = {};
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeBinary(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)[0], kProgramVersion);
  EXPECT_FALSE(DecodeBinary(*bin).run.Any());
  EXPECT_EQ(DecodeBinary(*bin), p);
  EXPECT_THAT(ToText(p), ::testing::Not(HasSubstr("caches")));
}

TEST(RunSettings, BadInputsAreClearErrors) {
  auto message = [](const std::string& text) { return std::string(ParseText(text).status().message()); };
  EXPECT_THAT(message("format x86_64_4level\ncaches tlb bug=sometimes\n"), HasSubstr("line 2: bad word 'bug=sometimes'"));
  EXPECT_THAT(message("format x86_64_4level\ncaches\n"), HasSubstr("expected tlb and/or noncoherent"));
  EXPECT_THAT(message("format x86_64_4level\ncaches noncoherent bug=leaf_only\n"), HasSubstr("needs the TLB"));
  std::string why;
  const std::vector<uint8_t> v4 = {4, 0, 0, 0, 0};
  EXPECT_TRUE(DecodeBinary(v4, &why).ops.empty());
  EXPECT_THAT(why, HasSubstr("not a v1 to v3 binary program (first byte 4)"));
  EXPECT_THAT(std::string(ParseAny(v4).status().message()), HasSubstr("version byte 1 to 3"));
}

// tlb_fuzzer's mutator writes both caches and the restricted bug into every
// mutant, inherits the input's bug when unrestricted, and upgrades a
// version 1 program without moving its operations.
TEST(RunSettings, StampingRestrictsTheSearch) {
  Program plain = MustParse(kProgram);
  plain.run = {};
  const std::vector<uint8_t> v1 = *EncodeBinary(plain);
  const Program up = DecodeBinary(StampTlbSettings(v1, std::nullopt, 0));
  EXPECT_TRUE(up.run.tlb && up.run.noncoherent);
  EXPECT_EQ(up.run.invalidator_bug, 0);
  EXPECT_EQ(up.ops, plain.ops);
  const std::vector<uint8_t> v2 = *EncodeBinary(MustParse(kProgram));
  EXPECT_EQ(DecodeBinary(StampTlbSettings(v2, uint8_t{1}, 2)).run.invalidator_bug, 1);
  EXPECT_EQ(DecodeBinary(StampTlbSettings(v2, std::nullopt, 2)).run.invalidator_bug, 2);
  EXPECT_EQ(DecodeBinary(StampTlbSettings(v2, std::nullopt, 2)).ops, plain.ops);
  for (const std::vector<uint8_t>& junk : {std::vector<uint8_t>{}, std::vector<uint8_t>{7, 1}, v2}) {
    const Program q = DecodeBinary(StampTlbSettings(junk, uint8_t{3}, 0));
    EXPECT_EQ(q.run.invalidator_bug, 3);
  }
}

// Each planted-bug program names its bug in its caches line: it reports
// from the text and from its binary, with nothing else given, and passes
// with the bug removed.
TEST(RunSettings, EveryPlantedBugProgramReportsFromItsOwnSettings) {
  int n = 0;
  const std::filesystem::path dir = std::filesystem::path(PTSIM_SOURCE_DIR) / "corpus" / "tlb_fuzzer" / "bugs";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".txt") continue;
    SCOPED_TRACE(e.path().string());
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Program p = MustParse(text);
    EXPECT_EQ(InvalidatorBugName(p.run.invalidator_bug), e.path().stem().string());
    ASSERT_NE(text.find("# expect: "), std::string::npos);
    const std::string expect = text.substr(text.find("# expect: ") + 10, text.find('\n') - 10);
    Arena arena;
    const TlbRunReport from_text = RunWithCaches(p, arena);
    EXPECT_TRUE(from_text.ran);
    EXPECT_EQ(from_text.check, expect) << FormatTlbReport(p, from_text);
    const Program q = DecodeBinary(*EncodeBinary(p));
    EXPECT_EQ(q, p);
    const TlbRunReport from_binary = RunWithCaches(q, arena);
    EXPECT_EQ(from_binary.check, expect) << FormatTlbReport(q, from_binary);
    EXPECT_EQ(from_binary.failing_op, from_text.failing_op);
    Program without = p;
    without.run.invalidator_bug = 0;
    const TlbRunReport clean = RunWithCaches(without, arena);
    EXPECT_TRUE(clean.ok()) << FormatTlbReport(without, clean);
    ++n;
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace ptsim
