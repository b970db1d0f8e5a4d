// The differential runner: which operations each format can express, one
// checked run per format with an observer that records the probes, and the
// comparable prefix of every run. The pairwise comparison is in
// diff_compare.cc, the report in diff_report.cc.
#include "src/harness/diff.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/harness/diff_internal.h"

namespace ptsim {
namespace {

// The output address bits every leaf size of the format can hold: a map
// above them could need a leaf that cannot hold its address (x86 PSE-36
// above 4 GiB), so it is expressible only below.
unsigned UniformLeafOaBits(const FormatInfo& info) {
  unsigned bits = info.oa_bits;
  for (const LevelInfo& l : info.levels) {
    if (l.can_leaf) bits = std::min(bits, l.leaf_oa_bits);
  }
  return bits;
}

bool AlignedRange(VaRange r, unsigned lg2) {
  return r.first.IsAligned(lg2) && (r.last.value() & LowMask(lg2)) == LowMask(lg2);
}

// Records, after every operation, the probes of that operation.
class Recorder final : public ExecObserver {
 public:
  Recorder(const std::vector<std::vector<Va>>& probes, std::vector<OpObservations>* out)
      : probes_(probes), out_(out) {}
  void AfterOp(int index, const Op& op, const StepRecord& step, const TablesView& t) override {
    OpObservations rec;
    rec.step = step;
    for (Va va : probes_[static_cast<size_t>(index)]) rec.probes.push_back(Observe(t.format, t.mem, t.root, va));
    if (op.kind == OpKind::kAccess) {
      const WalkResult w = t.format.Translate(t.mem, t.root, op.va, op.access, MmuOptions{.update_ad = false}, nullptr);
      rec.access_ok = w.ok;
      rec.access_fault = w.fault.kind;
    }
    out_->push_back(std::move(rec));
  }

 private:
  const std::vector<std::vector<Va>>& probes_;
  std::vector<OpObservations>* out_;
};

// Why a run's state follows the program no further after this step, or "".
// `inexpressible` is why the format cannot express the op, or "".
std::string StopReason(const AnyFormat& f, const StepRecord& step, const std::string& inexpressible) {
  if (!step.applied) return step.outcome;
  // Expressibility is conservative (a PSE-36 4 MiB leaf may hold an OA that
  // a 4 KiB leaf cannot): an op no format can express may still succeed
  // somewhere, and that format's state then parts from the others'.
  if (!inexpressible.empty() && step.code == absl::StatusCode::kOk) {
    return absl::StrCat("succeeded although not expressible (", inexpressible, ")");
  }
  if (step.code == absl::StatusCode::kFailedPrecondition && f.Info().partial_leaf == PartialLeaf::kRefuse) {
    return "refused to split a partly covered leaf (declared PartialLeafPolicy)";
  }
  return "";
}

// Where each format's state parts from the others', known before anything
// runs: the first operation it cannot express that another format can.
// Records the reason in `stopped`.
std::vector<size_t> ExpressibleCuts(DiffResult* r) {
  const size_t n_ops = r->probes.size();
  std::vector<size_t> cut(r->runs.size(), n_ops);
  for (size_t k = 0; k < n_ops; ++k) {
    bool anyone = false;
    for (const FormatRun& run : r->runs) anyone |= run.inexpressible[k].empty();
    for (size_t i = 0; i < r->runs.size() && anyone; ++i) {
      FormatRun& run = r->runs[i];
      if (cut[i] != n_ops || run.inexpressible[k].empty()) continue;
      cut[i] = k;
      run.stopped = absl::StrFormat("op %d is not expressible: %s", k + 1, run.inexpressible[k]);
    }
  }
  return cut;
}

}  // namespace

std::string Inexpressible(const AnyFormat& f, const Op& op) {
  const FormatInfo& info = f.Info();
  if (op.kind == OpKind::kAccess) return "";  // changes no mapping; compared where canonical
  if (!f.IsValidRange(op.range)) {
    return absl::StrFormat("range is not canonical in a %d-bit VA space", info.va_bits);
  }
  if (!AlignedRange(op.range, info.min_page_lg2)) {
    return absl::StrFormat("range is not aligned to the smallest leaf (2^%d)", info.min_page_lg2);
  }
  if (op.kind != OpKind::kMap) return "";
  if (!op.oa.IsAligned(info.min_page_lg2)) {
    return absl::StrFormat("oa is not aligned to the smallest leaf (2^%d)", info.min_page_lg2);
  }
  const uint64_t oa_last = op.oa.value() + op.range.SizeMinusOne();
  const unsigned oa_bits = UniformLeafOaBits(info);
  if (oa_last < op.oa.value() || (oa_bits < 64 && (oa_last >> oa_bits) != 0)) {
    return absl::StrFormat("oa range exceeds the %d bits every leaf can hold", oa_bits);
  }
  if (op.force_lg2 != 0 &&
      std::find(info.leaf_sizes_lg2.begin(), info.leaf_sizes_lg2.end(), op.force_lg2) == info.leaf_sizes_lg2.end()) {
    return absl::StrFormat("no 2^%d leaf", op.force_lg2);
  }
  return "";
}

std::vector<Va> ProbesOf(const Op& op, const std::vector<unsigned>& sizes_lg2) {
  if (op.kind == OpKind::kAccess) return {op.va};
  const uint64_t first = op.range.first.value();
  const uint64_t last = op.range.last.value();
  std::vector<Va> vas = {Va(first), Va(last), Va(first + (last - first) / 2)};
  // Just outside the range at every leaf size's boundary: where a wrong
  // split or a leaf too large shows.
  for (unsigned s : sizes_lg2) {
    vas.push_back(Va(AlignDown(first, s) - 1));
    vas.push_back(Va(BlockLast(last, s) + 1));
  }
  std::vector<Va> unique;
  for (Va va : vas) {
    if (std::find(unique.begin(), unique.end(), va) == unique.end()) unique.push_back(va);
  }
  return unique;
}

Observation Observe(const AnyFormat& f, PhysMem* mem, Oa root, Va va) {
  Observation o;
  o.canonical = f.IsCanonical(va);
  if (!o.canonical) return o;
  // Supervisor read, exec, then write: a leaf that allows any of them
  // (execute-only RISC-V, write-only ARM stage 2 and VT-d) shows its OA,
  // size and attributes. One that allows none faults with a permission
  // fault every time: it is mapped, but the probes cannot see how.
  for (AccessType t : {AccessType::kRead, AccessType::kExec, AccessType::kWrite}) {
    const WalkResult w = f.Translate(mem, root, va, Access{t, false}, MmuOptions{.update_ad = false}, nullptr);
    if (w.ok) {
      o.mapped = true;
      o.oa = w.t.oa;
      o.size_lg2 = w.t.size_lg2;
      o.attrs = w.t.attrs.Permissions();
      return o;
    }
    o.fault = w.fault.kind;
    if (w.fault.kind != FaultKind::kPermission) return o;
  }
  return o;
}

std::vector<std::string> AllFormatNames() {
  std::vector<std::string> names;
  for (const FormatEntry& e : Registry()) names.emplace_back(e.name);
  return names;
}

bool DiffResult::ok() const { return differences.empty() && FirstDivergentRun() < 0; }

int DiffResult::FirstDivergentRun() const {
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].exec.ok()) return static_cast<int>(i);
  }
  return -1;
}

Program ProgramFor(const Program& frame, const FormatEntry& e) {
  Program p = frame;
  p.format = std::string(e.name);
  // Configuration and CPU mode are the frame format's own knobs; other
  // formats run with their defaults.
  if (e.name != frame.format) {
    p.config = FormatConfig::Defaults(e.knobs);
    p.mode.reset();
  }
  return p;
}

DiffResult RunDiff(const Program& frame, absl::Span<const std::string> formats, Arena& arena,
                   const DiffOptions& opt) {
  DiffResult r;
  std::vector<std::unique_ptr<AnyFormat>> fs;
  std::vector<unsigned> sizes;
  for (const std::string& name : formats) {
    const FormatEntry* e = FindFormat(name);
    PTSIM_CHECK(e != nullptr, "diff: unregistered format %s", name);
    FormatRun run;
    run.program = ProgramFor(frame, *e);
    fs.push_back(e->make(run.program.config));
    for (unsigned s : fs.back()->Info().leaf_sizes_lg2) sizes.push_back(s);
    r.runs.push_back(std::move(run));
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (const Op& op : frame.ops) r.probes.push_back(ProbesOf(op, sizes));

  for (size_t i = 0; i < r.runs.size(); ++i) {
    for (const Op& op : frame.ops) r.runs[i].inexpressible.push_back(Inexpressible(*fs[i], op));
  }
  const std::vector<size_t> cut = ExpressibleCuts(&r);
  for (size_t i = 0; i < r.runs.size(); ++i) {
    FormatRun& run = r.runs[i];
    // Nothing after the cut is compared, so it is not run either.
    Program truncated = run.program;
    truncated.ops.resize(cut[i]);
    ExecOptions eo = opt.exec;
    Recorder rec(r.probes, &run.ops);
    eo.observer = &rec;
    run.exec = Execute(truncated, arena, eo);
    run.comparable_ops = static_cast<int>(run.ops.size());
    if (!run.exec.ok()) {
      run.stopped = "its own run diverged from the reference model";
      continue;
    }
    for (size_t k = 0; k < run.ops.size(); ++k) {
      const std::string why = StopReason(*fs[i], run.ops[k].step, run.inexpressible[k]);
      if (why.empty()) continue;
      run.comparable_ops = static_cast<int>(k);
      run.stopped = absl::StrFormat("op %d: %s", k + 1, why);
      break;
    }
  }
  if (r.FirstDivergentRun() >= 0) return r;
  CompareRuns(frame, fs, opt.max_differences, &r);
  return r;
}

std::string DiffSignature(const DiffResult& r, const Difference& d) {
  const Program& a = r.runs[static_cast<size_t>(d.run_a)].program;
  const Program& b = r.runs[static_cast<size_t>(d.run_b)].program;
  return absl::StrCat(a.format, "-", b.format, "-", OpKindName(a.ops[static_cast<size_t>(d.op_index)].kind), "-",
                      d.kind);
}

}  // namespace ptsim
