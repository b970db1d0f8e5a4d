// tlb_fuzzer: an ops program (src/harness/program.h, the same input as
// ops_fuzzer) run on one address space with the TLB model of src/hw/tlb.h
// attached through the architecture's correct invalidator, and a
// non-coherent walker's device view (src/hw/noncoherent.h) fed by Space's
// write-backs. `access` ops are lookups that fill the caches. After every
// map / unmap / protect, any translation a cache would serve differently
// from a fresh walk, and any walk that reads an unflushed line, is a
// finding: the report is printed and the process aborts.
//
// Formats whose family models no invalidator (HwRules<F>::kHasInvalidator:
// ARM stage 2, ARMv7, the fake format) are skipped; `ptsim formats --json`
// says which.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "src/formats/all_formats.h"
#include "src/harness/executor.h"
#include "src/harness/program.h"
#include "src/hw/all_families.h"
#include "src/hw/invalidate.h"
#include "src/hw/noncoherent.h"
#include "src/hw/cached_mmu.h"
#include "src/hw/tlb.h"

namespace {

using ptsim::hw::Asid;

[[noreturn]] void Die(const ptsim::Program& p, int step, const std::string& what, const std::string& sig) {
  std::fprintf(stderr, "%s\nafter op %d: %s\nAssertion failure: %s\n", ptsim::ToText(p).c_str(), step, what.c_str(),
               sig.c_str());
  std::fflush(stderr);
  std::abort();
}

// PTSIM_TLB_FUZZ_BUG=leaf_only|forget_global|wrong_asid plants one of the
// invalidators' bugs, to see the fuzzer find it (the default is none).
ptsim::hw::Bug PlantedBug() {
  static const ptsim::hw::Bug bug = [] {
    const char* e = std::getenv("PTSIM_TLB_FUZZ_BUG");
    for (ptsim::hw::Bug b : {ptsim::hw::Bug::kLeafOnly, ptsim::hw::Bug::kForgetGlobal, ptsim::hw::Bug::kWrongAsid}) {
      if (e != nullptr && std::string_view(e) == ptsim::hw::BugName(b)) return b;
    }
    return ptsim::hw::Bug::kNone;
  }();
  return bug;
}

// Whether a map would write more than `limit` leaves (the executor's
// per-op limit keeps one input cheap; without a model, count the best-fit
// greedy choice directly: largest size with both addresses aligned).
template <ptsim::PageTableFormat F>
bool TooManyLeaves(const F& f, const ptsim::Op& op, uint64_t limit) {
  if (op.kind != ptsim::OpKind::kMap) return false;
  const uint64_t sizes = ptsim::AllLeafSizesLg2(f);
  uint64_t va = op.range.first.value(), oa = op.oa.value(), n = 0;
  for (;;) {
    unsigned s = op.force_lg2;
    if (s == 0) {
      for (uint64_t m = sizes; m != 0; m &= ~(uint64_t{1} << ptsim::FloorLog2(m))) {
        s = ptsim::FloorLog2(m);
        const bool fits = op.range.last.value() - va >= ptsim::LowMask(s);
        if (ptsim::IsAligned(va, s) && ptsim::IsAligned(oa, s) && fits) break;
      }
    }
    if (++n > limit) return true;
    if (s == 0 || s >= 64 || op.range.last.value() - va <= ptsim::LowMask(s)) return false;
    va += uint64_t{1} << s;
    oa += uint64_t{1} << s;
  }
}

template <ptsim::PageTableFormat F>
void Run(const ptsim::Program& p, ptsim::Arena& arena) {
  using H = ptsim::HwRules<F>;
  if constexpr (!H::kHasInvalidator) return;
  const F f(p.config);
  ptsim::hw::Tlb tlb(ptsim::hw::TlbConfig{.leaf_capacity = 16, .walk_capacity_per_level = 4, .pcid = H::kTaggedTlb});
  tlb.set_current(1);
  const Asid asid = tlb.current();  // 0 without tags
  const ptsim::hw::InvalidatorOptions o{.bug = PlantedBug(), .may_global = true, .wrong_asid = asid + 1};
  auto inv = H::MakeInvalidator(&tlb, asid, f.ItemLg2(ptsim::Level(0)), o);
  ptsim::hw::DeviceView dv(&arena.mem());
  ptsim::Space<F> space(f, ptsim::SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), inv.get(), 1, &dv});
  if (!space.Init().ok()) return;
  ptsim::hw::CachedMmu<F> mmu(f, &arena.mem(), &tlb);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const ptsim::Op& op = p.ops[i];
    absl::Status st;
    switch (op.kind) {
      case ptsim::OpKind::kAccess:
        (void)mmu.Lookup(space.root(), asid, op.va);
        continue;
      case ptsim::OpKind::kMap:
        if (TooManyLeaves(f, op, 512)) continue;
        st = space.Map(op.range, op.oa, op.attrs, op.force_lg2);
        break;
      case ptsim::OpKind::kUnmap:
        st = space.Unmap(op.range);
        break;
      case ptsim::OpKind::kProtect:
        st = space.Protect(op.range, op.attrs);
        break;
    }
    if (st.code() == absl::StatusCode::kResourceExhausted) break;
    const uint64_t last_page = op.range.last.value() & ~ptsim::LowMask(f.ItemLg2(ptsim::Level(0)));
    const std::vector<ptsim::Va> probes{op.range.first, ptsim::CanonicalVa(f, last_page)};
    const auto stale = ptsim::hw::CheckCaches(mmu, space.root(), asid, probes);
    if (!stale.empty()) Die(p, static_cast<int>(i), stale[0].ToString(), std::string(F::kName) + "-stale-tlb");
    const auto dirty = ptsim::hw::CheckWalker(f, dv, space.root(), probes);
    if (!dirty.empty()) Die(p, static_cast<int>(i), dirty[0].ToString(), std::string(F::kName) + "-unflushed");
  }
  space.Destroy();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptsim::Arena* arena = new ptsim::Arena();
  const ptsim::Program p = ptsim::DecodeBinary(absl::MakeConstSpan(data, size));
  arena->Reset();
  ptsim::AllFormats::WithName(p.format, [&]<typename F>() { Run<F>(p, *arena); });
  return 0;
}
