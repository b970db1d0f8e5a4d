// How an operation of a concurrent run shares the tables: the racing side of
// the Space operations' sync policy (src/ops/space_env.h). The operations
// themselves (unmap with its splits, protect) are the sequential ones of
// src/ops/space.h; this supplies what differs when other CPUs run:
//   * a change is made under the lock of the table that holds the entry
//     (world.h's split page-table locks), after re-reading the entry and
//     checking that the table is still hooked (pte_offset_map_lock's
//     pmd_same), in that order: the entry, then its parent;
//   * a kernel-half top-level entry is written in the kernel's reference
//     table under the kernel lock and copied into every address space
//     (sync_global, as populate does);
//   * every leaf that comes into force or goes is recorded in the history
//     at the instant of the store that makes it so;
//   * frames are counted before a leaf that maps them can be seen, and
//     uncounted only after the caller's shootdown (Deferred);
//   * invalidations are gathered: the caller shoots the range down once.
#ifndef PTSIM_CONC_SPACE_SYNC_H_
#define PTSIM_CONC_SPACE_SYNC_H_

#include <vector>

#include "absl/status/statusor.h"
#include "src/conc/sections.h"
#include "src/conc/world.h"
#include "src/ops/space_env.h"

namespace ptsim {
namespace conc_internal {

// Copies the kernel's reference top-level entry `index` into every address
// space (sync_global_pgds); called under the kernel lock.
template <PageTableFormat F>
void SyncGlobal(World<F>& w, uint64_t index) {
  const Level top = w.f.TopLevel();
  const EntryVal<F> v = TablePtr<F>{w.kernel_root, top}.At(w.mem, index).Load(std::memory_order_acquire);
  for (auto& s : w.spaces) {
    const EntryPtr<F> ep = TablePtr<F>{s.root, top}.At(w.mem, index);
    if (ep.Load(std::memory_order_relaxed) != v) ep.Store(v, std::memory_order_release);
  }
}

// Whether the level-l table looks empty, read as one step of the
// interleaving (world.h's QuietScan).
template <PageTableFormat F>
bool LooksEmpty(World<F>& w, Oa table, Level l) {
  const QuietScan<F> quiet(w);
  for (uint64_t i = 0; i < (uint64_t{1} << w.f.IndexLg2(l)); ++i) {
    const EntryVal<F> v = TablePtr<F>{table, l}.At(w.mem, i).Load(std::memory_order_acquire);
    if (w.f.Classify(v.raw, l) != EntryKind::kEmpty) return false;
  }
  return true;
}

}  // namespace conc_internal

template <PageTableFormat F>
class ConcSync {
 public:
  static constexpr bool kRacing = true;

  // What the operation leaves to its caller, to do after the shootdown.
  struct Deferred {
    std::vector<uint64_t> unmapped;  // frames whose map count drops once no TLB can reach them
    bool invalidated = false;        // some translation in the range changed or went
    uint64_t installed = 0;          // leaves a map wrote
    uint64_t present = 0;            // leaves a map found mapped already
  };

  // `key` is the history key of the range (an address space, or the shared
  // kernel half); `space` the address space whose root the Space walks.
  ConcSync(World<F>& w, int space, int key, Deferred* out) : w_(&w), space_(space), key_(key), out_(out) {}

  // The caller already holds the frame reference a mapping will own (fork's
  // child gets the reference copy took for it), so a map counts no frame.
  ConcSync& FramesCounted() {
    frames_counted_ = true;
    return *this;
  }

  // Runs check() then, if the table is still hooked under `parent` and
  // check() held, act(), all under the lock of the table that holds `ep`.
  template <typename Check, typename Act>
  Locked Under(Oa table, Level l, const EntryPtr<F>& ep, const EntryPtr<F>* parent, Check&& check, Act&& act) {
    SpinLock& lock = LockOf(table, l, ep);
    lock.Lock(w_->m);
    const bool same = check();
    const bool hooked = w_->StillPoints(parent, table);
    const Locked k = !hooked ? Locked::kUnhooked : !same ? Locked::kChanged : Locked::kDone;
    if (k == Locked::kDone) act();
    lock.Unlock(w_->m);
    return k;
  }

  void Store(const EntryPtr<F>& ep, EntryVal<F> v, std::memory_order order) {
    if (const std::optional<uint64_t> i = KernelTopIndex(ep)) {
      TablePtr<F>{w_->kernel_root, ep.level()}.At(w_->mem, *i).Store(v, order);
      conc_internal::SyncGlobal(*w_, *i);
      return;
    }
    ep.Store(v, order);
  }

  absl::StatusOr<Oa> AllocTable(Level l) {
    const std::optional<Oa> t = w_->AllocTable(l);
    if (!t) return absl::ResourceExhaustedError("out of table memory");
    return *t;
  }

  void MapFrame(Oa head) {
    if (!frames_counted_) w_->frames.Map(w_->m, head.value());
  }
  // fork's frames (space_leaves.h's CopyLeaf).
  void ShareFrame(Oa head) { w_->frames.Map(w_->m, head.value()); }
  bool MaybePinned(Oa head) { return w_->frames.MaybePinned(w_->m, head.value()); }
  Oa CopyFrame(unsigned size_lg2) { return Oa(w_->AllocDataFrame(size_lg2)); }
  void Populated(bool installed, uint64_t n) { (installed ? out_->installed : out_->present) += n; }

  // Whether a table install re-checks that the entry is still empty
  // (pmd_install's "has another populated it?").
  bool RechecksEmpty() const { return !w_->cfg.Has(Bug::kPopulateNoRecheck); }
  // Publishes the new level-l table `fresh` through `ep`; under the bug the
  // table is zeroed only after the pointer is visible.
  void PublishTable(const EntryPtr<F>& ep, EntryVal<F> v, Oa fresh, Level l) {
    Store(ep, v, std::memory_order_release);
    if (w_->cfg.Has(Bug::kPublishBeforeZero)) {
      w_->m.rt().Point(PointKind::kStore, fresh.value());
      w_->mem->Fill(fresh, uint64_t{1} << w_->AllocLg2(l), 0);
    }
  }
  // Reclaim (space.h): unhooks the level-`below` table `child` that `ep` in
  // the level-l `table` points to if it is empty, under both tables' locks
  // after re-checking that it is still hooked and still empty (the re-scan
  // is what the reclaim-no-recheck bug skips). Kernel top-level entries are
  // shared by every space and stay.
  bool UnhookIfEmpty(Oa table, Level l, const EntryPtr<F>& ep, Oa child, Level below) {
    if (l == w_->f.TopLevel() && key_ == kKernelKey) return false;
    if (!conc_internal::LooksEmpty(*w_, child, below)) return false;
    SpinLock& outer = w_->LockFor(table, l, key_);
    SpinLock& inner = w_->LockFor(child, below, key_);
    outer.Lock(w_->m);
    if (&inner != &outer) inner.Lock(w_->m);
    const bool still = w_->StillPoints(&ep, child);
    const bool unhook =
        still && (w_->cfg.Has(Bug::kReclaimNoRecheck) || conc_internal::LooksEmpty(*w_, child, below));
    if (unhook) ep.Store(EntryVal<F>{0, l}, std::memory_order_release);
    if (&inner != &outer) inner.Unlock(w_->m);
    outer.Unlock(w_->m);
    return unhook;
  }

  // A table nobody else ever saw: back to the allocator at once.
  void DropTable(Oa t) { w_->FreeTable(t); }
  // Each returns the history event's version, for Settled.
  uint64_t Installed(Va va, unsigned size_lg2, Oa oa, LeafAttrs a, bool cow) {
    return w_->RecordInstall(key_, Mapping{va.value(), size_lg2, oa.value(), PermBits(a)}, cow);
  }
  uint64_t Cleared(Va va, unsigned size_lg2, Oa oa) {
    out_->unmapped.push_back(oa.value());
    out_->invalidated = true;
    return w_->RecordClear(key_, Mapping{va.value(), size_lg2, oa.value(), 0});
  }
  // The replicated leaf of event `version` is being written entry by
  // entry, or is now in every entry.
  void Unsettled(uint64_t version) { w_->RecordUnsettled(version); }
  void Settled(uint64_t version) { w_->RecordSettled(version); }
  void Invalidate(Va, Va, bool) { out_->invalidated = true; }

  [[noreturn]] void Invalid(const char* what, const EntryPtr<F>& ep, EntryVal<F> v, Level l) {
    w_->Fail("invalid-entry", absl::StrFormat("cpu%d %s read an invalid level-%d entry 0x%x at 0x%x", w_->m.self(),
                                              what, l.value(), uint64_t{v.raw}, ep.addr().value()));
  }

  // Reads that are one step of the interleaving (world.h's QuietScan).
  QuietScan<F> Quiet() { return QuietScan<F>(*w_); }

 private:
  // The index of `ep` in its space's top-level table when it is a kernel-half
  // entry there, which lives in the kernel's reference table.
  std::optional<uint64_t> KernelTopIndex(const EntryPtr<F>& ep) const {
    if (key_ != kKernelKey || ep.level() != w_->f.TopLevel()) return std::nullopt;
    return (ep.addr().value() - w_->spaces[space_].root.value()) >> F::kEntryLg2;
  }
  SpinLock& LockOf(Oa table, Level l, const EntryPtr<F>& ep) {
    if (KernelTopIndex(ep)) return w_->kernel_lock;
    return w_->LockFor(table, l, key_);
  }

  World<F>* w_;
  int space_;
  int key_;
  Deferred* out_;
  bool frames_counted_ = false;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_SPACE_SYNC_H_
