#include "src/model/ref_model.h"

#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace ptsim {

RefModel::RefModel(const FormatInfo& info, std::function<LeafAttrs(LeafAttrs)> canonical,
                   std::function<bool(Va)> is_canonical)
    : info_(info), canonical_(std::move(canonical)), is_canonical_(std::move(is_canonical)) {}

absl::Status RefModel::CheckRange(VaRange r) const {
  // The same rules the manual gives, restated without the format code:
  // canonical ends, in order, on one side of the hole, page aligned.
  const unsigned half = info_.va_ext == VaExtension::kSign ? info_.va_bits - 1 : info_.va_bits;
  const bool one_side = half >= 64 || (r.first.value() >> half) == (r.last.value() >> half);
  if (r.first > r.last || !is_canonical_(r.first) || !is_canonical_(r.last) || !one_side) {
    return absl::InvalidArgumentError("not a canonical range");
  }
  const unsigned p = info_.min_page_lg2;
  if (!r.first.IsAligned(p) || (r.last.value() & LowMask(p)) != LowMask(p)) {
    return absl::InvalidArgumentError("not page aligned");
  }
  return absl::OkStatus();
}

unsigned RefModel::SmallerLeaf(unsigned lg2) const {
  for (unsigned s : info_.leaf_sizes_lg2)
    if (s < lg2) return s;
  PTSIM_CHECK(false, "no leaf smaller than 2^%d", lg2);
  return 0;
}

unsigned RefModel::LeafOaBitsOf(unsigned size_lg2) const {
  for (const LevelInfo& l : info_.levels)
    if ((l.leaf_sizes_mask >> size_lg2) & 1) return l.leaf_oa_bits;
  PTSIM_CHECK(false, "no level has 2^%d leaves", size_lg2);
  return 0;
}

unsigned RefModel::LeafSizeAt(uint64_t va, uint64_t at, uint64_t last, unsigned force_lg2, bool check_oa) const {
  // The largest leaf that both addresses are aligned to, that fits in what
  // is left and (when asked) whose output address the leaf can hold; 0 if
  // none. Taken greedily, this is what a top-down walk gives.
  for (unsigned s : info_.leaf_sizes_lg2) {
    if (force_lg2 != 0 && s != force_lg2) continue;
    if (!IsAligned(va, s) || !IsAligned(at, s) || last - va < LowMask(s)) continue;
    if (check_oa && ((at + LowMask(s)) >> LeafOaBitsOf(s)) != 0) continue;
    return s;
  }
  return 0;
}

absl::StatusOr<std::vector<std::pair<uint64_t, ModelLeaf>>> RefModel::Plan(VaRange r, Oa oa, LeafAttrs a,
                                                                            unsigned force_lg2) const {
  std::vector<std::pair<uint64_t, ModelLeaf>> plan;
  uint64_t va = r.first.value();
  uint64_t at = oa.value();
  for (;;) {
    const unsigned size = LeafSizeAt(va, at, r.last.value(), force_lg2, true);
    if (size == 0) return absl::OutOfRangeError(absl::StrFormat("no leaf can map va %#x to oa %#x", va, at));
    plan.emplace_back(va, ModelLeaf{size, Oa(at), a});
    if (r.last.value() - va == LowMask(size)) return plan;
    va += Lg2ToSize(size);
    at += Lg2ToSize(size);
  }
}

uint64_t RefModel::CountMapLeaves(VaRange r, Oa oa, unsigned force_lg2, uint64_t limit) const {
  if (!CheckRange(r).ok() || !oa.IsAligned(info_.min_page_lg2)) return 0;
  if (oa.value() + r.SizeMinusOne() < oa.value()) return 0;
  // Count without building the plan: a fuzzer may ask about huge ranges.
  uint64_t n = 0;
  uint64_t va = r.first.value();
  uint64_t at = oa.value();
  for (;;) {
    const unsigned size = LeafSizeAt(va, at, r.last.value(), force_lg2, false);
    if (size == 0) return n;
    ++n;
    if (r.last.value() - va == LowMask(size) || n > limit) return n;
    va += Lg2ToSize(size);
    at += Lg2ToSize(size);
  }
}

absl::Status RefModel::Map(VaRange r, Oa oa, LeafAttrs attrs, unsigned force_lg2) {
  if (auto st = CheckRange(r); !st.ok()) return st;
  if (!oa.IsAligned(info_.min_page_lg2)) return absl::InvalidArgumentError("oa not page aligned");
  const uint64_t size_m1 = r.SizeMinusOne();
  if (oa.value() + size_m1 < oa.value() || ((oa.value() + size_m1) >> info_.oa_bits) != 0) {
    return absl::OutOfRangeError("oa beyond the output address size");
  }
  if (force_lg2 != 0) {
    bool exists = false;
    for (unsigned s : info_.leaf_sizes_lg2) exists |= s == force_lg2;
    if (!exists || !r.first.IsAligned(force_lg2) || !oa.IsAligned(force_lg2) ||
        (r.last.value() & LowMask(force_lg2)) != LowMask(force_lg2)) {
      return absl::InvalidArgumentError("forced leaf size impossible here");
    }
  }
  // Overlap: the last leaf starting at or before r.last must end before r.first.
  auto it = leaves_.upper_bound(r.last.value());
  if (it != leaves_.begin()) {
    --it;
    if (it->first + LowMask(it->second.size_lg2) >= r.first.value()) {
      return absl::AlreadyExistsError("overlaps an existing mapping");
    }
  }
  auto plan = Plan(r, oa, canonical_(attrs).Permissions(), force_lg2);
  if (!plan.ok()) return plan.status();
  for (const auto& [va, leaf] : *plan) leaves_[va] = leaf;
  return absl::OkStatus();
}

void RefModel::SplitLeafAt(uint64_t va) {
  // Find the leaf containing va; if va is not its first byte, or the leaf
  // must be cut at va, break it into leaves of the next smaller size.
  auto it = leaves_.upper_bound(va);
  if (it == leaves_.begin()) return;
  --it;
  const uint64_t first = it->first;
  const ModelLeaf leaf = it->second;
  if (va - first > LowMask(leaf.size_lg2)) return;  // not inside this leaf
  if (va == first) return;                          // already a boundary
  leaves_.erase(it);
  const unsigned s = SmallerLeaf(leaf.size_lg2);
  for (uint64_t off = 0; off <= LowMask(leaf.size_lg2); off += Lg2ToSize(s)) {
    leaves_[first + off] = ModelLeaf{s, leaf.oa + off, leaf.attrs};
    if (off == LowMask(leaf.size_lg2) - LowMask(s)) break;
  }
  SplitLeafAt(va);  // the piece holding va may still need cutting
}

absl::Status RefModel::CheckSplitAt(uint64_t va) const {
  auto it = leaves_.upper_bound(va);
  if (it == leaves_.begin()) return absl::OkStatus();
  --it;
  const ModelLeaf& leaf = it->second;
  if (va - it->first > LowMask(leaf.size_lg2) || va == it->first) return absl::OkStatus();
  if (info_.partial_leaf == PartialLeaf::kRefuse) return absl::FailedPreconditionError("the format does not split");
  // The leaf breaks into the next smaller size, again and again, until va
  // is a boundary; every size on the way must hold the output address.
  const uint64_t oa_last = leaf.oa.value() + LowMask(leaf.size_lg2);
  for (unsigned s = SmallerLeaf(leaf.size_lg2);; s = SmallerLeaf(s)) {
    if ((oa_last >> LeafOaBitsOf(s)) != 0) return absl::OutOfRangeError("split: smaller leaves cannot hold the oa");
    if (IsAligned(va, s)) return absl::OkStatus();
  }
}

absl::Status RefModel::CheckSplits(VaRange r) const {
  if (auto st = CheckSplitAt(r.first.value()); !st.ok()) return st;
  if (r.last.value() == ~uint64_t{0}) return absl::OkStatus();
  return CheckSplitAt(r.last.value() + 1);
}

void RefModel::SplitAtEdges(VaRange r) {
  SplitLeafAt(r.first.value());
  if (r.last.value() != ~uint64_t{0}) SplitLeafAt(r.last.value() + 1);
}

template <typename Fn>
void RefModel::ForLeavesIn(VaRange r, Fn&& fn) {
  auto it = leaves_.lower_bound(r.first.value());
  while (it != leaves_.end() && it->first <= r.last.value()) it = fn(it);
}

absl::Status RefModel::Unmap(VaRange r) {
  if (auto st = CheckRange(r); !st.ok()) return st;
  if (auto st = CheckSplits(r); !st.ok()) return st;
  SplitAtEdges(r);
  ForLeavesIn(r, [&](auto it) { return leaves_.erase(it); });
  return absl::OkStatus();
}

absl::Status RefModel::Protect(VaRange r, LeafAttrs attrs) {
  if (auto st = CheckRange(r); !st.ok()) return st;
  if (auto st = CheckSplits(r); !st.ok()) return st;
  SplitAtEdges(r);
  const LeafAttrs a = canonical_(attrs.Permissions()).Permissions();
  ForLeavesIn(r, [&](auto it) {
    it->second.attrs = a;
    return ++it;
  });
  return absl::OkStatus();
}

std::optional<std::pair<Va, ModelLeaf>> RefModel::Lookup(Va va) const {
  auto it = leaves_.upper_bound(va.value());
  if (it == leaves_.begin()) return std::nullopt;
  --it;
  if (va.value() - it->first > LowMask(it->second.size_lg2)) return std::nullopt;
  return std::make_pair(Va(it->first), it->second);
}

}  // namespace ptsim
