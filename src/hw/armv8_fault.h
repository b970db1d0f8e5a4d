// How an ARMv8 (VMSAv8-64) MMU fault is reported: the fault type, the Arm
// level, the stage, and the fault status code ESR_ELx.DFSC / IFSC holds
// (Arm ARM DDI 0487 D8 "MMU faults", D17 "ISS encoding for an exception
// from a Data Abort" / "from an Instruction Abort").
#ifndef PTSIM_HW_ARMV8_FAULT_H_
#define PTSIM_HW_ARMV8_FAULT_H_

#include <cstdint>

namespace ptsim::hw::armv8 {

enum class FaultType : uint8_t {
  kNone,
  kAddressSize,   // an output or next-table address above the PA size
  kTranslation,   // invalid descriptor, or input address out of range
  kAccessFlag,    // AF = 0 with hardware AF management off
  kPermission,    // the access is not permitted
  kWalkExternal,  // a descriptor read outside memory: synchronous external abort on walk
};
const char* FaultTypeName(FaultType t);

struct Fault {
  FaultType type = FaultType::kNone;
  int arm_level = 0;      // Arm numbering: -1 (FEAT_LPA2) .. 3
  bool stage2 = false;    // taken at stage 2 (reported to EL2 with the IPA)
  bool wnr = false;       // ESR ISS.WnR: 1 for a faulting write (data aborts only)
  bool fetch = false;     // an Instruction Abort (IFSC) rather than a Data Abort (DFSC)
  uint8_t fsc = 0;        // ESR ISS.DFSC / IFSC, bits [5:0]
  bool operator==(const Fault&) const = default;
};

// ESR_ELx DFSC/IFSC for `type` at Arm level `level` (D17, "ISS encoding for
// an exception from a Data Abort", DFSC field; the IFSC codes are the same):
//   0b0000nn Address size fault, level nn     0b101001 at level -1
//   0b0001nn Translation fault, level nn      0b101011 at level -1
//   0b0010nn Access flag fault, level nn      (level 0 needs FEAT_LPA2)
//   0b0011nn Permission fault, level nn       (level 0 needs FEAT_LPA2)
//   0b0101nn Synchronous External abort on translation table walk, level nn
//            0b010011 at level -1
inline uint8_t FaultStatusCode(FaultType type, int level) {
  const auto lvl = static_cast<uint8_t>(level & 3);
  switch (type) {
    case FaultType::kNone:
      return 0;
    case FaultType::kAddressSize:
      return level < 0 ? uint8_t{0b101001} : static_cast<uint8_t>(0b000000 | lvl);
    case FaultType::kTranslation:
      return level < 0 ? uint8_t{0b101011} : static_cast<uint8_t>(0b000100 | lvl);
    case FaultType::kAccessFlag:
      return static_cast<uint8_t>(0b001000 | lvl);
    case FaultType::kPermission:
      return static_cast<uint8_t>(0b001100 | lvl);
    case FaultType::kWalkExternal:
      return level < 0 ? uint8_t{0b010011} : static_cast<uint8_t>(0b010100 | lvl);
  }
  return 0;
}

inline const char* FaultTypeName(FaultType t) {
  switch (t) {
    case FaultType::kNone:
      return "none";
    case FaultType::kAddressSize:
      return "address size";
    case FaultType::kTranslation:
      return "translation";
    case FaultType::kAccessFlag:
      return "access flag";
    case FaultType::kPermission:
      return "permission";
    case FaultType::kWalkExternal:
      return "external abort on walk";
  }
  return "?";
}

}  // namespace ptsim::hw::armv8

#endif  // PTSIM_HW_ARMV8_FAULT_H_
