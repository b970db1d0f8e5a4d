// The neutral rules of the one walker (src/walk/walk.h): permissions as the
// format-neutral LeafAttrs (read, write, execute, user) of the leaf ANDed
// with what every table entry above it allows, the faults as five neutral
// kinds, and accessed/dirty set as the format's MarkAccessed says. These are
// the rules the reference model is compared with; each architecture's own
// (SMEP/SMAP, PAN, PXN/UXN, SUM/MXR, its fault codes) are other Rules types
// of the same walker (src/hw/).
#ifndef PTSIM_MMU_MMU_H_
#define PTSIM_MMU_MMU_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "src/mem/phys_mem.h"
#include "src/base/check.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim {

enum class AccessType : uint8_t { kRead, kWrite, kExec };
const char* AccessTypeName(AccessType t);

struct Access {
  AccessType type = AccessType::kRead;
  bool user = false;
};

enum class FaultKind : uint8_t {
  kNotPresent,     // an empty entry on the way, or a nonzero index at a skipped level (geometry.h)
  kPermission,     // the leaf (or a table above it) forbids the access
  kReserved,       // a present entry with a reserved or impossible encoding
  kNonCanonical,   // the VA's untranslated bits are wrong
  kOutsideMemory,  // a table pointer leads outside simulated memory
  // Accessed (or dirty, for a write) is clear and this hardware leaves
  // setting it to software: ARM's Access flag fault with HA = 0, RISC-V
  // Svade. Only architecture rules report it; the neutral rules set A/D.
  kAccessedDirty,
};
const char* FaultKindName(FaultKind k);

struct Fault {
  FaultKind kind = FaultKind::kNotPresent;
  Level level;
  bool operator==(const Fault&) const = default;
};

using WalkResult = BasicWalkResult<Fault>;

struct MmuOptions {
  bool update_ad = true;  // set accessed/dirty as hardware does
  // False: a leaf translates whatever the access, to see what it holds
  // (the executor reads a leaf's attributes so).
  bool check_permissions = true;
};

// What the tables above a leaf forbid, as a mask over Attr bits: the
// restrictions accumulate with one OR per level.
inline uint8_t DenyMask(TablePerms p) {
  return static_cast<uint8_t>((unsigned{!p.write} << static_cast<int>(Attr::kWrite)) |
                              (unsigned{!p.exec} << static_cast<int>(Attr::kExec)) |
                              (unsigned{!p.user} << static_cast<int>(Attr::kUser)));
}

inline LeafAttrs EffectiveAttrs(LeafAttrs leaf, uint8_t deny) { return LeafAttrs::FromBits(leaf.bits() & ~deny); }
inline LeafAttrs EffectiveAttrs(LeafAttrs leaf, TablePerms p) { return EffectiveAttrs(leaf, DenyMask(p)); }

inline bool Permits(LeafAttrs a, Access acc) {
  if (acc.user && !a.Has(Attr::kUser)) return false;
  switch (acc.type) {
    case AccessType::kRead:
      return a.Has(Attr::kRead);
    case AccessType::kWrite:
      return a.Has(Attr::kWrite);
    case AccessType::kExec:
      return a.Has(Attr::kExec);
  }
  return false;
}

// The neutral rules. Table entries restrict what lies below them as the
// format declares (TableRestrictions, folded with one AND and one OR per
// level); the leaf decides with the restrictions applied.
struct NeutralRules {
  using Fault = ptsim::Fault;
  using Path = PathBits;
  Access acc;
  MmuOptions opt;

  template <typename F>
  Fault NonCanonical(const F& f, Va) const {
    return {FaultKind::kNonCanonical, f.TopLevel()};
  }
  template <typename F>
  Fault OutsideMemory(const F&, Va, Level l, const Path&) const {
    return {FaultKind::kOutsideMemory, l};
  }
  template <typename F>
  Fault SkippedIndex(const F&, Va, Level l) const {
    return {FaultKind::kNotPresent, l};
  }
  template <typename F>
  [[gnu::always_inline]] Step<Fault> Entry(const F& f, uint64_t raw64, Level l, Va, Path& path) const {
    const auto raw = static_cast<typename F::Raw>(raw64);
    switch (f.Classify(raw, l)) {
      case EntryKind::kEmpty:
        return Step<Fault>::Stop({FaultKind::kNotPresent, l});
      case EntryKind::kInvalid:
        return Step<Fault>::Stop({FaultKind::kReserved, l});
      case EntryKind::kTable:
        path.Add(RestrictingBits(f, raw, l));
        return Step<Fault>::Table(opt.update_ad ? f.MarkAccessed(raw, l, false) : raw);
      case EntryKind::kLeaf:
        break;
    }
    const uint8_t deny = DenyMask(PermsOf(f.Restrictions(), path));
    LeafAttrs attrs = EffectiveAttrs(f.DecodeAttrs(raw, l), deny);
    if (opt.check_permissions && !Permits(attrs, acc)) return Step<Fault>::Stop({FaultKind::kPermission, l});
    if (!opt.update_ad) return Step<Fault>::Leaf(raw, attrs);
    const typename F::Raw marked = f.MarkAccessed(raw, l, acc.type == AccessType::kWrite);
    if (marked != raw) attrs = EffectiveAttrs(f.DecodeAttrs(marked, l), deny);
    return Step<Fault>::Leaf(marked, attrs);
  }
};

// Walks `va` from the table at `root` for `acc` under the neutral rules.
// `trace`, when given, receives every entry read by the final walk.
template <PageTableFormat F>
[[gnu::always_inline]] inline WalkResult Translate(const F& f, PhysMem* mem, Oa root, Va va, Access acc,
                                                   MmuOptions opt = {}, WalkTrace* trace = nullptr) {
  return Walk(f, mem, root, va, NeutralRules{acc, opt}, trace);
}

}  // namespace ptsim

#endif  // PTSIM_MMU_MMU_H_
