// Instruction counts per translation, for a verdict that does not depend on
// a quiet machine: runs exactly `rounds` passes over the 65536 fixture VAs
// with one walker, inside a function named WalkLoop*, so that
//
//   valgrind --tool=callgrind --toggle-collect='WalkLoop*'
//       bench/walk_count <generic|hand> <4k|2m> <0|1> [rounds]   (one line)
//
// counts only the walks (plus the same loop and DoNotOptimize as in
// ptsim_bench). Instructions per translation = Ir / (rounds * 65536); the
// generic/hand-written ratio of that is the verdict (bench/compare.sh
// --callgrind does all of it). The third argument is update_ad; with 1 the
// fixture is walked once before counting, as in ptsim_bench.
//
//   walk_count check [trials]   runs every walker check, and exits 0.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/walkers.h"

namespace ptsim::bench {
namespace {

struct Sink {
  void operator()(WalkResult& r) const { benchmark::DoNotOptimize(r); }
};

}  // namespace
}  // namespace ptsim::bench

using ptsim::bench::Sink;
using ptsim::bench::TranslateFixture;

// extern "C" so that callgrind's --toggle-collect matches plain names.
extern "C" {
__attribute__((noinline)) void WalkLoopGeneric(TranslateFixture* fx, int rounds) {
  for (int i = 0; i < rounds; ++i) ptsim::bench::WalkAllGeneric<false>(*fx, Sink{});
}
__attribute__((noinline)) void WalkLoopGenericAd(TranslateFixture* fx, int rounds) {
  for (int i = 0; i < rounds; ++i) ptsim::bench::WalkAllGeneric<true>(*fx, Sink{});
}
__attribute__((noinline)) void WalkLoopHand(TranslateFixture* fx, int rounds) {
  for (int i = 0; i < rounds; ++i) ptsim::bench::WalkAllHand<false>(*fx, Sink{});
}
__attribute__((noinline)) void WalkLoopHandAd(TranslateFixture* fx, int rounds) {
  for (int i = 0; i < rounds; ++i) ptsim::bench::WalkAllHand<true>(*fx, Sink{});
}
}

int main(int argc, char** argv) {
  const auto usage = [&] {
    std::fprintf(stderr, "usage: %s <generic|hand> <4k|2m> <0|1> [rounds]\n       %s check [trials]\n", argv[0],
                 argv[0]);
    return 2;
  };
  if (argc >= 2 && std::strcmp(argv[1], "check") == 0) {
    const int trials = argc >= 3 ? std::atoi(argv[2]) : 100000;
    ptsim::bench::CheckRandomEntries(trials);
    for (const unsigned lg2 : {12u, 21u}) {
      TranslateFixture fx(lg2);
      ptsim::bench::CheckWalkersAgree(fx);
      ptsim::bench::CheckAdAgreeAndWarm(fx);
    }
    std::printf("walkers agree (%d random trials, both fixtures, A/D on and off)\n", trials);
    return 0;
  }
  if (argc < 4 || argc > 5) return usage();
  const std::string walker = argv[1], leaf = argv[2], ad = argv[3];
  const int rounds = argc == 5 ? std::atoi(argv[4]) : 4;
  if ((walker != "generic" && walker != "hand") || (leaf != "4k" && leaf != "2m") || (ad != "0" && ad != "1") ||
      rounds <= 0) {
    return usage();
  }
  TranslateFixture fx(leaf == "4k" ? 12 : 21);
  ptsim::bench::CheckWalkersAgree(fx);
  if (ad == "1") ptsim::bench::CheckAdAgreeAndWarm(fx);
  if (walker == "generic") {
    ad == "1" ? WalkLoopGenericAd(&fx, rounds) : WalkLoopGeneric(&fx, rounds);
  } else {
    ad == "1" ? WalkLoopHandAd(&fx, rounds) : WalkLoopHand(&fx, rounds);
  }
  std::printf("%s %s update_ad=%s: %llu translations\n", walker.c_str(), leaf.c_str(), ad.c_str(),
              static_cast<unsigned long long>(rounds) * fx.vas.size());
  return 0;
}
