// An address space over one format: a root table plus the operations that
// change it (DESIGN.md §5), written once, generic over the format, in the
// spirit of seed 001's copy_pt_range: one recursive routine per operation,
// the same at every level.
//
// Protocol for lockless readers (hardware walks, GUP-fast), which the
// concurrent operations (src/conc) build on:
//   * a new table is zeroed by the allocator, then published by a release
//     store of the table entry; readers load entries with acquire order;
//   * a removed table is unhooked (entry cleared), the translation caches
//     are invalidated, and only then is it handed to the allocator's deferred
//     list; it is freed when the grace period ends (end of the operation,
//     single-threaded);
//   * a one-entry leaf is replaced in one store. Formats that need
//     break-before-make for it are not modelled yet;
//   * a replicated leaf (geometry.h) is written, rewritten and cleared
//     entry by entry in ascending order; splitting it changes its size, and
//     for formats that declare kReplicaBreakBeforeMake every entry is first
//     cleared and the group invalidated before the new entries are written;
//   * an entry that skips levels (geometry.h) is replaced, when a map needs
//     the part of its span it does not map, by an entry pointing to a new
//     table one level down whose first entry points to the same child
//     (skipping one level fewer): the new table is filled before the
//     release store publishes it, and every VA translates as before.
//
// Level skips follow the policy in space_tables.h.
//
// Internally addresses are "low" VAs: the translated bits only. A valid
// range never crosses the hole between the halves of a sign-extended space,
// so in low form it is an ordinary ordered interval.
#ifndef PTSIM_OPS_SPACE_H_
#define PTSIM_OPS_SPACE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/ops/space_env.h"
#include "src/ops/space_leaves.h"
#include "src/ops/space_tables.h"
#include "src/pt/geometry.h"

namespace ptsim {

// S is how the operations share the tables (space_env.h): SoloSync for a
// Space of its own, ConcSync (src/conc/space_sync.h) for an operation of a
// concurrent run, which differs only where it locks, re-checks and records.
template <PageTableFormat F, typename S = SoloSync>
class Space : private SpaceLeaves<F, S> {
  using Base = SpaceLeaves<F, S>;
  using typename Base::Child;
  using typename Base::LeafRef;
  using typename Base::LRange;
  using typename Base::MapCtx;
  using Base::AllocTable;
  using Base::CheckForcedSize;
  using Base::CheckRange;
  using Base::CheckSplits;
  using Base::AnyLeafIn;
  using Base::ForEntries;
  using Base::MapIn;
  using Base::Populate;
  using Base::ChildOf;
  using Base::CopyLeaf;
  using Base::VisitLeaves;
  using Base::Clip;
  using Base::Cleared;
  using Base::Entry;
  using Base::High;
  using Base::IndexAt;
  using Base::Installed;
  using Base::Settled;
  using Base::Invalidate;
  using Base::Low;
  using Base::Put;
  using Base::SplitEntry;
  using Base::SplitGroup;
  using Base::TableIsEmpty;
  using Base::env_;
  using Base::f_;
  using Base::has_root_;
  using Base::leaves_;
  using Base::live_;
  using Base::root_;
  using Base::s_;

 public:
  Space(const F& f, const SpaceEnv& env, S sync = {}) : Base(f, env, std::move(sync)) {}

  absl::Status Init() {
    auto root = AllocTable(f_.TopLevel());
    if (!root.ok()) return root.status();
    root_ = *root;
    has_root_ = true;
    return absl::OkStatus();
  }
  // Works on a tree built elsewhere (a concurrent run's address space);
  // the Space does not own it and Destroy must not be called.
  void Adopt(Oa root) {
    root_ = root;
    has_root_ = true;
  }

  const F& format() const { return f_; }
  Oa root() const { return root_; }
  uint64_t leaves() const { return leaves_; }
  const SpaceEnv& env() const { return env_; }
  // Maps [r.first, r.last] to [oa, ...] with `attrs`, using the largest leaf
  // that fits the alignment of both addresses, or only 2^force_lg2 leaves
  // when force_lg2 != 0. Alone, fails without changing anything when any
  // part of the range is already mapped; racing, it populates (space_map.h):
  // what is mapped already is left as it is and counted as present.
  absl::Status Map(VaRange r, Oa oa, LeafAttrs attrs, unsigned force_lg2 = 0) {
    if (auto st = CheckRange(r); !st.ok()) return st;
    const unsigned min_lg2 = f_.ItemLg2(Level(0));
    if (!oa.IsAligned(min_lg2)) {
      return absl::InvalidArgumentError(absl::StrFormat("oa %#x is not aligned to %d bytes", oa.value(),
                                                        uint64_t{1} << min_lg2));
    }
    const uint64_t size_m1 = r.SizeMinusOne();
    if (oa.value() + size_m1 < oa.value() || ((oa.value() + size_m1) >> f_.OaBits()) != 0) {
      return absl::OutOfRangeError(absl::StrFormat("oa range [%#x, +%#x] exceeds %d output address bits",
                                                   oa.value(), size_m1, f_.OaBits()));
    }
    if (force_lg2 != 0) {
      if (auto st = CheckForcedSize(r, oa, force_lg2); !st.ok()) return st;
    }
    const LRange lr = Low(r);
    MapCtx ctx{oa.value() - lr.first, Canonical(attrs), force_lg2};
    if constexpr (S::kRacing) return Populate(ctx, lr);
    if (AnyLeafIn(root_, f_.TopLevel(), lr)) {
      return absl::AlreadyExistsError(
          absl::StrFormat("[%#x, %#x] overlaps an existing mapping", r.first.value(), r.last.value()));
    }
    absl::Status st = MapIn(ctx, root_, f_.TopLevel(), nullptr, lr);
    if (!st.ok()) {
      // Undo the part already mapped: the range was empty before, so
      // removing all of it restores the old state exactly.
      PTSIM_CHECK(UnmapIn(root_, f_.TopLevel(), lr).ok(), "rollback of a failed map cannot fail");
      env_.alloc->ReleaseDeferred();
    }
    return st;
  }

  // Removes every leaf in the range, splitting a large leaf that is only
  // partly covered, and frees tables that become empty.
  absl::Status Unmap(VaRange r) {
    if (auto st = CheckRange(r); !st.ok()) return st;
    if (auto st = CheckSplits(Low(r)); !st.ok()) return st;
    absl::Status st = UnmapIn(root_, f_.TopLevel(), Low(r));
    // Racing, the caller frees what became empty (conc/remove.h's reclaim).
    if constexpr (!S::kRacing) env_.alloc->ReleaseDeferred();
    return st;
  }

  // Replaces the permissions of every leaf in the range, keeping the
  // hardware-owned accessed/dirty state; holes are skipped, partly covered
  // large leaves are split.
  absl::Status Protect(VaRange r, LeafAttrs attrs) {
    if (auto st = CheckRange(r); !st.ok()) return st;
    if (auto st = CheckSplits(Low(r)); !st.ok()) return st;
    return ProtectIn(root_, f_.TopLevel(), Low(r), attrs.Permissions());
  }

  // fork's source side (space_leaves.h's CopyLeaf): hands every leaf of the
  // range to emit(const CopiedLeaf&), whole even where the range covers it
  // in part, so the child gets the same leaves. Writable leaves are
  // write-protected here; the caller installs the child's leaves and, as
  // for protect, invalidates the range.
  template <typename Emit>
  absl::Status Copy(VaRange r, Emit&& emit) {
    if (auto st = CheckRange(r); !st.ok()) return st;
    auto copy = [&](const LeafRef& g, EntryVal<F> v) { CopyLeaf(g, v, emit); };
    auto nothing = [](const EntryPtr<F>&, Level, LRange, const Child&) {};
    return VisitLeaves(root_, f_.TopLevel(), nullptr, Low(r), "copy", /*whole=*/true, copy, nothing);
  }

  // Racing only: after the caller's shootdown, unhooks every table under
  // the range that is empty (free_pgtables), deepest first, and appends it
  // to `unhooked`, which the caller frees after the grace period. Alone,
  // Unmap frees tables as they empty.
  // (A member template, so that instantiating a solo Space leaves it out.)
  template <typename Sync = S>
  void Reclaim(VaRange r, std::vector<Oa>& unhooked) {
    static_assert(Sync::kRacing, "alone, unmap frees tables as they empty");
    ReclaimIn<Sync>(root_, f_.TopLevel(), Low(r), unhooked);
  }

  // Removes everything and frees the root. The space is unusable after.
  // The stores, invalidations and frees are those of unmapping the whole
  // space, in the same order; only empty entries are not visited.
  void Destroy() {
    static_assert(!S::kRacing, "a concurrent run's trees are torn down at quiescence (src/conc/quiesce.h)");
    if (!has_root_) return;
    TearDownIn(root_, f_.TopLevel(), 0);
    env_.alloc->ReleaseDeferred();
    env_.alloc->Free(root_);
    live_.OnFree(root_);
    has_root_ = false;
  }

  LeafAttrs Canonical(LeafAttrs a) const { return f_.Canonical(a); }

 private:
  absl::Status UnmapIn(Oa table, Level l, LRange r) {
    auto clear = [&](const LeafRef& g, EntryVal<F>) {
      const uint64_t n = g.Entries(f_.ItemLg2(g.level));
      uint64_t gone = 0;
      for (uint64_t i = 0; i < n; ++i) {
        Put(g.At(*this, i), {0, g.level}, std::memory_order_release);
        if (i == 0) gone = this->Unsettled(Cleared(g.span.first, g.size_lg2, g.oa), n);
      }
      if (n > 1) Settled(gone);
      Invalidate(g.span, false);
    };
    auto free_if_empty = [&](const EntryPtr<F>& ep, Level at, LRange e, const Child& child) {
      if constexpr (S::kRacing) return;  // reclaimed after the shootdown, under both locks
      if (!TableIsEmpty(child.table, child.level)) return;
      // Unhook, invalidate, and only then free (after the grace period).
      Put(ep, {0, at}, std::memory_order_release);
      Invalidate(e, true);
      env_.alloc->FreeDeferred(child.table);
      live_.OnFree(child.table);
    };
    return VisitLeaves(table, l, nullptr, r, "unmap", /*whole=*/false, clear, free_if_empty);
  }

  template <typename Sync>
  void ReclaimIn(Oa table, Level l, LRange r, std::vector<Oa>& unhooked) {
    if (l.IsBottom()) return;
    (void)ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) {
      const EntryVal<F> v = ep.Load(std::memory_order_acquire);
      if (f_.Classify(v.raw, l) != EntryKind::kTable) return absl::OkStatus();
      const Child c = ChildOf(v, l, e);
      if (const std::optional<LRange> in = Clip(sub, c.span)) ReclaimIn<Sync>(c.table, c.level, *in, unhooked);
      if (s_.UnhookIfEmpty(table, l, ep, c.table, c.level)) unhooked.push_back(c.table);
      return absl::OkStatus();
    });
  }

  // Unmapping everything under the level-l table whose span starts at low
  // address `first`: UnmapIn's clears, invalidations and frees in its order,
  // visiting only the entries that are not empty.
  void TearDownIn(Oa table, Level l, uint64_t first) {
    const unsigned item = f_.ItemLg2(l);
    std::optional<uint64_t> cleared_last;  // the last entry of a replicated leaf already cleared
    auto visit = [&](uint64_t i) {
      const LRange e{first + (i << item), first + (i << item) + LowMask(item)};
      if (cleared_last && e.first <= *cleared_last) return;
      const EntryPtr<F> ep = Entry(table, l, i);
      const EntryVal<F> v = ep.Load(std::memory_order_acquire);
      switch (f_.Classify(v.raw, l)) {
        case EntryKind::kEmpty:
          return;
        case EntryKind::kInvalid:
          PTSIM_CHECK(false, "%s: teardown found an invalid entry %#x at level %d", F::kName, v.raw, l.value());
          return;
        case EntryKind::kLeaf: {
          const unsigned size = LeafSizeLg2(f_, v.raw, l);
          const LRange span{AlignDown(e.first, size), BlockLast(e.first, size)};
          const LeafRef g{table, l, IndexAt(l, span.first), size, span, f_.LeafOa(v.raw, l)};
          for (uint64_t k = 0; k < g.Entries(item); ++k) Put(g.At(*this, k), {0, l}, std::memory_order_release);
          Cleared(g.span.first, g.size_lg2, g.oa);
          Invalidate(g.span, false);
          cleared_last = span.last;
          return;
        }
        case EntryKind::kTable: {
          const Child c = ChildOf(v, l, e);
          TearDownIn(c.table, c.level, c.span.first);
          Put(ep, {0, l}, std::memory_order_release);
          Invalidate(e, true);
          env_.alloc->FreeDeferred(c.table);
          live_.OnFree(c.table);
          return;
        }
      }
    };
    if (!live_.ForEach(table, visit)) {
      for (uint64_t i = 0; i < (uint64_t{1} << f_.IndexLg2(l)); ++i) visit(i);
    }
  }

  // Same size, new permissions: no break-before-make (ARM requires it for
  // a change of size or output address, not of permissions).
  absl::Status ProtectIn(Oa table, Level l, LRange r, LeafAttrs perms) {
    auto rewrite = [&](const LeafRef& g, EntryVal<F>) {
      const uint64_t n = g.Entries(f_.ItemLg2(g.level));
      uint64_t version = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const EntryPtr<F> ep = g.At(*this, i);
        const LeafAttrs old = f_.DecodeAttrs(ep.Load(std::memory_order_acquire).raw, g.level);
        const LeafAttrs a = Canonical(
            perms.With(Attr::kAccessed, old.Has(Attr::kAccessed)).With(Attr::kDirty, old.Has(Attr::kDirty)));
        Put(ep, {EncodeLeafEntry(f_, g.level, g.size_lg2, g.oa, a, i), g.level}, std::memory_order_release);
        if (i == 0) version = this->Unsettled(Installed(g.span.first, g.size_lg2, g.oa, a), n);
      }
      if (n > 1) Settled(version);
      Invalidate(g.span, false);
    };
    auto nothing = [](const EntryPtr<F>&, Level, LRange, const Child&) {};
    return VisitLeaves(table, l, nullptr, r, "protect", /*whole=*/false, rewrite, nothing);
  }

};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_H_
