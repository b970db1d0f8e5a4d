#include "src/harness/race_runner.h"

#include <chrono>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/conc/copy.h"
#include "src/conc/gup.h"
#include "src/conc/populate.h"
#include "src/conc/protect.h"
#include "src/conc/quiesce.h"
#include "src/conc/remove.h"
#include "src/conc/walk.h"
#include "src/formats/all_formats.h"
#include "src/harness/codec.h"
#include "src/harness/race_validate.h"
#include "src/sched/thread_runtime.h"

namespace ptsim {
namespace {

using race_internal::Validate;

// Runs one op on the calling CPU; returns what happened, in words.
template <PageTableFormat F>
std::string RunOp(World<F>& w, const RaceOp& op) {
  const F& f = w.f;
  switch (op.kind) {
    case RaceOpKind::kPopulate: {
      const Populated p = Populate(w, op.space, op.first, op.last, op.oa, f.Canonical(op.attrs), op.size_lg2);
      if (!p.status.ok()) {
        return absl::StrFormat("%d installed, %d present, %s", p.installed, p.present, p.status.message());
      }
      return absl::StrFormat("%d installed, %d already present", p.installed, p.present);
    }
    case RaceOpKind::kRemove: {
      const absl::Status st = Remove(w, op.space, op.first, op.last);
      return st.ok() ? "removed" : absl::StrCat("refused: ", st.message());
    }
    case RaceOpKind::kProtect: {
      const absl::Status st = Protect(w, op.space, op.first, op.last, f.Canonical(op.attrs));
      return st.ok() ? "protected" : absl::StrCat("refused: ", st.message());
    }
    case RaceOpKind::kGup:
      return Gup(w, op.space, op.va, op.write, op.pin) ? (op.pin ? "pinned" : "referenced") : "failed";
    case RaceOpKind::kAccess: {
      const AccessOutcome a = HwAccess(w, op.space, op.va, op.access);
      if (a.ok) return absl::StrFormat("oa 0x%x%s", a.t.oa.value(), a.from_tlb ? " (TLB)" : "");
      return absl::StrFormat("fault: %s at level %d", FaultKindName(a.fault.kind), a.fault.level.value());
    }
    case RaceOpKind::kCopy:
      Copy(w, op.space, 1 - op.space, op.first, op.last);
      return "copied";
    case RaceOpKind::kUnpin:
      ReleaseHeld(w);
      return "released";
  }
  return "?";
}

uint64_t FeatureOf(const TraceEvent& a, const TraceEvent& b, uint8_t op_a, uint8_t op_b) {
  const bool conflict =
      a.object == b.object && (a.kind == PointKind::kStore || a.kind == PointKind::kCas ||
                               b.kind == PointKind::kStore || b.kind == PointKind::kCas);
  uint64_t h = static_cast<uint64_t>(a.kind) * 31 + static_cast<uint64_t>(b.kind);
  h = h * 31 + op_a;
  h = h * 31 + op_b;
  return h * 2 + (conflict ? 1 : 0);
}

// Walks the failing op's address in its space as the tables are when the
// check fails, unobserved (no scheduling points, no access checks) and
// without setting accessed/dirty flags, so the run goes on as it would.
template <PageTableFormat F>
void WalkAtViolation(const F& f, const FormatConfig& cfg, const RaceOp& op, PhysMem& mem, World<F>& w,
                     RaceReport* rep) {
  const Va va = (op.kind == RaceOpKind::kGup || op.kind == RaceOpKind::kAccess) ? op.va : op.first;
  const Oa root = w.spaces[op.space].root;
  const std::unique_ptr<AnyFormat> any = FindFormat(F::kName)->make(cfg);
  MemObserver* observer = mem.observer();
  mem.set_observer(nullptr);
  WalkTrace trace;
  const WalkResult r = any->Translate(&mem, root, va, Access{}, MmuOptions{.update_ad = false}, &trace);
  rep->walk = FormatWalk(*any, &mem, root, va, Access{});
  mem.set_observer(observer);
  rep->walk_va = va;
  rep->walk_root = root;
  rep->walk_steps.assign(trace.steps.begin(), trace.steps.begin() + trace.count);
  rep->walk_result = r.ok ? absl::StrFormat("oa %#x size 2^%d", r.t.oa.value(), r.t.size_lg2)
                          : absl::StrFormat("fault %s at level %d", FaultKindName(r.fault.kind), r.fault.level.value());
}

template <PageTableFormat F>
absl::StatusOr<RaceReport> RunRaceWith(const FormatConfig& cfg, const RaceProgram& p, Arena& arena,
                                       const RaceRunOptions& opt) {
  const F f(cfg);
  if (absl::Status st = Validate(f, p); !st.ok()) return st;
  arena.Reset();
  Scheduler sched(p.ncpus, p.schedule, SchedOptions{.step_budget = opt.step_budget, .keep_trace = opt.keep_trace});
  Machine m(&sched, p.ncpus);
  const ConcConfig cc{.ncpus = p.ncpus,
                      .free = p.free,
                      .shootdown = p.shootdown,
                      .bugs = p.bugs,
                      .mode = p.mode,
                      .walk_caches = p.run.tlb,
                      .invalidator_bug = p.run.invalidator_bug};
  RaceReport rep;
  // Set before `w` exists, read by the failure callback once it does.
  World<F>* world = nullptr;
  World<F> w(f, &m, &arena.mem(), &arena.alloc(), cc, [&](std::string_view check, const std::string& msg) {
    rep.check = std::string(check);
    rep.failing_cpu = m.self();
    rep.failing_op = world->cpu[m.self()].op;
    rep.failed_at = sched.Now();
    if (rep.failing_op >= 0) WalkAtViolation(f, cfg, p.ops[rep.failing_op], arena.mem(), *world, &rep);
    sched.Abandon(RunEnd::kFinding, msg);
  });
  world = &w;
  if (absl::Status st = w.Init(); !st.ok()) return st;
  w.next_frame = uint64_t{1} << (LeafOaBits(f, Level(0)) > 32 ? 31 : LeafOaBits(f, Level(0)) - 1);

  std::array<std::vector<int>, kMaxCpus> mine;
  for (size_t i = 0; i < p.ops.size(); ++i) mine[p.ops[i].cpu].push_back(static_cast<int>(i));
  std::array<std::vector<RaceOpOutcome>, kMaxCpus> outcomes;
  if (opt.coverage != nullptr && opt.coverage_size > 0) {
    sched.set_on_switch([&](const TraceEvent& a, const TraceEvent& b) {
      const int oa = w.cpu[a.cpu].op, ob = w.cpu[b.cpu].op;
      const uint8_t ka = oa < 0 ? 7 : static_cast<uint8_t>(p.ops[oa].kind);
      const uint8_t kb = ob < 0 ? 7 : static_cast<uint8_t>(p.ops[ob].kind);
      uint8_t& c = opt.coverage[FeatureOf(a, b, ka, kb) % opt.coverage_size];
      if (c < 255) ++c;
    });
  }

  arena.mem().set_observer(&w);
  sched.Run([&](int c) {
    for (int i : mine[c]) {
      w.cpu[c].op = i;
      sched.Point(PointKind::kOpBegin, static_cast<uint64_t>(i));
      const uint64_t first = sched.Now();
      std::string result = RunOp(w, p.ops[i]);
      outcomes[c].push_back({i, c, first, sched.Now(), std::move(result)});
      sched.Point(PointKind::kOpEnd, static_cast<uint64_t>(i));
    }
    w.cpu[c].op = -1;
  });
  arena.mem().set_observer(nullptr);

  rep.end = sched.end();
  rep.trace_hash = sched.trace_hash();
  rep.steps = sched.steps();
  rep.switches = sched.switches();
  rep.tape_used = sched.tape_used();
  rep.trace = sched.trace();
  rep.decisions = sched.decisions();
  for (const auto& v : outcomes) rep.outcomes.insert(rep.outcomes.end(), v.begin(), v.end());
  std::sort(rep.outcomes.begin(), rep.outcomes.end(),
            [](const RaceOpOutcome& a, const RaceOpOutcome& b) { return a.last_step < b.last_step; });

  if (rep.end != RunEnd::kCompleted) {
    rep.message = sched.message();
    if (rep.end != RunEnd::kFinding) rep.check = RunEndName(rep.end);
  } else if (std::optional<Violation> v = CheckQuiescent(w)) {
    rep.check = v->check;
    rep.message = v->message;
  } else if (std::optional<Violation> t = Teardown(w)) {
    rep.check = t->check;
    rep.message = t->message;
  }
  return rep;
}

template <PageTableFormat F>
absl::StatusOr<StressResult> StressWith(const FormatConfig& cfg, const FormatConfig& mode, const StressOptions& opt) {
  const F f(cfg);
  constexpr uint64_t kBase = 0x1000000, kBytes = 0x800000;
  PhysMem mem(Oa(kBase), kBytes);
  // Every chunk exists before the threads start, so lazy allocation never
  // races.
  mem.Fill(Oa(kBase), kBytes, 0);
  TableAllocator alloc(&mem, OaRange{Oa(kBase), Oa(kBase + kBytes - 1)});
  ThreadRuntime rt(opt.threads, std::chrono::milliseconds(10'000));
  Machine m(&rt, opt.threads);
  const ConcConfig cc{.ncpus = opt.threads, .free = opt.free, .shootdown = opt.shootdown, .bugs = opt.bugs, .mode = mode};
  StressResult res;
  std::mutex fail_mu;
  World<F> w(f, &m, &mem, &alloc, cc, [&](std::string_view check, const std::string& msg) {
    {
      std::lock_guard<std::mutex> g(fail_mu);
      if (res.check.empty()) res.check = std::string(check);
    }
    rt.Abandon(msg);
  });
  if (absl::Status st = w.Init(); !st.ok()) return st;
  w.next_frame = uint64_t{1} << (LeafOaBits(f, Level(0)) > 32 ? 31 : LeafOaBits(f, Level(0)) - 1);

  const FormatEntry* e = FindFormat(F::kName);
  std::atomic<uint64_t> ops{0};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(opt.seconds);
  rt.Run([&](int c) {
    std::mt19937_64 rng(opt.seed * 1000003 + static_cast<uint64_t>(c));
    while (!rt.abandoned() && std::chrono::steady_clock::now() < deadline) {
      // A batch: random bytes decoded as a race program of this format.
      std::vector<uint8_t> bytes = {kRaceTag};
      WriteFormatHeader(*e, cfg, &bytes);
      bytes.push_back(0);  // setup: the stress options decide instead
      PutLe(&bytes, 0, 2);  // bugs: likewise
      bytes.push_back(static_cast<uint8_t>(kMaxRaceOps));
      for (size_t i = 0; i < kMaxRaceOps * 8; ++i) {
        uint8_t b = static_cast<uint8_t>(rng());
        if (i % 8 == 3) b &= 0x80;  // keep indices small so threads collide
        if (i % 8 == 2) b &= 0x3f;
        if (i % 8 == 4) b &= 0x07;
        bytes.push_back(b);
      }
      const RaceProgram batch = DecodeRace(bytes);
      for (const RaceOp& op : batch.ops) {
        RunOp(w, op);
        ops.fetch_add(1, std::memory_order_relaxed);
      }
      ReleaseHeld(w);
    }
  });
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  res.ops = ops.load();
  if (rt.abandoned()) {
    res.message = rt.message();
    if (res.check.empty()) res.check = "stuck";
    return res;
  }
  if (std::optional<Violation> v = CheckQuiescent(w)) {
    res.check = v->check;
    res.message = v->message;
  } else if (std::optional<Violation> t = Teardown(w)) {
    res.check = t->check;
    res.message = t->message;
  }
  return res;
}

}  // namespace

std::string RaceReport::Signature(const RaceProgram& p) const {
  const std::string op = failing_op >= 0 ? RaceOpKindName(p.ops[failing_op].kind) : "quiescence";
  return absl::StrCat(p.format, "-", op, "-", check);
}

absl::StatusOr<RaceReport> RunRace(const RaceProgram& p, Arena& arena, const RaceRunOptions& opt) {
  const FormatEntry* e = FindFormat(p.format);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrFormat("unknown format '%s' (known: %s)", p.format, KnownFormatNames()));
  }
  absl::StatusOr<RaceReport> r = absl::InternalError("unreachable");
  AllFormats::WithName(e->name, [&]<typename F>() { r = RunRaceWith<F>(p.config, p, arena, opt); });
  return r;
}

absl::StatusOr<StressResult> RunStress(std::string_view format, const std::vector<std::string>& config,
                                       const StressOptions& opt) {
  const FormatEntry* e = FindFormat(format);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrFormat("unknown format '%s' (known: %s)", format, KnownFormatNames()));
  }
  if (opt.threads < 1 || opt.threads > kMaxCpus) {
    return absl::InvalidArgumentError(absl::StrFormat("--threads %d: between 1 and %d", opt.threads, kMaxCpus));
  }
  FormatConfig cfg = FormatConfig::Defaults(e->knobs);
  for (const std::string& s : config) {
    if (absl::Status st = ApplyConfigSetting(e->knobs, s, &cfg); !st.ok()) return st;
  }
  FormatConfig mode = FormatConfig::Defaults(e->mode_knobs);
  for (const std::string& s : opt.mode) {
    if (absl::Status st = ApplySettingList("mode", e->mode_knobs, s, &mode); !st.ok()) return st;
  }
  absl::StatusOr<StressResult> r = absl::InternalError("unreachable");
  AllFormats::WithName(e->name, [&]<typename F>() { r = StressWith<F>(cfg, mode, opt); });
  return r;
}

std::string FormatRaceReport(const RaceProgram& p, const RaceReport& r) {
  std::string s = "=== program\n" + ToRaceText(p);
  absl::StrAppend(&s, "=== interleaving (", r.steps, " scheduling points, ", r.switches, " context switches, ",
                  r.tape_used, " of ", p.schedule.size(), " schedule bytes used)\n");
  // Runs of consecutive steps on one CPU, with the op it was running.
  std::array<int, kMaxCpus> op_of{-1, -1, -1, -1};
  bool marked = false;
  size_t i = 0;
  while (i < r.trace.size()) {
    const int cpu = r.trace[i].cpu;
    size_t j = i;
    std::map<std::string, int> kinds;
    int op = op_of[cpu];
    std::string later;  // further ops begun within the run
    for (; j < r.trace.size() && r.trace[j].cpu == cpu; ++j) {
      const TraceEvent& e = r.trace[j];
      if (e.kind == PointKind::kOpBegin) {
        op_of[cpu] = static_cast<int>(e.object);
        if (op < 0) {
          op = op_of[cpu];
        } else {
          absl::StrAppend(&later, later.empty() ? " then op" : ",", " ", e.object + 1);
        }
      }
      ++kinds[PointKindName(e.kind)];
    }
    std::string what;
    for (const auto& [k, n] : kinds) absl::StrAppend(&what, what.empty() ? "" : " ", k, n > 1 ? absl::StrCat("x", n) : "");
    // A violation in the last run, by the CPU that ran it, ends that run.
    const bool here = !marked && r.failing_cpu == cpu && j == r.trace.size() && r.failed_at == j;
    marked |= here;
    absl::StrAppendFormat(&s, "  steps %5d-%-5d cpu%d  %-44s %s%s%s\n", i + 1, j, cpu,
                          op >= 0 ? absl::StrCat("op ", op + 1, ": ", RaceOpToText(p.ops[op])) : "(idle)", what,
                          later, here ? absl::StrCat("  <- ", r.check, " at step ", r.failed_at) : "");
    i = j;
  }
  // Otherwise the failing CPU resumed after the last step (it was switched
  // away at a scheduling point and failed when it went on from there).
  if (!marked && r.failing_cpu >= 0 && !r.trace.empty()) {
    const int op = r.failing_op;
    absl::StrAppendFormat(&s, "  after step %-7d cpu%d  %-44s <- %s\n", r.failed_at, r.failing_cpu,
                          op >= 0 ? absl::StrCat("op ", op + 1, ": ", RaceOpToText(p.ops[op])) : "(idle)", r.check);
  }
  absl::StrAppend(&s, "=== operations, in completion order\n");
  for (const RaceOpOutcome& o : r.outcomes) {
    absl::StrAppendFormat(&s, "  op %2d  steps %5d-%-5d %-50s -> %s\n", o.op + 1, o.first_step, o.last_step,
                          RaceOpToText(p.ops[o.op]), o.result);
  }
  if (r.ok()) {
    absl::StrAppendFormat(&s, "=== result: every check held (trace %016x)\n", r.trace_hash);
    return s;
  }
  absl::StrAppend(&s, "=== VIOLATION\ncheck:   ", r.check, "\nrun:     ", RunEndName(r.end), "\n");
  if (r.failing_cpu >= 0) absl::StrAppend(&s, "where:   cpu", r.failing_cpu, ", after step ", r.failed_at, "\n");
  if (r.failing_op >= 0) absl::StrAppend(&s, "op:      ", r.failing_op + 1, ": ", RaceOpToText(p.ops[r.failing_op]), "\n");
  absl::StrAppend(&s, r.message, r.message.empty() || r.message.back() == '\n' ? "" : "\n");
  if (!r.walk.empty()) {
    absl::StrAppend(&s, "the failing address after step ", r.failed_at, ", when the check failed:\n", r.walk);
  }
  absl::StrAppendFormat(&s, "trace hash %016x\n", r.trace_hash);
  return s;
}

}  // namespace ptsim
