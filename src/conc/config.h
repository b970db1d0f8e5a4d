// How a concurrent run is configured: CPUs, address spaces, the table
// freeing scheme, the shootdown style, and which known historical bugs are
// switched back on (all off by default).
#ifndef PTSIM_CONC_CONFIG_H_
#define PTSIM_CONC_CONFIG_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "src/pt/config.h"
#include "src/sched/sync.h"

namespace ptsim {

// How remove frees a table once it is unhooked and the TLBs are flushed.
enum class FreeScheme : uint8_t {
  kIpi,        // an interrupt round trip first (tlb_remove_table_sync_one)
  kRcu,        // a grace period first (MMU_GATHER_RCU_TABLE_FREE)
  kImmediate,  // at once: safe only if the shootdown itself was an IPI
};
const char* FreeSchemeName(FreeScheme s);
std::optional<FreeScheme> FreeSchemeFromName(std::string_view s);
std::optional<ShootdownStyle> ShootdownStyleFromName(std::string_view s);

// One-site variants of real bugs (research/concurrency.md §5), for the
// known-bug catalogue. Each makes one protocol step wrong.
enum class Bug : uint8_t {
  kPublishBeforeZero,  // B1: the new table is zeroed after it is published
  kPopulateNoRecheck,  // pmd_install without "has another populated it?"
  kFreeBeforeFlush,    // B11: tables freed before the shootdown
  kReclaimNoRecheck,   // B19: an empty-looking table reclaimed without a re-scan under the lock
  kGupNoForkSeq,       // B7: GUP-fast pins without checking fork's write_protect_seq
  kNoNestedFlush,      // B15: a remove that cleared nothing skips the flush while another remove is pending
  kGupDoubleRead,      // B4: GUP-fast reads an entry twice: once to test it, once to follow it
};
inline constexpr int kBugCount = 7;

struct BugInfo {
  Bug bug;
  std::string_view name;     // for --inject
  std::string_view mirrors;  // the real bug
  std::string_view effect;   // what goes wrong, and which oracle sees it
};
std::span<const BugInfo> KnownBugs();
const BugInfo* FindBug(std::string_view name);

struct ConcConfig {
  int ncpus = 2;
  FreeScheme free = FreeScheme::kRcu;
  ShootdownStyle shootdown = ShootdownStyle::kIpi;
  uint32_t bugs = 0;  // bit n = Bug(n)
  // Tables at levels below this have their own lock (split page-table
  // locks, seed 001's PT_SPLIT_LOCK_LVLS); the levels above share the
  // address space's lock.
  int split_levels = 2;
  // The CPU mode hardware accesses walk in (values of the family's mode
  // knobs, src/hw/family.h); nullopt: the family's default mode.
  std::optional<FormatConfig> mode;
  // Every CPU's TLB keeps paging-structure caches as well as leaf entries,
  // and its invalidation instructions may carry a planted bug
  // (hw::Bug, src/hw/invalidate.h: 0 none, 1 leaf_only, 2 forget_global,
  // 3 wrong_asid).
  bool walk_caches = false;
  uint8_t invalidator_bug = 0;

  bool Has(Bug b) const { return (bugs >> static_cast<int>(b)) & 1; }
  // Broadcast shootdowns with immediate freeing: the seed 004 bug.
  bool Unsafe() const { return shootdown == ShootdownStyle::kBroadcast && free == FreeScheme::kImmediate; }
};

inline constexpr int kSpaces = 2;
inline constexpr int kKernelKey = kSpaces;  // history key of the shared kernel half

}  // namespace ptsim

#endif  // PTSIM_CONC_CONFIG_H_
