// A structure-aware mutator for race programs (race_fuzzer's
// LLVMFuzzerCustomMutator).
//
// Byte-level mutations alone rarely make two operations touch the same
// address, or move one preemption by a few points: an address is split over
// three fields of an 8-byte op, and a tape byte's run length is its upper six
// bits. This mutator knows the binary layout (race_program.h) and, besides
// handing the input to libFuzzer's own mutations some of the time, it
//   * aims one op at another's address (unit, index, count and space);
//   * changes an op's kind or CPU, duplicates or deletes an op, or runs the
//     same op on another CPU (remove against remove, populate against
//     populate);
//   * nudges a tape byte's run length by a few points, changes its CPU,
//     inserts, deletes or truncates tape bytes;
//   * changes the setup byte (CPU count, freeing scheme, shootdown style);
//   * given a probe that runs the input (the fuzzer's), preempts the run at
//     one exact scheduling point chosen uniformly over the run: the new
//     tape replays the run's decisions up to that point, then hands the
//     processor to another CPU. Byte edits cannot do this: a preemption 49
//     points into a run needs two bytes (48 + 1), and the bugs that need a
//     CPU stopped between two adjacent points of an operation (fork between
//     its pin check and its write-protect) sit behind exactly such a point.
// Every result is a v4 or v5 race program (the input's version: a v5
// input's CPU mode travels with the format header, where libFuzzer's byte
// edits vary it; half of the random programs are v5) no longer than
// max_size; the same
// input and seed give the same result.
//
// Settings (the known bugs, the unsafe pairing, the freeing scheme and the
// shootdown style) are part of the input, and the mutator keeps the search
// inside what race_fuzzer's flags allow by writing them into every mutant
// (StampSettings): a flag that is given is stamped; a setting no flag names
// is inherited from the input being mutated, except the freeing scheme and
// shootdown style, which the setup mutation varies (the unsafe pairing stays
// undecodable unless the input had it or --allow-unsafe asks for it). So
// without flags a search that starts from bug-free, safe seeds stays
// bug-free and safe, and minimising a crash file keeps its settings; the
// input is always run exactly as its bytes say.
#ifndef PTSIM_HARNESS_RACE_MUTATOR_H_
#define PTSIM_HARNESS_RACE_MUTATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "src/harness/race_options.h"
#include "src/sched/scheduler.h"

namespace ptsim {

// A race program split at its field boundaries.
struct RaceBytes {
  std::vector<uint8_t> header;                // tag, format id, knobs; v5: run settings, mode
  size_t run_at = 0;                          // v5: the run settings byte's offset in header; 0: none
  uint8_t setup = 0;
  uint16_t bugs = 0;
  std::vector<std::array<uint8_t, 8>> ops;    // the op count is ops.size()
  std::vector<uint8_t> tape;
};

// False when `bytes` is not a race program with a complete header. A
// version 1 program (no bugs field) is read as the program it ran as: no
// bugs, and the unsafe pairing not honoured; a version 2 one has this
// layout (its op kind 6 becomes a protect); so old corpora still seed the
// search.
bool SplitRace(absl::Span<const uint8_t> bytes, RaceBytes* out);
// Always version 3.
std::vector<uint8_t> JoinRace(const RaceBytes& r);

// Writes the flags' settings into `r` (see above): bugs and the unsafe bit
// from the flags when given, else from `parent_setup` / `parent_bugs`; the
// freeing scheme and shootdown style from the flags when given; a v5
// program's invalidator bug always from `parent_run` (the parent's run
// settings byte, 0 for none), so that no mutation plants one.
void StampSettings(RaceBytes* r, const RaceSettingFlags& flags, uint8_t parent_setup, uint16_t parent_bugs,
                   uint8_t parent_run = 0);

// libFuzzer's own mutation of a buffer (LLVMFuzzerMutate's signature).
using ByteMutator = std::function<size_t(uint8_t* data, size_t size, size_t max_size)>;

// What one run of a program did with its tape.
struct ScheduleLog {
  std::vector<uint8_t> cpu_of_step;  // [s] = the CPU that ran scheduling point s + 1
  std::vector<PointKind> kind_of_step;  // [s] = what that point was (may be empty)
  std::vector<Decision> decisions;   // Scheduler::decisions()
};

// Runs a program and fills in its log; false when it does not run (an
// input error).
using ScheduleProbe = std::function<bool(absl::Span<const uint8_t> program, ScheduleLog* log)>;

// A probe that remembers what it saw: the logs of the last `capacity`
// distinct programs it ran, by their bytes. libFuzzer mutates each corpus
// input many times and the preempting mutation probes the input it
// mutates, so without it a quarter of all mutations ran their parent again.
// A run is deterministic (same bytes, same log), so remembering changes no
// mutant. Pass it by reference (std::ref): a copy would start empty.
class CachedProbe {
 public:
  CachedProbe(ScheduleProbe probe, size_t capacity) : probe_(std::move(probe)), capacity_(capacity) {}
  bool operator()(absl::Span<const uint8_t> program, ScheduleLog* log);
  uint64_t runs() const { return runs_; }  // calls that ran the probe

 private:
  struct Entry {
    bool ok = false;
    ScheduleLog log;
  };
  ScheduleProbe probe_;
  size_t capacity_;
  absl::flat_hash_map<std::string, Entry> seen_;
  std::deque<std::string> order_;  // oldest first, evicted first
  uint64_t runs_ = 0;
};

// The tape bytes that run `cpu` for exactly `points` points (run lengths
// taken greedily, largest first).
std::vector<uint8_t> EncodeRun(unsigned cpu, uint64_t points);

// The points at which PreemptAt can stop the running CPU: those inside a
// run that began with a decision.
std::vector<uint64_t> PreemptionPoints(const ScheduleLog& log);

// A tape that takes `log`'s decisions (made with `tape`) until `step`
// points have run, then hands the processor to `cpu` with run field `run`,
// and after a bounded run back to the CPU it preempted. Empty when `step` is not one of PreemptionPoints. The first `step`
// points then run as before, unless a CPU that was blocked becomes
// runnable exactly where a long run is split.
std::vector<uint8_t> PreemptAt(absl::Span<const uint8_t> tape, const ScheduleLog& log, uint64_t step, unsigned cpu,
                               unsigned run);

// Mutates data[0, size) in place into at most max_size bytes; returns the
// new size. `fallback` is used for some mutations and may be empty.
// The probe runs the input with the flags' settings already stamped in, so
// its scheduling points are the mutant's.
size_t MutateRace(uint8_t* data, size_t size, size_t max_size, uint32_t seed, const ByteMutator& fallback,
                  const ScheduleProbe& probe = {}, const RaceSettingFlags& flags = {});

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_MUTATOR_H_
