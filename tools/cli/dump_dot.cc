// ptsim dump --dot: the tables of an image as a Graphviz digraph. Each
// table the walk reaches is a node (its level's name, address and first
// VA); an edge goes from the entry that points to it; the leaves of a table
// are merged into runs (VA and OA contiguous, the same attributes), one
// node per run. What the walk refuses to follow is marked in red: a table
// reached a second time (shared between entries, or a cycle) gets a dashed
// edge from the entry that points to it again, and any other problem
// (outside memory, a reserved encoding, a replicated leaf whose entries
// disagree) is an octagon hanging from its table.
#include "tools/cli/dump_dot.h"

#include <cstdio>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

struct DotRun {
  uint64_t va = 0, oa = 0, bytes = 0, leaves = 0;
  uint64_t first_index = 0, last_index = 0;
  std::string attrs;
};

struct DotTable {
  TableInfo info;
  uint64_t bytes = 0;  // of its entries
  std::vector<DotRun> runs;
  bool shared = false;
};

std::string Escape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string Node(uint64_t table) { return absl::StrFormat("t_%x", table); }

}  // namespace

int RunDumpDot(const AnyFormat& f, const LoadedImage& img, uint64_t limit) {
  const FormatInfo& info = f.Info();
  auto level_info = [&](Level l) -> const LevelInfo& {
    for (const LevelInfo& li : info.levels)
      if (li.level == l.value()) return li;
    return info.levels.back();
  };
  std::map<uint64_t, DotTable> tables;  // by address
  std::vector<TreeProblem> problems;
  uint64_t n_leaves = 0;
  bool limited = false;
  auto table_holding = [&](Oa addr) -> DotTable* {
    auto it = tables.upper_bound(addr.value());
    if (it == tables.begin()) return nullptr;
    --it;
    return addr.value() < it->first + it->second.bytes ? &it->second : nullptr;
  };
  f.ForEachTableAndLeaf(
      img.mem.get(), img.root,
      [&](const TableInfo& t) {
        const LevelInfo& li = level_info(t.level);
        tables[t.table.value()] = DotTable{t, (uint64_t{1} << li.index_lg2) * info.entry_bytes, {}, false};
        return true;
      },
      [&](const LeafInfo& l) {
        if (n_leaves >= limit) {
          limited = true;
          return false;
        }
        ++n_leaves;
        DotTable& t = tables.at(l.table.value());
        const LevelInfo& li = level_info(l.level);
        const uint64_t index = (l.va.value() >> li.item_lg2) & LowMask(li.index_lg2);
        const uint64_t bytes = uint64_t{1} << l.size_lg2;
        const std::string attrs = AttrsToString(l.attrs);
        if (!t.runs.empty()) {
          DotRun& r = t.runs.back();
          if (r.va + r.bytes == l.va.value() && r.oa + r.bytes == l.oa.value() && r.attrs == attrs) {
            r.bytes += bytes;
            ++r.leaves;
            r.last_index = index + (bytes >> li.item_lg2) - 1;
            return true;
          }
        }
        t.runs.push_back({l.va.value(), l.oa.value(), bytes, 1, index, index + (bytes >> li.item_lg2) - 1, attrs});
        return true;
      },
      [&](const TreeProblem& p) {
        if (problems.size() >= limit) {
          limited = true;
          return false;
        }
        problems.push_back(p);
        return true;
      });

  for (const TreeProblem& p : problems) {
    if (p.target) {
      if (auto it = tables.find(p.target->value()); it != tables.end()) it->second.shared = true;
    }
  }
  const unsigned va_w = (info.va_bits + 3) / 4, oa_w = (info.oa_bits + 3) / 4;
  std::string out = absl::StrFormat(
      "// ptsim dump --dot: %s, root 0x%x%s, image %s\n"
      "digraph ptsim {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
      "  edge [fontname=\"monospace\", fontsize=9];\n",
      info.name, img.root.value(), img.RootFrom(), img.Extent());
  for (const std::string& line : img.FromImageLines()) absl::StrAppend(&out, "  // ", line, "\n");
  uint64_t run_id = 0;
  for (const auto& [addr, t] : tables) {
    const LevelInfo& li = level_info(t.info.level);
    std::string label = absl::StrFormat("%s @ 0x%x\\nva 0x%0*x", li.name, addr, va_w, t.info.va.value());
    std::string style;
    if (t.shared) {
      absl::StrAppend(&label, "\\nreached twice (shared or in a cycle)");
      style = ", color=red, style=filled, fillcolor=mistyrose";
    }
    absl::StrAppend(&out, absl::StrFormat("  %s [label=\"%s\"%s];\n", Node(addr), label, style));
    if (t.info.parent) {
      absl::StrAppend(&out, absl::StrFormat("  %s -> %s [label=\"[%d]\"];\n", Node(t.info.parent->value()),
                                            Node(addr), t.info.index));
    }
    for (const DotRun& r : t.runs) {
      const std::string id = absl::StrFormat("r_%d", run_id++);
      absl::StrAppend(&out, absl::StrFormat("  %s [shape=note, label=\"va 0x%0*x-0x%0*x\\noa 0x%0*x-0x%0*x\\n%s %s "
                                            "(%d leaves)\"];\n",
                                            id, va_w, r.va, va_w, r.va + r.bytes - 1, oa_w, r.oa, oa_w,
                                            r.oa + r.bytes - 1, BytesText(r.bytes), Escape(r.attrs), r.leaves));
      const std::string entries = r.first_index == r.last_index
                                      ? absl::StrFormat("[%d]", r.first_index)
                                      : absl::StrFormat("[%d..%d]", r.first_index, r.last_index);
      absl::StrAppend(&out, absl::StrFormat("  %s -> %s [label=\"%s\"];\n", Node(addr), id, entries));
    }
  }
  for (size_t i = 0; i < problems.size(); ++i) {
    const TreeProblem& p = problems[i];
    // The entry's table; for a table that could not be read (outside
    // memory), the deepest table above it whose span holds its VA.
    const DotTable* holder = table_holding(p.entry_addr);
    const bool unread = holder == nullptr;
    for (auto it = tables.begin(); unread && it != tables.end(); ++it) {
      const DotTable& t = it->second;
      const LevelInfo& li = level_info(t.info.level);
      const uint64_t lo = t.info.va.value() & LowMask(info.va_bits);
      const uint64_t va = p.va.value() & LowMask(info.va_bits);
      if (t.info.level.value() > p.level.value() && va >= lo && va - lo <= LowMask(li.item_lg2 + li.index_lg2) &&
          (holder == nullptr || t.info.level.value() < holder->info.level.value())) {
        holder = &t;
      }
    }
    const std::string from = holder ? Node(holder->info.table.value()) : std::string("image");
    if (p.target && tables.contains(p.target->value())) {
      absl::StrAppend(&out, absl::StrFormat("  %s -> %s [color=red, style=dashed, label=\"entry @0x%x again\"];\n",
                                            from, Node(p.target->value()), p.entry_addr.value()));
      continue;
    }
    absl::StrAppend(&out, absl::StrFormat("  p_%d [shape=octagon, color=red, label=\"entry @0x%x = 0x%x\\n%s\"];\n",
                                          i, p.entry_addr.value(), p.raw, Escape(p.what)));
    absl::StrAppend(&out, absl::StrFormat("  %s -> p_%d [color=red];\n", from, i));
  }
  absl::StrAppend(&out, absl::StrFormat("  // %d tables, %d leaves, %d problems%s\n}\n", tables.size(), n_leaves,
                                        problems.size(), limited ? " (stopped at --limit)" : ""));
  std::fputs(out.c_str(), stdout);
  if (auto st = img.ReadStatus(); !st.ok()) return Fail(st);
  if (limited) Note(absl::StrFormat("stopped at --limit %d (leaves or problems); the image describes more", limit));
  if (!problems.empty()) {
    Note(absl::StrFormat("%d problem%s in the tables under root 0x%x%s (image %s), marked in red", problems.size(),
                         problems.size() == 1 ? "" : "s", img.root.value(), img.RootFrom(), img.Extent()));
    return kExitFinding;
  }
  return kExitOk;
}

}  // namespace ptsim::cli
