// Allocator for page-table levels (seed 003, generic_pt's pt_radix_alloc):
// tables of any power-of-two size from 32 bytes (the PAE PDPT) to 1 MiB
// (16 concatenated 64 KiB ARM stage 2 tables), aligned to their size,
// carved from a region of simulated memory.
//
// Every table has metadata (owner, level, state, generation). A table is
// freed either at once or onto a deferred list that is released after a
// grace period (RCU-style freeing by the concurrent operations, src/conc). Freed memory is poisoned and
// kept in quarantine for a while before reuse, so a walker that still holds
// a freed table reads poison, and the generation tells a reused table from
// the one it used to be. Accounting (live = reachable + pending) and a leak
// check at teardown are the structural oracles built on it.
#ifndef PTSIM_MEM_TABLE_ALLOCATOR_H_
#define PTSIM_MEM_TABLE_ALLOCATOR_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/base/addr.h"
#include "src/mem/phys_mem.h"

namespace ptsim {

enum class TableState : uint8_t { kLive, kPendingFree, kFree };
const char* TableStateName(TableState s);

struct TableMeta {
  uint32_t owner = 0;       // address-space id
  int8_t level = 0;         // Level::value() of the table
  uint8_t size_lg2 = 0;
  TableState state = TableState::kFree;
  uint32_t generation = 0;  // bumped on every free
};

struct AllocatorStats {
  uint64_t live = 0;
  uint64_t live_bytes = 0;
  uint64_t pending = 0;
  uint64_t allocs = 0;
  uint64_t frees = 0;
  uint64_t peak_live_bytes = 0;
};

class TableAllocator {
 public:
  static constexpr unsigned kMinSizeLg2 = 5;   // 32 B: x86 PAE PDPT
  static constexpr unsigned kMaxSizeLg2 = 20;  // 1 MiB: 16 concatenated ARM 64K-granule stage 2 tables
  static constexpr uint8_t kPoison = 0xdb;
  // Freed tables wait this many frees before their memory is reused.
  static constexpr size_t kQuarantine = 64;

  // Tables are carved from `region`, which must lie inside `mem`.
  TableAllocator(PhysMem* mem, OaRange region);

  // A zeroed table of 2^size_lg2 bytes aligned to its size. Out of memory
  // is an input-triggered condition: ResourceExhausted.
  absl::StatusOr<Oa> Alloc(unsigned size_lg2, uint32_t owner, int level);
  // Frees a live table now: poison, generation++, quarantine.
  void Free(Oa table);
  // Marks a live table pending; it is freed by ReleaseDeferred().
  void FreeDeferred(Oa table);
  // The grace period has elapsed: free everything pending.
  void ReleaseDeferred();

  // Metadata of the table based at `table`, or null if none ever was.
  const TableMeta* Find(Oa table) const;
  bool IsLive(Oa table) const;
  // Live tables (state kLive), sorted by address: for leak reports.
  std::vector<Oa> LiveTables() const;
  const AllocatorStats& stats() const { return stats_; }
  OaRange region() const { return region_; }

  // Forget everything (between fuzz inputs). Memory itself is reset by
  // PhysMem::Reset.
  void Reset();

 private:
  TableMeta& MustFind(Oa table, const char* what);
  void DoFree(Oa table, TableMeta& m);

  PhysMem* mem_;
  OaRange region_;
  uint64_t bump_;  // next unused address
  absl::flat_hash_map<uint64_t, TableMeta> meta_;
  std::vector<std::vector<uint64_t>> free_lists_;  // per size_lg2, reusable
  std::deque<uint64_t> quarantine_;
  std::vector<uint64_t> pending_;
  AllocatorStats stats_;
};

}  // namespace ptsim

#endif  // PTSIM_MEM_TABLE_ALLOCATOR_H_
