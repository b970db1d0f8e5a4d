#include "src/harness/tree_oracle.h"

#include "absl/strings/str_format.h"

namespace ptsim {

std::optional<TreeFinding> TreeOracle::Before(VaRange r) {
  const uint64_t low = LowMask(f_.Info().va_bits);
  span_ = {0, 0};  // a refused range changes nothing; the span is only for the counts
  if (f_.IsValidRange(r)) {
    span_ = {r.first.value() & low, r.last.value() & low};
    const MmuOptions look{.update_ad = false, .check_permissions = false};
    const WalkResult first = f_.Translate(mem_, space_.root(), r.first, Access{}, look, nullptr);
    if (first.ok) span_.first = AlignDown(span_.first, first.t.size_lg2);
    const WalkResult last = f_.Translate(mem_, space_.root(), r.last, Access{}, look, nullptr);
    if (last.ok) span_.last = BlockLast(span_.last, last.t.size_lg2);
  }
  const absl::StatusOr<TreeStats> st = f_.CheckTree(mem_, alloc_, space_.root(), 1, span_);
  if (!st.ok()) {
    return TreeFinding{"structure", std::nullopt, "a well-formed tree before the operation",
                       std::string(st.status().message())};
  }
  before_ = {st->tables, st->leaves, alloc_.stats().live, frames_.TotalMapcount(), space_.leaves()};
  return std::nullopt;
}

std::optional<TreeFinding> TreeOracle::CheckChanged() const {
  const absl::StatusOr<TreeStats> st = f_.CheckTree(mem_, alloc_, space_.root(), 1, span_);
  if (!st.ok()) return TreeFinding{"structure", std::nullopt, "a well-formed tree", std::string(st.status().message())};
  const AllocatorStats& a = alloc_.stats();
  const int64_t reachable = static_cast<int64_t>(st->tables) - static_cast<int64_t>(before_.tables);
  const int64_t live = static_cast<int64_t>(a.live) - static_cast<int64_t>(before_.live);
  if (reachable != live || a.pending != 0) {
    return TreeFinding{"structure", std::nullopt,
                       absl::StrFormat("live tables change as reachable ones do (%+d)", reachable),
                       absl::StrFormat("%+d live, %d pending free", live, a.pending)};
  }
  const int64_t leaves = static_cast<int64_t>(st->leaves) - static_cast<int64_t>(before_.leaves);
  const int64_t maps = frames_.TotalMapcount() - before_.maps;
  const int64_t counted = static_cast<int64_t>(space_.leaves()) - static_cast<int64_t>(before_.space_leaves);
  if (leaves != maps || leaves != counted || frames_.AnyMapcountNegative()) {
    return TreeFinding{"structure", std::nullopt,
                       absl::StrFormat("map counts change as leaves do (%+d), no negative frame count", leaves),
                       absl::StrFormat("total map count %+d, space counts %+d leaves%s", maps, counted,
                                       frames_.AnyMapcountNegative()
                                           ? ", a frame's count went negative (a leaf was unmapped at an OA it "
                                             "was never mapped at)"
                                           : "")};
  }
  return CheckLeavesIn(span_);
}

std::optional<TreeFinding> TreeOracle::CheckWhole() const {
  const absl::StatusOr<TreeStats> st = f_.CheckTree(mem_, alloc_, space_.root(), 1);
  if (!st.ok()) return TreeFinding{"structure", std::nullopt, "a well-formed tree", std::string(st.status().message())};
  const AllocatorStats& a = alloc_.stats();
  if (st->tables != a.live || a.pending != 0) {
    return TreeFinding{"structure", std::nullopt, absl::StrFormat("live tables = reachable tables (%d)", st->tables),
                       absl::StrFormat("%d live, %d pending free", a.live, a.pending)};
  }
  const int64_t maps = frames_.TotalMapcount();
  if (static_cast<int64_t>(st->leaves) != maps || st->leaves != space_.leaves() || frames_.AnyNegative()) {
    return TreeFinding{"structure", std::nullopt,
                       absl::StrFormat("map counts = leaves (%d), no negative frame count", st->leaves),
                       absl::StrFormat("total map count %d, space counts %d leaves%s", maps, space_.leaves(),
                                       frames_.AnyNegative() ? ", a frame's count went negative (a leaf was "
                                                               "unmapped at an OA it was never mapped at)"
                                                             : "")};
  }
  return CheckLeavesIn(LowSpan{});
}

// The tables' leaves in `span` against the model's, in VA order.
std::optional<TreeFinding> TreeOracle::CheckLeavesIn(LowSpan span) const {
  const auto& all = model_.leaves();
  auto it = span.first == 0 ? all.begin() : all.lower_bound(f_.CanonicalVa(span.first).value());
  const auto end = span.last == UINT64_MAX ? all.end() : all.upper_bound(f_.CanonicalVa(span.last).value());
  std::optional<std::pair<Va, std::string>> bad;
  f_.ForEachLeaf(
      mem_, space_.root(),
      [&](const LeafInfo& l) {
        const ModelLeaf got{l.size_lg2, l.oa, l.attrs.Permissions()};
        if (it == end || Va(it->first) != l.va || !(it->second == got)) {
          const std::string want =
              it == end ? std::string("no more leaves")
                        : absl::StrFormat("leaf va %#x oa %#x size 2^%d attrs %s", it->first, it->second.oa.value(),
                                          it->second.size_lg2, AttrsToString(it->second.attrs));
          bad = {l.va, absl::StrFormat("%s | tables have leaf va %#x oa %#x size 2^%d attrs %s", want, l.va.value(),
                                       l.oa.value(), l.size_lg2, AttrsToString(got.attrs))};
          return false;
        }
        ++it;
        return true;
      },
      [&](const TreeProblem& pr) {
        bad = {pr.va, pr.what};
        return false;
      },
      span);
  if (!bad && it != end) bad = {Va(it->first), "tables lack a leaf the model has"};
  if (!bad) return std::nullopt;
  return TreeFinding{"leaves", bad->first, "the model's leaves", bad->second};
}

}  // namespace ptsim
