// What an address space's operations work with (space.h): where tables come
// from and go to, who is told about invalidations and write-backs, and how
// an operation shares the tables with other CPUs.
#ifndef PTSIM_OPS_SPACE_ENV_H_
#define PTSIM_OPS_SPACE_ENV_H_

#include <cstdint>

#include "src/base/addr.h"
#include "src/mem/frames.h"
#include "src/mem/table_allocator.h"

namespace ptsim {

// Receives the invalidations an operation issues, in order. The
// architectures' invalidators (src/hw/invalidate.h) implement it over the
// TLB model; null means nothing caches.
class Invalidator {
 public:
  virtual ~Invalidator() = default;
  // `table` is true when a table (not only a leaf) was removed, so
  // paging-structure caches must drop it too.
  virtual void InvalidateRange(Va first, Va last, bool table) = 0;
};

// Receives the cache-line write-backs an operation issues for a table
// walker that is not cache-coherent (DESIGN.md §4, seed 003: generic_pt's
// incoherent IOMMU walkers): such a walker reads table memory only as it
// was last written back. Null (the default) means the walker snoops the
// CPU caches and nothing is issued.
enum class FlushKind : uint8_t {
  kNewTable,  // a whole freshly zeroed table, before anything can point to it
  kEntry,     // one entry just stored
};
class TableFlusher {
 public:
  virtual ~TableFlusher() = default;
  virtual void Flush(Oa addr, uint64_t bytes, FlushKind kind) = 0;
};

// Where an operation's tables come from and go to.
struct SpaceEnv {
  PhysMem* mem = nullptr;
  TableAllocator* alloc = nullptr;
  FrameTable* frames = nullptr;
  Invalidator* invalidator = nullptr;
  uint32_t id = 0;  // owner recorded in table metadata
  TableFlusher* flusher = nullptr;  // non-coherent walkers only
};

// An operation alone on its tables: nothing to lock, nobody racing, and the
// Space's own bookkeeping (live entries, frame map counts, deferred frees)
// is exact. The concurrent runs' counterpart is ConcSync (src/conc/
// space_sync.h): per-table locks with the "still hooked?" re-check, the
// history of every leaf, batched shootdowns and frees after a grace period.
// What became of a change made under a table's lock (ConcSync::Under): made,
// not made because the entry no longer held what the caller read, or not
// made because the table was unhooked meanwhile.
enum class Locked : uint8_t { kDone, kChanged, kUnhooked };

struct SoloSync {
  static constexpr bool kRacing = false;
};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_ENV_H_
