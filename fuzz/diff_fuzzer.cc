// diff_fuzzer: cross-format differential fuzzing (DESIGN.md §8, oracle 3).
// The input decodes as a program (program.h) whose format is only its frame
// (see src/harness/diff.h); the program then runs on every registered
// format, each checked against the reference model, and every pair of
// formats must agree on each operation's status and on what the touched
// addresses translate to, up to what the formats declare may differ. Any
// input is accepted; a difference prints the report and the one-line
// signature `Assertion failure: <formatA>-<formatB>-<op>-<kind>`, then
// aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_help.h"
#include "src/harness/diff.h"

namespace {

[[noreturn]] void Die(const std::string& report) {
  std::fprintf(stderr, "%s", report.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One arena for the process: every run resets it first, at the cost of
  // what the previous run touched, so nothing carries over between inputs.
  static ptsim::Arena* arena = new ptsim::Arena();
  static const std::vector<std::string>* formats = new std::vector<std::string>(ptsim::AllFormatNames());
  const ptsim::Program p = ptsim::DecodeBinary(absl::MakeConstSpan(data, size));
  // Programs that attach caches are tlb_fuzzer's: this target would run
  // them without, so a crash file would not say how it ran.
  if (p.run.Any()) return 0;
  ptsim::DiffOptions opt;
  opt.max_differences = 1;
  // ops_fuzzer walks the whole tree of every format after every op; here
  // each format still has its statuses and sampled translations checked
  // against the model, and skipping the full walks gives 1.5x the
  // executions to spend on comparing formats (50 vs 33 exec/s under ASan).
  opt.exec.check_whole_tree = false;
  const ptsim::DiffResult r = ptsim::RunDiff(p, *formats, *arena, opt);
  if (const int bad = r.FirstDivergentRun(); bad >= 0) {
    const ptsim::FormatRun& run = r.runs[static_cast<size_t>(bad)];
    Die(ptsim::FormatReport(run.program, run.exec));
  }
  if (!r.differences.empty()) Die(ptsim::FormatDiffReport(p, r, r.differences.front(), *arena, opt));
  return 0;
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  ptsim::fuzz::ExitOnHelp(*argc, *argv, R"(Usage: diff_fuzzer [FILE|DIR...]
Cross-format differential fuzzing: each input (a binary program,
src/harness/program.h) runs on every registered format, each checked against
the reference model, and every pair of formats must agree on each operation's
status and translations, up to what the formats declare may differ. A
difference prints both sides and 'Assertion failure: <A>-<B>-<op>-<kind>',
then aborts; 'ptsim diff --formats all FILE' replays it. No options.
)");
  return 0;
}
