// A per-CPU TLB, architecture-neutral: enough for the concurrency oracle
// "after an operation that invalidates returns, no CPU still translates the
// range from a leaf that is gone". Every entry remembers the history version
// of the leaf it was filled from. The per-architecture TLBs (PCIDs, global
// entries, paging-structure caches) are src/hw/tlb.h's; the race harness
// does not use them yet.
#ifndef PTSIM_CONC_TLB_H_
#define PTSIM_CONC_TLB_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "src/conc/history.h"

namespace ptsim {

struct TlbEntry {
  int key = 0;  // history key: address space, or the shared kernel half
  Mapping m;
  uint64_t version = 0;
  // The leaf's dirty state as the walk that filled it left it (true too for
  // a format whose hardware keeps no dirty bit). A TLB entry holds the
  // dirty flag with the translation (Intel SDM Vol. 3A §4.10, "Caching
  // Translations in TLBs"), and a write must find it set in the entry that
  // maps the page (§4.8), so a write through a clean entry walks again.
  bool dirty = false;
};

// Filled by its own CPU, flushed by any CPU during a shootdown; the lock
// makes that safe on real threads and costs nothing in the deterministic
// runtime.
class Tlb {
 public:
  static constexpr size_t kCapacity = 64;

  std::optional<TlbEntry> Lookup(int key, uint64_t va) const;
  void Insert(const TlbEntry& e);
  void FlushRange(int key, uint64_t first, uint64_t last);
  void FlushAll();
  std::vector<TlbEntry> Entries() const;

 private:
  mutable std::mutex mu_;
  std::vector<TlbEntry> entries_;  // oldest first; evicted FIFO at capacity
};

}  // namespace ptsim

#endif  // PTSIM_CONC_TLB_H_
