#include "src/harness/tlb_runner.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/strings.h"
#include "src/formats/all_formats.h"
#include "src/harness/codec.h"
#include "src/hw/all_families.h"
#include "src/hw/cached_mmu.h"
#include "src/hw/invalidate.h"
#include "src/hw/noncoherent.h"
#include "src/hw/tlb.h"

namespace ptsim {
namespace {

using hw::Asid;

hw::Bug BugOf(uint8_t b) {
  static constexpr hw::Bug kBugs[kInvalidatorBugCount] = {hw::Bug::kNone, hw::Bug::kLeafOnly,
                                                          hw::Bug::kForgetGlobal, hw::Bug::kWrongAsid};
  PTSIM_CHECK(b < kInvalidatorBugCount, "invalidator bug %d out of range", b);
  // The program's names must be the hardware layer's.
  PTSIM_CHECK(InvalidatorBugName(b) == hw::BugName(kBugs[b]), "invalidator bug %d is named differently", b);
  return kBugs[b];
}

// Whether a map would write more than `limit` leaves (the executor's
// per-op limit keeps one input cheap; without a model, count the best-fit
// greedy choice directly: largest size with both addresses aligned).
template <PageTableFormat F>
bool TooManyLeaves(const F& f, const Op& op, uint64_t limit) {
  if (op.kind != OpKind::kMap) return false;
  const uint64_t sizes = AllLeafSizesLg2(f);
  uint64_t va = op.range.first.value(), oa = op.oa.value(), n = 0;
  for (;;) {
    unsigned s = op.force_lg2;
    if (s == 0) {
      for (uint64_t m = sizes; m != 0; m &= ~(uint64_t{1} << FloorLog2(m))) {
        s = FloorLog2(m);
        const bool fits = op.range.last.value() - va >= LowMask(s);
        if (IsAligned(va, s) && IsAligned(oa, s) && fits) break;
      }
    }
    if (++n > limit) return true;
    if (s == 0 || s >= 64 || op.range.last.value() - va <= LowMask(s)) return false;
    va += uint64_t{1} << s;
    oa += uint64_t{1} << s;
  }
}

template <PageTableFormat F>
TlbRunReport Run(const Program& p, Arena& arena) {
  // The family's own TLB tagging and invalidator (HwRules<F>, src/hw/family.h);
  // a family that models none is not checked.
  using H = HwRules<F>;
  TlbRunReport rep;
  const F f(p.config);
  hw::Tlb tlb(hw::TlbConfig{.leaf_capacity = 16, .walk_capacity_per_level = 4, .pcid = H::kTaggedTlb});
  tlb.set_current(1);
  const Asid asid = tlb.current();  // 0 without tags
  std::unique_ptr<hw::ArchInvalidator> inv;
  if (p.run.tlb) {
    const hw::InvalidatorOptions o{.bug = BugOf(p.run.invalidator_bug), .may_global = true, .wrong_asid = asid + 1};
    inv = H::MakeInvalidator(&tlb, asid, f.ItemLg2(Level(0)), o);
    if (!inv) return rep;
  }
  hw::DeviceView dv(&arena.mem());
  Space<F> space(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), inv.get(), 1,
                             p.run.noncoherent ? &dv : nullptr});
  if (!space.Init().ok()) return rep;
  rep.ran = true;
  hw::CachedMmu<F> mmu(f, &arena.mem(), &tlb);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    rep.ops_run = static_cast<int>(i) + 1;
    if (op.kind == OpKind::kAccess) {
      if (p.run.tlb) (void)mmu.Lookup(space.root(), asid, op.va);
      continue;
    }
    if (op.kind == OpKind::kMap && TooManyLeaves(f, op, 512)) continue;
    const absl::Status st = *ApplyTableOp(space, op);
    if (st.code() == absl::StatusCode::kResourceExhausted) break;
    const uint64_t last_page = op.range.last.value() & ~LowMask(f.ItemLg2(Level(0)));
    const std::vector<Va> probes{op.range.first, CanonicalVa(f, last_page)};
    if (p.run.tlb) {
      const auto stale = hw::CheckCaches(mmu, space.root(), asid, probes);
      if (!stale.empty()) {
        rep.failing_op = static_cast<int>(i);
        rep.check = "stale-tlb";
        rep.message = stale[0].ToString();
        return rep;
      }
    }
    if (p.run.noncoherent) {
      const auto dirty = hw::CheckWalker(f, dv, space.root(), probes);
      if (!dirty.empty()) {
        rep.failing_op = static_cast<int>(i);
        rep.check = "unflushed";
        rep.message = dirty[0].ToString();
        return rep;
      }
    }
  }
  space.Destroy();
  return rep;
}

}  // namespace

TlbRunReport RunWithCaches(const Program& p, Arena& arena) {
  arena.Reset();
  TlbRunReport rep;
  AllFormats::WithName(p.format, [&]<typename F>() { rep = Run<F>(p, arena); });
  return rep;
}

std::vector<uint8_t> StampTlbSettings(absl::Span<const uint8_t> bytes, std::optional<uint8_t> bug,
                                      uint8_t parent_bug) {
  const bool had_settings = !bytes.empty() && bytes[0] >= kProgramVersionSettings && IsProgramVersion(bytes[0]);
  // A header cut short is completed with zero bytes (format id 0 picks the
  // registry's first format; a zero knob byte is the knob's minimum), so
  // that the settings byte lands where decoders read it.
  std::vector<uint8_t> b(std::max<size_t>(bytes.size(), 5), 0);
  std::copy(bytes.begin(), bytes.end(), b.begin());
  b[0] = had_settings ? bytes[0] : kProgramVersionSettings;  // a v3 program keeps its mode
  ByteReader r(b);
  uint8_t version = 0;
  r.U8(&version);
  FormatConfig cfg;
  const size_t at = 5 + ReadFormatHeader(r, &cfg).knobs.size();
  if (b.size() < at) b.resize(at, 0);
  // A version 2 or 3 program's own settings byte is replaced; anything else
  // gains one, so that a version 1 program's ops stay what they were.
  const size_t rest = had_settings && at < b.size() ? at + 1 : at;
  std::vector<uint8_t> out(at + 1 + (b.size() - rest));
  std::copy(b.begin(), b.begin() + static_cast<ptrdiff_t>(at), out.begin());
  out[at] = static_cast<uint8_t>(1 | 2 | (bug.value_or(parent_bug) & 3) << 2);
  std::copy(b.begin() + static_cast<ptrdiff_t>(rest), b.end(), out.begin() + static_cast<ptrdiff_t>(at) + 1);
  return out;
}

std::string FormatTlbReport(const Program& p, const TlbRunReport& r) {
  std::string s = "=== program\n" + ToText(p);
  if (!r.ran) {
    absl::StrAppend(&s, "=== not run: ", p.format, " has no modelled invalidator\n");
    return s;
  }
  absl::StrAppend(&s, "=== ", r.ops_run, " of ", p.ops.size(), " ops run with",
                  p.run.tlb ? absl::StrCat(" the TLB (invalidator bug: ", Sv(InvalidatorBugName(p.run.invalidator_bug)), ")")
                            : "",
                  p.run.tlb && p.run.noncoherent ? " and" : "", p.run.noncoherent ? " a non-coherent walker" : "",
                  "\n");
  if (r.ok()) {
    absl::StrAppend(&s, "=== every check held\n");
  } else {
    absl::StrAppend(&s, "=== after op ", r.failing_op + 1, " (", OpToText(p.ops[r.failing_op]), "): ", r.check, "\n",
                    r.message, "\n");
  }
  return s;
}

}  // namespace ptsim
