// Runs an ops program with the caches its RunSettings attach (program.h):
// the TLB and paging-structure caches of src/hw/tlb.h kept by the
// architecture's invalidator (with the planted bug, if any), and a
// non-coherent walker's device view fed by Space's write-backs. `access`
// ops are lookups that fill the caches. After every map / unmap / protect,
// a translation a cache would serve differently from a fresh walk, or a
// walk that reads an unflushed line, is a finding. What tlb_fuzzer runs,
// and what `ptsim repro` runs for a program with caches attached.
#ifndef PTSIM_HARNESS_TLB_RUNNER_H_
#define PTSIM_HARNESS_TLB_RUNNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"

#include "src/harness/executor.h"
#include "src/harness/program.h"

namespace ptsim {

struct TlbRunReport {
  // False when the format has no modelled invalidator (ARM stage 2, ARMv7,
  // the fake format) while the TLB is asked for, or the tables could not
  // be set up: nothing was checked.
  bool ran = false;
  int ops_run = 0;
  int failing_op = -1;  // index into Program::ops
  std::string check;    // "stale-tlb" or "unflushed"; empty when every check held
  std::string message;  // the stale entry or the unflushed line

  bool ok() const { return check.empty(); }
  // "<format>-<op>-<check>" as ops_fuzzer's and race_fuzzer's findings
  // are named, e.g. "x86_64_4level-protect-stale-tlb".
  std::string Signature(const Program& p) const {
    const std::string op = failing_op >= 0 && static_cast<size_t>(failing_op) < p.ops.size()
                               ? OpKindName(p.ops[static_cast<size_t>(failing_op)].kind)
                               : "ops";
    return p.format + "-" + op + "-" + check;
  }
};

TlbRunReport RunWithCaches(const Program& p, Arena& arena);

// The program, what was attached, the op that failed and the finding.
std::string FormatTlbReport(const Program& p, const TlbRunReport& r);

// tlb_fuzzer's search restriction, written into a mutant: both caches
// attached, and the invalidator bug `bug` when given, else `parent_bug`
// (the input's own, so a plain search from bug-free seeds stays bug-free
// and minimising a crash keeps its bug). Any bytes become a version 2
// program: a version 1 one gains the settings byte after its header.
std::vector<uint8_t> StampTlbSettings(absl::Span<const uint8_t> bytes, std::optional<uint8_t> bug,
                                      uint8_t parent_bug);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_TLB_RUNNER_H_
