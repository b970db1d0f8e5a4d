// The human report of a difference. The walks are not kept during the run
// (most runs have no difference): the two formats are replayed up to the
// operation, which is deterministic, and the walk is taken then.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/harness/diff_internal.h"

namespace ptsim {
namespace {

class WalkTaker final : public ExecObserver {
 public:
  WalkTaker(int index, Va va, Access acc) : index_(index), va_(va), acc_(acc) {}
  void AfterOp(int index, const Op&, const StepRecord&, const TablesView& t) override {
    if (index == index_) walk_ = FormatWalk(t.format, t.mem, t.root, va_, acc_);
  }
  const std::string& walk() const { return walk_; }

 private:
  int index_;
  Va va_;
  Access acc_;
  std::string walk_ = "  (the run stopped before this operation)\n";
};

std::string WalkAt(const FormatRun& run, int index, Va va, Access acc, Arena& arena, const DiffOptions& opt) {
  Program p = run.program;
  p.ops.resize(static_cast<size_t>(index) + 1);
  WalkTaker taker(index, va, acc);
  ExecOptions eo = opt.exec;
  eo.observer = &taker;
  Execute(p, arena, eo);
  return taker.walk();
}

std::string Column(const FormatRun& run, size_t k) {
  if (k < run.ops.size()) return run.ops[k].step.outcome;
  return "(not run)";
}

}  // namespace

std::string FormatDiffReport(const Program& frame, const DiffResult& r, const Difference& d, Arena& arena,
                             const DiffOptions& opt) {
  const FormatRun& a = r.runs[static_cast<size_t>(d.run_a)];
  const FormatRun& b = r.runs[static_cast<size_t>(d.run_b)];
  const Op& op = frame.ops[static_cast<size_t>(d.op_index)];
  std::string s = absl::StrFormat("=== differential: %s vs %s (frame %s)\n=== program\n%s", a.program.format,
                                  b.program.format, frame.format, ToText(frame));
  if (a.program.config != frame.config || b.program.config != frame.config) {
    absl::StrAppend(&s, "(formats other than the frame run with their default configuration)\n");
  }
  absl::StrAppend(&s, absl::StrFormat("=== steps%-53s %-34s | %s\n", "", a.program.format, b.program.format));
  for (size_t k = 0; k <= static_cast<size_t>(d.op_index); ++k) {
    absl::StrAppend(&s, absl::StrFormat("%3d  %-56s %-34s | %s\n", k + 1, OpToText(frame.ops[k]), Column(a, k),
                                        Column(b, k)));
  }
  absl::StrAppend(&s, "=== DIFFERENCE\n");
  absl::StrAppend(&s, "kind:     ", d.kind, "\n");
  absl::StrAppend(&s, absl::StrFormat("op:       #%d %s\n", d.op_index + 1, OpToText(op)));
  if (d.va) absl::StrAppend(&s, absl::StrFormat("address:  %#x\n", d.va->value()));
  absl::StrAppend(&s, absl::StrFormat("%-9s %s\n%-9s %s\n", a.program.format + ":", d.a, b.program.format + ":", d.b));
  if (d.va) {
    const Access acc = op.kind == OpKind::kAccess ? op.access : Access{};
    absl::StrAppend(&s, "=== walk in ", a.program.format, "\n", WalkAt(a, d.op_index, *d.va, acc, arena, opt));
    absl::StrAppend(&s, "=== walk in ", b.program.format, "\n", WalkAt(b, d.op_index, *d.va, acc, arena, opt));
  }
  absl::StrAppend(&s, "Assertion failure: ", DiffSignature(r, d), "\n");
  return s;
}

}  // namespace ptsim
