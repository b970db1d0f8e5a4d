// Oracles at quiescence (every CPU done, table observer detached), and the
// teardown with its leak check (DESIGN.md §8, oracles 1, 2 and 4):
//   * both trees are structurally sound (live tables, right levels, no
//     table reached twice within a tree, no invalid entries);
//   * every address space's kernel-half top-level entries equal the
//     kernel's reference table (sync_global);
//   * the leaves in each tree are exactly the history's live mappings
//     (deterministic runs: the history is exact only there);
//   * live tables are exactly the reachable ones (nothing leaked by a lost
//     populate race, nothing freed that is still reachable);
//   * map counts equal the leaves mapping each frame, reference counts equal
//     maps plus the GUP references held, pin counts equal the pins held;
//   * pin coherence (research §1.3): where a pinned page is still mapped at
//     the address it was pinned through, it is still writable there (fork
//     must copy a pinned page, not write-protect and share it).
#ifndef PTSIM_CONC_QUIESCE_H_
#define PTSIM_CONC_QUIESCE_H_

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/conc/world.h"
#include "src/ops/inspect.h"

namespace ptsim {

struct Violation {
  std::string check;
  std::string message;
};

namespace conc_internal {

inline std::string Mappings(const std::vector<Mapping>& v) {
  std::string s;
  for (const Mapping& m : v) absl::StrAppend(&s, "    ", m.ToString(), "\n");
  return s.empty() ? "    (none)\n" : s;
}

}  // namespace conc_internal

template <PageTableFormat F>
std::optional<Violation> CheckQuiescent(World<F>& w) {
  using namespace conc_internal;
  const F& f = w.f;
  const Level top = f.TopLevel();
  for (int s = 0; s < kSpaces; ++s) {
    absl::StatusOr<TreeStats> st = CheckTree(f, w.mem, *w.alloc, w.spaces[s].root, 0);
    if (!st.ok()) return Violation{"structure", absl::StrCat("space ", s, ": ", st.status().message())};
  }
  const uint64_t half = (uint64_t{1} << f.IndexLg2(top)) / 2;
  for (uint64_t i = half; i < 2 * half; ++i) {
    const EntryVal<F> k = TablePtr<F>{w.kernel_root, top}.At(w.mem, i).Load(std::memory_order_acquire);
    for (int s = 0; s < kSpaces; ++s) {
      const EntryVal<F> v = TablePtr<F>{w.spaces[s].root, top}.At(w.mem, i).Load(std::memory_order_acquire);
      // Hardware sets accessed bits in each copy on its own; the pointer
      // is what must agree.
      const bool same = f.Classify(v.raw, top) == f.Classify(k.raw, top) &&
                        (f.Classify(k.raw, top) != EntryKind::kTable || f.TableOa(v.raw, top) == f.TableOa(k.raw, top));
      if (!same) {
        return Violation{"sync-global", absl::StrFormat("space %d's top-level entry %d is 0x%x, the kernel's is 0x%x", s,
                                                        i, uint64_t{v.raw}, uint64_t{k.raw})};
      }
    }
  }

  // Leaves per key, and how many leaves map each frame.
  std::map<uint64_t, int64_t> maps_of;
  std::vector<Mapping> kernel;
  std::array<std::vector<Mapping>, kSpaces> user_of;
  // Every table a space reaches (the kernel half's through each space's
  // copies of the kernel's top-level entries, checked equal above).
  absl::flat_hash_set<uint64_t> reachable{w.kernel_root.value()};
  for (int s = 0; s < kSpaces; ++s) {
    std::vector<Mapping> user;
    std::vector<Mapping> kern;
    std::optional<Violation> bad;
    ForEachLeaf(
        f, w.mem, w.spaces[s].root,
        [&](const LeafInfo& li) {
          const Mapping mp{li.va.value(), li.size_lg2, li.oa.value(), PermBits(li.attrs)};
          (w.IsKernel(li.va) ? kern : user).push_back(mp);
          if (!w.IsKernel(li.va) || s == 0) ++maps_of[li.oa.value()];
          return true;
        },
        [&](const TreeProblem& p) {
          bad = Violation{"structure", absl::StrFormat("space %d: %s at va 0x%x", s, p.what, p.va.value())};
          return false;
        },
        [&](const TableInfo& t) {
          reachable.insert(t.table.value());
          return true;
        });
    if (bad) return bad;
    if (s == 0) kernel = kern;
    user_of[s] = user;
    if (kern != kernel) return Violation{"sync-global", absl::StrFormat("space %d sees other kernel leaves", s)};
    if (w.m.rt().deterministic()) {
      const std::vector<Mapping> want = w.history.Live(s);
      if (user != want) {
        return Violation{"leaves", absl::StrCat("space ", s, " holds leaves the history does not explain\n  tree:\n",
                                                Mappings(user), "  history:\n", Mappings(want))};
      }
    }
  }
  if (w.m.rt().deterministic()) {
    const std::vector<Mapping> want = w.history.Live(kKernelKey);
    if (kernel != want) {
      return Violation{"leaves", absl::StrCat("the kernel half holds leaves the history does not explain\n  tree:\n",
                                              Mappings(kernel), "  history:\n", Mappings(want))};
    }
  }

  for (Oa t : w.alloc->LiveTables()) {
    if (!reachable.contains(t.value())) {
      return Violation{"table-leak", absl::StrFormat("table 0x%x (level %d) is live but unreachable", t.value(),
                                                     w.alloc->Find(t)->level)};
    }
  }
  if (w.alloc->stats().pending != 0) {
    return Violation{"table-leak", absl::StrFormat("%d tables still wait to be freed", w.alloc->stats().pending)};
  }

  std::map<uint64_t, std::pair<int64_t, int64_t>> held;  // head -> refs, pins
  for (int c = 0; c < w.m.ncpus(); ++c) {
    for (const auto& h : w.cpu[c].held) {
      ++held[h.head].first;
      held[h.head].second += h.pinned;
      if (!h.pinned) continue;
      // Unmapped since the pin: whatever maps the address now is another
      // mapping, which the pin does not constrain (munmap, then mmap).
      const std::vector<const HistoryEvent*> since = w.HistoryIn(w.KeyOf(h.space, h.va), h.va, h.since, UINT64_MAX);
      if (std::any_of(since.begin(), since.end(), [](const HistoryEvent* e) { return e == nullptr || !e->present; }))
        continue;
      const std::vector<Mapping>& leaves = w.IsKernel(h.va) ? kernel : user_of[h.space];
      for (const Mapping& mp : leaves) {
        const bool covers = h.va.value() >= mp.va && h.va.value() - mp.va < (uint64_t{1} << mp.size_lg2);
        const HistoryEvent* now = w.HistoryAt(w.KeyOf(h.space, h.va), h.va, UINT64_MAX);
        const bool by_fork = now != nullptr && now->cow;
        if (covers && by_fork && mp.oa == h.head && !LeafAttrs::FromBits(mp.perms).Has(Attr::kWrite)) {
          return Violation{"pin-coherence",
                           absl::StrFormat("cpu%d pinned frame 0x%x through va 0x%x of space %d for writing, but "
                                           "it is now mapped read-only there: fork write-protected a pinned page",
                                           c, h.head, h.va.value(), h.space)};
        }
      }
    }
  }
  std::optional<Violation> bad;
  std::vector<uint64_t> heads;
  w.frames.table().ForEach([&](Oa head, const FrameMeta&) { heads.push_back(head.value()); });
  for (const auto& [head, _] : maps_of) heads.push_back(head);
  std::sort(heads.begin(), heads.end());
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  for (uint64_t head : heads) {
    const FrameMeta* fm = w.frames.table().Find(Oa(head));
    const FrameMeta zero;
    const FrameMeta& m = fm ? *fm : zero;
    const int64_t maps = maps_of.count(head) ? maps_of[head] : 0;
    const auto [refs, pins] = held.count(head) ? held[head] : std::pair<int64_t, int64_t>{0, 0};
    if (m.mapcount != maps || m.refcount != maps + refs || m.pincount != pins) {
      return Violation{"frame-counts",
                       absl::StrFormat("frame 0x%x: mapcount %d refcount %d pincount %d, but %d leaves map it and "
                                       "CPUs hold %d references and %d pins",
                                       head, m.mapcount, m.refcount, m.pincount, maps, refs, pins)};
    }
  }
  return std::nullopt;
}

// Drops every held reference and frees every table; reports tables that
// could not be reached (leaks) and counts that do not return to zero.
template <PageTableFormat F>
std::optional<Violation> Teardown(World<F>& w) {
  using namespace conc_internal;
  // Every table reachable from a root, whatever problems the trees have.
  absl::flat_hash_set<uint64_t> reachable;
  auto collect = [&](Oa root) {
    ForEachLeaf(
        w.f, w.mem, root, [](const LeafInfo&) { return true; }, [](const TreeProblem&) { return true; },
        [&](const TableInfo& t) {
          reachable.insert(t.table.value());
          return true;
        });
  };
  collect(w.kernel_root);
  for (const auto& s : w.spaces) collect(s.root);
  std::vector<uint64_t> all(reachable.begin(), reachable.end());
  std::sort(all.begin(), all.end());
  for (uint64_t t : all) {
    if (w.alloc->IsLive(Oa(t))) w.alloc->Free(Oa(t));
  }
  w.alloc->ReleaseDeferred();
  const std::vector<Oa> left = w.alloc->LiveTables();
  if (!left.empty()) {
    return Violation{"table-leak", absl::StrFormat("%d tables leaked, the first at 0x%x", left.size(), left[0].value())};
  }
  return std::nullopt;
}

}  // namespace ptsim

#endif  // PTSIM_CONC_QUIESCE_H_
