// race_fuzzer: concurrent populate / remove / copy / GUP / hardware accesses
// on 2 to 4 simulated CPUs, interleaved by the deterministic scheduler as
// the input's schedule bytes say, over every registered format and every
// safe freeing scheme. Any input is accepted; a violation prints the report
// (with the interleaving taken) and the one-line signature, then aborts.
//
// An input carries every setting it runs with (race_program.h: the known
// bugs switched on, the freeing scheme, the shootdown style, the unsafe
// pairing) and always runs exactly as its bytes say, so a crash file
// replays with plain `race_fuzzer FILE` and `ptsim repro FILE`, and
// `-minimize_crash=1` needs no options either.
//
// Options (after libFuzzer's own; libFuzzer ignores flags that start with
// "--"), or the same in the environment, restrict the search: the custom
// mutator writes them into every mutant (race_mutator.h, StampSettings).
// Seeds run as written; without options the search keeps the seeds' own
// settings (the seed corpus is bug-free and safe).
//   --inject=NAME[,NAME]|none  mutants have exactly these known bugs on   (PTSIM_INJECT)
//   --free=ipi|rcu|immediate, --shootdown=ipi|broadcast
//                              mutants use this configuration             (PTSIM_FREE, PTSIM_SHOOTDOWN)
//   --allow-unsafe             mutants may pair broadcast shootdowns with
//                              immediate freeing (the seed 004 bug); naming
//                              both with --free/--shootdown implies it     (PTSIM_ALLOW_UNSAFE)
// AFL++ does not call the custom mutator, so its build instead skips inputs
// outside the restriction (no bugs and no unsafe pairing by default).
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
#include <functional>
#include <string>
#include <string_view>

#include "fuzz/fuzz_help.h"
#include "src/harness/race_mutator.h"
#include "src/harness/race_options.h"
#include "src/harness/race_runner.h"

namespace {

ptsim::RaceSettingFlags g_flags;

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

#ifdef __AFL_COMPILER
// Whether a program's settings are ones the flags let the search make: its
// bugs exactly the flags' (none by default), the flags' scheme and style
// when given, and no unsafe pairing unless asked for.
bool WithinSearch(const ptsim::RaceProgram& p) {
  if (p.bugs != g_flags.bugs.value_or(0)) return false;
  if (g_flags.free && p.free != *g_flags.free) return false;
  if (g_flags.shootdown && p.shootdown != *g_flags.shootdown) return false;
  return !p.Unsafe() || g_flags.UnsafeAsked();
}
#endif

// The custom mutator's probe: runs an input exactly as TestOneInput does
// (so the same scheduling points), keeping the trace.
bool Probe(absl::Span<const uint8_t> data, ptsim::ScheduleLog* log) {
  const ptsim::RaceProgram p = ptsim::DecodeRace(data);
  ptsim::RaceRunOptions ro;
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
  // The parents libFuzzer mutates come back again and again: each is run
  // by the probe once (a corpus of a few thousand inputs fits).
  static ptsim::CachedProbe* probe = new ptsim::CachedProbe(Probe, 4096);
  return ptsim::MutateRace(data, size, max_size, seed, fallback, std::ref(*probe), g_flags);
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  ptsim::fuzz::ExitOnHelp(*argc, *argv, R"(Usage: race_fuzzer [OPTIONS] [FILE|DIR...]
Concurrent populate / remove / protect / copy / GUP-fast / hardware accesses on
2 to 4 simulated CPUs, interleaved by the deterministic scheduler as each input (a
version 3 race program, src/harness/race_program.h) says. A violation prints
the interleaving and 'Assertion failure: <format>-<op>-<check>', then aborts;
'ptsim repro FILE' replays it with no options (the file carries its settings).

Options (or the environment variable beside each) restrict what the custom
mutator writes into every mutant; they never change how an input runs:
  --inject=NAME[,NAME]|none   known bugs switched on ('ptsim bugs')  PTSIM_INJECT
  --free=ipi|rcu|immediate    table freeing scheme                   PTSIM_FREE
  --shootdown=ipi|broadcast   TLB shootdown style                    PTSIM_SHOOTDOWN
  --allow-unsafe              allow broadcast + immediate (seed 004) PTSIM_ALLOW_UNSAFE
)");
  std::vector<std::string> args;
  for (int i = 1; i < *argc; ++i) {
    args.emplace_back((*argv)[i]);
    // libFuzzer ignores flags that start with "--", so any such flag here is
    // meant for this target: a misspelt one must not be ignored silently.
    const std::string_view a = args.back();
    if (a.size() > 2 && a.substr(0, 2) == "--") {
      const std::string_view key = a.substr(2, a.find('=') == std::string_view::npos ? a.npos : a.find('=') - 2);
      if (key != "inject" && key != "free" && key != "shootdown" && key != "allow-unsafe") {
        std::fprintf(stderr, "race_fuzzer: unknown option '%s' (known: --inject, --free, --shootdown, "
                             "--allow-unsafe, --help)\n", args.back().c_str());
        std::exit(2);
      }
    }
  }
  if (absl::Status st = ptsim::ParseRaceSettingFlags(args, /*read_env=*/true, &g_flags); !st.ok()) {
    std::fprintf(stderr, "race_fuzzer: %s\n", std::string(st.message()).c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ptsim::Arena* arena = &SharedArena();
  // Only versions 3 to 5: `ptsim repro` recognises a race program by its
  // tag and refuses older versions, so every crash file this writes replays
  // there. The mutator turns anything else into version 4 or 5.
  if (size == 0 || !ptsim::IsDecodableRaceTag(data[0])) return 0;
  const ptsim::RaceProgram p = ptsim::DecodeRace(absl::MakeConstSpan(data, size));
#ifdef __AFL_COMPILER
  if (!WithinSearch(p)) return 0;
#endif
  auto text = ptsim::ParseRaceText(ptsim::ToRaceText(p));
  if (!text.ok() || !(*text == p)) {
    std::fprintf(stderr, "text form does not round-trip:\n%s\n", ptsim::ToRaceText(p).c_str());
    std::fprintf(stderr, "Assertion failure: %s-race-codec-text\n", p.format.c_str());
    std::abort();
  }
  ptsim::RaceRunOptions ro;
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
