// ptsim repro: replay one program (a fuzzer crash file or a text program)
// under the checking executor and explain what happened.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "src/harness/executor.h"
#include "src/harness/program.h"
#include "src/harness/tlb_runner.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/printed_commands.h"
#include "tools/cli/race_cli.h"

namespace ptsim::cli {
namespace {

struct ReproOptions {
  std::string file;
  bool quiet = false;
  bool json = false;
  uint64_t max_leaves_per_op = ExecOptions{}.max_leaves_per_op;
  RaceCliArgs race;
  bool check_determinism = false;
};

// Binary ops programs start with their version byte; anything else that
// parses is text.
bool IsText(const std::vector<uint8_t>& bytes) {
  return bytes.empty() || !IsProgramVersion(bytes[0]);
}

Json DivergenceJson(const Program& p, const Divergence& d) {
  Json j;
  j["op_index"] = d.op_index;
  j["check"] = d.check;
  j["op"] = d.op_text;
  j["va"] = d.va ? Json(Hex(d.va->value())) : Json(nullptr);
  j["expected"] = d.expected;
  j["actual"] = d.actual;
  j["walk"] = d.walk;
  j["signature"] = d.Signature(p.format);
  return j;
}

Json ResultJson(const Program& p, const ExecResult& r, const std::string& file, bool is_text) {
  Json j;
  j["format"] = p.format;
  j["config"] = Json::array();
  if (const FormatEntry* e = FindFormat(p.format); e != nullptr) {
    for (const std::string& s : ConfigSettings(*e->make(p.config))) j["config"].push_back(s);
    j["mode"] = SettingsDiff(e->mode_knobs, ModeOf(p, *e));  // "" is the family's default mode
  }
  j["ok"] = r.ok();
  j["steps"] = Json::array();
  for (const StepRecord& s : r.steps) {
    Json step = {{"op", s.op_text}, {"outcome", s.outcome}};
    if (!s.architecture.empty()) step["architecture"] = s.architecture;
    j["steps"].push_back(step);
  }
  j["divergence"] = r.divergence ? DivergenceJson(p, *r.divergence) : Json(nullptr);
  j["trace_hash"] = absl::StrFormat("0x%016x", r.trace_hash);
  j["translations_checked"] = r.translations_checked;
  if (!r.ok()) j["minimize"] = MinimiseCommands("ops_fuzzer", file, is_text);
  return j;
}

// A program with caches attached (a tlb_fuzzer input) runs as tlb_fuzzer
// runs it.
int RunTlbRepro(const ReproOptions& o, const Program& p, bool is_text) {
  Arena arena;
  const TlbRunReport r = RunWithCaches(p, arena);
  if (o.json) {
    Json j;
    j["format"] = p.format;
    j["kind"] = "caches";
    j["tlb"] = p.run.tlb;
    j["noncoherent"] = p.run.noncoherent;
    j["invalidator_bug"] = InvalidatorBugName(p.run.invalidator_bug);
    j["ran"] = r.ran;
    j["ops_run"] = r.ops_run;
    j["ok"] = r.ok();
    j["finding"] = r.ok() ? Json(nullptr)
                          : Json({{"op_index", r.failing_op},
                                  {"op", OpToText(p.ops[r.failing_op])},
                                  {"check", r.check},
                                  {"message", r.message},
                                  {"signature", r.Signature(p)}});
    if (!r.ok()) j["minimize"] = MinimiseCommands("tlb_fuzzer", o.file, is_text);
    PrintJson(j);
  } else if (o.quiet) {
    if (r.ok()) {
      std::printf("ok: %s: every check held (%d ops%s)\n", o.file.c_str(), r.ops_run, r.ran ? "" : ", not run");
    } else {
      std::printf("DIVERGENCE: %s: Assertion failure: %s\n", o.file.c_str(), r.Signature(p).c_str());
    }
  } else {
    std::fputs(FormatTlbReport(p, r).c_str(), stdout);
    if (!r.ok()) {
      std::printf("Assertion failure: %s\n=== to minimise and read it\n", r.Signature(p).c_str());
      for (const std::string& c : MinimiseCommands("tlb_fuzzer", o.file, is_text)) std::printf("  %s\n", c.c_str());
    }
  }
  return r.ok() ? kExitOk : kExitFinding;
}

int RunRepro(const ReproOptions& o) {
  auto bytes = ReadFileBytes(o.file);
  if (!bytes.ok()) return Fail(bytes.status());
  if (LooksLikeRace(*bytes)) {
    return RunRaceRepro(o.file, *bytes, RaceReproFlags{o.race, o.check_determinism, o.json, o.quiet});
  }
  auto program = ParseAny(*bytes);
  if (!program.ok()) return Fail(absl::StrFormat("%s: %s", o.file, program.status().message()));

  if (program->run.Any()) return RunTlbRepro(o, *program, IsText(*bytes));

  ExecOptions opt;
  opt.max_leaves_per_op = o.max_leaves_per_op;
  Arena arena;
  const ExecResult r = Execute(*program, arena, opt);

  if (o.json) {
    PrintJson(ResultJson(*program, r, o.file, IsText(*bytes)));
  } else if (o.quiet) {
    if (r.ok()) {
      std::printf("ok: %s: every check held (%zu steps)\n", o.file.c_str(), r.steps.size());
    } else {
      std::printf("DIVERGENCE: %s: Assertion failure: %s\n", o.file.c_str(),
                  r.divergence->Signature(program->format).c_str());
    }
  } else {
    std::fputs(FormatReport(*program, r).c_str(), stdout);
    if (!r.ok()) {
      std::printf("=== to minimise and read it\n");
      for (const std::string& c : MinimiseCommands("ops_fuzzer", o.file, IsText(*bytes))) {
        std::printf("  %s\n", c.c_str());
      }
    }
  }
  return r.ok() ? kExitOk : kExitFinding;
}

}  // namespace

void AddReproCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ReproOptions>();
  CLI::App* sub = app.add_subcommand("repro", "Replay a program or crash file and explain the first divergence");
  sub->add_option("file", o->file, "Binary program (fuzzer input, crash file) or text program")
      ->required()
      ->type_name("FILE");
  CLI::Option* quiet =
      sub->add_flag("--quiet,-q", o->quiet, "Print one verdict line instead of the full report");
  sub->add_flag("--json", o->json,
                "Print {format, config, ok, steps:[{op, outcome}], divergence|null, trace_hash, ...}")
      ->excludes(quiet);
  sub->add_option("--max-leaves-per-op", o->max_leaves_per_op,
                  "Skip a map that would create more leaves than this, as the fuzzers do (0 = no limit)")
      ->check(NotNegative())
      ->capture_default_str()
      ->type_name("N");
  sub->add_flag("--check-determinism", o->check_determinism,
                "Race programs: run twice and compare the trace hashes (exit 1 if they differ)");
  AddRaceOptions(sub, &o->race);
  SetHelp(sub, R"(Runs the program exactly as the fuzz targets do: every operation against the
format's tables and against the reference model, checking after each one the
outcome, the tree's structure, the leaves, and translations of the touched
addresses. Prints the decoded program, each step and its outcome, and on the
first divergence: the check that failed, the operation, the address, what the
model expected and what the tables did, the MMU walk of that address with the
raw bytes of every entry read, and the 'Assertion failure: ...' line that
crash triage groups by. Then the commands that minimise and decode the file.

A program with a 'caches' line (a tlb_fuzzer input: version 2 binaries) runs
as tlb_fuzzer runs it instead: with the TLB and/or a non-coherent walker
attached and the invalidator bug it names, reporting the first stale cache
entry or unflushed line.

A race program (text with a 'race' line, or a binary starting with 'T') runs
on the deterministic scheduler instead: the report shows the interleaving
actually taken (which CPU ran which steps of which operation), each
operation's result, and the first violation with the walk of the failing
address. The file carries every setting it ran with (freeing scheme,
shootdown style, injected bugs), so no option is needed to reproduce it;
--inject/--free/--shootdown replace the file's settings for this run, e.g.
--inject=none to see a finding go away without its bug. The environment
(PTSIM_INJECT, ...) is race_fuzzer's and is ignored here. A version 1 race
binary (first byte 'R') did not carry its settings and is refused.

Exit status: 0 every check held, 1 a divergence, 2 unreadable or malformed file.

Examples:
  ptsim repro crash-0123abcd
  ptsim repro corpus/ops_fuzzer/x86_64_4level_basic.txt
  for f in crash-*; do ptsim repro --quiet "$f"; done
  ptsim repro --json crash-0123abcd | python3 -m json.tool
  ptsim repro corpus/race_fuzzer/bugs/seed004-broadcast-immediate.txt
  ptsim repro --check-determinism corpus/race_fuzzer/populate_vs_remove.txt
  ptsim repro --inject=none corpus/race_fuzzer/bugs/reclaim-no-recheck.txt)");
  sub->callback([o, exit_code] { *exit_code = RunRepro(*o); });
}

}  // namespace ptsim::cli
