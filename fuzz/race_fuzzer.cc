// race_fuzzer: concurrent populate / remove / copy / GUP / hardware accesses
// on 2 to 4 simulated CPUs, interleaved by the deterministic scheduler as
// the input's schedule bytes say, over every registered format and every
// safe freeing scheme. Any input is accepted; a violation prints the report
// (with the interleaving taken) and the one-line signature, then aborts.
//
// Options (after libFuzzer's own; libFuzzer ignores flags that start with
// "--"), or the same in the environment:
//   --inject=NAME[,NAME]   switch known bugs back on   (PTSIM_INJECT)
//   --free=ipi|rcu|immediate, --shootdown=ipi|broadcast
//                          force the configuration     (PTSIM_FREE, PTSIM_SHOOTDOWN)
//   --allow-unsafe         honour the unsafe-pairing bit of the input
// `ptsim repro` takes the same options, so a crash file found with them
// replays with them.
//
// Mutations: a structure-aware custom mutator (harness/race_mutator.h) aims
// ops at each other's addresses, moves preemptions by a few points, and,
// after running the input once to see its interleaving, preempts it at one
// exact point; some of the time it hands the input to libFuzzer's own
// mutations.
//
// Interleaving coverage: each context switch adds the pair (what the old CPU
// just did, what the new one is about to do), split by whether the two touch
// the same word with a write, to libFuzzer's extra counters.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "src/harness/race_mutator.h"
#include "src/harness/race_options.h"
#include "src/harness/race_runner.h"

namespace {

ptsim::RaceCliOptions g_opts;

#if defined(__clang__) && defined(__linux__)
__attribute__((used, section("__libfuzzer_extra_counters")))
#endif
uint8_t g_interleavings[1 << 12];

}  // namespace

// libFuzzer's own mutator; absent (null) in the standalone and AFL++ builds.
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size) __attribute__((weak));

namespace {

ptsim::Arena& SharedArena() {
  static ptsim::Arena* arena = new ptsim::Arena();
  return *arena;
}

// The custom mutator's probe: runs an input exactly as TestOneInput does
// (same options, so the same scheduling points), keeping the trace.
bool Probe(absl::Span<const uint8_t> data, ptsim::ScheduleLog* log) {
  ptsim::RaceProgram p = ptsim::DecodeRace(data, g_opts.decode);
  g_opts.Apply(&p);
  ptsim::RaceRunOptions ro = g_opts.run;
  ro.keep_trace = true;
  absl::StatusOr<ptsim::RaceReport> r = ptsim::RunRace(p, SharedArena(), ro);
  if (!r.ok()) return false;
  log->cpu_of_step.clear();
  log->kind_of_step.clear();
  for (const ptsim::TraceEvent& e : r->trace) {
    log->cpu_of_step.push_back(e.cpu);
    log->kind_of_step.push_back(e.kind);
  }
  log->decisions = std::move(r->decisions);
  return true;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  ptsim::ByteMutator fallback;
  if (LLVMFuzzerMutate != nullptr) fallback = LLVMFuzzerMutate;
  return ptsim::MutateRace(data, size, max_size, seed, fallback, Probe);
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < *argc; ++i) args.emplace_back((*argv)[i]);
  if (absl::Status st = ptsim::ParseRaceCliOptions(args, &g_opts); !st.ok()) {
    std::fprintf(stderr, "race_fuzzer: %s\n", std::string(st.message()).c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ptsim::Arena* arena = &SharedArena();
  // Only 'R'-tagged inputs: `ptsim repro` recognises a race program by its
  // tag, so every crash file this writes replays there.
  if (size == 0 || data[0] != ptsim::kRaceTag) return 0;
  ptsim::RaceProgram p = ptsim::DecodeRace(absl::MakeConstSpan(data, size), g_opts.decode);
  g_opts.Apply(&p);
  auto text = ptsim::ParseRaceText(ptsim::ToRaceText(p));
  if (!text.ok() || !(*text == p)) {
    std::fprintf(stderr, "text form does not round-trip:\n%s\n", ptsim::ToRaceText(p).c_str());
    std::fprintf(stderr, "Assertion failure: %s-race-codec-text\n", p.format.c_str());
    std::abort();
  }
  ptsim::RaceRunOptions ro = g_opts.run;
  ro.keep_trace = false;
  ro.coverage = g_interleavings;
  ro.coverage_size = sizeof(g_interleavings);
  absl::StatusOr<ptsim::RaceReport> r = ptsim::RunRace(p, *arena, ro);
  if (!r.ok()) {
    // Decoded programs are valid by construction; a rejection is a codec bug.
    std::fprintf(stderr, "%s\n%s\n", std::string(r.status().message()).c_str(), ptsim::ToRaceText(p).c_str());
    std::fprintf(stderr, "Assertion failure: %s-race-codec-invalid\n", p.format.c_str());
    std::abort();
  }
  if (!r->ok()) {
    // Run again with the trace kept, for the report.
    ro.keep_trace = true;
    ro.coverage = nullptr;
    r = ptsim::RunRace(p, *arena, ro);
    std::fprintf(stderr, "%s", ptsim::FormatRaceReport(p, *r).c_str());
    std::fprintf(stderr, "Assertion failure: %s\n", r->Signature(p).c_str());
    std::fflush(stderr);
    std::abort();
  }
  return 0;
}
