// ptsim campaign: the subcommand's options and help (the campaign itself is
// in campaign_run.cc).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/cli/campaign.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

using campaign::Engine;
using campaign::Options;

int RunCampaignCommand(Options o, const std::vector<std::string>& positional) {
  o.targets.insert(o.targets.end(), positional.begin(), positional.end());
  if (std::string err = campaign::ResolveOptions(o); !err.empty()) return Fail(err);
  std::vector<campaign::TargetRun> runs;
  if (std::string err = campaign::DiscoverTargets(o, &runs); !err.empty()) return Fail(err);
  if (runs.empty()) {
    const std::string msg = "no fuzz targets (*_fuzzer) in " + o.fuzz_dir;
    Note(msg);
    if (o.json) PrintJson({{"error", msg}});
    return campaign::kExitFailure;
  }
  const campaign::Result r = campaign::RunCampaign(o, std::move(runs));
  campaign::PrintSummary(o, r);
  return r.ExitCode();
}

}  // namespace

void AddCampaignCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  auto positional = std::make_shared<std::vector<std::string>>();
  auto engine = std::make_shared<std::string>("libfuzzer");
  CLI::App* sub = app.add_subcommand("campaign", "Fuzz every fuzz target (or those named) for a time budget");
  sub->add_option("target", *positional, "Fuzz only these targets (default: every *_fuzzer in --fuzz-dir)")
      ->type_name("NAME");
  sub->add_option("--seconds,-s", o->seconds,
                  "Fuzzing budget, build excluded; targets run in rounds of --jobs, each for "
                  "SECONDS / ceil(targets / jobs)")
      ->check(Seconds(1, 1e7))
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--jobs,-j", o->jobs, "Targets fuzzed at the same time (default 2 on 2 or more cores, else 1)")
      ->check(CLI::Range(1, 1024))
      ->type_name("N");
  sub->add_option("--workers,-w", o->workers,
                  "Processes per target: libFuzzer -fork=N, AFL++ one -M and N-1 -S instances")
      ->check(CLI::Range(1, 256))
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--engine,-e", *engine, "libfuzzer (build/fuzz) or afl (build/afl)")
      ->check(CLI::IsMember({"libfuzzer", "afl"}))
      ->capture_default_str();
  sub->add_option("--target,-t", o->targets, "Fuzz only this target (repeatable)")->type_name("NAME");
  sub->add_flag("--keep-going", o->keep_going,
                "A finding does not end the campaign: every target runs its full share, and libFuzzer keeps "
                "fuzzing past crashes (-fork -ignore_crashes; expect several files per bug)");
  sub->add_flag("--no-merge", o->no_merge, "Leave the working corpus as the fuzzers left it (no -merge=1 / afl-cmin)");
  sub->add_flag("--json", o->json, "Print the summary as JSON on stdout; everything else goes to stderr");
  sub->add_option("--build-seconds", o->build_seconds, "How long the build before it took, for the summary")
      ->check(Seconds(0, 1e7))
      ->type_name("S");
  sub->add_option("--fuzz-dir", o->fuzz_dir, "The *_fuzzer binaries (default: fuzz/ beside this ptsim's tools/)")
      ->type_name("DIR");
  sub->add_option("--seeds-dir", o->seeds_dir, "Compiled seeds, DIR/TARGET/**/*.bin (default: corpus/ beside it)")
      ->type_name("DIR");
  sub->add_option("--work-dir", o->work_dir, "Persistent state, DIR/TARGET/ (default: <build>/fuzz-work)")
      ->type_name("DIR");
  sub->add_option("--side-files-dir", o->side_dir, "TARGET.options and TARGET.dict (default: the source's fuzz/)")
      ->type_name("DIR");
  SetHelp(sub, R"(Runs every fuzz target of a build (or the ones named) under libFuzzer or
AFL++ within the budget, with a live progress line per target on stderr, then
merges each target's new corpus into its persistent one, replays every
finding file and groups the files by signature (the failing check, e.g.
x86_64_4level-unmap-structure; see README "Fuzzing"), and prints a table and,
per signature, the first file, the count and the command that replays it.
tools/run.sh builds the fuzz (or afl) preset and runs this.

Per target T, state lives in WORK/T/: corpus/ (persistent, merged and
minimised after each run; the compiled seeds are copied in first),
artifacts/ (libFuzzer's crash-, leak-, timeout-, oom- files), afl/RUN/
(AFL++ output of one run), libfuzzer.log or afl*.log, merge.log.

Target status: ok, finding, error (exited non-zero without a finding),
overran (ignored SIGTERM; killed), skipped (not started after a finding or
an interrupt), interrupted.

Exit status: 0 nothing found, 1 findings, 2 bad usage, 3 a fuzzer errored
or overran, or no fuzz targets, 130 interrupted (SIGINT/SIGTERM: fuzzers
stopped, summary printed).

Environment: PTSIM_AFL_TIMEOUT_MS (2000) afl-fuzz's per-input timeout;
PTSIM_FUZZ_GRACE_SECONDS (3) SIGTERM to SIGKILL; ASAN_OPTIONS and
UBSAN_OPTIONS are passed on when set (else detect_leaks=1, halt_on_error=1).

Examples:
  ptsim campaign --seconds 600
  ptsim campaign ops_fuzzer race_fuzzer --seconds 120 --jobs 2
  ptsim campaign --engine afl --workers 2 --seconds 300 --json > campaign.json)");
  sub->callback([o, positional, engine, exit_code] {
    o->engine = *engine == "afl" ? Engine::kAfl : Engine::kLibFuzzer;
    *exit_code = RunCampaignCommand(*o, *positional);
  });
}

}  // namespace ptsim::cli
