// Hardware-faithful ARMv8-A (VMSAv8-64) walks for stage 1 (EL1&0 regime)
// and stage 2 (EL1&0 regime, IPA -> PA), over the byte-exact tables of the
// formats in src/formats/armv8.h and src/formats/armv8_s2.h.
//
// The generic walker (src/mmu/mmu.h) decides "allowed or not" on neutral
// R/W/X/U attributes. This layer answers what an Arm core answers instead:
// the fault an access takes, with the fault status code (FSC) the core
// writes to ESR_ELx.DFSC / IFSC, the level, WnR, and the stage; and on
// success, what the hardware writes back (Access flag, dirty state).
//
// Sources: Arm Architecture Reference Manual for A-profile architecture,
// DDI 0487 (section names as in issue K of the manual; chapter D8 is D5 in
// issues F-H):
//   D8 "The AArch64 Virtual Memory System Architecture":
//     * "Memory access control": "Data access permissions for stage 1"
//       (AP[2:1] table), "Access permissions for instruction execution"
//       (UXN/PXN table, implicit PXN, WXN), "Hierarchical control of data
//       access permissions" and "of instruction fetching" (APTable,
//       UXNTable, PXNTable), "Privileged access never" (PAN, EPAN);
//     * "Data access permissions for stage 2" (S2AP) and "Access
//       permissions for instruction execution" at stage 2 (XN, XN[1:0]
//       with FEAT_XNX);
//     * "The Access flag", "Hardware management of the Access flag";
//     * "Hardware management of the dirty state" (DBM, TCR_EL1.HD,
//       VTCR_EL2.HD) and "Hardware updates to the translation tables"
//       (updates are atomic read-modify-writes of the descriptor read);
//     * "MMU faults", "Prioritization of ... MMU faults": Address size
//       and Translation faults of a lookup come before the Access flag
//       fault, which comes before the Permission fault;
//   D17 (D13 in older issues) "ISS encoding for an exception from a Data
//   Abort" / "from an Instruction Abort": DFSC/IFSC codes and WnR.
//   Where the prose leaves a case open we follow the shared pseudocode
//   (AArch64.S1DirectBasePermissions / AArch64.CheckPermission in older
//   issues, AArch64.S2DirectBasePermissions, AArch64.S1Walk,
//   AArch64.GetS1TTWParams). Each rule below names its source.
//
// Configuration: TCR_EL1.HA / VTCR_EL2.HA is the format's own `ha` knob and
// FEAT_XNX is the stage 2 format's `xnx` knob, so the walk and the format
// can never disagree; Mode carries the rest (EL, PAN, EPAN, WXN, HD,
// unprivileged loads and stores).
//
// Not modelled: FEAT_S1PIE / FEAT_S2PIE (permission indirection), FEAT_S1POE
// / FEAT_S2POE (overlays), FEAT_HAFT (AF in table descriptors), FEAT_HPDS
// (TCR.HPD), FEAT_S2FWB, TBI, the EL2/EL3 single-privilege regimes, the
// TTBR's own Address size fault, stage 1 walks through stage 2 (S1PTW),
// alignment faults, memory types, and TLBs.
#ifndef PTSIM_HW_ARMV8_H_
#define PTSIM_HW_ARMV8_H_

#include <atomic>
#include <cstdint>

#include "src/formats/armv8.h"
#include "src/formats/armv8_s2.h"
#include "src/hw/armv8_fault.h"
#include "src/mem/phys_mem.h"
#include "src/pt/entry.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim::hw::armv8 {

enum class El : uint8_t { kEl0, kEl1 };

enum class AccessKind : uint8_t { kRead, kWrite, kFetch };

// The PE state a walk depends on, beyond the format's knobs.
struct Mode {
  El el = El::kEl1;
  bool pan = false;   // PSTATE.PAN (FEAT_PAN)
  bool epan = false;  // SCTLR_EL1.EPAN (FEAT_PAN3): PAN also covers EL0-executable memory
  bool wxn = false;   // SCTLR_EL1.WXN: writable implies execute-never (stage 1 only)
  bool hd = false;    // TCR_EL1.HD at stage 1, VTCR_EL2.HD at stage 2 (FEAT_HAFDBS)
  // LDTR/STTR and friends executed at EL1: checked with EL0's permissions
  // and not subject to PAN (D8 "Memory access control", "unprivileged
  // load/store"). Ignored at EL0 and for fetches.
  bool unprivileged = false;
};

struct Result {
  bool ok = false;
  Oa oa;                  // output address of the input address itself
  unsigned size_lg2 = 0;  // the leaf's size (a Contiguous group counts whole)
  int arm_level = 0;      // the leaf's level, Arm numbering
  uint64_t desc = 0;      // the leaf descriptor after any hardware update
  Fault fault;
  int restarts = 0;       // walks restarted after a failed descriptor update
};

namespace internal {

// Descriptor bits as masks, from their one declaration
// (src/formats/armv8_bits.h).
namespace desc = fmt::armv8_desc;
inline constexpr uint64_t kValid = desc::Valid::kMask;
inline constexpr uint64_t kTypeBit = desc::TypeBit::kMask;
inline constexpr uint64_t kAp1 = desc::Ap1El0::kMask;
inline constexpr uint64_t kAp2 = desc::Ap2Ro::kMask;
inline constexpr uint64_t kS2apR = desc::S2apRead::kMask;
inline constexpr uint64_t kS2apW = desc::S2apWrite::kMask;
inline constexpr uint64_t kAf = desc::Af::kMask;
inline constexpr uint64_t kDbm = desc::Dbm::kMask;
inline constexpr uint64_t kPxn = desc::Pxn::kMask;
inline constexpr uint64_t kUxn = desc::Uxn::kMask;
inline constexpr uint64_t kXn0 = desc::Xn0::kMask;
inline constexpr uint64_t kXn1 = desc::Xn1::kMask;
inline constexpr uint64_t kPxnTable = desc::PxnTable::kMask;
inline constexpr uint64_t kUxnTable = desc::UxnTable::kMask;
inline constexpr uint64_t kApTable0 = desc::ApTable0NoEl0::kMask;
inline constexpr uint64_t kApTable1 = desc::ApTable1Ro::kMask;

inline int ArmLevelOf(Level l) {
  return 3 - l.value();  // armv8_tables.h: ptsim level 0 is Arm L3
}

// TCR_EL1.HA / VTCR_EL2.HA as the format was configured (its `ha` knob):
// the format sets AF in an unaccessed page it is asked to mark exactly
// when HA = 1.
template <typename F>
bool HardwareAf(const F& f) {
  const uint64_t page = kValid | kTypeBit;  // an L3 page at OA 0, AF = 0
  return (f.MarkAccessed(page, Level(0), false) & kAf) != 0;
}

// FEAT_XNX as the stage 2 format was configured (its `xnx` knob): with it,
// XN[0] alone forbids execution at EL1.
template <typename F>
bool HasXnx(const F& f) {
  const uint64_t page = kValid | kTypeBit | kXn0 | kS2apR;
  return !f.DecodeAttrs(page, Level(0)).Has(Attr::kExec);
}

// A present descriptor the format rejects (EntryKind::kInvalid) is either
// a bad type (D8 "Descriptor bits[1:0]": 0b01 at L3, or a block where the
// granule has none, behaves as invalid: Translation fault) or an address
// above the configured PA size (D8 "Address size fault"; for 64KB without
// FEAT_LPA, OA bits [51:48] in bits 15:12 are such an address).
template <typename F>
FaultType InvalidDescriptorFault(const F& f, uint64_t raw, Level l) {
  if (l.IsBottom()) {
    if ((raw & kTypeBit) == 0) return FaultType::kTranslation;
  } else if ((raw & kTypeBit) == 0) {
    if (!f.CanLeaf(l)) return FaultType::kTranslation;
  }
  return FaultType::kAddressSize;
}

// What the stage decides at the leaf: a fault, or the descriptor value the
// hardware writes back (equal to `raw` when nothing changes).
struct LeafDecision {
  FaultType fault = FaultType::kNone;
  uint64_t update = 0;
};

// Stage 1, EL1&0 regime (two privilege levels). `tables` holds the OR of
// the table descriptors met on the way (their bits 62:59 matter).
inline LeafDecision S1Leaf(uint64_t raw, uint64_t tables, AccessKind acc, const Mode& m, bool ha) {
  // TCR_EL1.HD takes effect only with TCR_EL1.HA = 1
  // (AArch64.GetS1TTWParams: hd = HA == 1 ? TCR.HD : 0).
  const bool hd = ha && m.hd;
  // D8 "The Access flag": a lookup that finds AF = 0 with HA = 0 takes an
  // Access flag fault; D8 fault prioritization puts it before Permission.
  if ((raw & kAf) == 0 && !ha) return {FaultType::kAccessFlag, raw};
  // D8 "Hardware management of the dirty state": with HD = 1 a descriptor
  // with DBM = 1 is writable-clean; its AP[2] is treated as 0 for the
  // permission check (the write then clears AP[2]). Only the descriptor's
  // own AP[2] is affected: APTable[1] below still forbids the write.
  const bool dbm_writable = hd && (raw & kDbm) != 0;
  const bool ap2 = (raw & kAp2) != 0 && !dbm_writable;
  const bool ap1 = (raw & kAp1) != 0;
  // D8 "Hierarchical control of data access permissions": APTable[1] = 1
  // makes everything below read-only at every EL, APTable[0] = 1 makes it
  // inaccessible at EL0. Folded into AP[2:1] (ap2 |= APTable[1], ap1 &=
  // ~APTable[0]), as the pseudocode does before the permission tables.
  const bool eff_ap2 = ap2 || (tables & kApTable1) != 0;
  const bool eff_ap1 = ap1 && (tables & kApTable0) == 0;
  // D8 "Data access permissions for stage 1", EL1&0 regime: AP[2] = read
  // only, AP[1] = EL0 access. EL1 can always read.
  bool pr = true;
  bool pw = !eff_ap2;
  const bool ur = eff_ap1;
  const bool uw = eff_ap1 && !eff_ap2;
  // D8 "Access permissions for instruction execution": UXN (or UXNTable)
  // forbids EL0 fetch, PXN (or PXNTable) EL1 fetch; memory writable at EL0
  // is never executable at EL1 (implicit PXN).
  bool ux = (raw & kUxn) == 0 && (tables & kUxnTable) == 0;
  bool px = (raw & kPxn) == 0 && (tables & kPxnTable) == 0 && !uw;
  const bool as_el0 = m.el == El::kEl0 || (m.unprivileged && acc != AccessKind::kFetch);
  // D8 "Privileged access never": with PSTATE.PAN = 1 a privileged data
  // access to memory EL0 can access faults; with SCTLR_EL1.EPAN = 1 (PAN3)
  // also to memory EL0 can execute. Fetches and unprivileged accesses are
  // not checked.
  if (m.pan && !as_el0 && acc != AccessKind::kFetch && (ur || (m.epan && ux))) pr = pw = false;
  // D8 "Access permissions for instruction execution", WXN: with
  // SCTLR_EL1.WXN = 1, memory writable at an EL is execute-never at it.
  if (m.wxn) {
    ux = ux && !uw;
    px = px && !pw;
  }
  const bool r = as_el0 ? ur : pr;
  const bool w = as_el0 ? uw : pw;
  const bool x = as_el0 ? ux : px;
  const bool allowed = acc == AccessKind::kRead ? r : acc == AccessKind::kWrite ? w : x;
  if (!allowed) return {FaultType::kPermission, raw};
  // D8 "Hardware management of the Access flag": HA = 1 sets AF;
  // "Hardware management of the dirty state": a permitted write to a
  // writable-clean descriptor clears AP[2].
  uint64_t update = raw;
  if (ha) update |= kAf;
  if (acc == AccessKind::kWrite && dbm_writable) update &= ~kAp2;
  return {FaultType::kNone, update};
}

// Stage 2 (VTCR_EL2.HA/HD, FEAT_XNX). EL0/EL1 only matter for XN[1:0].
inline LeafDecision S2Leaf(uint64_t raw, AccessKind acc, const Mode& m, bool ha, bool xnx) {
  const bool hd = ha && m.hd;  // AArch64.GetS2TTWParams: HD only with HA
  // D8 "The Access flag" (stage 2 descriptors have their own AF).
  if ((raw & kAf) == 0 && !ha) return {FaultType::kAccessFlag, raw};
  // D8 "Hardware management of the dirty state" at stage 2: with
  // VTCR_EL2.HD = 1 and DBM = 1, S2AP[1] is treated as 1 and a write sets it.
  const bool dbm_writable = hd && (raw & kDbm) != 0;
  bool allowed = false;
  switch (acc) {
    case AccessKind::kRead:
      allowed = (raw & kS2apR) != 0;  // D8 "Data access permissions for stage 2": S2AP[0]
      break;
    case AccessKind::kWrite:
      allowed = (raw & kS2apW) != 0 || dbm_writable;  // S2AP[1]
      break;
    case AccessKind::kFetch: {
      // D8 "Access permissions for instruction execution", stage 2: the XN
      // field alone decides (no read permission needed). Without FEAT_XNX
      // bit 53 is RES0 and XN is bit 54. With FEAT_XNX, XN[1:0]:
      // 00 both ELs may execute, 01 EL0 only, 10 neither, 11 EL1 only.
      const bool xn1 = (raw & kXn1) != 0;
      const bool xn0 = xnx && (raw & kXn0) != 0;
      if (!xnx) {
        allowed = !xn1;
      } else if (m.el == El::kEl0) {
        allowed = !xn1;  // 00 or 01
      } else {
        allowed = xn1 == xn0;  // 00 or 11
      }
      break;
    }
  }
  if (!allowed) return {FaultType::kPermission, raw};
  uint64_t update = raw;
  if (ha) update |= kAf;
  if (acc == AccessKind::kWrite && dbm_writable) update |= kS2apW;
  return {FaultType::kNone, update};
}

inline Fault FaultAt(FaultType t, int arm_level, AccessKind acc, bool stage2) {
  return {t, arm_level, stage2, /*wnr=*/acc == AccessKind::kWrite, /*fetch=*/acc == AccessKind::kFetch,
          FaultStatusCode(t, arm_level)};
}

}  // namespace internal

// The VMSAv8-64 rules of the one walker (src/walk/walk.h), both stages:
// descriptor types, Address size and Translation faults, the hierarchical
// controls of stage 1 table descriptors, and each stage's leaf decision.
template <typename F, bool kStage2>
class Rules {
 public:
  using Fault = armv8::Fault;
  using Path = uint64_t;  // OR of the table descriptors met (hierarchical controls)

  Rules(const F& f, AccessKind acc, const Mode& m)
      : acc_(acc), m_(m), ha_(internal::HardwareAf(f)), xnx_(kStage2 && internal::HasXnx(f)) {}

  // Input address out of range: for stage 1, VA bits above 64 - TnSZ must
  // all equal the TTBR's half (all zeros for TTBR0, all ones for TTBR1;
  // TBI is not modelled); for stage 2, IPA bits above 64 - T0SZ must be 0.
  // AArch64.S1Walk / AArch64.S2Walk report a Translation fault at level 0
  // (D8 "Translation faults": "the input address is outside the range").
  Fault NonCanonical(const F&, Va) const { return internal::FaultAt(FaultType::kTranslation, 0, acc_, kStage2); }
  Fault OutsideMemory(const F&, Va, Level l, const Path&) const { return At(FaultType::kWalkExternal, l); }

  Step<Fault> Entry(const F& f, uint64_t raw, Level l, Va, Path& tables) const {
    switch (f.Classify(raw, l)) {
      case EntryKind::kEmpty:
        // D8 "Translation fault": descriptor bit 0 = 0.
        return Step<Fault>::Stop(At(FaultType::kTranslation, l));
      case EntryKind::kInvalid:
        return Step<Fault>::Stop(At(internal::InvalidDescriptorFault(f, raw, l), l));
      case EntryKind::kTable:
        // D8 "Hierarchical control ...": the controls of every table
        // descriptor on the path accumulate (stage 2 has none).
        if (!kStage2) tables |= raw;
        return Step<Fault>::Table(raw);
      case EntryKind::kLeaf:
        break;
    }
    const internal::LeafDecision d =
        kStage2 ? internal::S2Leaf(raw, acc_, m_, ha_, xnx_) : internal::S1Leaf(raw, tables, acc_, m_, ha_);
    if (d.fault != FaultType::kNone) return Step<Fault>::Stop(At(d.fault, l));
    // D8 "Hardware updates to the translation tables": an atomic
    // read-modify-write of the descriptor that was read (the walker's
    // compare-and-swap, restarting when the descriptor changed).
    return Step<Fault>::Leaf(d.update, f.DecodeAttrs(d.update, l));
  }

 private:
  Fault At(FaultType t, Level l) const { return internal::FaultAt(t, internal::ArmLevelOf(l), acc_, kStage2); }

  AccessKind acc_;
  Mode m_;
  bool ha_;
  bool xnx_;
};

namespace internal {

template <typename F, bool kStage2>
Result WalkWith(const F& f, PhysMem* mem, Oa root, Va va, AccessKind acc, const Mode& m) {
  const auto w = ptsim::Walk(f, mem, root, va, Rules<F, kStage2>(f, acc, m));
  Result res;
  res.restarts = w.restarts;
  if (!w.ok) {
    res.fault = w.fault;
    return res;
  }
  res.ok = true;
  res.oa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.arm_level = ArmLevelOf(w.t.level);
  res.desc = w.t.raw;
  return res;
}

}  // namespace internal

// Stage 1 walk of `va` (EL1&0 regime, the format's TTBR half) from the
// table at `root`, as an access of kind `acc` in mode `m`.
template <fmt::Granule G>
Result Walk(const fmt::ArmV8S1<G>& f, PhysMem* mem, Oa root, Va va, AccessKind acc, const Mode& m) {
  return internal::WalkWith<fmt::ArmV8S1<G>, false>(f, mem, root, va, acc, m);
}

// Stage 2 walk of the IPA `ipa`; m.el is the EL of the access stage 1 made.
template <fmt::Granule G>
Result Walk(const fmt::ArmV8S2<G>& f, PhysMem* mem, Oa root, Va ipa, AccessKind acc, const Mode& m) {
  return internal::WalkWith<fmt::ArmV8S2<G>, true>(f, mem, root, ipa, acc, m);
}

}  // namespace ptsim::hw::armv8

#endif  // PTSIM_HW_ARMV8_H_
