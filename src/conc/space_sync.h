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
#include "src/conc/populate.h"
#include "src/ops/space_env.h"

namespace ptsim {

template <PageTableFormat F>
class ConcSync {
 public:
  static constexpr bool kRacing = true;

  // What the operation leaves to its caller, to do after the shootdown.
  struct Deferred {
    std::vector<uint64_t> unmapped;  // frames whose map count drops once no TLB can reach them
    bool invalidated = false;        // some translation in the range changed or went
  };

  // `key` is the history key of the range (an address space, or the shared
  // kernel half); `space` the address space whose root the Space walks.
  ConcSync(World<F>& w, int space, int key, Deferred* out) : w_(&w), space_(space), key_(key), out_(out) {}

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

  void MapFrame(Oa head) { w_->frames.Map(w_->m, head.value()); }
  void Installed(Va va, unsigned size_lg2, Oa oa, LeafAttrs a) {
    w_->RecordInstall(key_, Mapping{va.value(), size_lg2, oa.value(), PermBits(a)});
  }
  void Cleared(Va va, unsigned size_lg2, Oa oa) {
    w_->RecordClear(key_, Mapping{va.value(), size_lg2, oa.value(), 0});
    out_->unmapped.push_back(oa.value());
    out_->invalidated = true;
  }
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
};

}  // namespace ptsim

#endif  // PTSIM_CONC_SPACE_SYNC_H_
