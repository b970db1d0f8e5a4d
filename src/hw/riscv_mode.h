// The RISC-V family as the rest of ptsim sees it (src/hw/family.h): the
// hart's privilege and sstatus/menvcfg bits as named knobs, the rules for
// one access, and the fault as scause and stval (privileged spec,
// "Supervisor cause register (scause) values after trap").
#ifndef PTSIM_HW_RISCV_MODE_H_
#define PTSIM_HW_RISCV_MODE_H_

#include <array>
#include <string>

#include "absl/strings/str_format.h"
#include "src/formats/riscv.h"
#include "src/hw/family.h"
#include "src/hw/riscv.h"

namespace ptsim {

template <int kLevels, typename RawT>
struct HwRules<fmt::RiscvSv<kLevels, RawT>> : WithInvalidator<hw::RiscvInvalidator, true> {
  using F = fmt::RiscvSv<kLevels, RawT>;
  static constexpr std::array<ConfigKnob, 4> kModeKnobs = {{
      {"priv", 0, 1, 1, "privilege of the access: 0 (U-mode) or 1 (S-mode)"},
      {"sum", 0, 1, 0, "sstatus.SUM: S-mode may load/store U = 1 pages"},
      {"mxr", 0, 1, 0, "sstatus.MXR: loads from execute-only pages succeed"},
      {"svadu", 0, 2, 2, "menvcfg.ADUE: 0 Svade (A/D clear faults), 1 Svadu (hardware sets A/D), 2 as the "
                         "format's svadu knob"},
  }};
  static constexpr std::string_view kUserSetting = "priv=0";
  static constexpr bool kHasExec = true;
  static constexpr QemuTarget kQemu = {QemuMachine::kRiscv, kLevels == 2 ? 1 : kLevels + 5};

  static hw::riscv::Rules<F> Make(const F& f, const FormatConfig& m, AccessType t) {
    using hw::riscv::Access;
    using hw::riscv::AdPolicy;
    const Access acc = t == AccessType::kWrite ? Access::kStore : t == AccessType::kExec ? Access::kFetch : Access::kLoad;
    const AdPolicy ad = m.Get(3) == 0 ? AdPolicy::kSvade : m.Get(3) == 1 ? AdPolicy::kSvadu : AdPolicy::kFromFormat;
    const hw::riscv::Mode mode{.priv = m.Get(0) == 0 ? hw::riscv::Priv::kUser : hw::riscv::Priv::kSupervisor,
                               .sum = m.Get(1) != 0,
                               .mxr = m.Get(2) != 0,
                               .ad = ad};
    return hw::riscv::Rules<F>(f, acc, mode);
  }

  // Privileged spec, "Virtual address translation process", steps 5 and 7,
  // over neutral attributes: U-mode only on `u` pages; S-mode never fetches
  // from them and loads / stores them only with SUM; a load needs R, or X
  // with MXR. Then, under Svade, A = 0 or a store with D = 0 faults.
  static std::optional<FaultKind> Verdict(const F& f, LeafAttrs a, AccessType t, const FormatConfig& m) {
    const bool user_access = m.Get(0) == 0, sum = m.Get(1) != 0, mxr = m.Get(2) != 0;
    const bool user_page = a.Has(Attr::kUser);
    if (user_access != user_page && (user_access || t == AccessType::kExec || !sum)) return FaultKind::kPermission;
    const bool allowed = t == AccessType::kRead    ? a.Has(Attr::kRead) || (mxr && a.Has(Attr::kExec))
                         : t == AccessType::kWrite ? a.Has(Attr::kWrite)
                                                   : a.Has(Attr::kExec);
    if (!allowed) return FaultKind::kPermission;
    const bool svade = m.Get(3) == 0 || (m.Get(3) == 2 && !hw::riscv::FormatHasSvadu(f));
    if (svade && (!a.Has(Attr::kAccessed) || (t == AccessType::kWrite && !a.Has(Attr::kDirty)))) {
      return FaultKind::kAccessedDirty;
    }
    return std::nullopt;
  }

  static Fault Neutral(const F&, Va, const hw::riscv::Fault& x) {
    using hw::riscv::Reason;
    const Level l(x.level);
    switch (x.reason) {
      case Reason::kVaNotExtended:
        return {FaultKind::kNonCanonical, l};
      case Reason::kPteOutsideMemory:
        return {FaultKind::kOutsideMemory, l};
      case Reason::kNotValid:
        return {FaultKind::kNotPresent, l};
      case Reason::kUserBit:
      case Reason::kPermission:
        return {FaultKind::kPermission, l};
      case Reason::kAccessedClear:
      case Reason::kDirtyClear:
        return {FaultKind::kAccessedDirty, l};
      case Reason::kWriteWithoutRead:
      case Reason::kReservedBits:
      case Reason::kNonLeafReserved:
      case Reason::kNoLeaf:
      case Reason::kMisalignedSuperpage:
        break;
    }
    return {FaultKind::kReserved, l};
  }

  static std::string Describe(const F&, const hw::riscv::Fault& x) {
    return absl::StrFormat("scause %d (%s), stval 0x%x: %s", static_cast<int>(x.cause), hw::riscv::CauseName(x.cause),
                           x.stval, hw::riscv::ReasonName(x.reason));
  }
};

}  // namespace ptsim

#endif  // PTSIM_HW_RISCV_MODE_H_
