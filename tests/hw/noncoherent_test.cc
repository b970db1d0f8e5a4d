// Non-coherent table walkers (src/hw/noncoherent.h): with the flush mode
// on, every operation writes back what it wrote and a walker over the
// device view never reads a dirty line; an injected missing write-back
// (a new table's zeroes, or one entry store in n) is caught.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "src/formats/all_formats.h"
#include "src/harness/executor.h"
#include "src/hw/noncoherent.h"
#include "src/ops/space.h"

namespace ptsim::hw {
namespace {

struct Rng {
  uint64_t s;
  uint64_t Next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

struct NcStats {
  uint64_t ops = 0, walks = 0, findings = 0, flushes = 0, lines = 0, dropped = 0;
  std::string first;
};

constexpr int kSteps = 200;
constexpr int kSeeds = 16;
constexpr uint64_t kEvictWindow = (1u << 20) >> DeviceView::kLineLg2;  // the first MiB of tables

template <PageTableFormat F>
NcStats RunNoncoherent(DeviceView::Drop drop, uint64_t seed, int steps) {
  Arena arena;
  const F f(FormatConfig::Defaults(F::kKnobs));
  DeviceView dv(&arena.mem());
  dv.set_drop(drop);
  Space<F> sp(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1, &dv});
  PTSIM_CHECK(sp.Init().ok(), "init");
  Rng rng{seed};
  const unsigned u0 = f.ItemLg2(Level(0)), u1 = f.ItemLg2(Level(1)), u2 = f.ItemLg2(Level(2));
  const uint64_t base = uint64_t{1} << u2;
  std::vector<Va> seen;
  NcStats st;
  for (int step = 0; step < steps; ++step) {
    const uint64_t half = base + rng.Below(2) * (uint64_t{1} << u2);
    uint64_t first, last;
    if (rng.Below(4) != 0) {
      first = half + rng.Below(3) * (uint64_t{1} << u1) + rng.Below(500) * (uint64_t{1} << u0);
      last = first + ((1 + rng.Below(12)) << u0) - 1;
    } else {
      first = half + rng.Below(3) * (uint64_t{1} << u1);
      last = first + ((1 + rng.Below(2)) << u1) - 1;
    }
    const VaRange r{CanonicalVa(f, first), CanonicalVa(f, last)};
    const uint64_t kind = rng.Below(10);
    if (kind < 5) {
      (void)sp.Map(r, Oa((first & LowMask(u2 + 1)) + rng.Below(4) * (uint64_t{1} << u2)), LeafAttrs::Rw());
    } else if (kind < 8) {
      (void)sp.Unmap(r);
    } else {
      (void)sp.Protect(r, rng.Below(2) ? LeafAttrs().With(Attr::kRead) : LeafAttrs::Rw());
    }
    ++st.ops;
    seen.push_back(r.first);
    seen.push_back(CanonicalVa(f, last & ~LowMask(u0)));
    if (seen.size() > 64) seen.erase(seen.begin(), seen.begin() + 2);
    const auto found = CheckWalker(f, dv, sp.root(), seen);
    st.walks += seen.size();
    st.findings += found.size();
    if (!found.empty() && st.first.empty()) {
      st.first = absl::StrFormat("seed %d step %d: %s", seed, step, found[0].ToString());
    }
    // Time passes: the caches write some lines back on their own, among
    // them the poison of tables freed meanwhile.
    for (int k = 0; k < 128; ++k) dv.Evict(Oa(Arena::kTableBase + (rng.Below(kEvictWindow) << DeviceView::kLineLg2)));
  }
  st.flushes = dv.flushes();
  st.lines = dv.lines();
  st.dropped = dv.dropped();
  sp.Destroy();
  return st;
}

struct NcCase {
  const char* format;
  std::function<NcStats(DeviceView::Drop, uint64_t, int)> run;
};
void PrintTo(const NcCase& c, std::ostream* os) { *os << c.format; }

const NcCase kNcCases[] = {
    {"x86_64_4level", RunNoncoherent<fmt::X86_64L4>},   {"armv8_s1_4k", RunNoncoherent<fmt::ArmV8S1_4K>},
    {"armv8_s1_16k", RunNoncoherent<fmt::ArmV8S1_16K>}, {"riscv_sv39", RunNoncoherent<fmt::RiscvSv39>},
    {"vtd_ss_4level", RunNoncoherent<fmt::VtdSs4>},     {"amd_iommu_v1", RunNoncoherent<fmt::AmdIommuV1>},
};

NcStats RunSeeds(const NcCase& c, DeviceView::Drop drop, const char* what, int seeds = kSeeds,
                 int steps = kSteps) {
  NcStats t;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(seeds); ++seed) {
    const NcStats s = c.run(drop, seed, steps);
    t.ops += s.ops;
    t.walks += s.walks;
    t.findings += s.findings;
    t.flushes += s.flushes;
    t.lines += s.lines;
    t.dropped += s.dropped;
    if (t.first.empty()) t.first = s.first;
  }
  std::printf("[noncoherent] %-14s %-16s seeds=%d ops=%llu walks=%llu flushes=%llu lines=%llu dropped=%llu "
              "findings=%llu\n",
              c.format, what, seeds, static_cast<unsigned long long>(t.ops),
              static_cast<unsigned long long>(t.walks), static_cast<unsigned long long>(t.flushes),
              static_cast<unsigned long long>(t.lines), static_cast<unsigned long long>(t.dropped),
              static_cast<unsigned long long>(t.findings));
  if (!t.first.empty()) std::printf("[noncoherent]   e.g. %s\n", t.first.c_str());
  return t;
}

class Noncoherent : public ::testing::TestWithParam<NcCase> {};

TEST_P(Noncoherent, EveryWriteIsFlushedBeforeTheWalkerReadsIt) {
  const NcStats s = RunSeeds(GetParam(), {}, "all flushed");
  EXPECT_EQ(s.findings, 0u) << s.first;
  EXPECT_GT(s.flushes, 0u);
}

TEST_P(Noncoherent, AMissingNewTableFlushIsCaught) {
  // A freed table's memory is reused only after TableAllocator::kQuarantine
  // (64) frees, hence longer runs. By then the caches have written its
  // poison back, and the new table's zeroes never reach the walker.
  const NcStats s = RunSeeds(GetParam(), {.new_tables = true}, "no new-table", 4, kSteps * 10);
  EXPECT_GT(s.dropped, 0u);
  EXPECT_GT(s.findings, 0u) << "a new table's zeroes never reached the walker, unnoticed";
}

TEST_P(Noncoherent, AMissingEntryFlushIsCaught) {
  const NcStats s = RunSeeds(GetParam(), {.every_nth_entry = 50}, "1/50 entries");
  EXPECT_GT(s.dropped, 0u);
  EXPECT_GT(s.findings, 0u) << "an entry store never reached the walker, unnoticed";
}

INSTANTIATE_TEST_SUITE_P(Formats, Noncoherent, ::testing::ValuesIn(kNcCases),
                         [](const ::testing::TestParamInfo<NcCase>& i) { return std::string(i.param.format); });

TEST(NoncoherentModeOff, SpaceIssuesNoFlushWithoutAFlusher) {
  // Coherent walkers (the default) cost nothing: the device view of a space
  // with no flusher never changes.
  Arena arena;
  const fmt::X86_64L4 f(FormatConfig::Defaults(fmt::X86_64L4::kKnobs));
  DeviceView dv(&arena.mem());
  Space<fmt::X86_64L4> sp(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(sp.Init().ok());
  ASSERT_TRUE(sp.Map({Va(0x40000000), Va(0x40000fff)}, Oa(0x5000), LeafAttrs::Rw()).ok());
  EXPECT_EQ(dv.flushes(), 0u);
  const auto found = CheckWalker(f, dv, sp.root(), {Va(0x40000000)});
  ASSERT_FALSE(found.empty());  // the device never saw the root
  EXPECT_EQ(found[0].entry_addr, sp.root());
  sp.Destroy();
}

}  // namespace
}  // namespace ptsim::hw
