// ops_fuzzer: single-threaded differential fuzzing of map / unmap / protect
// and MMU accesses against the reference model, over every registered
// format (the input's format ID picks one). Any input is accepted; a
// divergence prints the full report and the one-line signature, then aborts.
//
// It also checks the program codecs: a decoded program that re-encodes must
// decode to itself, and its text form must parse back to it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_help.h"
#include "src/harness/executor.h"

namespace {

[[noreturn]] void Die(const ptsim::Program& p, const std::string& report, const std::string& signature) {
  std::fprintf(stderr, "%s", report.c_str());
  std::fprintf(stderr, "Assertion failure: %s\n", signature.c_str());
  std::fflush(stderr);
  std::abort();
}

void CheckCodecs(const ptsim::Program& p) {
  auto parsed = ptsim::ParseText(ptsim::ToText(p));
  if (!parsed.ok() || !(*parsed == p)) {
    Die(p, "text form does not round-trip:\n" + ptsim::ToText(p) + "\n" + std::string(parsed.status().message()),
        p.format + "-codec-text");
  }
  auto bin = ptsim::EncodeBinary(p);
  if (!bin.ok()) return;  // values only text can hold
  if (!(ptsim::DecodeBinary(*bin) == p)) Die(p, "binary form does not round-trip:\n" + ptsim::ToText(p), p.format + "-codec-binary");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One arena for the process: Execute resets it first, at the cost of what
  // the previous input touched, so nothing carries over between inputs.
  static ptsim::Arena* arena = new ptsim::Arena();
  const ptsim::Program p = ptsim::DecodeBinary(absl::MakeConstSpan(data, size));
  // Programs that attach caches are tlb_fuzzer's: this target would run
  // them without, so a crash file would not say how it ran.
  if (p.run.Any()) return 0;
  CheckCodecs(p);
  const ptsim::ExecResult r = ptsim::Execute(p, *arena);
  if (!r.ok()) Die(p, ptsim::FormatReport(p, r), r.divergence->Signature(p.format));
  return 0;
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  ptsim::fuzz::ExitOnHelp(*argc, *argv, R"(Usage: ops_fuzzer [FILE|DIR...]
Single-threaded differential fuzzing of map / unmap / protect and MMU accesses
against the reference model, over every registered format (the input's format
ID picks one). An input is a binary program (src/harness/program.h; 'ptsim
encode' makes one from text). A divergence prints the report and
'Assertion failure: <format>-<op>-<check>', then aborts; 'ptsim repro FILE'
explains it. No options.
)");
  return 0;
}
