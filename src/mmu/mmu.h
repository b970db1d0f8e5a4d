// The software MMU, first cut: a hardware walk over byte-exact tables.
//
// Protocol (what a hardware walker does, and what it must survive when
// mutators run beside it):
//   * each level's entry is read once, with acquire order: it pairs with the
//     release store that publishes a new table, so the table's zeroed
//     contents are visible before the pointer to it;
//   * accessed/dirty updates are compare-and-swap on the entry that was read;
//     if the entry changed meanwhile the whole walk restarts from the root,
//     so an entry cleared by a mutator is never written back (resurrected);
//   * permissions are the leaf's attributes ANDed with what every table
//     entry above it allows;
//   * a table entry that skips levels (AMD IOMMU, geometry.h) leads
//     straight to the lower table, provided the VA's skipped index bits
//     are zero; otherwise the VA faults as not present at the highest
//     skipped level with a nonzero index.
// The full per-architecture rules (SMEP/SMAP, PAN, protection keys, fault
// priorities, TLBs) are the "Hardware-faithful walks" issue.
#ifndef PTSIM_MMU_MMU_H_
#define PTSIM_MMU_MMU_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "src/mem/phys_mem.h"
#include "src/base/check.h"
#include "src/pt/geometry.h"

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
};
const char* FaultKindName(FaultKind k);

struct Fault {
  FaultKind kind = FaultKind::kNotPresent;
  Level level;
  bool operator==(const Fault&) const = default;
};

struct Translation {
  Oa oa;              // the output address of the VA itself
  unsigned size_lg2;  // size of the leaf that maps it
  Level level;        // level of that leaf
  LeafAttrs attrs;    // effective: leaf attributes ANDed with table perms
};

struct WalkResult {
  bool ok = false;
  Translation t{};
  Fault fault{};
  int restarts = 0;  // walks restarted after a failed A/D compare-and-swap
};

// One entry read during a walk, for reports.
struct WalkStep {
  Level level;
  Oa table;
  uint64_t index = 0;
  Oa entry_addr;
  uint64_t raw = 0;
  EntryKind kind = EntryKind::kEmpty;
};

struct WalkTrace {
  std::array<WalkStep, kMaxLevels> steps{};
  int count = 0;
};

struct MmuOptions {
  bool update_ad = true;  // set accessed/dirty as hardware does
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

// Walks `va` from the table at `root` for `acc`. `trace`, when given,
// receives every entry read by the final (non-restarted) walk.
//
// Always inlined: the level loop then unrolls with the format's geometry
// as constants, which is what makes the generic walk cost what a
// hand-written one does (bench/translate_bench.cc measures the ratio).
template <PageTableFormat F>
[[gnu::always_inline]] inline WalkResult Translate(const F& f, PhysMem* mem, Oa root, Va va, Access acc,
                                                   MmuOptions opt = {}, WalkTrace* trace = nullptr) {
  WalkResult res;
  const Level top = f.TopLevel();
  if (!IsCanonical(f, va)) {
    res.fault = {FaultKind::kNonCanonical, top};
    return res;
  }
  // Each pass is one walk from the root; a failed A/D compare-and-swap ends
  // the pass and starts the next, so a cleared entry is never resurrected.
  for (;; ++res.restarts) {
    if (trace) trace->count = 0;
    Oa table = root;
    PathBits path;
    bool restart = false;
    PTSIM_UNROLL_LOOP
    for (int lv = top.value(); lv >= 0 && !restart; --lv) {
      const Level l(lv);
      if (!mem->Contains(table, uint64_t{1} << TableSizeLg2(f, l))) {
        res.fault = {FaultKind::kOutsideMemory, l};
        return res;
      }
      const uint64_t index = IndexOf(f, va, l);
      const EntryPtr<F> ep = TablePtr<F>{table, l}.At(mem, index);
      EntryVal<F> v = ep.Load(std::memory_order_acquire);
      const EntryKind kind = f.Classify(v.raw, l);
      if (trace) trace->steps[trace->count++] = {l, table, index, ep.addr(), v.raw, kind};
      switch (kind) {
        case EntryKind::kEmpty:
          res.fault = {FaultKind::kNotPresent, l};
          return res;
        case EntryKind::kInvalid:
          res.fault = {FaultKind::kReserved, l};
          return res;
        case EntryKind::kTable: {
          if (opt.update_ad) {
            const EntryVal<F> marked{f.MarkAccessed(v.raw, l, false), l};
            if (marked != v && !ep.CompareExchange(v, marked, std::memory_order_acq_rel)) {
              restart = true;
              continue;
            }
          }
          path.Add(RestrictingBits(f, v.raw, l));
          table = f.TableOa(v.raw, l);
          if constexpr (HasLevelSkipping<F>()) {
            // A PDE that skips levels (geometry.h): the skipped index bits
            // must be zero; the walk resumes at the level pointed to.
            const Level next = NextTableLevel(f, v.raw, l);
            if ((va.value() & SkippedVaMask(f, l, next)) != 0) {
              res.fault = {FaultKind::kNotPresent, SkipFaultLevel(f, va, l, next)};
              return res;
            }
            lv = next.value() + 1;
          }
          continue;
        }
        case EntryKind::kLeaf: {
          const uint8_t deny = DenyMask(PermsOf(f.Restrictions(), path));
          LeafAttrs attrs = EffectiveAttrs(f.DecodeAttrs(v.raw, l), deny);
          if (!Permits(attrs, acc)) {
            res.fault = {FaultKind::kPermission, l};
            return res;
          }
          if (opt.update_ad) {
            const EntryVal<F> marked{f.MarkAccessed(v.raw, l, acc.type == AccessType::kWrite), l};
            if (marked != v) {
              if (!ep.CompareExchange(v, marked, std::memory_order_acq_rel)) {
                restart = true;
                continue;
              }
              v = marked;
              attrs = EffectiveAttrs(f.DecodeAttrs(v.raw, l), deny);
            }
          }
          // A replicated entry maps its whole group (geometry.h): hardware
          // may cache the group's translation from any of its entries.
          const unsigned lg2 = LeafSizeLg2(f, v.raw, l);
          res.ok = true;
          res.t = {f.LeafOa(v.raw, l) + va.Mod(lg2), lg2, l, attrs};
          return res;
        }
      }
    }
    PTSIM_CHECK(restart, "%s classified a level-0 entry as a table", F::kName);
  }
}

}  // namespace ptsim

#endif  // PTSIM_MMU_MMU_H_
