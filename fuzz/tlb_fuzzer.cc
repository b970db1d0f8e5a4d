// tlb_fuzzer: an ops program (src/harness/program.h) run with the caches its
// run settings attach: the TLB model of src/hw/tlb.h kept by the
// architecture's invalidator, and a non-coherent walker's device view
// (src/hw/noncoherent.h) fed by Space's write-backs (harness/tlb_runner.h).
// After every map / unmap / protect, any translation a cache would serve
// differently from a fresh walk, and any walk that reads an unflushed line,
// is a finding: the report is printed and the process aborts.
//
// An input carries its settings (version 2 programs: which caches, which
// invalidator bug is planted) and runs exactly as its bytes say, so a crash
// file replays with plain `tlb_fuzzer FILE` and `ptsim repro FILE`.
// Programs without run settings (version 1, what ops_fuzzer runs) are
// skipped. Formats without a modelled invalidator (ARM stage 2, ARMv7, the
// fake format) are not checked.
//
// PTSIM_TLB_FUZZ_BUG=none|leaf_only|forget_global|wrong_asid restricts the
// search: the custom mutator (libFuzzer's own mutations, then
// StampTlbSettings) writes that invalidator bug, and both caches, into
// every mutant; unset, each mutant keeps its input's bug (none in the
// seeds). An unknown value is an error. AFL++ does not call the custom
// mutator, so its build skips inputs with another bug instead.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_help.h"
#include "src/harness/program.h"
#include "src/harness/tlb_runner.h"

namespace {

std::optional<uint8_t> g_bug;  // PTSIM_TLB_FUZZ_BUG, when set

}  // namespace

// libFuzzer's own mutator; absent (null) in the standalone and AFL++ builds.
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size) __attribute__((weak));

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  ptsim::fuzz::ExitOnHelp(*argc, *argv, R"(Usage: tlb_fuzzer [FILE|DIR...]
Ops programs run with the TLB model and a non-coherent walker attached, kept
by the architecture's invalidator: after every map / unmap / protect, a
translation a cache would serve differently from a fresh walk, or a walk that
reads an unflushed line, is a finding ('Assertion failure: <format>-<op>-
<check>', then abort; 'ptsim repro FILE' replays it). Inputs are version 2
binary programs with a 'caches' line; version 1 programs are skipped.

Environment:
  PTSIM_TLB_FUZZ_BUG=none|leaf_only|forget_global|wrong_asid
      every mutant gets both caches and this invalidator bug (unset: each
      mutant keeps its input's); an unknown name is refused.
)");
  const char* e = std::getenv("PTSIM_TLB_FUZZ_BUG");
  if (e != nullptr && *e != '\0') {
    g_bug = ptsim::InvalidatorBugFromName(e);
    if (!g_bug) {
      std::string known;
      for (uint8_t b = 0; b < ptsim::kInvalidatorBugCount; ++b) {
        known += std::string(b == 0 ? "" : ", ") + std::string(ptsim::InvalidatorBugName(b));
      }
      std::fprintf(stderr, "tlb_fuzzer: unknown PTSIM_TLB_FUZZ_BUG '%s' (known: %s)\n", e, known.c_str());
      std::exit(2);
    }
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  const uint8_t parent_bug = ptsim::DecodeBinary(absl::MakeConstSpan(data, size)).run.invalidator_bug;
  const size_t n = LLVMFuzzerMutate != nullptr ? LLVMFuzzerMutate(data, size, max_size) : size;
  const std::vector<uint8_t> b = ptsim::StampTlbSettings(absl::MakeConstSpan(data, n), g_bug, parent_bug);
  const size_t out = std::min(b.size(), max_size);
  std::copy(b.begin(), b.begin() + static_cast<ptrdiff_t>(out), data);
  return out;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptsim::Arena* arena = new ptsim::Arena();
  const ptsim::Program p = ptsim::DecodeBinary(absl::MakeConstSpan(data, size));
  if (!p.run.Any()) {
    static bool noted = false;
    if (size > 0 && data[0] == ptsim::kProgramVersion && !noted) {
      std::fprintf(stderr, "tlb_fuzzer: skipping version 1 programs: they attach no caches (add a 'caches tlb "
                           "noncoherent' line to the text and encode it)\n");
      noted = true;
    }
    return 0;
  }
#ifdef __AFL_COMPILER
  if (p.run.invalidator_bug != g_bug.value_or(0)) return 0;
#endif
  const ptsim::TlbRunReport r = ptsim::RunWithCaches(p, *arena);
  if (!r.ok()) {
    std::fprintf(stderr, "%sAssertion failure: %s\n", ptsim::FormatTlbReport(p, r).c_str(), r.Signature(p).c_str());
    std::fflush(stderr);
    std::abort();
  }
  return 0;
}
