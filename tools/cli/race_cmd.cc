// The concurrency face of the CLI: replaying race programs (called from
// `ptsim repro` when the file is one), their text/binary codec (from
// `ptsim decode` / `encode`), `ptsim stress` on real threads, and
// `ptsim bugs`, the known-bug catalogue.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "src/harness/race_options.h"
#include "src/harness/race_runner.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/printed_commands.h"
#include "tools/cli/race_cli.h"

namespace ptsim::cli {

void AddRaceOptions(CLI::App* sub, RaceCliArgs* a) {
  sub->add_option("--inject", a->inject,
                  "Race programs: replace the file's known bugs with NAME[,NAME], or none (see 'ptsim bugs')")
      ->type_name("LIST");
  sub->add_option("--free", a->free, "Race programs: replace the file's table freeing scheme")
      ->check(CLI::IsMember({"ipi", "rcu", "immediate"}));
  sub->add_option("--shootdown", a->shootdown, "Race programs: replace the file's shootdown style")
      ->check(CLI::IsMember({"ipi", "broadcast"}));
  // Version 1 binaries needed it; later ones say themselves whether
  // they pair broadcast shootdowns with immediate freeing. Still accepted
  // so that old command lines work; hidden from --help.
  sub->add_flag("--allow-unsafe", a->allow_unsafe, "")->group("");
}

absl::StatusOr<RaceSettingFlags> ToRaceOverrides(const RaceCliArgs& a) {
  std::vector<std::string> args;
  if (!a.inject.empty()) args.push_back("--inject=" + a.inject);
  if (!a.free.empty()) args.push_back("--free=" + a.free);
  if (!a.shootdown.empty()) args.push_back("--shootdown=" + a.shootdown);
  // Only what is on the command line: a PTSIM_INJECT exported for a fuzzing
  // session must not change what a file replays.
  RaceSettingFlags o;
  if (absl::Status st = ParseRaceSettingFlags(args, /*read_env=*/false, &o); !st.ok()) return st;
  return o;
}

namespace {

// The violation as fields a script can match on without parsing the
// message: which check, where in the run (CPU and scheduling point), the
// op and its address, and the walk of that address at that instant.
Json ViolationJson(const RaceProgram& p, const RaceReport& r) {
  Json v;
  v["check"] = r.check;
  v["run"] = RunEndName(r.end);
  v["cpu"] = r.failing_cpu >= 0 ? Json(r.failing_cpu) : Json(nullptr);
  v["step"] = r.failing_cpu >= 0 ? Json(r.failed_at) : Json(nullptr);
  if (r.failing_op >= 0) {
    const RaceOp& op = p.ops[r.failing_op];
    Json o = {{"op_index", r.failing_op}, {"kind", RaceOpKindName(op.kind)}, {"cpu", op.cpu}, {"space", op.space},
              {"text", RaceOpToText(op)}};
    if (op.kind == RaceOpKind::kGup || op.kind == RaceOpKind::kAccess) {
      o["va"] = Hex(op.va.value());
    } else if (op.kind != RaceOpKind::kUnpin) {
      o["first"] = Hex(op.first.value());
      o["last"] = Hex(op.last.value());
    }
    v["op"] = std::move(o);
  } else {
    v["op"] = nullptr;
  }
  v["message"] = r.message;
  if (r.walk_va) {
    const Json steps = WalkStepsJson(r.walk_steps);
    v["walk"] = {{"va", Hex(r.walk_va->value())},
                 {"root", Hex(r.walk_root.value())},
                 {"at_step", r.failed_at},
                 {"steps", std::move(steps)},
                 {"result", r.walk_result}};
  } else {
    v["walk"] = nullptr;
  }
  v["signature"] = r.Signature(p);
  return v;
}

Json RaceJson(const RaceProgram& p, const RaceReport& r) {
  Json j;
  j["format"] = p.format;
  j["kind"] = "race";
  j["cpus"] = p.ncpus;
  j["free"] = FreeSchemeName(p.free);
  j["shootdown"] = ShootdownStyleName(p.shootdown);
  j["inject"] = Json::array();
  for (const BugInfo& b : KnownBugs()) {
    if ((p.bugs >> static_cast<int>(b.bug)) & 1) j["inject"].push_back(b.name);
  }
  j["ok"] = r.ok();
  j["run"] = RunEndName(r.end);
  j["steps"] = r.steps;
  j["switches"] = r.switches;
  j["trace_hash"] = absl::StrFormat("0x%016x", r.trace_hash);
  j["ops"] = Json::array();
  for (const RaceOpOutcome& o : r.outcomes) {
    j["ops"].push_back({{"op", RaceOpToText(p.ops[o.op])}, {"first_step", o.first_step}, {"last_step", o.last_step},
                        {"result", o.result}});
  }
  j["violation"] = r.ok() ? Json(nullptr) : ViolationJson(p, r);
  return j;
}

}  // namespace

int RunRaceRepro(const std::string& file, const std::vector<uint8_t>& bytes, const RaceReproFlags& flags) {
  absl::StatusOr<RaceSettingFlags> overrides = ToRaceOverrides(flags.race);
  if (!overrides.ok()) return Fail(overrides.status());
  if (flags.race.allow_unsafe) {
    Note("--allow-unsafe is no longer needed: a race program says itself whether it pairs broadcast shootdowns "
         "with immediate freeing");
  }
  absl::StatusOr<RaceProgram> p = ParseAnyRace(bytes);
  if (!p.ok()) return Fail(absl::StrFormat("%s: %s", file, p.status().message()));
  overrides->Override(&*p);
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(*p, arena);
  if (!r.ok()) return Fail(absl::StrFormat("%s: %s", file, r.status().message()));
  if (flags.check_determinism) {
    absl::StatusOr<RaceReport> again = RunRace(*p, arena);
    if (!again.ok()) return Fail(again.status());
    const bool same = again->trace_hash == r->trace_hash && again->check == r->check;
    if (flags.json) {
      PrintJson({{"file", file},
                 {"deterministic", same},
                 {"trace_hash", {absl::StrFormat("0x%016x", r->trace_hash), absl::StrFormat("0x%016x", again->trace_hash)}},
                 {"steps", r->steps}});
    } else {
      std::fputs(absl::StrFormat("%s: %s: trace %016x, then %016x (%d scheduling points)\n",
                                 same ? "deterministic" : "NOT DETERMINISTIC", file, r->trace_hash, again->trace_hash,
                                 r->steps)
                     .c_str(),
                 stdout);
    }
    return same ? kExitOk : kExitFinding;
  }
  if (flags.json) {
    PrintJson(RaceJson(*p, *r));
  } else if (flags.quiet) {
    if (r->ok()) {
      std::fputs(absl::StrFormat("ok: %s: every check held (%d scheduling points)\n", file, r->steps).c_str(), stdout);
    } else {
      std::printf("VIOLATION: %s: Assertion failure: %s\n", file.c_str(), r->Signature(*p).c_str());
    }
  } else {
    std::fputs(FormatRaceReport(*p, *r).c_str(), stdout);
    if (!r->ok()) {
      std::printf("Assertion failure: %s\n=== to minimise and read it\n", r->Signature(*p).c_str());
      // No options: the file carries its settings (overrides given here
      // are not in it, so say so).
      const bool text = !IsDecodableRaceTag(bytes[0]);
      for (const std::string& c : MinimiseCommands("race_fuzzer", file, text)) std::printf("  %s\n", c.c_str());
      if (overrides->bugs || overrides->free || overrides->shootdown) {
        std::printf("  (the file itself does not have this run's --inject/--free/--shootdown)\n");
      }
    }
  }
  return r->ok() ? kExitOk : kExitFinding;
}

absl::StatusOr<std::string> DecodeRaceToText(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<RaceProgram> p = ParseAnyRace(bytes);
  if (!p.ok()) return p.status();
  return ToRaceText(*p);
}

absl::StatusOr<std::vector<uint8_t>> EncodeRaceFromBytes(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<RaceProgram> p = ParseAnyRace(bytes);
  if (!p.ok()) return p.status();
  return EncodeRace(*p);
}

namespace {

struct StressArgs {
  std::string format;
  std::vector<std::string> config;
  std::vector<std::string> mode;
  int threads = 2;
  double seconds = 1;
  std::string free = "rcu";
  std::string shootdown = "ipi";
  std::string inject;
  uint64_t seed = 1;
  bool json = false;
};

int RunStressCmd(const StressArgs& a) {
  StressOptions o;
  o.threads = a.threads;
  o.seconds = a.seconds;
  o.free = *FreeSchemeFromName(a.free);
  o.shootdown = *ShootdownStyleFromName(a.shootdown);
  o.seed = a.seed;
  o.mode = a.mode;
  if (absl::Status st = ParseInjectList(a.inject, &o.bugs); !st.ok()) return Fail(st);
  absl::StatusOr<StressResult> r = RunStress(a.format, a.config, o);
  if (!r.ok()) return Fail(r.status());
  const double rate = r->seconds > 0 ? r->ops / r->seconds : 0;
  if (a.json) {
    PrintJson({{"format", a.format},
               {"threads", a.threads},
               {"free", a.free},
               {"shootdown", a.shootdown},
               {"seconds", r->seconds},
               {"ops", r->ops},
               {"ops_per_second", rate},
               {"ok", r->check.empty()},
               {"violation", r->check.empty() ? Json(nullptr) : Json({{"check", r->check}, {"message", r->message}})}});
  } else {
    std::printf("%s: %d threads, free=%s shootdown=%s: %llu operations in %.2f s = %.0f ops/s\n", a.format.c_str(),
                a.threads, a.free.c_str(), a.shootdown.c_str(), static_cast<unsigned long long>(r->ops), r->seconds,
                rate);
    if (!r->check.empty()) std::printf("VIOLATION: %s\n%s\n", r->check.c_str(), r->message.c_str());
  }
  return r->check.empty() ? kExitOk : kExitFinding;
}

}  // namespace

void AddStressCommand(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<StressArgs>();
  CLI::App* sub = app.add_subcommand("stress", "Run the concurrent operations on real threads for a while");
  sub->add_option("--format,-f", a->format, "Registered format name (see 'ptsim formats')")->required();
  sub->add_option("--config,-c", a->config, "Format knob KEY=VALUE (repeatable)")->type_name("K=V");
  AddModeOption(sub, &a->mode);
  sub->add_option("--threads,-t", a->threads, "Threads, 1 to 4")->check(CLI::Range(1, 4))->capture_default_str();
  sub->add_option("--seconds,-s", a->seconds, "How long to run")->check(Seconds(0.01, 86400.0))->capture_default_str();
  sub->add_option("--free", a->free, "Table freeing scheme")
      ->check(CLI::IsMember({"ipi", "rcu", "immediate"}))
      ->capture_default_str();
  sub->add_option("--shootdown", a->shootdown, "Shootdown style")
      ->check(CLI::IsMember({"ipi", "broadcast"}))
      ->capture_default_str();
  sub->add_option("--inject", a->inject, "Switch known bugs back on: NAME[,NAME] (see 'ptsim bugs')")
      ->type_name("LIST");
  sub->add_option("--seed", a->seed, "Seed of each thread's operation stream")->capture_default_str();
  sub->add_flag("--json", a->json, "Print {format, threads, seconds, ops, ops_per_second, ok, violation}");
  SetHelp(sub, R"(Runs populate, remove, copy (fork), GUP-fast and hardware accesses on real OS
threads, with real atomics, spinlocks, epoch-based RCU and interrupt
handshakes, over a small shared window of both address spaces, for a bounded
time. Then checks the trees, table accounting and frame counts at quiescence.
Interleavings are the OS's, so runs are not reproducible: use race_fuzzer and
'ptsim repro' for that. Build with the tsan preset to run it under
ThreadSanitizer.

Exit status: 0 every check held, 1 a violation, 2 bad usage.

Examples:
  ptsim stress --format x86_64_4level --threads 2 --seconds 5
  ptsim stress -f riscv_sv39 -t 4 -s 10 --free ipi --shootdown ipi --json)");
  sub->callback([a, exit_code] { *exit_code = RunStressCmd(*a); });
}

void AddBugsCommand(CLI::App& app, int* exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("bugs", "List the known historical bugs that --inject can switch back on");
  sub->add_flag("--json", *json, "Print [{name, mirrors, effect}]");
  SetHelp(sub, R"(Each entry makes one protocol step of the concurrent operations wrong, the way
a real kernel bug did. They are off unless a race program switches them on
('race ... inject=NAME[,NAME]', kept in the binary form too, so a crash file
replays with them), or an option names them: race_fuzzer --inject (every
mutant it writes has them), ptsim repro --inject (replaces the file's set for
one run), ptsim stress --inject. The seed 004 bug is a configuration rather
than a code change: free=immediate shootdown=broadcast.
corpus/race_fuzzer/bugs/NAME.txt reports each one; tools/bugs.sh measures how
long race_fuzzer takes to find each one.

Examples:
  ptsim bugs
  ptsim repro corpus/race_fuzzer/bugs/reclaim-no-recheck.txt
  build/fuzz/fuzz/race_fuzzer --inject=reclaim-no-recheck -max_total_time=60)");
  sub->callback([json, exit_code] {
    if (*json) {
      Json j = Json::array();
      for (const BugInfo& b : KnownBugs()) j.push_back({{"name", b.name}, {"mirrors", b.mirrors}, {"effect", b.effect}});
      PrintJson(j);
    } else {
      for (const BugInfo& b : KnownBugs()) {
        std::printf("%s\n  mirrors: %s\n  effect:  %s\n", std::string(b.name).c_str(), std::string(b.mirrors).c_str(),
                    std::string(b.effect).c_str());
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace ptsim::cli
