#include "tools/cli/entry_text.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "tools/cli/common.h"

namespace ptsim::cli {

AddrWidths AddrWidths::Of(const FormatInfo& info) {
  const int va = info.va_ext == VaExtension::kZero ? static_cast<int>((info.va_bits + 3) / 4) : 16;
  return {va, static_cast<int>((info.oa_bits + 3) / 4)};
}

std::string LeafLine(const AnyFormat& f, const AddrWidths& w, const LeafInfo& l) {
  const FormatInfo& info = f.Info();
  return absl::StrFormat("va 0x%0*x  oa 0x%0*x  %-7s  level %d %-6s %s  %s\n", w.va, l.va.value(), w.oa,
                         l.oa.value(), SizeName(l.size_lg2), l.level.value(), LevelOf(info, l.level.value()).name,
                         AttrsToString(l.attrs), f.DescribeEntry(l.raw, l.level));
}

std::string ProblemLine(const AnyFormat& f, const LoadedImage& img, const TreeProblem& p) {
  const FormatInfo& info = f.Info();
  const LevelInfo& li = LevelOf(info, p.level.value());
  const std::string where = absl::StrFormat("problem: va 0x%x, level %d (%s)", p.va.value(), p.level.value(), li.name);
  // ForEachLeaf reports a table it cannot read with the table's own address
  // and a zero value; an entry it cannot decode with the entry's address and
  // its (non-zero: zero is empty in every format) value.
  if (p.raw == 0 && !img.mem->Contains(p.entry_addr, uint64_t{1} << li.table_size_lg2)) {
    return absl::StrFormat("%s: table at 0x%x lies outside the image %s (truncated image or bad table pointer)",
                           where, p.entry_addr.value(), img.Extent());
  }
  return absl::StrFormat("%s: entry at 0x%x = 0x%0*x (%s): %s", where, p.entry_addr.value(),
                         static_cast<int>(info.entry_bytes * 2), p.raw, f.DescribeEntry(p.raw, p.level), p.what);
}

std::string WalkCycle(const WalkTrace& trace) {
  for (int i = 1; i < trace.count; ++i) {
    const Oa table = trace.steps[static_cast<size_t>(i)].table;
    for (int j = 0; j < i; ++j) {
      if (trace.steps[static_cast<size_t>(j)].table != table) continue;
      std::vector<TablePathStep> path;
      for (int k = 0; k < i; ++k) {
        const WalkStep& s = trace.steps[static_cast<size_t>(k)];
        path.push_back({s.table.value(), s.index});
      }
      return absl::StrFormat("structure error: cycle: the walk reads table %#x twice: %s", table.value(),
                             TablePathText(path, table.value()));
    }
  }
  return "";
}

}  // namespace ptsim::cli
