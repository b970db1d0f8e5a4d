#include "src/harness/executor.h"

#include <gtest/gtest.h>

namespace ptsim {
namespace {

Program MustParse(std::string_view text) {
  auto p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(Executor, MapSplitUnmapOnX86_64AgreesWithTheModel) {
  Arena arena;
  const Program p = MustParse(R"(
format x86_64_4level
map 0x0 0x3fffffff oa=0x40000000 attrs=rw-u
access 0x1234 write user
unmap 0x200000 0x200fff
protect 0x400000 0x5fffff attrs=r--u
access 0x400000 write user
map 0xffff800000000000 0xffff8000001fffff oa=0x200000 attrs=rwx-g
unmap 0x0 0x7fffffffffff
)");
  const ExecResult r = Execute(p, arena);
  EXPECT_TRUE(r.ok()) << FormatReport(p, r);
}

TEST(Executor, EveryRegisteredFormatMapsAndUnmaps) {
  for (const FormatEntry& e : Registry()) {
    Arena arena;
    Program p;
    p.format = std::string(e.name);
    p.config = FormatConfig::Defaults(e.knobs);
    auto f = e.make(p.config);
    const unsigned pg = f->Info().min_page_lg2;
    const uint64_t big = uint64_t{1} << f->Info().leaf_sizes_lg2.front();
    Op map{.kind = OpKind::kMap, .range = {Va(0), Va(2 * big - 1)}, .oa = Oa(big), .attrs = LeafAttrs::Rw()};
    Op unmap{.kind = OpKind::kUnmap, .range = {Va(big + (uint64_t{1} << pg)), Va(big + 2 * (uint64_t{1} << pg) - 1)}};
    Op access{.kind = OpKind::kAccess, .va = Va(big - 1), .access = {AccessType::kWrite, false}};
    p.ops = {map, unmap, access};
    ExecOptions opt;
    opt.max_leaves_per_op = 0;
    const ExecResult r = Execute(p, arena, opt);
    EXPECT_TRUE(r.ok()) << FormatReport(p, r);
  }
}

}  // namespace
}  // namespace ptsim

namespace ptsim {
namespace {

// Found by ops_fuzzer (corpus/ops_fuzzer/regressions/
// x86_32_pse36_split_above_4g.bin): unmapping one 4 KiB page of a PSE-36
// 4 MiB page above 4 GiB split it into PTEs, which hold only 32-bit
// addresses, and silently truncated every output address. The split must
// be refused before anything changes, by the ops and the model alike.
TEST(Regression, X86_32Pse36LeafAboveFourGiBIsNotSplitIntoTruncatedPtes) {
  Arena arena;
  const Program p = MustParse(R"(
format x86_32
config pse=1 pse36=1 maxphyaddr=40
map 0x400000 0x7fffff oa=0xc001000000 attrs=rw--
unmap 0x401000 0x401fff
protect 0x400000 0x400fff attrs=r---
access 0x401000 write
unmap 0x400000 0x7fffff
)");
  const ExecResult r = Execute(p, arena);
  ASSERT_TRUE(r.ok()) << FormatReport(p, r);
  EXPECT_NE(r.steps[1].outcome.find("OUT_OF_RANGE"), std::string::npos) << r.steps[1].outcome;
  EXPECT_NE(r.steps[2].outcome.find("OUT_OF_RANGE"), std::string::npos) << r.steps[2].outcome;
  EXPECT_EQ(r.steps[3].outcome, "oa 0xc001001000 size 2^22 attrs rwx----");
  EXPECT_EQ(r.steps[4].outcome, "ok");
}

}  // namespace
}  // namespace ptsim
