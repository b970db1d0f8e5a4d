// Read-only walks over a whole tree: every leaf (for dumps and the model
// comparison), and the structural invariants (DESIGN.md §8, oracle 2).
// These never trust the tables: a pointer outside memory, an invalid
// encoding or a table reached twice is reported, not followed blindly.
#ifndef PTSIM_OPS_INSPECT_H_
#define PTSIM_OPS_INSPECT_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/mem/table_allocator.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"

namespace ptsim {

// A part of the VA space in low form (the translated bits only), both ends
// included: the whole space unless narrowed. A walk limited to a span reads
// only the entries whose span overlaps it; a span that starts and ends on
// leaf boundaries sees whole leaves.
struct LowSpan {
  uint64_t first = 0;
  uint64_t last = UINT64_MAX;
};

// The indices of the level-l table whose entries overlap `s`, for a table
// that maps the low VAs from `low_base`; the table overlaps `s`.
template <PageTableFormat F>
std::pair<uint64_t, uint64_t> IndicesIn(const F& f, Level l, uint64_t low_base, LowSpan s) {
  const unsigned item = f.ItemLg2(l);
  const uint64_t table_last = low_base + LowMask(item + f.IndexLg2(l));
  const uint64_t lo = std::max(s.first, low_base);
  const uint64_t hi = std::min(s.last, table_last);
  return {(lo - low_base) >> item, (hi - low_base) >> item};
}
// Whether the level-l table that maps the low VAs from `low_base` (the part
// an entry that skips levels maps) overlaps `s`.
template <PageTableFormat F>
bool TableOverlaps(const F& f, Level l, uint64_t low_base, LowSpan s) {
  return low_base <= s.last && s.first <= low_base + LowMask(f.ItemLg2(l) + f.IndexLg2(l));
}

struct LeafInfo {
  Va va;            // first VA the leaf maps
  Level level;
  unsigned size_lg2;
  Oa oa;
  uint64_t raw;
  LeafAttrs attrs;  // effective (leaf ANDed with the tables above)
  Oa table;         // the table that holds its (first) entry
};

// A table the walk reads, with the entry that led to it (none for the root).
struct TableInfo {
  Oa table;
  Level level;
  Va va;  // first VA it maps
  std::optional<Oa> parent;
  uint64_t index = 0;  // of the entry in `parent`
};

struct TreeProblem {
  Va va;       // first VA the entry covers
  Level level;
  Oa entry_addr;
  uint64_t raw;
  std::string what;
  std::optional<Oa> target;  // for a table reached again (shared, or a cycle): that table
};

// Checks the replicated leaf whose first entry is entry `i` of the level-l
// table at `table` (geometry.h): its entries are all leaves of the same
// size, output address and permissions, starting at an aligned entry
// inside the table. Hardware treats anything else as a programming error
// with unpredictable results (Arm ARM DDI 0487 D8, "The Contiguous bit":
// misprogramming the Contiguous bit; RISC-V Privileged Architecture,
// "Svnapot": one of the inconsistent translations is used, unpredictably;
// ARMv7 ARM B3.5.1 and the AMD IOMMU spec ask for identical repeated
// entries), so ptsim reports it instead of guessing. `exact` also requires
// every entry to be byte for byte what EncodeLeafEntry writes (with the
// entry's own accessed/dirty bits): trees ptsim built must be exactly so.
// Returns the problem, or an empty string; `ad` receives the OR of the
// entries' accessed/dirty bits.
template <PageTableFormat F>
std::string CheckReplicatedLeaf(const F& f, PhysMem* mem, Oa table, Level l, uint64_t i, bool exact,
                                LeafAttrs* ad = nullptr) {
  const TablePtr<F> t{table, l};
  const typename F::Raw first = t.At(mem, i).Load(std::memory_order_acquire).raw;
  const unsigned size = LeafSizeLg2(f, first, l);
  const unsigned count_lg2 = size - f.ItemLg2(l);
  if (!IsAligned(i, count_lg2) || count_lg2 > f.IndexLg2(l)) {
    return absl::StrFormat("entry %d belongs to a 2^%d replicated leaf of %d entries, which must start at an "
                           "aligned entry inside its table",
                           i, size, uint64_t{1} << count_lg2);
  }
  const Oa oa = f.LeafOa(first, l);
  const LeafAttrs perms = f.DecodeAttrs(first, l).Permissions();
  LeafAttrs seen;
  for (uint64_t j = 0; j < (uint64_t{1} << count_lg2); ++j) {
    const typename F::Raw raw = t.At(mem, i + j).Load(std::memory_order_acquire).raw;
    const bool same = f.Classify(raw, l) == EntryKind::kLeaf && LeafSizeLg2(f, raw, l) == size &&
                      f.LeafOa(raw, l) == oa && f.DecodeAttrs(raw, l).Permissions() == perms;
    if (!same) {
      return absl::StrFormat("entry %d of the 2^%d replicated leaf at entry %d is %#x, not a leaf of the same size, "
                             "output address and permissions as %#x",
                             j, size, i, raw, first);
    }
    const LeafAttrs own = f.DecodeAttrs(raw, l);
    seen = LeafAttrs::FromBits(seen.bits() | (own.bits() & ~own.Permissions().bits()));
    const typename F::Raw want = EncodeLeafEntry(f, l, size, oa, own, j);
    if (exact && raw != want) {
      return absl::StrFormat("entry %d of the 2^%d replicated leaf at entry %d is %#x, expected %#x", j, size, i,
                             raw, want);
    }
  }
  if (ad != nullptr) *ad = seen;
  return "";
}

// A table path for messages: "0x1000000[3] -> 0x1001000[0] -> 0x1002000",
// each table with the index of the entry followed out of it.
struct TablePathStep {
  uint64_t table;
  uint64_t index;
};
inline std::string TablePathText(const std::vector<TablePathStep>& steps, uint64_t last) {
  std::string s;
  for (const TablePathStep& st : steps) absl::StrAppendFormat(&s, "%#x[%d] -> ", st.table, st.index);
  absl::StrAppendFormat(&s, "%#x", last);
  return s;
}

// Calls on_leaf(const LeafInfo&) for every leaf in VA order and
// on_problem(const TreeProblem&) for every entry that cannot be followed.
// Either callback returns false to stop the walk. A replicated leaf is one
// leaf (at its first entry; its accessed and dirty bits are those of any
// of its entries), or one problem when its entries disagree.
// Every table is read at most once: a pointer to a table already reached
// (a cycle, or a table shared by two entries) is a structure problem
// naming both paths, and is not followed, so a hostile image costs at most
// one pass over its tables whatever it points at.
// on_table(const TableInfo&), when given, is called as each table is
// entered, before its entries; a table not followed (outside memory,
// reached twice) is not reported.
// `span` limits the walk to the entries that overlap it.
template <PageTableFormat F, typename OnLeaf, typename OnProblem, typename OnTable>
void ForEachLeaf(const F& f, PhysMem* mem, Oa root, OnLeaf&& on_leaf, OnProblem&& on_problem, OnTable&& on_table,
                 LowSpan span = {}) {
  struct Walker {
    const F& f;
    PhysMem* mem;
    LowSpan span;
    OnLeaf& on_leaf;
    OnProblem& on_problem;
    OnTable& on_table;
    // The entries followed from the root to the table being read.
    std::vector<TablePathStep> path_to_here;
    // Every table reached, with the entry that first pointed to it (the
    // root's is its own address), to name the first path again.
    absl::flat_hash_map<uint64_t, TablePathStep> reached_from;

    std::vector<TablePathStep> FirstPath(uint64_t table) const {
      std::vector<TablePathStep> steps;
      for (uint64_t t = table;;) {
        const TablePathStep& from = reached_from.at(t);
        if (from.table == t || steps.size() > 64) break;
        steps.push_back(from);
        t = from.table;
      }
      return {steps.rbegin(), steps.rend()};
    }

    // The entry `i` of `table` points at `next`, which was reached before.
    std::string ReachedAgain(uint64_t table, uint64_t i, uint64_t next) {
      std::vector<TablePathStep> now = path_to_here;
      now.push_back({table, i});
      for (size_t k = 0; k < now.size(); ++k) {
        if (now[k].table != next) continue;
        const std::vector<TablePathStep> loop(now.begin() + static_cast<ptrdiff_t>(k), now.end());
        std::string s = absl::StrFormat("structure error: cycle: table %#x points back to itself through %s", next,
                                        TablePathText(loop, next));
        if (k > 0) absl::StrAppend(&s, " (path from the root: ", TablePathText(now, next), ")");
        return s;
      }
      return absl::StrFormat("structure error: table %#x is reachable twice: first %s, again %s", next,
                             TablePathText(FirstPath(next), next), TablePathText(now, next));
    }

    bool Visit(Oa table, Level l, uint64_t low_base, PathBits path) {
      const uint64_t n = uint64_t{1} << f.IndexLg2(l);
      if (!mem->Contains(table, n << F::kEntryLg2)) {
        return on_problem(TreeProblem{CanonicalVa(f, low_base), l, table, 0,
                                      absl::StrFormat("table at %#x lies outside memory", table.value())});
      }
      std::optional<Oa> parent;
      uint64_t index = 0;
      if (!path_to_here.empty()) {
        parent = Oa(path_to_here.back().table);
        index = path_to_here.back().index;
      }
      if (!on_table(TableInfo{table, l, CanonicalVa(f, low_base), parent, index})) return false;
      const unsigned item = f.ItemLg2(l);
      const auto [first_i, last_i] = IndicesIn(f, l, low_base, span);
      for (uint64_t i = first_i; i <= last_i; ++i) {
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
            LeafAttrs a = f.DecodeAttrs(v.raw, l);
            const unsigned size = LeafSizeLg2(f, v.raw, l);
            if (size != item) {
              LeafAttrs ad;
              const std::string bad = CheckReplicatedLeaf(f, mem, table, l, i, /*exact=*/false, &ad);
              if (!bad.empty() && !on_problem(TreeProblem{CanonicalVa(f, low), l, ep.addr(), v.raw, bad})) return false;
              // Skip the rest of the group; a bad group is skipped whole.
              i = AlignDown(i, size - item) + LowMask(size - item);
              if (!bad.empty()) continue;
              a = LeafAttrs::FromBits(a.Permissions().bits() | ad.bits());
            }
            a = EffectiveAttrs(a, PermsOf(f.Restrictions(), path));
            if (!on_leaf(LeafInfo{CanonicalVa(f, low), l, size, f.LeafOa(v.raw, l), v.raw, a, table})) return false;
            continue;
          }
          case EntryKind::kTable: {
            const Oa next = f.TableOa(v.raw, l);
            if (!TableOverlaps(f, NextTableLevel(f, v.raw, l), low, span)) continue;
            if (!reached_from.try_emplace(next.value(), TablePathStep{table.value(), i}).second) {
              if (!on_problem(TreeProblem{CanonicalVa(f, low), l, ep.addr(), v.raw,
                                          ReachedAgain(table.value(), i, next.value()), next})) {
                return false;
              }
              continue;
            }
            PathBits below = path;
            below.Add(RestrictingBits(f, v.raw, l));
            // An entry that skips levels maps only the first part of its
            // span, which is exactly the lower table's span from `low`.
            path_to_here.push_back({table.value(), i});
            const bool go_on = Visit(next, NextTableLevel(f, v.raw, l), low, below);
            path_to_here.pop_back();
            if (!go_on) return false;
            continue;
          }
        }
      }
      return true;
    }
  };
  Walker w{f, mem, span, on_leaf, on_problem, on_table, {}, {}};
  w.reached_from.emplace(root.value(), TablePathStep{root.value(), 0});
  w.Visit(root, f.TopLevel(), 0, PathBits{});
}
template <PageTableFormat F, typename OnLeaf, typename OnProblem>
void ForEachLeaf(const F& f, PhysMem* mem, Oa root, OnLeaf&& on_leaf, OnProblem&& on_problem) {
  ForEachLeaf(f, mem, root, on_leaf, on_problem, [](const TableInfo&) { return true; });
}

struct TreeStats {
  uint64_t tables = 0;  // reachable, root included
  uint64_t leaves = 0;
};

// Structural invariants of a tree built by ptsim's own operations: every
// table pointer leads to a live table of the right level (the level it
// names, for an entry that skips levels), owner and size, no table is
// reachable twice, no entry is invalid, and entries skip levels only in a
// configuration whose operations build skips. With a `span`, only the
// tables and entries that overlap it are checked and counted.
template <PageTableFormat F>
absl::StatusOr<TreeStats> CheckTree(const F& f, PhysMem* mem, const TableAllocator& alloc, Oa root,
                                    uint32_t owner, LowSpan span = {}) {
  struct Checker {
    const F& f;
    PhysMem* mem;
    LowSpan span;
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
      const auto [first_i, last_i] = IndicesIn(f, l, low_base, span);
      for (uint64_t i = first_i; i <= last_i; ++i) {
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
          case EntryKind::kLeaf: {
            ++stats.leaves;
            const unsigned size = LeafSizeLg2(f, v.raw, l);
            if (size == item) continue;
            if (std::string bad = CheckReplicatedLeaf(f, mem, table, l, i, /*exact=*/true); !bad.empty()) {
              return absl::InternalError(absl::StrFormat("%s (level %d, va %#x): %s", where, l.value(),
                                                         CanonicalVa(f, low).value(), bad));
            }
            i += LowMask(size - item);
            continue;
          }
          case EntryKind::kTable: {
            const Level next = NextTableLevel(f, v.raw, l);
            if (next != l.Below() && !BuildsSkips(f)) {
              return absl::InternalError(absl::StrFormat(
                  "entry at %#x (level %d) %#x skips to a level-%d table, but this configuration builds no skips",
                  ep.addr().value(), l.value(), v.raw, next.value()));
            }
            if (!TableOverlaps(f, next, low, span)) continue;
            if (auto st = CheckTable(f.TableOa(v.raw, l), next, low, ep.addr()); !st.ok()) return st;
            continue;
          }
        }
      }
      return absl::OkStatus();
    }
  };
  Checker c{f, mem, span, alloc, owner, {}, {}};
  if (auto st = c.CheckTable(root, f.TopLevel(), 0, Oa()); !st.ok()) return st;
  return c.stats;
}

}  // namespace ptsim

#endif  // PTSIM_OPS_INSPECT_H_
