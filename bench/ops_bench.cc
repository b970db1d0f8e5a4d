// Map and unmap throughput of the generic Space<fmt::X86_64L4> operations
// (src/ops/space.h) in one reused Arena: every iteration allocates the
// tables it needs and the unmap frees them again (through the deferred
// list and the allocator's quarantine), so the allocator is in the loop.
//
//   BM_MapUnmap4K   map 512 pages (one full page table) with forced 4 KiB
//                   leaves, then unmap them: items = 4 KiB leaves.
//   BM_MapUnmap2M   map 1 GiB best-fit (VA and OA 2 MiB aligned, OA not
//                   1 GiB aligned, so 512 leaves of 2 MiB), then unmap:
//                   items = 2 MiB leaves.
//   BM_UnmapSplit   map one 2 MiB leaf, unmap one 4 KiB page in its middle
//                   (splitting it into 512 4 KiB leaves), then unmap the
//                   whole 2 MiB: items = 4 KiB pages unmapped (512).
// items_per_second is leaves (or pages) mapped and unmapped per second.
// These have no hand-written counterpart; they track the ops' own cost.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "src/formats/x86_64.h"
#include "src/harness/executor.h"
#include "src/ops/space.h"

namespace ptsim::bench {
namespace {

constexpr uint64_t kVa = 0x00007f3a00000000ull;  // 1 GiB aligned, user half
constexpr uint64_t kOa = 0x0000000304600000ull;  // 2 MiB aligned, not 1 GiB aligned
constexpr uint64_t k4K = uint64_t{1} << 12;
constexpr uint64_t k2M = uint64_t{1} << 21;

struct OpsEnv {
  Arena arena;
  fmt::X86_64L4 f{FormatConfig::Defaults(fmt::X86_64L4::kKnobs)};
  Space<fmt::X86_64L4> space{f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1}};

  bool Init(benchmark::State& state) {
    if (!space.Init().ok()) {
      state.SkipWithError("cannot allocate the root table");
      return false;
    }
    return true;
  }
  // After the loop: everything unmapped and freed but the root.
  void CheckEmpty(benchmark::State& state) {
    if (space.leaves() != 0 || arena.alloc().stats().live != 1 || arena.alloc().stats().pending != 0) {
      state.SkipWithError("space not empty after the loop");
    }
  }
};

bool Ok(benchmark::State& state, const absl::Status& st) {
  if (st.ok()) return true;
  state.SkipWithError(st.ToString().c_str());
  return false;
}

void BM_MapUnmap4K(benchmark::State& state) {
  OpsEnv env;
  if (!env.Init(state)) return;
  constexpr uint64_t kPages = 512;
  const VaRange r{Va(kVa), Va(kVa + kPages * k4K - 1)};
  for (auto _ : state) {
    if (!Ok(state, env.space.Map(r, Oa(kOa), LeafAttrs::Rw(), 12))) break;
    if (!Ok(state, env.space.Unmap(r))) break;
  }
  env.CheckEmpty(state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPages));
}
BENCHMARK(BM_MapUnmap4K);

void BM_MapUnmap2M(benchmark::State& state) {
  OpsEnv env;
  if (!env.Init(state)) return;
  constexpr uint64_t kLeaves = 512;
  const VaRange r{Va(kVa), Va(kVa + kLeaves * k2M - 1)};
  // Best fit must give 2 MiB leaves here, not one 1 GiB leaf.
  if (!Ok(state, env.space.Map(r, Oa(kOa), LeafAttrs::Rw()))) return;
  if (env.space.leaves() != kLeaves) {
    state.SkipWithError("best-fit map did not make 512 leaves of 2 MiB");
    return;
  }
  if (!Ok(state, env.space.Unmap(r))) return;
  for (auto _ : state) {
    if (!Ok(state, env.space.Map(r, Oa(kOa), LeafAttrs::Rw()))) break;
    if (!Ok(state, env.space.Unmap(r))) break;
  }
  env.CheckEmpty(state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLeaves));
}
BENCHMARK(BM_MapUnmap2M);

void BM_UnmapSplit(benchmark::State& state) {
  OpsEnv env;
  if (!env.Init(state)) return;
  const VaRange whole{Va(kVa), Va(kVa + k2M - 1)};
  const VaRange middle{Va(kVa + 256 * k4K), Va(kVa + 257 * k4K - 1)};
  // Check once that the middle unmap really splits: 511 leaves remain.
  if (!Ok(state, env.space.Map(whole, Oa(kOa), LeafAttrs::Rw(), 21))) return;
  if (!Ok(state, env.space.Unmap(middle))) return;
  if (env.space.leaves() != 511) {
    state.SkipWithError("unmapping a page of a 2 MiB leaf did not leave 511 leaves");
    return;
  }
  if (!Ok(state, env.space.Unmap(whole))) return;
  for (auto _ : state) {
    if (!Ok(state, env.space.Map(whole, Oa(kOa), LeafAttrs::Rw(), 21))) break;
    if (!Ok(state, env.space.Unmap(middle))) break;
    if (!Ok(state, env.space.Unmap(whole))) break;
  }
  env.CheckEmpty(state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (k2M / k4K)));
}
BENCHMARK(BM_UnmapSplit);

}  // namespace
}  // namespace ptsim::bench
