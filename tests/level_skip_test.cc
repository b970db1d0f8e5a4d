// Level skipping (pt/geometry.h) through the generic operations: where map
// builds skipping entries, how it expands them when it needs the rest of
// their span, and that unmap, protect and teardown free what they should.
// The structure is checked byte by byte here; the executor programs at the
// end check statuses, the exact leaf set and translations against the
// reference model after every step. Formats are reached through the
// registry, by name; the byte-level facts are in the AMD golden test.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/harness/executor.h"

namespace ptsim {
namespace {

constexpr uint64_t kNextLevelShift = 9;  // AMD IOMMU v1 Next Level, bits 11:9
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;

class LevelSkipTest : public ::testing::Test {
 protected:
  void Make(const std::vector<std::string>& settings) {
    auto f = MakeFormat("amd_iommu_v1", settings);
    ASSERT_TRUE(f.ok()) << f.status();
    f_ = std::move(*f);
    space_ = f_->NewSpace(SpaceEnv{&arena_.mem(), &arena_.alloc(), &arena_.frames(), nullptr, 1});
    ASSERT_TRUE(space_->Init().ok());
  }
  absl::Status Map(uint64_t first, uint64_t last, uint64_t oa, std::string_view attrs = "rw") {
    LeafAttrs a;
    EXPECT_TRUE(AttrsFromString(attrs, &a));
    return space_->Map(VaRange{Va(first), Va(last)}, Oa(oa), a, 0);
  }
  absl::Status Unmap(uint64_t first, uint64_t last) { return space_->Unmap(VaRange{Va(first), Va(last)}); }
  uint64_t Raw(Oa table, uint64_t index) {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(arena_.mem().Writable(table + index * 8))).load();
  }
  static uint64_t NextLevelOf(uint64_t raw) { return (raw >> kNextLevelShift) & 7; }
  static Oa TableOf(uint64_t raw) { return Oa(raw & kAddrMask); }
  uint64_t LiveTables() { return arena_.alloc().stats().live; }
  WalkResult Walk(uint64_t va, AccessType t = AccessType::kRead) {
    return f_->Translate(&arena_.mem(), space_->root(), Va(va), Access{t, false}, MmuOptions{.update_ad = false},
                         nullptr);
  }
  // The tree is well formed and holds `tables` tables and `leaves` leaves.
  void ExpectTree(uint64_t tables, uint64_t leaves) {
    auto st = f_->CheckTree(&arena_.mem(), arena_.alloc(), space_->root(), 1);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->tables, tables);
    EXPECT_EQ(st->leaves, leaves);
    EXPECT_EQ(LiveTables(), tables);
    EXPECT_EQ(arena_.alloc().stats().pending, 0u);
  }

  Arena arena_;
  std::unique_ptr<AnyFormat> f_;
  std::unique_ptr<AnySpace> space_;
};

// Levels are AMD's in the comments below (ptsim level + 1), as Next Level
// counts them.
//
// 4 levels, one 4 KiB page at VA 0x5000: the root's entry 0 points straight
// to a level-1 table (Next Level 1), skipping levels 3 and 2; two tables
// instead of four. Without the knob the same map builds the whole chain.
TEST_F(LevelSkipTest, MapBuildsOneSkipForANewChainOnlyWithTheKnob) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  const uint64_t top = Raw(space_->root(), 0);
  EXPECT_EQ(NextLevelOf(top), 1u) << std::hex << top;
  EXPECT_EQ(Raw(TableOf(top), 5), 0x6000000000007001ull);
  ExpectTree(2, 1);
  EXPECT_TRUE(Walk(0x5abc).ok);
  EXPECT_EQ(Walk(0x5abc).t.oa, Oa(0x7abc));
  EXPECT_EQ(Walk(0x205000).fault, (Fault{FaultKind::kNotPresent, Level(1)})) << "bit 21: a skipped level";
  EXPECT_EQ(Walk(0x40005000).fault, (Fault{FaultKind::kNotPresent, Level(2)})) << "bit 30: the higher one";
  EXPECT_EQ(Walk(0x6000).fault, (Fault{FaultKind::kNotPresent, Level(0)}));

  space_->Destroy();
  EXPECT_EQ(LiveTables(), 0u);
  Make({"levels=4"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  EXPECT_EQ(NextLevelOf(Raw(space_->root(), 0)), 3u);
  ExpectTree(4, 1);
}

// A new chain stops where the range no longer fits strictly inside what a
// deeper skip would map: 2 MiB at VA 512 GiB fills a level-2 entry, so the
// root's entry 1 points to a level-2 table (Next Level 2) holding one
// 2 MiB PTE; 4 MiB at 1 TiB needs two level-2 entries (one Next Level 7
// page of two PTEs), the same.
TEST_F(LevelSkipTest, ANewChainSkipsOnlyToALevelThatHoldsItsLeaves) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x8000000000, 0x80001fffff, 0x200000).ok());
  const uint64_t e1 = Raw(space_->root(), 1);
  EXPECT_EQ(NextLevelOf(e1), 2u);
  EXPECT_EQ(Walk(0x8000123456).t.size_lg2, 21u);
  ASSERT_TRUE(Map(0x10000000000, 0x100003fffff, 0x400000).ok());
  EXPECT_EQ(NextLevelOf(Raw(space_->root(), 2)), 2u);
  EXPECT_EQ(Walk(0x10000000000).t.size_lg2, 22u);
  ExpectTree(3, 2);
  // 1 MiB (a Next Level 7 page) at 1.5 TiB: strictly inside one level-2
  // entry, so a level-1 table.
  ASSERT_TRUE(Map(0x18000000000, 0x180000fffff, 0x100000).ok());
  EXPECT_EQ(NextLevelOf(Raw(space_->root(), 3)), 1u);
  EXPECT_EQ(Walk(0x18000054321).t.size_lg2, 20u);
  ExpectTree(4, 3);
}

// Mapping where the skipping entry maps nothing expands it one level at a
// time: root entry 0 -> new level-3 table whose entry 0 skips to level 1;
// that is expanded again for VA 2 MiB (level-2 index 1). Translations of
// what was mapped never change.
TEST_F(LevelSkipTest, MapOutsideWhatASkipMapsExpandsIt) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  const Oa pt0 = TableOf(Raw(space_->root(), 0));
  ASSERT_TRUE(Map(0x40000000, 0x40000fff, 0x9000).ok()) << "level-3 index 1";
  const uint64_t top = Raw(space_->root(), 0);
  EXPECT_EQ(NextLevelOf(top), 3u) << "the root entry now points one level down";
  const Oa l3 = TableOf(top);
  EXPECT_EQ(NextLevelOf(Raw(l3, 0)), 1u) << "which still skips to the old table";
  EXPECT_EQ(TableOf(Raw(l3, 0)), pt0);
  EXPECT_EQ(NextLevelOf(Raw(l3, 1)), 1u) << "and the new chain skips too";
  ExpectTree(4, 2);
  EXPECT_EQ(Walk(0x5000).t.oa, Oa(0x7000));
  EXPECT_EQ(Walk(0x40000000).t.oa, Oa(0x9000));
  EXPECT_EQ(Walk(0x40200000).fault, (Fault{FaultKind::kNotPresent, Level(1)}));

  ASSERT_TRUE(Map(0x200000, 0x200fff, 0xb000).ok()) << "level-2 index 1 under the first skip";
  const uint64_t l3e0 = Raw(l3, 0);
  EXPECT_EQ(NextLevelOf(l3e0), 2u);
  const Oa l2 = TableOf(l3e0);
  EXPECT_EQ(NextLevelOf(Raw(l2, 0)), 1u);
  EXPECT_EQ(TableOf(Raw(l2, 0)), pt0);
  EXPECT_EQ(NextLevelOf(Raw(l2, 1)), 1u);
  ExpectTree(6, 3);
  for (uint64_t va : {0x5000ull, 0x40000000ull, 0x200000ull}) EXPECT_TRUE(Walk(va).ok) << std::hex << va;
}

// Unmap of a range that only the skipped part covers changes nothing;
// unmapping the page frees the skipped-to table and leaves the root.
TEST_F(LevelSkipTest, UnmapVisitsOnlyWhatASkipMapsAndFreesItsTable) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  ASSERT_TRUE(Unmap(0x200000, 0x3fffffff).ok());
  ExpectTree(2, 1);
  ASSERT_TRUE(Unmap(0x0, 0x7fffffffff).ok());
  ExpectTree(1, 0);
  EXPECT_EQ(Raw(space_->root(), 0), 0u);
  // A split under a skip: a 2 MiB PTE in a level-2 table that the root
  // skips to; unmapping one page splits it down the Next Level 7 sizes.
  ASSERT_TRUE(Map(0x8000000000, 0x80001fffff, 0x200000).ok());
  ASSERT_TRUE(Unmap(0x8000001000, 0x8000001fff).ok());
  EXPECT_FALSE(Walk(0x8000001000).ok);
  EXPECT_EQ(Walk(0x8000000000).t.size_lg2, 12u);
  EXPECT_EQ(Walk(0x8000100000).t.size_lg2, 20u);
  ASSERT_TRUE(Unmap(0x8000000000, 0x80001fffff).ok());
  ExpectTree(1, 0);
}

TEST_F(LevelSkipTest, ProtectReachesLeavesBelowASkip) {
  Make({"levels=5", "skip=1"});
  ASSERT_TRUE(Map(0x1000, 0x4fff, 0x10000).ok());
  ASSERT_TRUE(space_->Protect(VaRange{Va(0), Va(0xffffffffff)}, LeafAttrs().With(Attr::kRead)).ok());
  EXPECT_EQ(Walk(0x2000, AccessType::kWrite).fault, (Fault{FaultKind::kPermission, Level(0)}));
  EXPECT_TRUE(Walk(0x2000).ok);
}

// 6 levels: the 128-entry top's entry 0 skips five levels to a level-1
// table; a page at 2^56 (level-5 index 1) expands it once, below which a
// new chain skips again.
TEST_F(LevelSkipTest, SixLevelTopSkipsToLevelOne) {
  Make({"levels=6", "skip=1"});
  ASSERT_TRUE(Map(0x0, 0xfff, 0x1000).ok());
  EXPECT_EQ(NextLevelOf(Raw(space_->root(), 0)), 1u);
  ExpectTree(2, 1);
  EXPECT_EQ(Walk(uint64_t{1} << 56).fault, (Fault{FaultKind::kNotPresent, Level(4)}));
  ASSERT_TRUE(Map(uint64_t{1} << 56, (uint64_t{1} << 56) + 0xfff, 0x2000).ok());
  const uint64_t top = Raw(space_->root(), 0);
  EXPECT_EQ(NextLevelOf(top), 5u);
  EXPECT_EQ(NextLevelOf(Raw(TableOf(top), 0)), 1u);
  EXPECT_EQ(NextLevelOf(Raw(TableOf(top), 256)), 1u);
  ExpectTree(4, 2);
  EXPECT_EQ(Walk((uint64_t{1} << 56) + 0x123).t.oa, Oa(0x2123));
  space_->Destroy();
  EXPECT_EQ(LiveTables(), 0u);
}

// Walk reports say where a skipping entry leads.
TEST_F(LevelSkipTest, WalkReportsNameTheLevelASkipLeadsTo) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  const std::string walk = FormatWalk(*f_, &arena_.mem(), space_->root(), Va(0x5000), Access{});
  EXPECT_NE(walk.find("-> level 0 L1 (skips levels 2..1)"), std::string::npos) << walk;
  const std::string fault = FormatWalk(*f_, &arena_.mem(), space_->root(), Va(0x205000), Access{});
  EXPECT_NE(fault.find("fault not-present at level 1"), std::string::npos) << fault;
}

// The structure check accepts skips only where the configuration builds
// them: the same tables checked as a knob-off format are a finding.
TEST_F(LevelSkipTest, TreeCheckRefusesSkipsTheConfigurationDoesNotBuild) {
  Make({"levels=4", "skip=1"});
  ASSERT_TRUE(Map(0x5000, 0x5fff, 0x7000).ok());
  auto off = MakeFormat("amd_iommu_v1", {"levels=4"});
  ASSERT_TRUE(off.ok());
  auto st = (*off)->CheckTree(&arena_.mem(), arena_.alloc(), space_->root(), 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("builds no skips"), std::string::npos) << st.status();
  // Leaves and walks do not depend on the knob.
  EXPECT_TRUE((*off)->Translate(&arena_.mem(), space_->root(), Va(0x5000), Access{}, MmuOptions{}, nullptr).ok);
}

Program MustParse(std::string_view text) {
  auto p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

// Records the root's entry 0 after each operation.
class RootWatcher : public ExecObserver {
 public:
  void AfterOp(int, const Op&, const StepRecord&, const TablesView& t) override {
    roots.push_back(std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(t.mem->Writable(t.root))).load());
  }
  std::vector<uint64_t> roots;
};

// Model-checked: every step's status, the exact leaf set, structure and
// sampled translations, at every depth of table.
TEST(LevelSkipExecutor, MapsUnmapsAndProtectsAgreeWithTheModelAtEveryDepth) {
  for (int levels = 1; levels <= 6; ++levels) {
    Arena arena;
    const Program p = MustParse(absl::StrCat("format amd_iommu_v1\nconfig levels=", levels, " skip=1\n", R"(
map 0x5000 0x5fff oa=0x7000 attrs=rw
access 0x5abc write
access 0x205abc read
map 0x200000 0x3fffff oa=0x400000 attrs=r-
map 0x3000 0x4fff oa=0x13000 attrs=-w
access 0x200000 read
map 0x40000000 0x400fffff oa=0x100000 attrs=rw
map 0x8000000000 0x80001fffff oa=0x200000 attrs=rw
unmap 0x8000001000 0x8000001fff
protect 0x0 0x7fffffffff attrs=r-
access 0x8000100000 write
unmap 0x4000 0x5fff
map 0x5000 0x5fff oa=0x9000 attrs=rw
map 0x100000000000 0x100000000fff oa=0x1000 attrs=rw
map 0x1000000000000 0x1000000000fff oa=0x2000 attrs=rw
map 0x100000000000000 0x100000000000fff oa=0x3000 attrs=rw
access 0x100000000000000 read
unmap 0x0 0x3fffffff
unmap 0x0 0xffffffffffffffff
)"));
    RootWatcher watch;
    ExecOptions opt;
    opt.max_leaves_per_op = 0;
    opt.observer = &watch;
    const ExecResult r = Execute(p, arena, opt);
    EXPECT_TRUE(r.ok()) << FormatReport(p, r);
    ASSERT_FALSE(watch.roots.empty());
    // The first map skips from the root straight to level 1 (Next Level 1).
    if (levels >= 3) {
      EXPECT_EQ(watch.roots[0], 0x6000000000000201ull | (watch.roots[0] & kAddrMask)) << levels;
    }
  }
}

// Every registered format with every knob at its maximum (AMD with `skip`)
// still maps, splits and unmaps as the model says.
TEST(LevelSkipExecutor, EveryRegisteredFormatWithEveryKnobAtItsMaximum) {
  for (const FormatEntry& e : Registry()) {
    Arena arena;
    Program p;
    p.format = std::string(e.name);
    p.config = FormatConfig::Defaults(e.knobs);
    for (size_t i = 0; i < e.knobs.size(); ++i) p.config.Set(static_cast<int>(i), e.knobs[i].max);
    auto f = e.make(p.config);
    const unsigned pg = f->Info().min_page_lg2;
    const uint64_t big = uint64_t{1} << f->Info().leaf_sizes_lg2.front();
    const uint64_t page = uint64_t{1} << pg;
    Op map{.kind = OpKind::kMap, .range = {Va(0), Va(2 * big - 1)}, .oa = Oa(big), .attrs = LeafAttrs::Rw()};
    Op small{.kind = OpKind::kMap, .range = {Va(2 * big + page), Va(2 * big + 2 * page - 1)}, .oa = Oa(page),
             .attrs = LeafAttrs::Rw()};
    Op unmap{.kind = OpKind::kUnmap, .range = {Va(big + page), Va(big + 2 * page - 1)}};
    Op access{.kind = OpKind::kAccess, .va = Va(big - 1), .access = {AccessType::kWrite, false}};
    p.ops = {small, map, unmap, access};
    ExecOptions opt;
    opt.max_leaves_per_op = 0;
    const ExecResult r = Execute(p, arena, opt);
    EXPECT_TRUE(r.ok()) << FormatReport(p, r);
  }
}

}  // namespace
}  // namespace ptsim
