// The ARMv8 (VMSAv8-64) families as the rest of ptsim sees them
// (src/hw/family.h): the PE state as named knobs, the rules for one access,
// and the fault in neutral terms and as ESR_ELx reports it (Arm ARM DDI 0487
// D8 "MMU faults", D17 ISS encodings). TCR.HA and FEAT_XNX are the formats'
// own knobs (`ha`, `xnx`).
#ifndef PTSIM_HW_ARMV8_MODE_H_
#define PTSIM_HW_ARMV8_MODE_H_

#include <array>
#include <string>

#include "absl/strings/str_format.h"
#include "src/hw/armv8.h"
#include "src/hw/family.h"

namespace ptsim {
namespace hw::armv8 {

inline AccessKind KindOf(AccessType t) {
  return t == AccessType::kWrite ? AccessKind::kWrite : t == AccessType::kExec ? AccessKind::kFetch : AccessKind::kRead;
}

// `top` is the format's top level: an input address out of range is
// reported at Arm level 0 whatever the start level (AArch64.S1Walk), and in
// neutral terms at the top level.
inline ptsim::Fault NeutralFault(const Fault& x, bool canonical, Level top) {
  const Level l(3 - x.arm_level);  // armv8_tables.h: ptsim level 0 is Arm L3
  switch (x.type) {
    case FaultType::kTranslation:
      return canonical ? ptsim::Fault{FaultKind::kNotPresent, l} : ptsim::Fault{FaultKind::kNonCanonical, top};
    case FaultType::kAddressSize:
      return {FaultKind::kReserved, l};
    case FaultType::kAccessFlag:
      return {FaultKind::kAccessedDirty, l};
    case FaultType::kWalkExternal:
      return {FaultKind::kOutsideMemory, l};
    case FaultType::kPermission:
    case FaultType::kNone:
      break;
  }
  return {FaultKind::kPermission, l};
}

inline std::string DescribeFault(const Fault& x) {
  return absl::StrFormat("%s fault, level %d, stage %d: %s 0x%02x%s", FaultTypeName(x.type), x.arm_level,
                         x.stage2 ? 2 : 1, x.fetch ? "IFSC" : "DFSC", x.fsc, x.fetch ? "" : x.wnr ? " WnR=1" : " WnR=0");
}

}  // namespace hw::armv8

template <fmt::Granule G>
struct HwRules<fmt::ArmV8S1<G>> : WithInvalidator<hw::ArmInvalidator, true> {
  using F = fmt::ArmV8S1<G>;
  static constexpr std::array<ConfigKnob, 6> kModeKnobs = {{
      {"el", 0, 1, 1, "exception level of the access: 0 (EL0, user) or 1 (EL1, kernel)"},
      {"pan", 0, 1, 0, "PSTATE.PAN: EL1 data accesses to EL0-accessible memory fault"},
      {"epan", 0, 1, 0, "SCTLR_EL1.EPAN: PAN also covers EL0-executable memory"},
      {"wxn", 0, 1, 0, "SCTLR_EL1.WXN: writable memory is execute-never"},
      {"hd", 0, 1, 0, "TCR_EL1.HD: hardware dirty state with DBM (needs the format's ha=1)"},
      {"unpriv", 0, 1, 0, "an LDTR/STTR-style access at EL1, checked as EL0's"},
  }};
  static constexpr std::string_view kUserSetting = "el=0";
  static constexpr bool kHasExec = true;
  static constexpr QemuTarget kQemu = {QemuMachine::kArmV8, G == fmt::Granule::k4K    ? 4
                                                            : G == fmt::Granule::k16K ? 16
                                                                                       : 64};

  static hw::armv8::Rules<F, false> Make(const F& f, const FormatConfig& m, AccessType t) {
    using hw::armv8::El;
    const hw::armv8::Mode mode{.el = m.Get(0) == 0 ? El::kEl0 : El::kEl1,
                               .pan = m.Get(1) != 0,
                               .epan = m.Get(2) != 0,
                               .wxn = m.Get(3) != 0,
                               .hd = m.Get(4) != 0,
                               .unprivileged = m.Get(5) != 0};
    return hw::armv8::Rules<F, false>(f, hw::armv8::KindOf(t), mode);
  }
  static Fault Neutral(const F& f, Va va, const hw::armv8::Fault& x) {
    return hw::armv8::NeutralFault(x, IsCanonical(f, va), f.TopLevel());
  }
  static std::string Describe(const F&, const hw::armv8::Fault& x) { return hw::armv8::DescribeFault(x); }
  // DDI 0487 D8 over neutral attributes as the format encodes them
  // (src/formats/armv8.h): `u` is EL0 access (AP[1]), `w` AP[2] clear, `x`
  // execution by the page's owner only (EL0 for a user page, EL1 for a
  // kernel one). The Access flag fault (HA = 0, AF = 0) comes before
  // permission; PAN removes EL1 data access to EL0-accessible memory; WXN
  // makes writable memory execute-never; EL0-writable memory is never
  // executable at EL1. EPAN adds nothing here: Space's kernel pages are
  // never EL0-executable.
  static std::optional<FaultKind> Verdict(const F& f, LeafAttrs a, AccessType t, const FormatConfig& m) {
    if (!a.Has(Attr::kAccessed) && !hw::armv8::internal::HardwareAf(f)) return FaultKind::kAccessedDirty;
    const bool fetch = t == AccessType::kExec;
    const bool el0 = m.Get(0) == 0 || (m.Get(5) != 0 && !fetch);  // LDTR/STTR check as EL0
    const bool user_page = a.Has(Attr::kUser);
    if (fetch) {
      const bool owner = user_page == el0;
      return PermissionUnless(owner && a.Has(Attr::kExec) && !(m.Get(3) != 0 && a.Has(Attr::kWrite)));
    }
    if (el0) return PermissionUnless(user_page && (t == AccessType::kRead || a.Has(Attr::kWrite)));
    if (m.Get(1) != 0 && user_page) return FaultKind::kPermission;  // PAN
    return PermissionUnless(t == AccessType::kRead || a.Has(Attr::kWrite));
  }
};

// Stage 2 invalidation (TLBI IPAS2E1 and friends, VMIDs) is not modelled,
// and QEMU's debug walk has no stage 2 view.
template <fmt::Granule G>
struct HwRules<fmt::ArmV8S2<G>> : NoInvalidator {
  using F = fmt::ArmV8S2<G>;
  static constexpr std::array<ConfigKnob, 2> kModeKnobs = {{
      {"el", 0, 1, 1, "exception level of the stage 1 access (decides XN[1:0] with FEAT_XNX)"},
      {"hd", 0, 1, 0, "VTCR_EL2.HD: hardware dirty state with DBM (needs the format's ha=1)"},
  }};
  static constexpr std::string_view kUserSetting = "el=0";
  static constexpr bool kHasExec = true;
  static constexpr QemuTarget kQemu = {};

  static hw::armv8::Rules<F, true> Make(const F& f, const FormatConfig& m, AccessType t) {
    using hw::armv8::El;
    const hw::armv8::Mode mode{.el = m.Get(0) == 0 ? El::kEl0 : El::kEl1, .hd = m.Get(1) != 0};
    return hw::armv8::Rules<F, true>(f, hw::armv8::KindOf(t), mode);
  }
  static Fault Neutral(const F& f, Va va, const hw::armv8::Fault& x) {
    return hw::armv8::NeutralFault(x, IsCanonical(f, va), f.TopLevel());
  }
  static std::string Describe(const F&, const hw::armv8::Fault& x) { return hw::armv8::DescribeFault(x); }
  // D8, stage 2: the Access flag fault first (HA = 0, AF = 0), then S2AP
  // for reads and writes and XN for fetches, whatever the EL (Space writes
  // XN[1:0] = 00 or 10: both ELs or neither).
  static std::optional<FaultKind> Verdict(const F& f, LeafAttrs a, AccessType t, const FormatConfig&) {
    if (!a.Has(Attr::kAccessed) && !hw::armv8::internal::HardwareAf(f)) return FaultKind::kAccessedDirty;
    return PermissionUnless(Permits(a, Access{t, false}));
  }
};

}  // namespace ptsim

#endif  // PTSIM_HW_ARMV8_MODE_H_
