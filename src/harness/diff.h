// Cross-format differential testing (DESIGN.md §8, oracle 3): one program
// runs on several formats, each under the checking executor; after every
// operation the runner observes each format's tables through the MMU at the
// addresses the operation touched, normalises the observations, and
// compares every pair of formats.
//
// Programs. A differential program is an ordinary program (program.h). Its
// `format` line is the frame: the format whose geometry the binary encoding
// is relative to (page units, VA width, canonical form), and the only format
// that runs with the program's `config`; every other format runs with its
// defaults. Decoded addresses are absolute, so the operations mean the same
// thing to every format.
//
// What may legitimately differ comes from each format's own declarations
// (src/pt/format.h, src/pt/geometry.h), never from its name:
//   * VA width and canonical form (VaBits, VaExt): an operation whose range
//     a format cannot hold is not expressible there; an address is compared
//     only where it is canonical in both formats;
//   * page sizes (CanLeaf, ItemLg2): an operation must be aligned to the
//     format's smallest leaf, a forced size must exist; leaf sizes are
//     compared after projecting both onto the largest size the two formats
//     share that is not larger (a 1 GiB Sv48 leaf and a 1 GiB x86 leaf
//     agree; a 4 MiB x86_32 leaf and two 2 MiB PAE leaves agree on 4 KiB);
//   * OA width (OaBits, LeafOaBits): a map whose output range some leaf
//     size could not hold is not expressible;
//   * partial-leaf policy (PartialLeafPolicy): a format that refuses to
//     split a leaf stops being compared where it refused;
//   * attribute sets (Canonical): attributes are compared after both
//     formats' Canonical, so "x86 pages are always readable" and "no exec
//     control without NXE" need no special case; an access verdict may
//     differ only where the formats' own attributes differ.
// An operation that is not expressible in a format ends that format's
// comparable prefix if another format in the run can express it (their
// states part there). Expressibility is conservative, so an op that no
// format can express ends the comparison of each format where it succeeded
// all the same.
#ifndef PTSIM_HARNESS_DIFF_H_
#define PTSIM_HARNESS_DIFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "src/harness/executor.h"

namespace ptsim {

// One address as one format's tables show it.
struct Observation {
  bool canonical = false;
  bool mapped = false;
  FaultKind fault = FaultKind::kNotPresent;  // when canonical and not mapped
  Oa oa;                                     // when mapped: the address's own OA
  unsigned size_lg2 = 0;                     // the leaf's size
  LeafAttrs attrs;                           // effective permissions
};
std::string DescribeObservation(const Observation& o);

struct OpObservations {
  StepRecord step;
  std::vector<Observation> probes;  // at DiffResult::probes[op index]
  // Access operations: the access itself (ok, or its fault).
  bool access_ok = false;
  FaultKind access_fault = FaultKind::kNotPresent;
};

struct FormatRun {
  Program program;  // the frame program as this format ran it
  // Per op: empty when the format can express it, else why not.
  std::vector<std::string> inexpressible;
  // Ops [0, comparable_ops) are compared; `stopped` says why the rest are
  // not (empty when the run was compared to its end).
  int comparable_ops = 0;
  std::string stopped;
  std::vector<OpObservations> ops;
  ExecResult exec;  // the run checked against the format's own model
};

struct Difference {
  int op_index = 0;
  int run_a = 0;  // indices into DiffResult::runs, run_a < run_b
  int run_b = 0;
  std::string kind;  // status, presence, fault, oa, size, attrs, access
  std::optional<Va> va;
  std::string a;  // the two normalised results
  std::string b;
};

struct DiffResult {
  std::vector<std::vector<Va>> probes;  // per op, the same for every format
  std::vector<FormatRun> runs;
  std::vector<Difference> differences;
  // No format diverged from its own model and no two formats differ.
  bool ok() const;
  // The first run that diverged from its model, or -1.
  int FirstDivergentRun() const;
};

struct DiffOptions {
  ExecOptions exec;
  // Stop comparing after this many differences (a fuzzer needs one).
  size_t max_differences = 64;
};

// Every registered format's name, in registry order: what "all formats"
// means to the fuzzer and the CLI.
std::vector<std::string> AllFormatNames();

// Runs `frame` on every format named in `formats` (registered names; at
// least one) and compares them pairwise. Deterministic.
DiffResult RunDiff(const Program& frame, absl::Span<const std::string> formats, Arena& arena,
                   const DiffOptions& opt = {});

// "<formatA>-<formatB>-<op>-<kind>", what crash triage groups by.
std::string DiffSignature(const DiffResult& r, const Difference& d);

// The human report of one difference: the program, both formats' steps
// side by side, both observations, and the walk of the address in each
// format (the two runs are replayed up to the operation to show it).
std::string FormatDiffReport(const Program& frame, const DiffResult& r, const Difference& d, Arena& arena,
                             const DiffOptions& opt = {});

}  // namespace ptsim

#endif  // PTSIM_HARNESS_DIFF_H_
