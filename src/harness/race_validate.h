// The refusals of a race program before it runs: what the format cannot
// build, ranges that are not canonical or not aligned, and sizes that would
// make a run never end.
#ifndef PTSIM_HARNESS_RACE_VALIDATE_H_
#define PTSIM_HARNESS_RACE_VALIDATE_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "src/harness/race_program.h"
#include "src/pt/geometry.h"

namespace ptsim {
namespace race_internal {

// Leaves one populate may install: keeps a text program from asking for a
// run that never ends.
constexpr uint64_t kMaxLeavesPerOp = 4096;

// The level of a 2^size_lg2 leaf: one entry, or a replicated group (ARM
// contiguous, RISC-V NAPOT).
template <PageTableFormat F>
std::optional<Level> LeafLevelOf(const F& f, unsigned size_lg2) {
  if (size_lg2 >= 64) return std::nullopt;
  for (Level l = f.TopLevel();; l = l.Below()) {
    if ((LeafSizesLg2(f, l) >> size_lg2) & 1) return l;
    if (l.IsBottom()) return std::nullopt;
  }
}

template <PageTableFormat F>
absl::Status Validate(const F& f, const RaceProgram& p) {
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const RaceOp& op = p.ops[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrFormat("op %d '%s': %s", i + 1, RaceOpToText(op), why));
    };
    switch (op.kind) {
      case RaceOpKind::kPopulate: {
        const std::optional<Level> l = LeafLevelOf(f, op.size_lg2);
        if (!l) return bad(absl::StrFormat("%s has no 2^%d leaves", F::kName, op.size_lg2));
        const uint64_t mask = LowMask(op.size_lg2);
        if ((op.first.value() & mask) != 0 || ((op.last.value() + 1) & mask) != 0) {
          return bad("the range is not aligned to the leaf size");
        }
        if (!IsValidRange(f, {op.first, op.last})) return bad("not a canonical range within one half");
        // A top-level entry of the kernel half exists once per address
        // space, copied by sync_global; a leaf there would appear in one
        // space before another, which no kernel does (x86 syncs only
        // tables into every pgd; ARM shares one TTBR1 table).
        if (*l == f.TopLevel() && IndexOf(f, op.first, *l) >= (uint64_t{1} << f.IndexLg2(*l)) / 2) {
          return bad("a leaf in the kernel half of the top-level table (the kernel half is shared through tables)");
        }
        if ((op.last.value() - op.first.value()) >> op.size_lg2 >= kMaxLeavesPerOp) {
          return bad(absl::StrFormat("more than %d leaves", kMaxLeavesPerOp));
        }
        const uint64_t span = op.last.value() - op.first.value();
        if ((op.oa.value() & mask) != 0 || op.oa.value() + span < op.oa.value() ||
            ((op.oa.value() + span) >> LeafOaBits(f, *l)) != 0) {
          return bad(absl::StrFormat("the output range does not fit %d aligned bits", LeafOaBits(f, *l)));
        }
        break;
      }
      case RaceOpKind::kRemove:
      case RaceOpKind::kCopy:
      case RaceOpKind::kProtect:
        if (!IsValidRange(f, {op.first, op.last})) return bad("not a canonical range within one half");
        break;
      case RaceOpKind::kGup:
      case RaceOpKind::kAccess:
        if (!IsCanonical(f, op.va)) return bad("the address is not canonical");
        break;
      case RaceOpKind::kUnpin:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace race_internal
}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_VALIDATE_H_
