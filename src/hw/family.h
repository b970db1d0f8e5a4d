// What the rest of ptsim needs of a format family's hardware rules: the CPU
// mode they read, declared as data (named knobs, as a format's
// configuration is), a way to build the family's Rules for one access in
// one mode, and the family's fault in neutral terms and in its own words.
//
// HwRules<F> is specialised next to each architecture's rules
// (src/hw/*_mode.h); the primary template is the neutral rules, for formats
// that model no architecture (the fake format). HwTranslate() is the one
// entry point: the registry's façade, the CLI and the harnesses call it and
// never name an architecture.
#ifndef PTSIM_HW_FAMILY_H_
#define PTSIM_HW_FAMILY_H_

#include <array>
#include <string>
#include <string_view>

#include "src/mmu/mmu.h"
#include "src/pt/config.h"
#include "src/walk/walk.h"

namespace ptsim {

template <typename F>
struct HwRules {
  static constexpr std::array<ConfigKnob, 1> kModeKnobs = {{
      {"user", 0, 1, 0, "1: an unprivileged (user-mode) access"},
  }};
  // The mode setting that makes an access a user-mode one (`--user`).
  static constexpr std::string_view kUserSetting = "user=1";
  static constexpr bool kHasExec = true;  // false: the hardware makes no instruction fetches
  static NeutralRules Make(const F&, const FormatConfig& mode, AccessType t) {
    return NeutralRules{Access{t, mode.Get(0) != 0}, MmuOptions{}};
  }
  static ptsim::Fault Neutral(const F&, Va, const ptsim::Fault& x) { return x; }
  static std::string Describe(const F&, const ptsim::Fault& x) { return FaultKindName(x.kind); }
};

// A walk under a family's rules, seen from outside the family.
struct HwWalkResult {
  bool ok = false;
  Translation t{};
  Fault fault{};       // the fault in neutral terms (kind, level)
  std::string detail;  // the fault as the architecture reports it (#PF error code, ESR, scause, ...)
  int restarts = 0;
};

template <PageTableFormat F>
std::span<const ConfigKnob> ModeKnobsOf() {
  return std::span<const ConfigKnob>(HwRules<F>::kModeKnobs);
}

// Walks `va` for an access of type `t` in CPU `mode` (values of
// HwRules<F>::kModeKnobs) with the family's rules. The walk sets
// accessed/dirty as that hardware does.
template <PageTableFormat F>
HwWalkResult HwTranslate(const F& f, PhysMem* mem, Oa root, Va va, AccessType t, const FormatConfig& mode,
                         WalkTrace* trace = nullptr) {
  using H = HwRules<F>;
  HwWalkResult out;
  if (!H::kHasExec && t == AccessType::kExec) {
    if (trace) trace->count = 0;
    out.fault = {FaultKind::kPermission, f.TopLevel()};
    out.detail = "this hardware makes no instruction fetches";
    return out;
  }
  const auto w = Walk(f, mem, root, va, H::Make(f, mode, t), trace);
  out.ok = w.ok;
  out.t = w.t;
  out.restarts = w.restarts;
  if (!w.ok) {
    out.fault = H::Neutral(f, va, w.fault);
    out.detail = H::Describe(f, w.fault);
  }
  return out;
}

}  // namespace ptsim

#endif  // PTSIM_HW_FAMILY_H_
