// The x86 family as the rest of ptsim sees it (src/hw/family.h): the CPU
// mode as named knobs, the rules for one access, and the fault in neutral
// terms and as the #PF error code (Intel SDM Vol. 3A §4.6, §4.7).
#ifndef PTSIM_HW_X86_MODE_H_
#define PTSIM_HW_X86_MODE_H_

#include <array>
#include <string>

#include "absl/strings/str_format.h"
#include "src/hw/family.h"
#include "src/hw/x86.h"

namespace ptsim {

// PCIDs tag TLB entries only in IA-32e mode (SDM §4.10.1).
template <typename F>
  requires hw::x86::X86Format<F>
struct HwRules<F> : WithInvalidator<hw::X86Invalidator, hw::x86::kIa32e<F>> {
  // EFER.NXE, CR4.PSE, MAXPHYADDR and 1-GByte pages are the formats' knobs.
  static constexpr std::array<ConfigKnob, 10> kModeKnobs = {{
      {"cpl", 0, 3, 0, "current privilege level; 3 is user mode (SDM 3A 4.6)"},
      {"wp", 0, 1, 1, "CR0.WP: supervisor writes obey R/W"},
      {"smep", 0, 1, 0, "CR4.SMEP: no supervisor fetches from user pages"},
      {"smap", 0, 1, 0, "CR4.SMAP: no supervisor data accesses to user pages unless EFLAGS.AC"},
      {"ac", 0, 1, 0, "EFLAGS.AC (with SMAP)"},
      {"pke", 0, 1, 0, "CR4.PKE: protection keys for user pages (4/5-level)"},
      {"pkru", 0, 0xffffffff, 0, "PKRU: AD of key i at bit 2i, WD at bit 2i+1"},
      {"pks", 0, 1, 0, "CR4.PKS: protection keys for supervisor pages"},
      {"pkrs", 0, 0xffffffff, 0, "IA32_PKRS, laid out as PKRU"},
      {"implicit", 0, 1, 0, "an implicit supervisor access (GDT, IDT, TSS): always subject to SMAP"},
  }};
  static constexpr std::string_view kUserSetting = "cpl=3";
  static constexpr bool kHasExec = true;
  static constexpr QemuTarget kQemu = {QemuMachine::kX86, static_cast<int>(*hw::x86::PagingOf<F>())};

  // The rules' view of the mode knobs (all but `implicit`, which belongs
  // to the access).
  static hw::x86::Mode ModeOf(const FormatConfig& m) {
    return {.cpl = static_cast<int>(m.Get(0)),
            .wp = m.Get(1) != 0,
            .smep = m.Get(2) != 0,
            .smap = m.Get(3) != 0,
            .ac = m.Get(4) != 0,
            .pke = m.Get(5) != 0,
            .pkru = static_cast<uint32_t>(m.Get(6)),
            .pks = m.Get(7) != 0,
            .pkrs = static_cast<uint32_t>(m.Get(8))};
  }

  static hw::x86::Rules<F> Make(const F& f, const FormatConfig& m, AccessType t) {
    using hw::x86::Op;
    const Op op = t == AccessType::kWrite ? Op::kWrite : t == AccessType::kExec ? Op::kFetch : Op::kRead;
    // An implicit access is a data access (§4.6); a fetch stays explicit.
    return hw::x86::Rules<F>(f, {op, m.Get(9) != 0 && op != Op::kFetch}, ModeOf(m));
  }

  // SDM Vol. 3A §4.6.1 (access rights) and §4.6.2 (protection keys), over
  // neutral attributes: `u` is a user-mode address, `w` R/W, `x` XD clear.
  // Space writes protection key 0 in every leaf.
  static std::optional<FaultKind> Verdict(const F&, LeafAttrs a, AccessType t, const FormatConfig& m) {
    const bool cpl3 = m.Get(0) == 3, wp = m.Get(1) != 0, smep = m.Get(2) != 0, smap = m.Get(3) != 0;
    const bool ac = m.Get(4) != 0, pke = m.Get(5) != 0, pks = m.Get(7) != 0;
    const bool write = t == AccessType::kWrite, fetch = t == AccessType::kExec;
    const bool implicit = m.Get(9) != 0 && !fetch;
    const bool user_access = cpl3 && !implicit;  // implicit accesses are supervisor-mode ones
    const bool user_page = a.Has(Attr::kUser);
    if (fetch && !a.Has(Attr::kExec)) return FaultKind::kPermission;
    if (user_access) {
      if (!user_page || (write && !a.Has(Attr::kWrite))) return FaultKind::kPermission;
    } else if (fetch) {
      if (user_page && smep) return FaultKind::kPermission;
    } else {
      if (user_page && smap && (implicit || !ac)) return FaultKind::kPermission;
      if (write && !a.Has(Attr::kWrite) && wp) return FaultKind::kPermission;
    }
    // Key 0's AD (bit 0) and WD (bit 1) of PKRU for user-mode addresses,
    // IA32_PKRS for supervisor-mode ones; data accesses in IA-32e paging.
    if (!hw::x86::kIa32e<F> || fetch || !(user_page ? pke : pks)) return std::nullopt;
    const uint64_t keys = user_page ? m.Get(6) : m.Get(8);
    return PermissionUnless((keys & 1) == 0 && !((keys & 2) != 0 && write && (wp || user_access)));
  }

  static Fault Neutral(const F& f, Va va, const hw::x86::Fault& x) {
    using hw::x86::Outcome;
    switch (x.outcome) {
      case Outcome::kGeneralProtection:
        return {IsCanonical(f, va) ? FaultKind::kReserved : FaultKind::kNonCanonical, x.level};
      case Outcome::kOutsideMemory:
        return {FaultKind::kOutsideMemory, x.level};
      case Outcome::kOk:
      case Outcome::kPageFault:
        break;
    }
    if ((x.error_code & hw::x86::kErrRsvd) != 0) return {FaultKind::kReserved, x.level};
    if ((x.error_code & hw::x86::kErrP) == 0) return {FaultKind::kNotPresent, x.level};
    return {FaultKind::kPermission, x.level};
  }

  static std::string Describe(const F&, const hw::x86::Fault& x) {
    using hw::x86::Outcome;
    if (x.outcome == Outcome::kGeneralProtection) return "#GP(0)";
    if (x.outcome == Outcome::kOutsideMemory) return "table read outside memory";
    std::string bits;
    auto add = [&](uint32_t bit, const char* name) {
      if ((x.error_code & bit) != 0) absl::StrAppendFormat(&bits, "%s%s", bits.empty() ? "" : " ", name);
    };
    add(hw::x86::kErrP, "P");
    add(hw::x86::kErrW, "W");
    add(hw::x86::kErrU, "U");
    add(hw::x86::kErrRsvd, "RSVD");
    add(hw::x86::kErrId, "I/D");
    add(hw::x86::kErrPk, "PK");
    return absl::StrFormat("#PF error code 0x%x [%s]", x.error_code, bits);
  }
};

}  // namespace ptsim

#endif  // PTSIM_HW_X86_MODE_H_
