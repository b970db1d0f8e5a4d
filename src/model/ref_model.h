// The reference model (DESIGN.md §8, oracle 1): a naive map from each leaf's
// first VA to its output address, size and attributes, written for clarity,
// never for speed. It knows only the format's geometry (FormatInfo), never
// its tables, and predicts both the outcome of every operation (including
// which error) and the exact set of leaves the tables must hold.
#ifndef PTSIM_MODEL_REF_MODEL_H_
#define PTSIM_MODEL_REF_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"

#include "absl/status/status.h"
#include "src/any/any_format.h"

namespace ptsim {

struct ModelLeaf {
  unsigned size_lg2;
  Oa oa;
  LeafAttrs attrs;  // permissions only: accessed/dirty belong to hardware
  bool operator==(const ModelLeaf&) const = default;
};

class RefModel {
 public:
  // `canonical` normalises requested attributes the way the format stores
  // them (what DecodeAttrs(EncodeLeaf(a)) gives, checked by golden vectors).
  RefModel(const FormatInfo& info, std::function<LeafAttrs(LeafAttrs)> canonical,
           std::function<bool(Va)> is_canonical);

  absl::Status Map(VaRange r, Oa oa, LeafAttrs attrs, unsigned force_lg2);
  absl::Status Unmap(VaRange r);
  absl::Status Protect(VaRange r, LeafAttrs attrs);

  // How many leaves Map would create (0 if it would fail), counting no
  // further than limit + 1: lets the harness refuse absurdly large
  // operations before running them, in time bounded by the limit.
  uint64_t CountMapLeaves(VaRange r, Oa oa, unsigned force_lg2, uint64_t limit) const;

  // The leaf that holds `va`, with its first VA.
  std::optional<std::pair<Va, ModelLeaf>> Lookup(Va va) const;
  const std::map<uint64_t, ModelLeaf>& leaves() const { return leaves_; }

 private:
  absl::Status CheckRange(VaRange r) const;
  unsigned LeafOaBitsOf(unsigned size_lg2) const;
  unsigned LeafSizeAt(uint64_t va, uint64_t at, uint64_t last, unsigned force_lg2, bool check_oa) const;
  absl::StatusOr<std::vector<std::pair<uint64_t, ModelLeaf>>> Plan(VaRange r, Oa oa, LeafAttrs a,
                                                                   unsigned force_lg2) const;
  unsigned SmallerLeaf(unsigned lg2) const;
  // Splits every leaf that straddles r.first or r.last so that each leaf is
  // either inside r or outside it.
  // OutOfRange when an edge of r falls inside a leaf whose smaller pieces
  // could not hold its output address.
  absl::Status CheckSplits(VaRange r) const;
  absl::Status CheckSplitAt(uint64_t va) const;
  void SplitAtEdges(VaRange r);
  void SplitLeafAt(uint64_t va);
  template <typename Fn>
  void ForLeavesIn(VaRange r, Fn&& fn);

  const FormatInfo& info_;
  std::function<LeafAttrs(LeafAttrs)> canonical_;
  std::function<bool(Va)> is_canonical_;
  std::map<uint64_t, ModelLeaf> leaves_;  // key: first VA of the leaf
};

}  // namespace ptsim

#endif  // PTSIM_MODEL_REF_MODEL_H_
