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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "src/hw/invalidate.h"
#include "src/mmu/mmu.h"
#include "src/pt/config.h"
#include "src/walk/walk.h"

namespace ptsim {

// Which of the QEMU oracle's machines runs a format's walks
// (tools/cli/oracle/), and the variant of it: x86 the paging mode (0 32-bit,
// 1 PAE, 2 4-level, 3 5-level), RISC-V satp.MODE (1 Sv32, 8 Sv39, 9 Sv48,
// 10 Sv57), ARMv8 the granule in KiB.
enum class QemuMachine : uint8_t { kNone, kX86, kRiscv, kArmV8, kArmV7 };
struct QemuTarget {
  QemuMachine machine = QemuMachine::kNone;
  int variant = 0;
};

// The TLB invalidation pieces of HwRules<F>, for a family to inherit: none,
// or the architecture's invalidator (src/hw/invalidate.h) and whether its
// TLB entries carry an ASID / PCID / domain tag.
struct NoInvalidator {
  static constexpr bool kHasInvalidator = false;
  static constexpr bool kTaggedTlb = false;
  static std::unique_ptr<hw::ArchInvalidator> MakeInvalidator(hw::Tlb*, hw::Asid, unsigned,
                                                              const hw::InvalidatorOptions&) {
    return nullptr;
  }
};
template <typename Inv, bool kTagged>
struct WithInvalidator {
  static constexpr bool kHasInvalidator = true;
  static constexpr bool kTaggedTlb = kTagged;
  static std::unique_ptr<hw::ArchInvalidator> MakeInvalidator(hw::Tlb* t, hw::Asid asid, unsigned page_lg2,
                                                              const hw::InvalidatorOptions& o) {
    return std::make_unique<Inv>(t, asid, page_lg2, o);
  }
};

// A verdict (HwRules<F>::Verdict): nothing when `allowed`, else a
// permission fault.
inline std::optional<FaultKind> PermissionUnless(bool allowed) {
  return allowed ? std::nullopt : std::optional<FaultKind>(FaultKind::kPermission);
}

// The pieces a family declares, one specialisation of HwRules<F> each
// (src/hw/*_mode.h): the mode knobs, the rules, the fault in neutral and
// architectural words, the TLB invalidation instructions, the QEMU machine.
template <typename F>
struct HwRules : NoInvalidator {
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
  static constexpr QemuTarget kQemu = {};
  // The manual's verdict on an access of type `t` in `mode` to a leaf that
  // the format encoded from the neutral attributes `a` (accessed and dirty
  // as the leaf has them now), under tables that restrict nothing, as Space
  // writes them: nullopt when the access goes through, else the fault in
  // neutral terms. Each family writes it from the manual's permission
  // tables over neutral attributes, apart from its Rules, which decode
  // descriptor bits; the executor compares the two on every access.
  static std::optional<FaultKind> Verdict(const F&, LeafAttrs a, AccessType t, const FormatConfig& mode) {
    return PermissionUnless(Permits(a, Access{t, mode.Get(0) != 0}));
  }
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

// Where a walk resumes after a paging-structure-cache hit (src/hw/tlb.h):
// the table the cached entry points to, its level, and the table entries
// from the root down to the cached one, which the family's rules fold again
// without reading memory, as the cache holds what they restricted
// (Intel SDM Vol. 3A §4.10.3.2).
struct HwResume {
  Oa table;
  Level level;
  std::span<const WalkStep> above;
};

// Walks `va` for an access of type `t` in CPU `mode` (values of
// HwRules<F>::kModeKnobs) with the family's rules. With `write_back` the
// walk sets accessed/dirty as that hardware does; without, it only reads.
// With `resume` the walk starts below a cached table entry.
template <PageTableFormat F>
HwWalkResult HwTranslate(const F& f, PhysMem* mem, Oa root, Va va, AccessType t, const FormatConfig& mode,
                         WalkTrace* trace = nullptr, bool write_back = true, const HwResume* resume = nullptr) {
  using H = HwRules<F>;
  HwWalkResult out;
  if (!H::kHasExec && t == AccessType::kExec) {
    if (trace) trace->count = 0;
    out.fault = {FaultKind::kPermission, f.TopLevel()};
    out.detail = "this hardware makes no instruction fetches";
    return out;
  }
  const auto rules = H::Make(f, mode, t);
  using R = decltype(rules);
  auto w = [&] {
    if (resume == nullptr || resume->above.empty() || !IsCanonical(f, va)) {
      return Walk(f, mem, root, va, rules, trace, write_back);
    }
    typename R::Path path{};
    for (const WalkStep& s : resume->above) (void)rules.Entry(f, s.raw, s.level, va, path);
    if constexpr (HasLevelSkipping<F>()) {
      const Level cached = resume->above.back().level;
      if ((va.value() & SkippedVaMask(f, cached, resume->level)) != 0) {
        if (trace) trace->count = 0;
        BasicWalkResult<typename R::Fault> skipped;
        skipped.fault = rules.SkippedIndex(f, va, SkipFaultLevel(f, va, cached, resume->level));
        return skipped;
      }
    }
    return WalkFrom(f, mem, WalkStart<typename R::Path>{resume->table, resume->level, path}, va, rules, trace,
                    write_back);
  }();
  out.ok = w.ok;
  out.t = w.t;
  out.restarts = w.restarts;
  if (!w.ok) {
    out.fault = H::Neutral(f, va, w.fault);
    out.detail = H::Describe(f, w.fault);
  }
  return out;
}

// What the family's rules allow at `va` in `mode`, as "rwx" with '-' for
// each access refused. An access that fails only because accessed/dirty is
// clear and the hardware leaves it to software (ARM AF, Svade) counts as
// allowed: software sets the flag and the access goes through. Reads only.
template <PageTableFormat F>
std::string HwPermsAt(const F& f, PhysMem* mem, Oa root, Va va, const FormatConfig& mode) {
  std::string s = "---";
  const AccessType types[] = {AccessType::kRead, AccessType::kWrite, AccessType::kExec};
  for (int i = 0; i < 3; ++i) {
    const HwWalkResult r = HwTranslate(f, mem, root, va, types[i], mode, nullptr, /*write_back=*/false);
    if (r.ok || r.fault.kind == FaultKind::kAccessedDirty) s[static_cast<size_t>(i)] = "rwx"[i];
  }
  return s;
}

}  // namespace ptsim

#endif  // PTSIM_HW_FAMILY_H_
