// populate: map leaves, allocating tables on the way, racing everything.
//
// Protocol (mm/memory.c __pte_alloc + pmd_install, research §3):
//   * descend reading each entry once, acquire; a table entry is followed
//     by its value, a leaf above the target level means "already populated
//     by a larger leaf", an empty entry needs a table;
//   * allocate and zero the new table with no lock held; take the lock of
//     the table that will hold the pointer; check that this table is still
//     hooked and that the entry is still empty ("has another populated
//     it?"); publish with a release store, so the zeroed contents are
//     visible before the pointer. The loser frees its never-published table
//     at once and descends into the winner's;
//   * a kernel-half top-level entry is installed in the kernel's reference
//     table under the kernel lock and copied into every address space before
//     the lock is dropped (sync_global_pgds);
//   * a leaf is written under its table's lock after the same two checks,
//     with the frame's map count raised first, so GUP-fast's get-unless-zero
//     on a leaf it can see always succeeds.
#ifndef PTSIM_CONC_POPULATE_H_
#define PTSIM_CONC_POPULATE_H_

#include "src/conc/world.h"

namespace ptsim {

enum class Install : uint8_t { kDone, kPresent, kUnhooked, kNoMemory };

namespace conc_internal {

template <PageTableFormat F>
void SyncGlobal(World<F>& w, uint64_t index) {
  const Level top = w.f.TopLevel();
  const EntryVal<F> v = TablePtr<F>{w.kernel_root, top}.At(w.mem, index).Load(std::memory_order_acquire);
  for (auto& s : w.spaces) {
    const EntryPtr<F> ep = TablePtr<F>{s.root, top}.At(w.mem, index);
    if (ep.Load(std::memory_order_relaxed) != v) ep.Store(v, std::memory_order_release);
  }
}

// Where an entry for `va` at level l is written, and under which lock: a
// kernel-half top-level entry (table or leaf) lives in the kernel's
// reference table and is copied into every space (SyncGlobal).
template <PageTableFormat F>
struct Target {
  EntryPtr<F> entry;
  SpinLock& lock;
  bool kernel_top;
};

template <PageTableFormat F>
Target<F> TargetOf(World<F>& w, int key, Oa table, Level l, const EntryPtr<F>& ep, Va va) {
  if (l == w.f.TopLevel() && key == kKernelKey) {
    return {TablePtr<F>{w.kernel_root, l}.At(w.mem, IndexOf(w.f, va, l)), w.kernel_lock, true};
  }
  return {ep, w.LockFor(table, l, key), false};
}

// Installs a table under `ep` (an entry of `table` at level l), or finds
// that someone else did.
template <PageTableFormat F>
Install InstallTable(World<F>& w, int key, Oa table, Level l, const EntryPtr<F>& ep, const EntryPtr<F>* parent,
                     Va va) {
  const F& f = w.f;
  const std::optional<Oa> fresh = w.AllocTable(l.Below());
  if (!fresh) return Install::kNoMemory;
  const auto [target, lock, kernel_top] = TargetOf(w, key, table, l, ep, va);
  lock.Lock(w.m);
  if (!w.StillPoints(parent, table)) {
    lock.Unlock(w.m);
    w.FreeTable(*fresh);
    return Install::kUnhooked;
  }
  const EntryVal<F> cur = target.Load(std::memory_order_relaxed);
  const bool empty = f.Classify(cur.raw, l) == EntryKind::kEmpty;
  if (empty || w.cfg.Has(Bug::kPopulateNoRecheck)) {
    const EntryVal<F> ptr{f.EncodeTable(l, *fresh), l};
    if (w.cfg.Has(Bug::kPublishBeforeZero)) {
      target.Store(ptr, std::memory_order_release);
      w.m.rt().Point(PointKind::kStore, fresh->value());
      w.mem->Fill(*fresh, uint64_t{1} << w.AllocLg2(l.Below()), 0);
    } else {
      target.Store(ptr, std::memory_order_release);
    }
    if (kernel_top) SyncGlobal(w, IndexOf(f, va, l));
    lock.Unlock(w.m);
    return Install::kDone;
  }
  if (kernel_top) SyncGlobal(w, IndexOf(f, va, l));
  lock.Unlock(w.m);
  w.FreeTable(*fresh);
  return Install::kPresent;
}

template <PageTableFormat F>
Install InstallLeaf(World<F>& w, int key, Oa table, Level l, const EntryPtr<F>& ep, const EntryPtr<F>* parent,
                    Va va, Oa oa, LeafAttrs attrs, bool take_ref) {
  const F& f = w.f;
  const auto [target, lock, kernel_top] = TargetOf(w, key, table, l, ep, va);
  lock.Lock(w.m);
  if (!w.StillPoints(parent, table)) {
    lock.Unlock(w.m);
    return Install::kUnhooked;
  }
  if (f.Classify(target.Load(std::memory_order_relaxed).raw, l) != EntryKind::kEmpty) {
    lock.Unlock(w.m);
    return Install::kPresent;
  }
  if (take_ref) w.frames.Map(w.m, oa.value());
  const EntryVal<F> leaf{f.EncodeLeaf(l, oa, attrs), l};
  target.Store(leaf, std::memory_order_release);
  w.RecordInstall(key, w.MappingOf(va, l, leaf.raw));
  if (kernel_top) SyncGlobal(w, IndexOf(f, va, l));
  lock.Unlock(w.m);
  return Install::kDone;
}

}  // namespace conc_internal

// Maps the leaf at level `leaf_level` containing `va` to `oa`. With
// take_ref false the caller already holds the frame reference the mapping
// will own (fork's child). Returns kDone, kPresent (something was already
// mapped there) or kNoMemory.
template <PageTableFormat F>
Install PopulateLeaf(World<F>& w, int space, Va va, Level leaf_level, Oa oa, LeafAttrs attrs, bool take_ref = true) {
  const F& f = w.f;
  const int key = w.KeyOf(space, va);
  const WalkerSection<F> section(w, key);
  for (;;) {
    Oa table = w.spaces[space].root;
    std::optional<EntryPtr<F>> parent;
    Install r = Install::kUnhooked;
    for (Level l = f.TopLevel();;) {
      const EntryPtr<F> ep = TablePtr<F>{table, l}.At(w.mem, IndexOf(f, va, l));
      const EntryPtr<F>* pp = parent ? &*parent : nullptr;
      if (l == leaf_level) {
        r = conc_internal::InstallLeaf(w, key, table, l, ep, pp, va, oa, attrs, take_ref);
        break;
      }
      const EntryVal<F> v = ep.Load(std::memory_order_acquire);
      const EntryKind kind = f.Classify(v.raw, l);
      if (kind == EntryKind::kTable) {
        parent = ep;
        table = f.TableOa(v.raw, l);
        l = l.Below();
        continue;
      }
      if (kind == EntryKind::kLeaf) return Install::kPresent;
      if (kind == EntryKind::kInvalid) {
        w.Fail("invalid-entry", absl::StrFormat("cpu%d populate read an invalid level-%d entry 0x%x at 0x%x",
                                                w.m.self(), l.value(), uint64_t{v.raw}, ep.addr().value()));
      }
      r = conc_internal::InstallTable(w, key, table, l, ep, pp, va);
      if (r == Install::kNoMemory || r == Install::kUnhooked) break;
      // Installed, or someone else did: read the entry again.
    }
    if (r != Install::kUnhooked) return r;
    // The table we were writing into was unhooked meanwhile: start over.
  }
}

}  // namespace ptsim

#endif  // PTSIM_CONC_POPULATE_H_
