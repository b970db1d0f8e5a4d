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
//   * changes the setup byte (CPU count, freeing scheme, shootdown style).
// Every result is an 'R'-tagged program no longer than max_size; the same
// input and seed give the same result.
#ifndef PTSIM_HARNESS_RACE_MUTATOR_H_
#define PTSIM_HARNESS_RACE_MUTATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"

namespace ptsim {

// An 'R' program split at its field boundaries.
struct RaceBytes {
  std::vector<uint8_t> header;                // tag, format id, knobs, setup
  std::vector<std::array<uint8_t, 8>> ops;    // the op count is ops.size()
  std::vector<uint8_t> tape;
};

// False when `bytes` is not an 'R' program with a complete header.
bool SplitRace(absl::Span<const uint8_t> bytes, RaceBytes* out);
std::vector<uint8_t> JoinRace(const RaceBytes& r);

// libFuzzer's own mutation of a buffer (LLVMFuzzerMutate's signature).
using ByteMutator = std::function<size_t(uint8_t* data, size_t size, size_t max_size)>;

// Mutates data[0, size) in place into at most max_size bytes; returns the
// new size. `fallback` is used for some mutations and may be empty.
size_t MutateRace(uint8_t* data, size_t size, size_t max_size, uint32_t seed, const ByteMutator& fallback);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_MUTATOR_H_
