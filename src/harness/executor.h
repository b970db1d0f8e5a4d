// Runs a program against a format's tables and the reference model, and
// checks after every operation (DESIGN.md §8):
//   * the operation's outcome (ok or which error) matches the model;
//   * structure: every table pointer leads to a live table of the right
//     level and owner, nothing is reachable twice, accounting adds up
//     (live tables = reachable tables, leaves = map counts);
//   * the leaves in the tables are exactly the model's leaves;
//   * the MMU translates the addresses the operation touched, and a sample
//     of others, as the model says;
//   * at each access, the architecture's rules in the program's CPU mode do
//     what the family's verdict on the leaf says (check "arch-rules");
// and at the end that tearing the space down leaks no table.
#ifndef PTSIM_HARNESS_EXECUTOR_H_
#define PTSIM_HARNESS_EXECUTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/harness/program.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"

namespace ptsim {

// Simulated memory reused across runs; Reset() costs what the last run
// touched.
class Arena {
 public:
  static constexpr uint64_t kTableBase = 0x1000000;  // 16 MiB
  static constexpr uint64_t kTableBytes = 0x4000000;  // 64 MiB of tables

  Arena()
      : mem_(Oa(kTableBase), kTableBytes),
        alloc_(&mem_, OaRange{Oa(kTableBase), Oa(kTableBase + kTableBytes - 1)}) {}
  void Reset() {
    mem_.Reset();
    alloc_.Reset();
    frames_.Reset();
  }
  PhysMem& mem() { return mem_; }
  TableAllocator& alloc() { return alloc_; }
  FrameTable& frames() { return frames_; }

 private:
  PhysMem mem_;
  TableAllocator alloc_;
  FrameTable frames_;
};

struct Divergence {
  int op_index = -1;      // -1: at teardown
  std::string check;      // "status", "structure", "leaves", "translate", "ad", "leak"
  std::string op_text;
  std::optional<Va> va;
  std::string expected;
  std::string actual;
  std::string walk;       // the walk of `va`, level by level, raw entry bytes
  // One line for crash grouping, e.g. "x86_64_4level-unmap-translate".
  std::string Signature(const std::string& format) const;
};

struct StepRecord {
  std::string op_text;
  std::string outcome;  // "ok", or the error status
  // map, unmap, protect: the operation's status code.
  absl::StatusCode code = absl::StatusCode::kOk;
  // False when the operation was not applied as asked: skipped for the
  // per-op leaf limit, or stopped by exhausted table memory. The run's state
  // then follows no program another run could follow.
  bool applied = true;
  // access: the architecture's answer in the program's CPU mode where it
  // differs from the neutral one (e.g. "fault permission (#PF error code
  // 0x11 [P I/D])"), else empty.
  std::string architecture;
};

// The tables as they are after an operation, for whoever watches a run.
struct TablesView {
  const AnyFormat& format;
  PhysMem* mem;
  Oa root;
};

// Sees every operation of a run after its checks held (the differential
// runner records what it compares here).
class ExecObserver {
 public:
  virtual ~ExecObserver() = default;
  virtual void AfterOp(int index, const Op& op, const StepRecord& step, const TablesView& tables) = 0;
};

struct ExecOptions {
  // Stop before an operation whose map would create more leaves than this;
  // keeps one fuzz input cheap. 0 = no limit.
  uint64_t max_leaves_per_op = 1 << 9;
  int samples_per_op = 16;
  // Check the tables after every operation (structure, accounting, the
  // exact leaf set; tree_oracle.h): over the span the operation could
  // change, the whole tree every `whole_tree_every` operations (0: only at
  // the end of the program). A caller that runs many formats per input and
  // compares them may turn it off for speed.
  bool check_whole_tree = true;
  int whole_tree_every = 0;
  ExecObserver* observer = nullptr;
};

struct ExecResult {
  std::vector<StepRecord> steps;
  std::optional<Divergence> divergence;
  uint64_t trace_hash = 0;
  uint64_t translations_checked = 0;
  uint64_t peak_tables = 0;
  bool ok() const { return !divergence.has_value(); }
};

ExecResult Execute(const Program& p, Arena& arena, const ExecOptions& opt = {});

// The human report: program, steps with their effects, and the divergence
// with the walk of the failing address.
std::string FormatReport(const Program& p, const ExecResult& r);
// The walk of `va` over the tables at `root`, one line per level.
std::string FormatWalk(const AnyFormat& f, PhysMem* mem, Oa root, Va va, Access acc);
// One line per entry a walk read.
std::string FormatTraceSteps(const AnyFormat& f, const WalkTrace& trace);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_EXECUTOR_H_
