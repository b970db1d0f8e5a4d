// Runs a race program: one World over the program's format, one Scheduler
// fed by its schedule bytes, each CPU running its own operations; then the
// quiescence oracles and the teardown. Also the real-threads stress run.
#ifndef PTSIM_HARNESS_RACE_RUNNER_H_
#define PTSIM_HARNESS_RACE_RUNNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/harness/executor.h"
#include "src/harness/race_program.h"
#include "src/sched/scheduler.h"

namespace ptsim {

// How to run, not what: everything the outcome depends on is in the
// RaceProgram (its bugs, freeing scheme and shootdown style included).
struct RaceRunOptions {
  bool keep_trace = true;
  uint64_t step_budget = 200'000;
  // Interleaving coverage (libFuzzer extra counters); may be null.
  uint8_t* coverage = nullptr;
  size_t coverage_size = 0;
};

struct RaceOpOutcome {
  int op = 0;  // index into RaceProgram::ops
  int cpu = 0;
  uint64_t first_step = 0, last_step = 0;
  std::string result;
};

struct RaceReport {
  RunEnd end = RunEnd::kCompleted;
  std::string check;    // empty when every check held
  std::string message;
  int failing_op = -1;  // the op running on the CPU that failed, if any
  uint64_t trace_hash = 0;
  uint64_t steps = 0;
  uint64_t switches = 0;
  size_t tape_used = 0;
  std::vector<TraceEvent> trace;
  std::vector<Decision> decisions;      // with the trace (keep_trace)
  std::vector<RaceOpOutcome> outcomes;  // in completion order
  // Where the check failed: the CPU (-1 for the quiescence and teardown
  // checks, which run after every CPU finished) and the scheduling point
  // it had reached.
  int failing_cpu = -1;
  uint64_t failed_at = 0;
  // The failing op's address walked at the instant its check failed (not
  // after the run: the other CPUs still unwind), as text and step by step.
  std::string walk;
  std::optional<Va> walk_va;
  Oa walk_root;
  std::vector<WalkStep> walk_steps;
  std::string walk_result;

  bool ok() const { return check.empty(); }
  // "<format>-<op>-<check>", e.g. "x86_64_4level-gup-freed-table".
  std::string Signature(const RaceProgram& p) const;
};

// Input errors (an address off the format's grid, a range that is not
// canonical) are statuses naming the op; findings are in the report.
absl::StatusOr<RaceReport> RunRace(const RaceProgram& p, Arena& arena, const RaceRunOptions& opt = {});

// The report as `ptsim repro` prints it: the program, the interleaving
// actually taken (which CPU ran which steps of which op), each op's result,
// then the first violation with the walk of the failing address.
std::string FormatRaceReport(const RaceProgram& p, const RaceReport& r);

struct StressOptions {
  int threads = 2;
  double seconds = 1.0;
  FreeScheme free = FreeScheme::kRcu;
  ShootdownStyle shootdown = ShootdownStyle::kIpi;
  uint32_t bugs = 0;
  uint64_t seed = 1;
  // The CPU mode: KEY=VALUE[,...] settings of the family's mode knobs,
  // applied in order over its default mode.
  std::vector<std::string> mode;
};

struct StressResult {
  uint64_t ops = 0;
  double seconds = 0;
  std::string check;  // empty when every check held
  std::string message;
};

// The same operations on real threads, for a bounded time, then the
// quiescence oracles that do not need an exact history.
absl::StatusOr<StressResult> RunStress(std::string_view format, const std::vector<std::string>& config,
                                       const StressOptions& opt);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_RUNNER_H_
