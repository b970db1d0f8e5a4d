// Translate throughput: the generic walker (ptsim::Translate over
// fmt::X86_64L4) against a hand-written x86-64 4-level walker
// (bench/walkers.h), side by side on the same memory, tables and VAs.
//
// Each benchmark iteration walks the same 65536 seeded random VAs inside
// the mapping (256 MiB in 4 KiB leaves, or 1 GiB in 2 MiB leaves), so
// items_per_second is translations per second and the time per iteration
// divided by 65536 is the time per translation. Pairs:
//   BM_TranslateGeneric/<leaf>[_ad]   vs   BM_TranslateHandWritten/<leaf>[_ad]
// `_ad` walks with update_ad=true; the fixture is walked once beforehand, so
// what is measured is the steady state: the A bit is tested at every level
// and found set, no compare-and-swap.
//
// Read the verdict as generic/hand-written of the median time (or the
// inverse ratio of items_per_second); 1.00 means the generic layer is free.
// bench/compare.sh prints the ratios; on a noisy machine prefer its
// --callgrind instruction counts.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <utility>

#include "bench/walkers.h"

namespace ptsim::bench {
namespace {

// One fixture per (leaf size, A/D): A/D walks change the tables. Built and
// checked on first use, outside any timing.
TranslateFixture& GetFixture(unsigned leaf_lg2, bool ad) {
  static std::map<std::pair<unsigned, bool>, std::unique_ptr<TranslateFixture>> fixtures;
  static bool random_checked = false;
  if (!random_checked) {
    CheckRandomEntries(20000);
    random_checked = true;
  }
  auto& slot = fixtures[{leaf_lg2, ad}];
  if (!slot) {
    slot = std::make_unique<TranslateFixture>(leaf_lg2);
    CheckWalkersAgree(*slot);
    if (ad) CheckAdAgreeAndWarm(*slot);
  }
  return *slot;
}

struct Sink {
  void operator()(WalkResult& r) const { benchmark::DoNotOptimize(r); }
};

template <unsigned kLeafLg2, bool kAd>
void BM_TranslateGeneric(benchmark::State& state) {
  TranslateFixture& fx = GetFixture(kLeafLg2, kAd);
  for (auto _ : state) WalkAllGeneric<kAd>(fx, Sink{});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * fx.vas.size()));
}

template <unsigned kLeafLg2, bool kAd>
void BM_TranslateHandWritten(benchmark::State& state) {
  TranslateFixture& fx = GetFixture(kLeafLg2, kAd);
  for (auto _ : state) WalkAllHand<kAd>(fx, Sink{});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * fx.vas.size()));
}

// Registered in pairs so the two sides of a ratio run next to each other.
[[maybe_unused]] const bool kRegistered = [] {
  benchmark::RegisterBenchmark("BM_TranslateGeneric/4K", BM_TranslateGeneric<12, false>);
  benchmark::RegisterBenchmark("BM_TranslateHandWritten/4K", BM_TranslateHandWritten<12, false>);
  benchmark::RegisterBenchmark("BM_TranslateGeneric/2M", BM_TranslateGeneric<21, false>);
  benchmark::RegisterBenchmark("BM_TranslateHandWritten/2M", BM_TranslateHandWritten<21, false>);
  benchmark::RegisterBenchmark("BM_TranslateGeneric/4K_ad", BM_TranslateGeneric<12, true>);
  benchmark::RegisterBenchmark("BM_TranslateHandWritten/4K_ad", BM_TranslateHandWritten<12, true>);
  benchmark::RegisterBenchmark("BM_TranslateGeneric/2M_ad", BM_TranslateGeneric<21, true>);
  benchmark::RegisterBenchmark("BM_TranslateHandWritten/2M_ad", BM_TranslateHandWritten<21, true>);
  return true;
}();

}  // namespace
}  // namespace ptsim::bench
