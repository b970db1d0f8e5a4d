// The ARMv7 short-descriptor family as the rest of ptsim sees it
// (src/hw/family.h): PL, DACR and SCTLR.AFE as named knobs, the rules for
// one access, and the fault as DFSR/IFSR report it (Arm ARM DDI 0406 B3.13.3).
#ifndef PTSIM_HW_ARMV7_MODE_H_
#define PTSIM_HW_ARMV7_MODE_H_

#include <array>
#include <string>

#include "absl/strings/str_format.h"
#include "src/formats/armv7_short.h"
#include "src/hw/armv7.h"
#include "src/hw/family.h"

namespace ptsim {

// No invalidator is modelled (TLBIMVA and friends): the TLB harness skips
// this family.
template <>
struct HwRules<fmt::ArmV7Short> : NoInvalidator {
  using F = fmt::ArmV7Short;
  static constexpr std::array<ConfigKnob, 3> kModeKnobs = {{
      {"pl", 0, 1, 1, "privilege level of the access: 0 (PL0, user) or 1 (PL1)"},
      {"dacr", 0, 0xffffffff, 0x55555555, "DACR: two bits per domain (0 no access, 1 client, 3 manager)"},
      {"afe", 0, 1, 0, "SCTLR.AFE: AP[0] is the Access flag"},
  }};
  static constexpr std::string_view kUserSetting = "pl=0";
  static constexpr bool kHasExec = true;
  static constexpr QemuTarget kQemu = {QemuMachine::kArmV7, 0};

  static hw::armv7::Rules Make(const F&, const FormatConfig& m, AccessType t) {
    using hw::armv7::Access;
    const Access acc = t == AccessType::kWrite ? Access::kWrite : t == AccessType::kExec ? Access::kFetch : Access::kRead;
    const hw::armv7::Mode mode{.pl = m.Get(0) == 0 ? hw::armv7::Pl::kPl0 : hw::armv7::Pl::kPl1,
                               .dacr = static_cast<uint32_t>(m.Get(1)),
                               .afe = m.Get(2) != 0};
    return hw::armv7::Rules(acc, mode);
  }

  // DDI 0406 B3.7 over neutral attributes as the format encodes them
  // (src/formats/armv7_short.h: AP[0] = 1 on every accessible leaf, PXN = 0,
  // domain 0): domain 0's DACR field first (No access and the reserved 10
  // fault, Manager skips the permission check), then with AFE the Access
  // flag (AP[0]) of a no-access leaf, then in a Client domain AP (PL0 needs
  // `u`) and XN.
  static std::optional<FaultKind> Verdict(const F&, LeafAttrs a, AccessType t, const FormatConfig& m) {
    const uint64_t domain0 = m.Get(1) & 3;
    if (domain0 == 0 || domain0 == 2) return FaultKind::kPermission;
    if (m.Get(2) != 0 && !a.Has(Attr::kRead)) return FaultKind::kAccessedDirty;
    if (domain0 == 3) return std::nullopt;
    return PermissionUnless(Permits(a, Access{t, m.Get(0) == 0}) && (t != AccessType::kExec || a.Has(Attr::kRead)));
  }

  static Fault Neutral(const F& f, Va va, const hw::armv7::Fault& x) {
    using hw::armv7::Fs;
    const Level l(x.level);
    switch (x.fs) {
      case Fs::kTranslationSection:
        return {IsCanonical(f, va) ? FaultKind::kNotPresent : FaultKind::kNonCanonical, l};
      case Fs::kTranslationPage:
        return {FaultKind::kNotPresent, l};
      case Fs::kAccessFlagSection:
      case Fs::kAccessFlagPage:
        return {FaultKind::kAccessedDirty, l};
      case Fs::kExternalAbortWalkL1:
      case Fs::kExternalAbortWalkL2:
        return {FaultKind::kOutsideMemory, l};
      case Fs::kDomainSection:
      case Fs::kDomainPage:
      case Fs::kPermissionSection:
      case Fs::kPermissionPage:
        break;
    }
    return {FaultKind::kPermission, l};
  }

  static std::string Describe(const F&, const hw::armv7::Fault& x) {
    return absl::StrFormat("%s: %s FS 0x%02x, domain %d%s", hw::armv7::FsName(x.fs), x.prefetch_abort ? "IFSR" : "DFSR",
                           static_cast<int>(x.fs), x.domain, x.prefetch_abort ? "" : x.wnr ? ", WnR=1" : ", WnR=0");
  }
};

}  // namespace ptsim

#endif  // PTSIM_HW_ARMV7_MODE_H_
