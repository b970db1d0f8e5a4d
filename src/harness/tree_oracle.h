// The oracles over the tables after an operation (DESIGN.md §8, oracles 2
// and 3): the structure (CheckTree, and the allocator's and the frames'
// accounting against it) and the exact leaf set against the model.
//
// Whole tree, or only what one operation could change: its range widened
// to the leaves that covered its edges before it ran (a split changes only
// the leaf it splits, a map only its range, a freed or unskipped table
// overlaps the range). Outside that span no entry, table or leaf changes,
// so comparing the span before and after, with the running counts of live
// tables and mapped frames, costs what the operation touched; the whole
// tree is still checked at the end of a run and every k operations.
#ifndef PTSIM_HARNESS_TREE_ORACLE_H_
#define PTSIM_HARNESS_TREE_ORACLE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "src/any/any_format.h"
#include "src/mem/frames.h"
#include "src/mem/table_allocator.h"
#include "src/model/ref_model.h"

namespace ptsim {

struct TreeFinding {
  std::string check;  // "structure" or "leaves"
  std::optional<Va> va;
  std::string expected;
  std::string actual;
};

class TreeOracle {
 public:
  TreeOracle(const AnyFormat& f, PhysMem* mem, const TableAllocator& alloc, const FrameTable& frames,
             const AnySpace& space, const RefModel& model)
      : f_(f), mem_(mem), alloc_(alloc), frames_(frames), space_(space), model_(model) {}

  // Before an operation on `r`: the span it may change, and what is in it.
  // A span that does not check now (something changed the tables since the
  // last operation) is reported here, before the operation runs into it.
  std::optional<TreeFinding> Before(VaRange r);
  // After it: the span's structure and leaves, and the counts' changes
  // against the span's.
  std::optional<TreeFinding> CheckChanged() const;
  // Everything, from the root.
  std::optional<TreeFinding> CheckWhole() const;

 private:
  struct Counts {
    uint64_t tables = 0;  // reachable tables that overlap the span
    uint64_t leaves = 0;  // leaves in the span
    uint64_t live = 0;    // the allocator's live tables
    int64_t maps = 0;     // map counts of all frames
    uint64_t space_leaves = 0;
  };
  std::optional<TreeFinding> CheckLeavesIn(LowSpan span) const;

  const AnyFormat& f_;
  PhysMem* mem_;
  const TableAllocator& alloc_;
  const FrameTable& frames_;
  const AnySpace& space_;
  const RefModel& model_;
  LowSpan span_;
  Counts before_;
};

}  // namespace ptsim

#endif  // PTSIM_HARNESS_TREE_ORACLE_H_
