// The differential runner: differences the formats declare are not
// reported, undeclared ones are, with the right signature.
#include "src/harness/diff.h"

#include <gtest/gtest.h>

#include "src/harness/diff_internal.h"

namespace ptsim {
namespace {

Program MustParse(std::string_view text) {
  auto p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

std::string Explain(const Program& p, const DiffResult& r, Arena& arena) {
  if (const int bad = r.FirstDivergentRun(); bad >= 0) {
    return FormatReport(r.runs[static_cast<size_t>(bad)].program, r.runs[static_cast<size_t>(bad)].exec);
  }
  return r.differences.empty() ? "" : FormatDiffReport(p, r, r.differences.front(), arena);
}

TEST(Diff, NoExecControlWithoutNxeIsDeclaredNotReported) {
  // The frame runs with nxe=0 (every page executable); the 5-level format
  // runs with its default nxe=1 and refuses the fetch.
  const Program p = MustParse(R"(
format x86_64_4level
config nxe=0
map 0x200000 0x3fffff oa=0x0 attrs=rw--
access 0x200000 exec
)");
  Arena arena;
  const DiffResult r = RunDiff(p, {"x86_64_4level", "x86_64_5level"}, arena);
  EXPECT_TRUE(r.ok()) << Explain(p, r, arena);
  EXPECT_TRUE(r.runs[0].ops[1].access_ok);
  EXPECT_FALSE(r.runs[1].ops[1].access_ok);
}

TEST(Diff, ExecuteOnlyRiscvLeafAgainstAlwaysReadableX86IsDeclared) {
  const Program p = MustParse(R"(
format x86_64_4level
map 0x1000 0x1fff oa=0x5000 attrs=--x-
access 0x1000 read
access 0x1000 exec
)");
  Arena arena;
  const DiffResult r = RunDiff(p, {"x86_64_4level", "riscv_sv39"}, arena);
  EXPECT_TRUE(r.ok()) << Explain(p, r, arena);
  EXPECT_FALSE(r.runs[1].ops[1].access_ok) << "Sv39 keeps the leaf execute-only";
}

TEST(Diff, AnOperationAFormatCannotExpressEndsItsComparison) {
  const Program p = MustParse(R"(
format x86_64_4level
map 0x1000 0x1fff oa=0x1000 attrs=rw--
map 0x100000000 0x100000fff oa=0x2000 attrs=rw--
access 0x100000000 read
)");
  Arena arena;
  const DiffResult r = RunDiff(p, {"x86_64_4level", "x86_32"}, arena);
  EXPECT_TRUE(r.ok()) << Explain(p, r, arena);
  EXPECT_EQ(r.runs[0].comparable_ops, 3);
  EXPECT_EQ(r.runs[1].comparable_ops, 1);
  EXPECT_NE(r.runs[1].stopped.find("32-bit VA space"), std::string::npos) << r.runs[1].stopped;
}

TEST(Diff, AnOperationNoFormatCanExpressChangesNothing) {
  const Program p = MustParse(R"(
format x86_64_4level
map 0x1000 0x1fff oa=0xfffffffffffff000 attrs=rw--
access 0x1000 read
)");
  Arena arena;
  const DiffResult r = RunDiff(p, {"x86_64_4level", "x86_pae"}, arena);
  EXPECT_TRUE(r.ok()) << Explain(p, r, arena);
  EXPECT_EQ(r.runs[1].comparable_ops, 2);
}

// Found by diff_fuzzer in its first minute
// (corpus/diff_fuzzer/regressions/pse36_4m_leaf_above_4g_while_inexpressible.bin):
// no format could express the forced 4 MiB map above 4 GiB (x86-64 has no
// 4 MiB leaf; x86_32's 4 KiB leaves hold 32 bits), so nobody was cut, yet
// PSE-36 mapped it, and the next probe reported a false "presence".
TEST(Diff, Pse36LeafAboveFourGibThatNoFormatCanExpressEndsTheComparisonWhereItSucceeded) {
  const Program p = MustParse(R"(
format x86_32
map 0x0 0x3fffff oa=0x4000000000 attrs=rw-- size_lg2=22
access 0x0 read
)");
  Arena arena;
  const DiffResult r = RunDiff(p, {"x86_64_4level", "x86_32"}, arena);
  EXPECT_TRUE(r.ok()) << Explain(p, r, arena);
  EXPECT_EQ(r.runs[0].comparable_ops, 2);
  EXPECT_EQ(r.runs[1].comparable_ops, 0);
  EXPECT_NE(r.runs[1].stopped.find("succeeded although not expressible"), std::string::npos) << r.runs[1].stopped;
}

// Two runs of the same program with hand-made observations, to check the
// comparison itself.
struct Synthetic {
  Program frame;
  std::vector<std::unique_ptr<AnyFormat>> fs;
  DiffResult r;

  Synthetic(const std::string& a, const std::string& b, OpObservations oa, OpObservations ob,
            std::string_view frame_text = "format x86_64_4level\nmap 0x0 0x3fffffff oa=0x0 attrs=rw--\n") {
    frame = MustParse(frame_text);
    r.probes = {{Va(0x1000)}};
    for (const auto& [name, obs] : {std::pair{a, oa}, std::pair{b, ob}}) {
      fs.push_back(*MakeFormat(name, {}));
      FormatRun run;
      run.program = ProgramFor(frame, *FindFormat(name));
      run.inexpressible = {""};
      run.comparable_ops = 1;
      run.ops = {obs};
      r.runs.push_back(run);
    }
    CompareRuns(frame, fs, 8, &r);
  }
  Synthetic(const std::string& a, const std::string& b, Observation oa, Observation ob)
      : Synthetic(a, b, OpObservations{.probes = {oa}}, OpObservations{.probes = {ob}}) {}
};

Observation Mapped(uint64_t oa, unsigned size_lg2, LeafAttrs attrs) {
  return Observation{.canonical = true, .mapped = true, .oa = Oa(oa), .size_lg2 = size_lg2, .attrs = attrs};
}

TEST(Diff, LeafSizesAreComparedOnTheSizesBothFormatsHave) {
  // x86-64 maps 1 GiB leaves, PAE has none: both must show 2 MiB or more.
  EXPECT_TRUE(Synthetic("x86_64_4level", "x86_pae", Mapped(0x1000, 30, LeafAttrs::Rwx()),
                        Mapped(0x1000, 21, LeafAttrs::Rwx()))
                  .r.ok());
  const Synthetic s("x86_64_4level", "x86_pae", Mapped(0x1000, 21, LeafAttrs::Rwx()),
                    Mapped(0x1000, 12, LeafAttrs::Rwx()));
  ASSERT_EQ(s.r.differences.size(), 1u);
  EXPECT_EQ(DiffSignature(s.r, s.r.differences[0]), "x86_64_4level-x86_pae-map-size");
}

TEST(Diff, TheReportShowsBothFormatsSideBySideWithTheirWalks) {
  const Synthetic s("x86_64_4level", "x86_pae", Mapped(0x1000, 21, LeafAttrs::Rwx()),
                    Mapped(0x1000, 12, LeafAttrs::Rwx()));
  ASSERT_EQ(s.r.differences.size(), 1u);
  Arena arena;
  const std::string report = FormatDiffReport(s.frame, s.r, s.r.differences[0], arena);
  EXPECT_NE(report.find("x86_64_4level: oa 0x1000 size 2^21"), std::string::npos) << report;
  EXPECT_NE(report.find("x86_pae:  oa 0x1000 size 2^12"), std::string::npos) << report;
  EXPECT_NE(report.find("=== walk in x86_64_4level\nwalk of 0x1000"), std::string::npos) << report;
  EXPECT_NE(report.find("=== walk in x86_pae\nwalk of 0x1000"), std::string::npos) << report;
  EXPECT_NE(report.find("\nAssertion failure: x86_64_4level-x86_pae-map-size\n"), std::string::npos) << report;
}

TEST(Diff, AttributesAreComparedAfterBothCanonicalForms) {
  // x86_32 has no exec control: an exec-less x86-64 leaf matches it.
  EXPECT_TRUE(Synthetic("x86_64_4level", "x86_32", Mapped(0x1000, 12, LeafAttrs::Rw()),
                        Mapped(0x1000, 12, LeafAttrs::Rwx()))
                  .r.ok());
  const Synthetic s("x86_64_4level", "x86_32", Mapped(0x1000, 12, LeafAttrs::Rw()),
                    Mapped(0x1000, 12, LeafAttrs::Rwx().Without(Attr::kWrite)));
  ASSERT_EQ(s.r.differences.size(), 1u);
  EXPECT_EQ(s.r.differences[0].kind, "attrs");
}

TEST(Diff, DifferentOutputAddressesAndPresenceAreReported) {
  const Synthetic oa("riscv_sv39", "armv8_s1_4k", Mapped(0x1000, 12, LeafAttrs::Rw()),
                     Mapped(0x2000, 12, LeafAttrs::Rw()));
  ASSERT_EQ(oa.r.differences.size(), 1u);
  EXPECT_EQ(DiffSignature(oa.r, oa.r.differences[0]), "riscv_sv39-armv8_s1_4k-map-oa");
  const Synthetic presence("riscv_sv39", "armv8_s1_4k", Mapped(0x1000, 12, LeafAttrs::Rw()),
                           Observation{.canonical = true});
  ASSERT_EQ(presence.r.differences.size(), 1u);
  EXPECT_EQ(presence.r.differences[0].kind, "presence");
}

TEST(Diff, AnAccessVerdictMayDifferOnlyWhereEachFollowsItsOwnAttributes) {
  const std::string_view read = "format x86_64_4level\naccess 0x1000 read\n";
  const Observation exec_only = Mapped(0x1000, 12, LeafAttrs().With(Attr::kExec));
  const Observation readable = Mapped(0x1000, 12, LeafAttrs().With(Attr::kRead).With(Attr::kExec));
  const OpObservations refused{.probes = {exec_only}, .access_ok = false, .access_fault = FaultKind::kPermission};
  EXPECT_TRUE(Synthetic("x86_64_4level", "riscv_sv39", OpObservations{.probes = {readable}, .access_ok = true},
                        refused, read)
                  .r.ok());
  // The same refusal with attributes that allow the read is a bug.
  const Synthetic s("x86_64_4level", "riscv_sv39", OpObservations{.probes = {readable}, .access_ok = true},
                    OpObservations{.probes = {readable}, .access_ok = false, .access_fault = FaultKind::kPermission},
                    read);
  ASSERT_EQ(s.r.differences.size(), 1u);
  EXPECT_EQ(DiffSignature(s.r, s.r.differences[0]), "x86_64_4level-riscv_sv39-access-access");
}

TEST(Diff, AnAddressCanonicalInOnlyOneFormatIsNotCompared) {
  EXPECT_TRUE(
      Synthetic("x86_64_4level", "x86_32", Mapped(0x1000, 12, LeafAttrs::Rw()), Observation{}).r.ok());
}

}  // namespace
}  // namespace ptsim
