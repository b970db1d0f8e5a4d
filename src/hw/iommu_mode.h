// The IOMMU families as the rest of ptsim sees them (src/hw/family.h): a
// DMA request has no privilege and no instruction fetch, so the mode is
// empty; the fault is the VT-d fault reason (VT-d spec §7.1.3) or the AMD
// IOMMU event (AMD IOMMU spec §2.5). IOTLB entries are tagged by domain ID.
#ifndef PTSIM_HW_IOMMU_MODE_H_
#define PTSIM_HW_IOMMU_MODE_H_

#include <array>
#include <string>

#include "absl/strings/str_format.h"
#include "src/hw/family.h"
#include "src/hw/iommu.h"

namespace ptsim {

template <int kLevels>
struct HwRules<fmt::VtdSs<kLevels>> : WithInvalidator<hw::VtdInvalidator, true> {
  using F = fmt::VtdSs<kLevels>;
  static constexpr std::array<ConfigKnob, 0> kModeKnobs = {};
  static constexpr std::string_view kUserSetting = "";
  static constexpr bool kHasExec = false;
  static constexpr QemuTarget kQemu = {};  // QEMU's IOMMUs have no debug walk to compare with
  // A DMA read needs R, a write W (VT-d §3.6, AMD IOMMU §2.2.3: IR / IW).
  static std::optional<FaultKind> Verdict(const F&, LeafAttrs a, AccessType t, const FormatConfig&) {
    return PermissionUnless(Permits(a, Access{t, false}));
  }

  static hw::vtd::Rules<kLevels> Make(const F&, const FormatConfig&, AccessType t) {
    return hw::vtd::Rules<kLevels>(t == AccessType::kWrite ? hw::DmaAccess::kWrite : hw::DmaAccess::kRead);
  }
  static Fault Neutral(const F&, Va, const hw::vtd::Fault& x) {
    using hw::vtd::FaultReason;
    const Level l(x.fault_level);
    switch (x.reason) {
      case FaultReason::kAddressBeyondAgaw:
        return {FaultKind::kNonCanonical, l};
      case FaultReason::kPagingEntryAccess:
        return {FaultKind::kOutsideMemory, l};
      case FaultReason::kPagingEntryReserved:
        return {FaultKind::kReserved, l};
      case FaultReason::kRead:
      case FaultReason::kWrite:
        break;
    }
    return {x.not_present ? FaultKind::kNotPresent : FaultKind::kPermission, l};
  }
  static std::string Describe(const F&, const hw::vtd::Fault& x) {
    return absl::StrFormat("fault reason %s", hw::vtd::FaultReasonName(x.reason));
  }
};

template <>
struct HwRules<fmt::AmdIommuV1> : WithInvalidator<hw::AmdInvalidator, true> {
  using F = fmt::AmdIommuV1;
  static constexpr std::array<ConfigKnob, 0> kModeKnobs = {};
  static constexpr std::string_view kUserSetting = "";
  static constexpr bool kHasExec = false;
  static constexpr QemuTarget kQemu = {};  // QEMU's IOMMUs have no debug walk to compare with
  // A DMA read needs R, a write W (VT-d §3.6, AMD IOMMU §2.2.3: IR / IW).
  static std::optional<FaultKind> Verdict(const F&, LeafAttrs a, AccessType t, const FormatConfig&) {
    return PermissionUnless(Permits(a, Access{t, false}));
  }

  static hw::amd::Rules Make(const F&, const FormatConfig&, AccessType t) {
    return hw::amd::Rules(t == AccessType::kWrite ? hw::DmaAccess::kWrite : hw::DmaAccess::kRead);
  }
  static Fault Neutral(const F& f, Va va, const hw::amd::Fault& x) {
    const Level l(x.fault_level);
    if (x.event == hw::amd::EventCode::kPageTabHardwareError) return {FaultKind::kOutsideMemory, l};
    if (x.flags.rz) return {FaultKind::kReserved, l};
    if (x.flags.pe) return {FaultKind::kPermission, l};
    return {IsCanonical(f, va) ? FaultKind::kNotPresent : FaultKind::kNonCanonical, l};
  }
  static std::string Describe(const F&, const hw::amd::Fault& x) {
    if (x.event == hw::amd::EventCode::kPageTabHardwareError) return "PAGE_TAB_HARDWARE_ERROR";
    return absl::StrFormat("IO_PAGE_FAULT PR=%d RW=%d PE=%d RZ=%d", x.flags.pr, x.flags.rw, x.flags.pe, x.flags.rz);
  }
};

}  // namespace ptsim

#endif  // PTSIM_HW_IOMMU_MODE_H_
