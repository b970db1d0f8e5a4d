// Read-only walks over a whole tree: every leaf (for dumps and the model
// comparison), and the structural invariants (DESIGN.md §8, oracle 2).
// These never trust the tables: a pointer outside memory, an invalid
// encoding or a table reached twice is reported, not followed blindly.
#ifndef PTSIM_OPS_INSPECT_H_
#define PTSIM_OPS_INSPECT_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "src/mem/table_allocator.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"

namespace ptsim {

struct LeafInfo {
  Va va;            // first VA the leaf maps
  Level level;
  unsigned size_lg2;
  Oa oa;
  uint64_t raw;
  LeafAttrs attrs;  // effective (leaf ANDed with the tables above)
};

struct TreeProblem {
  Va va;       // first VA the entry covers
  Level level;
  Oa entry_addr;
  uint64_t raw;
  std::string what;
};

// Calls on_leaf(const LeafInfo&) for every leaf in VA order and
// on_problem(const TreeProblem&) for every entry that cannot be followed.
// Either callback returns false to stop the walk.
template <PageTableFormat F, typename OnLeaf, typename OnProblem>
void ForEachLeaf(const F& f, PhysMem* mem, Oa root, OnLeaf&& on_leaf, OnProblem&& on_problem) {
  struct Walker {
    const F& f;
    PhysMem* mem;
    OnLeaf& on_leaf;
    OnProblem& on_problem;

    bool Visit(Oa table, Level l, uint64_t low_base, PathBits path) {
      const uint64_t n = uint64_t{1} << f.IndexLg2(l);
      if (!mem->Contains(table, n << F::kEntryLg2)) {
        return on_problem(TreeProblem{CanonicalVa(f, low_base), l, table, 0,
                                      absl::StrFormat("table at %#x lies outside memory", table.value())});
      }
      const unsigned item = f.ItemLg2(l);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t low = low_base + (i << item);
        const EntryPtr<F> ep = TablePtr<F>{table, l}.At(mem, i);
        const EntryVal<F> v = ep.Load(std::memory_order_acquire);
        switch (f.Classify(v.raw, l)) {
          case EntryKind::kEmpty:
            continue;
          case EntryKind::kInvalid:
            if (!on_problem(TreeProblem{CanonicalVa(f, low), l, ep.addr(), v.raw, "invalid or reserved encoding"}))
              return false;
            continue;
          case EntryKind::kLeaf: {
            const LeafAttrs a = EffectiveAttrs(f.DecodeAttrs(v.raw, l), PermsOf(f.Restrictions(), path));
            if (!on_leaf(LeafInfo{CanonicalVa(f, low), l, item, f.LeafOa(v.raw, l), v.raw, a})) return false;
            continue;
          }
          case EntryKind::kTable: {
            PathBits below = path;
            below.Add(RestrictingBits(f, v.raw, l));
            if (!Visit(f.TableOa(v.raw, l), l.Below(), low, below)) return false;
            continue;
          }
        }
      }
      return true;
    }
  };
  Walker w{f, mem, on_leaf, on_problem};
  w.Visit(root, f.TopLevel(), 0, PathBits{});
}

struct TreeStats {
  uint64_t tables = 0;  // reachable, root included
  uint64_t leaves = 0;
};

// Structural invariants of a tree built by ptsim's own operations: every
// table pointer leads to a live table of the right level, owner and size,
// no table is reachable twice, and no entry is invalid.
template <PageTableFormat F>
absl::StatusOr<TreeStats> CheckTree(const F& f, PhysMem* mem, const TableAllocator& alloc, Oa root,
                                    uint32_t owner) {
  struct Checker {
    const F& f;
    PhysMem* mem;
    const TableAllocator& alloc;
    uint32_t owner;
    absl::flat_hash_set<uint64_t> seen;
    TreeStats stats;

    absl::Status CheckTable(Oa table, Level l, uint64_t low_base, Oa from) {
      const TableMeta* m = alloc.Find(table);
      const std::string where =
          absl::StrFormat("table %#x (level %d, for va %#x, pointed to by entry at %#x)", table.value(),
                          l.value(), CanonicalVa(f, low_base).value(), from.value());
      if (m == nullptr) return absl::InternalError(where + " was never allocated");
      if (m->state != TableState::kLive)
        return absl::InternalError(absl::StrFormat("%s is %s (generation %d)", where, TableStateName(m->state), m->generation));
      if (m->level != l.value()) return absl::InternalError(absl::StrFormat("%s was allocated for level %d", where, m->level));
      if (m->owner != owner) return absl::InternalError(absl::StrFormat("%s belongs to space %d", where, m->owner));
      if (!seen.insert(table.value()).second) return absl::InternalError(where + " is reachable twice");
      ++stats.tables;
      const unsigned item = f.ItemLg2(l);
      for (uint64_t i = 0; i < (uint64_t{1} << f.IndexLg2(l)); ++i) {
        const EntryPtr<F> ep = TablePtr<F>{table, l}.At(mem, i);
        const EntryVal<F> v = ep.Load(std::memory_order_acquire);
        const uint64_t low = low_base + (i << item);
        switch (f.Classify(v.raw, l)) {
          case EntryKind::kEmpty:
            if (v.raw != 0)
              return absl::InternalError(absl::StrFormat("entry at %#x (level %d) is not present but not zero: %#x",
                                                         ep.addr().value(), l.value(), v.raw));
            continue;
          case EntryKind::kInvalid:
            return absl::InternalError(absl::StrFormat("entry at %#x (level %d) has an invalid encoding %#x",
                                                       ep.addr().value(), l.value(), v.raw));
          case EntryKind::kLeaf:
            ++stats.leaves;
            continue;
          case EntryKind::kTable:
            if (auto st = CheckTable(f.TableOa(v.raw, l), l.Below(), low, ep.addr()); !st.ok()) return st;
            continue;
        }
      }
      return absl::OkStatus();
    }
  };
  Checker c{f, mem, alloc, owner, {}, {}};
  if (auto st = c.CheckTable(root, f.TopLevel(), 0, Oa()); !st.ok()) return st;
  return c.stats;
}

}  // namespace ptsim

#endif  // PTSIM_OPS_INSPECT_H_
