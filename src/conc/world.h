// The shared state of a concurrent run, generic over the format: two
// address spaces sharing a kernel half, the table allocator, frame counts,
// locks, per-CPU TLBs, the per-address history, and the oracles that run
// inside operations. The operations themselves are in populate.h,
// remove.h, gup.h, walk.h and copy.h.
//
// Locking (seed 001's split page-table locks): an entry is written only
// under the lock of the table that holds it. Tables at levels below
// `split_levels` have their own lock (the ptdesc lock); the levels above
// share their address space's lock, and the kernel half has one lock of its
// own. A lock is chosen from a table pointer read without locks, so after
// taking it a writer checks that the entry above still points to the table
// (pte_offset_map_lock's pmd_same). Tables are unhooked only when empty and
// only under both their own lock and their parent's, so a writer holding a
// table's lock whose parent still points to it cannot lose its write.
//
// Table lifetime for software walkers that may block (populate, remove,
// copy, the GUP slow path): they hold their space's mmap_lock shared and
// walk inside an RCU read-side section (pte_offset_map). A remove frees
// tables either after a grace period (RCU scheme, PT_RECLAIM-style, still
// under the shared lock) or after unhooking them under the exclusive lock
// (the other schemes, free_pgtables-style), so no such walker is inside.
// GUP-fast and hardware walks hold nothing; the freeing scheme is what
// protects them.
#ifndef PTSIM_CONC_WORLD_H_
#define PTSIM_CONC_WORLD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_format.h"
#include "src/base/log2.h"
#include "src/conc/config.h"
#include "src/conc/frames.h"
#include "src/conc/history.h"
#include "src/conc/tlb.h"
#include "src/mem/table_allocator.h"
#include "src/pt/geometry.h"
#include "src/sched/sync.h"

namespace ptsim {

// How an oracle ends the run: names the check and explains; never returns.
using FailFn = std::function<void(std::string_view check, const std::string& message)>;

template <PageTableFormat F>
class World final : public MemObserver {
 public:
  using Raw = typename F::Raw;

  struct AddrSpace {
    explicit AddrSpace(int id) : lock(0x10000 + id), fork_lock(0x20000 + id), mmap_lock(0x60000 + id) {}
    Oa root;
    SpinLock lock;       // page_table_lock: entries of tables at split_levels and above
    SpinLock fork_lock;  // the part of mmap_lock that fork and the GUP slow path take
    RwLock mmap_lock;    // shared by walking operations; exclusive to free tables without RCU
    std::atomic<uint64_t> fork_seq{0};  // write_protect_seq: odd while fork write-protects
  };

  struct Held {  // one GUP reference
    uint64_t head;
    bool pinned;
    int space;
    Va va;
    uint64_t since;  // Now() when it was taken
  };
  struct CpuCtx {
    std::vector<Held> held;
    uint64_t last_access = 0;                     // Now() at this CPU's latest table access
    int op = -1;                                  // index of the running op, for reports
    int quiet = 0;                                // > 0 inside a QuietScan
  };

  World(const F& f, Machine* m, PhysMem* mem, TableAllocator* alloc, const ConcConfig& cfg, FailFn fail)
      : f(f), m(*m), mem(mem), alloc(alloc), cfg(cfg), kernel_lock(0x30000), fail_(std::move(fail)) {
    for (CpuTlb& t : tlbs) t.Configure(cfg.walk_caches, cfg.invalidator_bug);
    // Hardware accesses walk under the family's rules in the run's mode,
    // and with the family's user setting on top for a user access.
    kernel_mode = user_mode = cfg.mode.value_or(FormatConfig::Defaults(ModeKnobsOf<F>()));
    PTSIM_CHECK(ApplySettingList("mode", ModeKnobsOf<F>(), HwRules<F>::kUserSetting, &user_mode).ok(),
                "%s: bad user mode setting", F::kName);
    for (Level l = f.TopLevel();; l = l.Below()) {
      const unsigned lg2 = AllocLg2(l);
      if (std::find(table_sizes_.begin(), table_sizes_.end(), lg2) == table_sizes_.end()) table_sizes_.push_back(lg2);
      if (l.IsBottom()) break;
    }
  }

  // Roots for both spaces and the kernel's reference top level. Runs before
  // any CPU starts; no scheduling points.
  absl::Status Init() {
    for (AddrSpace& s : spaces) {
      absl::StatusOr<Oa> r = alloc->Alloc(AllocLg2(f.TopLevel()), 0, f.TopLevel().value());
      if (!r.ok()) return r.status();
      s.root = *r;
    }
    absl::StatusOr<Oa> k = alloc->Alloc(AllocLg2(f.TopLevel()), 0, f.TopLevel().value());
    if (!k.ok()) return k.status();
    kernel_root = *k;
    return absl::OkStatus();
  }

  [[noreturn]] void Fail(std::string_view check, const std::string& message) {
    fail_(check, message);
    PTSIM_CHECK(false, "FailFn returned");
    __builtin_unreachable();
  }

  // --- addresses ---------------------------------------------------------

  // The upper half of the top-level table is the kernel's, shared by every
  // address space (x86's pgd_list, seed 001's sync_global_pgds).
  bool IsKernel(Va va) const {
    const Level top = f.TopLevel();
    return IndexOf(f, va, top) >= (uint64_t{1} << f.IndexLg2(top)) / 2;
  }
  int KeyOf(int space, Va va) const { return IsKernel(va) ? kKernelKey : space; }

  // The leaf a kLeaf entry for `va` belongs to: one entry, or a replicated
  // group whose entries all hold its base (geometry.h).
  Mapping MappingOf(Va va, Level l, Raw raw) const {
    const unsigned lg2 = LeafSizeLg2(f, raw, l);
    return {va.value() & ~LowMask(lg2), lg2, f.LeafOa(raw, l).value(), PermBits(f.DecodeAttrs(raw, l))};
  }

  // --- locks ---------------------------------------------------------------

  SpinLock& LockFor(Oa table, Level l, int key) {
    if (l.value() < cfg.split_levels) {
      std::lock_guard<std::mutex> g(locks_mu_);
      return table_locks_.try_emplace(table.value(), table.value()).first->second;
    }
    return key == kKernelKey ? kernel_lock : spaces[key].lock;
  }

  // True when `parent` (an entry read earlier) still points to `table`.
  // Hardware may have set accessed bits in it meanwhile, so the pointer is
  // compared, not the raw bits.
  bool StillPoints(const EntryPtr<F>* parent, Oa table) const {
    if (parent == nullptr) return true;
    const EntryVal<F> v = parent->Load(std::memory_order_acquire);
    return f.Classify(v.raw, parent->level()) == EntryKind::kTable && f.TableOa(v.raw, parent->level()) == table;
  }

  // --- tables --------------------------------------------------------------

  // What the allocator hands out for a level-l table: tables smaller than
  // its smallest size (a 2-entry top level) get the smallest.
  unsigned AllocLg2(Level l) const { return std::max(TableSizeLg2(f, l), TableAllocator::kMinSizeLg2); }

  // A zeroed table, or nothing when table memory is exhausted (the op then
  // gives up; exhausting memory is the input's doing, not a finding).
  std::optional<Oa> AllocTable(Level l) {
    m.rt().Point(PointKind::kAlloc, static_cast<uint64_t>(l.value()));
    std::lock_guard<std::mutex> g(alloc_mu_);
    absl::StatusOr<Oa> t = alloc->Alloc(AllocLg2(l), 0, l.value());
    if (!t.ok()) return std::nullopt;
    // Under the bug, the table still holds what its previous user left.
    if (cfg.Has(Bug::kPublishBeforeZero)) mem->Fill(*t, uint64_t{1} << AllocLg2(l), TableAllocator::kPoison);
    return *t;
  }

  void FreeTable(Oa t) {
    m.rt().Point(PointKind::kFree, t.value());
    std::lock_guard<std::mutex> g(alloc_mu_);
    alloc->Free(t);
  }

  // --- oracles inside operations ------------------------------------------

  // Every table access of every CPU lands here (PhysMem's observer): it is
  // the scheduling point, and the check that the access hits a table that
  // has not been freed. Installed only in the deterministic runtime.
  void OnAccess(Oa addr, unsigned, MemAccess kind) override {
    if (cpu[m.self()].quiet == 0) {
      m.rt().Point(kind == MemAccess::kLoad    ? PointKind::kLoad
                   : kind == MemAccess::kStore ? PointKind::kStore
                                               : PointKind::kCas,
                   addr.value());
    }
    cpu[m.self()].last_access = m.rt().Now();
    for (unsigned lg2 : table_sizes_) {
      const TableMeta* meta = alloc->Find(Oa(addr.value() & ~LowMask(lg2)));
      if (meta == nullptr || meta->size_lg2 != lg2) continue;
      if (meta->state == TableState::kFree) {
        Fail("freed-table", absl::StrFormat("cpu%d accessed 0x%x in a freed level-%d table (generation %d)",
                                            m.self(), addr.value(), meta->level, meta->generation));
      }
      return;
    }
    NotATable(addr);
  }
  [[noreturn]] void NotATable(Oa addr) {
    Fail("not-a-table", absl::StrFormat("cpu%d accessed 0x%x, which lies in no table", m.self(), addr.value()));
  }

  // A lockless reader that started at `since` saw `raw` for `va` at `time`:
  // it must be what the history had in force at some instant of
  // [since, time] (DESIGN.md §8, oracle 4). A window, not the instant of
  // the read, because a reader that got a table pointer before a remove
  // unhooked that table goes on reading the detached table, which keeps
  // what it held when it was unhooked; the history follows the live tree.
  // Returns the matching event (for its version), or null when there is no
  // history to check against.
  const HistoryEvent* CheckLive(std::string_view who, int key, Va va, Level l, Raw raw, uint64_t since,
                                uint64_t time) {
    return CheckLive(who, key, va, MappingOf(va, l, raw), since, time);
  }
  const HistoryEvent* CheckLive(std::string_view who, int key, Va va, const Mapping& seen, uint64_t since,
                                uint64_t time) {
    if (!m.rt().deterministic()) return nullptr;
    const std::vector<const HistoryEvent*> in_force = HistoryIn(key, va, since, time);
    for (auto it = in_force.rbegin(); it != in_force.rend(); ++it)
      if (*it != nullptr && (*it)->present && (*it)->m == seen) return *it;
    const HistoryEvent* e = in_force.back();
    Fail("not-live", absl::StrFormat("cpu%d %s saw %s at step %d, but at no step of [%d, %d] did the history have "
                                     "it (at step %d: %s)",
                                     m.self(), who, seen.ToString(), time, since, time, time,
                                     e == nullptr ? "nothing" : (e->present ? e->m.ToString() : "it cleared")));
    return nullptr;
  }
  // `level` is where the reader found the empty entry. A kernel-half entry
  // of the top-level table exists once per address space, and sync_global
  // copies a new one into each space in turn, so a reader in a space it has
  // not reached yet finds it empty while another CPU already maps through
  // the reference copy (x86-32 fixed such faults up lazily in
  // vmalloc_fault). That absence is the protocol, not a lost mapping; the
  // copies are compared with the reference at quiescence.
  void CheckAbsent(std::string_view who, int key, Va va, Level level, uint64_t since, uint64_t time) {
    if (!m.rt().deterministic()) return;
    if (key == kKernelKey && level == f.TopLevel()) return;
    const std::vector<const HistoryEvent*> in_force = HistoryIn(key, va, since, time);
    for (const HistoryEvent* e : in_force)
      if (e == nullptr || !e->present) return;
    Fail("lost-mapping", absl::StrFormat("cpu%d %s found va 0x%x unmapped at step %d, but at every step of [%d, %d] "
                                         "the history had it mapped (at step %d: %s)",
                                         m.self(), who, va.value(), time, since, time, time,
                                         in_force.back()->m.ToString()));
  }

  // When a pin is released: while it was held, fork must not have
  // write-protected the mapping it was taken through (an mprotect to
  // read-only may), unless the address was unmapped meanwhile (munmap,
  // then mmap: a new mapping the pin does not constrain). A page fork
  // write-protected while pinned has diverged from what the pin's holder
  // writes (B7); quiescence checks the pins still held.
  void CheckPinReleased(const Held& h) {
    if (!m.rt().deterministic() || !h.pinned) return;
    const std::vector<const HistoryEvent*> held_for = HistoryIn(KeyOf(h.space, h.va), h.va, h.since, m.rt().Now());
    for (const HistoryEvent* e : held_for)
      if (e == nullptr || !e->present) return;
    for (const HistoryEvent* e : held_for) {
      if (e->cow && e->m.oa == h.head && !LeafAttrs::FromBits(e->m.perms).Has(Attr::kWrite)) {
        Fail("pin-coherence", absl::StrFormat("cpu%d pinned frame 0x%x through va 0x%x of space %d for writing at step "
                                              "%d, and while it held the pin the page was mapped read-only there "
                                              "(%s): fork write-protected a pinned page",
                                              m.self(), h.head, h.va.value(), h.space, h.since, e->m.ToString()));
      }
    }
  }

  // After an operation that flushed at `flush_time` returns: no TLB may
  // still hold a leaf of [first, last] that was gone by then.
  void CheckNoStaleTlb(std::string_view op, int key, Va first, Va last, uint64_t flush_time) {
    if (!m.rt().deterministic()) return;
    for (int c = 0; c < m.ncpus(); ++c) {
      for (const hw::LeafEntry& e : tlbs[c].Leaves()) {
        if (CpuTlb::KeyOf(e) != key || e.va_base > last.value() || e.last() < first.value()) continue;
        const HistoryEvent* now = HistoryAt(key, Va(e.va_base), flush_time);
        if (now == nullptr || now->version <= e.version) continue;
        const Mapping held{e.va_base, e.size_lg2, e.oa_base.value(), PermBits(e.attrs)};
        Fail("stale-tlb",
             absl::StrFormat("after cpu%d's %s of [0x%x, 0x%x] returned, cpu%d's TLB still translates %s "
                             "(filled from history version %d, superseded by version %d before the flush)",
                             m.self(), op, first.value(), last.value(), c, held.ToString(), e.version, now->version));
      }
    }
  }

  // The mmap_lock of a history key: the address space's, or the kernel's.
  RwLock& MmapLock(int key) { return key == kKernelKey ? kernel_mmap_lock : spaces[key].mmap_lock; }

  // --- history -------------------------------------------------------------

  uint64_t RecordInstall(int key, const Mapping& mp, bool cow = false) {
    std::lock_guard<std::mutex> g(history_mu_);
    return history.Install(key, m.rt().Now(), mp, cow);
  }
  uint64_t RecordClear(int key, const Mapping& mp) {
    std::lock_guard<std::mutex> g(history_mu_);
    return history.Clear(key, m.rt().Now(), mp.va, mp.size_lg2);
  }
  // A replicated leaf's event: recorded at its first entry's store,
  // RecordUnsettled at once, RecordSettled after its last (history.h).
  void RecordUnsettled(uint64_t version) {
    std::lock_guard<std::mutex> g(history_mu_);
    history.Settle(version, UINT64_MAX);
  }
  void RecordSettled(uint64_t version) {
    std::lock_guard<std::mutex> g(history_mu_);
    history.Settle(version, m.rt().Now());
  }
  const HistoryEvent* HistoryAt(int key, Va va, uint64_t time) {
    std::lock_guard<std::mutex> g(history_mu_);
    return history.At(key, va.value(), time);
  }
  std::vector<const HistoryEvent*> HistoryIn(int key, Va va, uint64_t since, uint64_t time) {
    std::lock_guard<std::mutex> g(history_mu_);
    return history.InForce(key, va.value(), since, time);
  }

  // Fresh data frames for fork's eager copies of pinned pages.
  uint64_t AllocDataFrame(unsigned size_lg2) {
    const uint64_t size = uint64_t{1} << size_lg2;
    uint64_t cur = next_frame.load(std::memory_order_relaxed);
    uint64_t base;
    do {
      base = (cur + size - 1) & ~(size - 1);
    } while (!next_frame.compare_exchange_weak(cur, base + size, std::memory_order_relaxed));
    return base;
  }

  const F& f;
  Machine& m;
  PhysMem* mem;
  TableAllocator* alloc;
  const ConcConfig cfg;
  FormatConfig kernel_mode, user_mode;  // what a hardware access walks in
  std::array<AddrSpace, kSpaces> spaces{AddrSpace(0), AddrSpace(1)};
  Oa kernel_root;
  SpinLock kernel_lock;  // the kernel half's page_table_lock, and pgd_lock
  RwLock kernel_mmap_lock{0x70000};
  // inc_tlb_flush_pending per history key: operations that may leave TLB
  // entries to flush later (remove, copy) count themselves in.
  std::array<std::atomic<int>, kSpaces + 1> flush_pending{};
  ConcFrames frames;
  History history;
  std::array<CpuTlb, kMaxCpus> tlbs;
  std::array<CpuCtx, kMaxCpus> cpu;
  std::atomic<uint64_t> next_frame{0};

 private:
  FailFn fail_;
  std::vector<unsigned> table_sizes_;
  std::mutex alloc_mu_;
  std::mutex locks_mu_;
  std::mutex history_mu_;
  absl::node_hash_map<uint64_t, SpinLock> table_locks_;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_WORLD_H_
