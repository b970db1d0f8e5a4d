// The per-address history (DESIGN.md §8, oracle 4): every leaf installed,
// changed or cleared, with the instant it happened, so that any value a
// lockless reader saw can be checked to have been live at that instant, and
// a TLB entry can be checked to come from a leaf that still exists.
//
// Events are recorded by the operation right after the entry store that
// makes them true, with no scheduling point in between, so in the
// deterministic runtime the history is exact. Keys separate address spaces;
// the shared kernel half has a key of its own.
#ifndef PTSIM_CONC_HISTORY_H_
#define PTSIM_CONC_HISTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/pt/attrs.h"

namespace ptsim {

// A mapping as the oracles compare it: accessed/dirty/global are hardware
// or bookkeeping state, not part of what was mapped.
struct Mapping {
  uint64_t va = 0;  // leaf base
  unsigned size_lg2 = 0;
  uint64_t oa = 0;  // leaf output base
  uint8_t perms = 0;  // LeafAttrs bits restricted to r/w/x/u
  bool operator==(const Mapping&) const = default;
  std::string ToString() const;
};

uint8_t PermBits(LeafAttrs a);

struct HistoryEvent {
  uint64_t time = 0;
  int key = 0;
  bool present = false;  // false: the leaf at `m.va` was cleared
  Mapping m;
  uint64_t version = 0;  // unique per event
  // Fork write-protected the leaf to share its page copy-on-write; pin
  // coherence is about these, not about an mprotect to read-only, which
  // leaves a pinned page what it was.
  bool cow = false;
  // A replicated leaf (ARM contiguous, RISC-V NAPOT) is written entry by
  // entry: it comes into force (or goes) at the first store, and readers
  // may still see what it replaces in the other entries until the last
  // one, at `settled` (0: at once; UINT64_MAX: not yet). Linux's contpte updates have the same
  // window, closed by the TLB flush that follows.
  uint64_t settled = 0;
};

class History {
 public:
  // Returns the event's version.
  uint64_t Install(int key, uint64_t time, const Mapping& m, bool cow = false);
  uint64_t Clear(int key, uint64_t time, uint64_t va, unsigned size_lg2);
  // The event `version` replaced its predecessor in every entry by `time`
  // (UINT64_MAX: it is still being written).
  void Settle(uint64_t version, uint64_t time);

  // The event in force for `va` at `time` (after every event with
  // time <= `time`), or null if nothing ever mapped it.
  const HistoryEvent* At(int key, uint64_t va, uint64_t time) const;
  // The events in force for `va` at some instant of [t0, t1]: the one at
  // t0 (null if nothing had mapped it), then every later one up to t1; and
  // before them, the predecessor (null if none) of each of those whose
  // entries were still being rewritten at t0 or later (see `settled`).
  std::vector<const HistoryEvent*> InForce(int key, uint64_t va, uint64_t t0, uint64_t t1) const;
  // The event in force now.
  const HistoryEvent* Current(int key, uint64_t va) const;
  // Every mapping in force now, sorted by VA.
  std::vector<Mapping> Live(int key) const;
  const std::vector<HistoryEvent>& events() const { return events_; }
  void Reset() { events_.clear(); }

 private:
  std::vector<HistoryEvent> events_;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_HISTORY_H_
