#include "src/pt/entry.h"

namespace ptsim {

const char* EntryKindName(EntryKind k) {
  switch (k) {
    case EntryKind::kEmpty:
      return "empty";
    case EntryKind::kTable:
      return "table";
    case EntryKind::kLeaf:
      return "leaf";
    case EntryKind::kInvalid:
      return "invalid";
  }
  return "?";
}

}  // namespace ptsim
