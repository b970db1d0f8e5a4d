#include "src/mmu/mmu.h"

namespace ptsim {

const char* AccessTypeName(AccessType t) {
  switch (t) {
    case AccessType::kRead:
      return "read";
    case AccessType::kWrite:
      return "write";
    case AccessType::kExec:
      return "exec";
  }
  return "?";
}

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kNotPresent:
      return "not-present";
    case FaultKind::kPermission:
      return "permission";
    case FaultKind::kReserved:
      return "reserved";
    case FaultKind::kNonCanonical:
      return "non-canonical";
    case FaultKind::kOutsideMemory:
      return "outside-memory";
    case FaultKind::kAccessedDirty:
      return "accessed-dirty";
  }
  return "?";
}

}  // namespace ptsim
