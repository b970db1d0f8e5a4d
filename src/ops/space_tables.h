// The primitives every operation of an address space (space.h) is written
// with: reading and storing entries, allocating tables, following table
// entries (level skips included), writing leaves, and splitting a leaf into
// smaller ones. Each store and each leaf that appears or goes passes one
// function here, which is where the operation's sync policy (space_env.h)
// either keeps the Space's own bookkeeping (alone) or takes the concurrent
// run's locks, history and deferred work (racing).
//
// Level skipping policy (formats with the optional members of geometry.h).
// Map builds a skipping entry only when BuildsSkips() (a format knob, off by
// default) and only where it creates a new table for an empty entry: the
// new table is put at the lowest level whose span, counted from the
// entry's first address, holds the entry's part of the range with room to
// spare (so no leaf the best-fit choice wants lies above that level). Map
// into an existing skipping entry descends when the range lies strictly
// inside the part it maps, and otherwise first "unskips" it as above,
// one level at a time. Unmap and protect visit only the part a skipping
// entry maps, and free its table when it becomes empty, as any other. No
// operation ever merges tables into a skip. Leaves, and so the reference
// model, are exactly those of the same operations without skips; only the
// tables differ.
#ifndef PTSIM_OPS_SPACE_TABLES_H_
#define PTSIM_OPS_SPACE_TABLES_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/ops/live_entries.h"
#include "src/ops/space_checks.h"
#include "src/ops/space_env.h"
#include "src/pt/geometry.h"

namespace ptsim {

template <PageTableFormat F, typename S>
class SpaceTables {
 protected:
  SpaceTables(const F& f, const SpaceEnv& env, S sync) : f_(f), env_(env), s_(std::move(sync)) {}

  struct LRange {
    uint64_t first;
    uint64_t last;
  };
  // One leaf: a single entry, or the entries of a replicated group.
  struct LeafRef {
    Oa table;
    Level level;
    uint64_t first;  // index of its first entry
    unsigned size_lg2;
    LRange span;
    Oa oa;  // output address of its first byte
    uint64_t Entries(unsigned item_lg2) const { return uint64_t{1} << (size_lg2 - item_lg2); }
    EntryPtr<F> At(const SpaceTables& s, uint64_t i) const { return s.Entry(table, level, first + i); }
  };

  // The table a kTable entry points to, and the part of the entry's span
  // it maps: all of it, or for an entry that skips levels the first
  // ItemLg2(level + 1) bytes (geometry.h).
  struct Child {
    Oa table;
    Level level;
    LRange span;
    bool Holds(LRange r) const { return span.first <= r.first && r.last <= span.last; }
  };
  Child ChildOf(EntryVal<F> v, Level l, LRange e) const {
    const Level next = NextTableLevel(f_, v.raw, l);
    return {f_.TableOa(v.raw, l), next, {e.first, e.first + LowMask(f_.ItemLg2(next) + f_.IndexLg2(next))}};
  }
  static std::optional<LRange> Clip(LRange a, LRange b) {
    const LRange c{std::max(a.first, b.first), std::min(a.last, b.last)};
    if (c.first > c.last) return std::nullopt;
    return c;
  }

  LRange Low(VaRange r) const {
    const uint64_t m = LowMask(f_.VaBits());
    return {r.first.value() & m, r.last.value() & m};
  }
  Va High(uint64_t low) const { return CanonicalVa(f_, low); }
  uint64_t IndexAt(Level l, uint64_t low) const { return (low >> f_.ItemLg2(l)) & LowMask(f_.IndexLg2(l)); }
  EntryPtr<F> Entry(Oa table, Level l, uint64_t index) const { return TablePtr<F>{table, l}.At(env_.mem, index); }

  // The refusals an operation makes before changing anything
  // (space_checks.h).
  absl::Status CheckRange(VaRange r) const { return CheckSpaceRange(f_, r); }
  absl::Status CheckForcedSize(VaRange r, Oa oa, unsigned lg2) const { return CheckLeafSize(f_, r, oa, lg2); }
  // Racing, the reads are one quiet step (no scheduling points): the
  // refusal is about the format and the addresses, and whatever the tree
  // holds by the time the operation runs, it splits what it must.
  absl::Status CheckSplits(LRange r) {
    if constexpr (S::kRacing) {
      const auto quiet = s_.Quiet();
      return CheckSplitsNow(r);
    }
    return CheckSplitsNow(r);
  }
  absl::Status CheckSplitsNow(LRange r) const {
    if (auto st = CheckSplitAt(f_, env_.mem, root_, r.first); !st.ok()) return st;
    if (r.last == LowMask(f_.VaBits())) return absl::OkStatus();
    return CheckSplitAt(f_, env_.mem, root_, r.last + 1);
  }

  absl::StatusOr<Oa> AllocTable(Level l) {
    if constexpr (S::kRacing) {
      return s_.AllocTable(l);
    } else {
      const unsigned lg2 = std::max(TableSizeLg2(f_, l), TableAllocator::kMinSizeLg2);
      auto t = env_.alloc->Alloc(lg2, env_.id, l.value());
      if (t.ok()) live_.OnAlloc(*t, f_.IndexLg2(l), F::kEntryLg2);
      // The zeroes must reach a non-coherent walker before any pointer to
      // the table does (seed 003 maps a new table for DMA when allocating it).
      if (t.ok() && env_.flusher) env_.flusher->Flush(*t, uint64_t{1} << lg2, FlushKind::kNewTable);
      return t;
    }
  }

  // Stores an entry and, for a walker that is not cache-coherent, writes it
  // back at once (every store; callers never batch).
  void Put(const EntryPtr<F>& ep, EntryVal<F> v, std::memory_order order) {
    if constexpr (S::kRacing) {
      s_.Store(ep, v, order);
    } else {
      ep.Store(v, order);
      live_.OnStore(ep.addr(), v.raw != 0);
      if (env_.flusher) env_.flusher->Flush(ep.addr(), uint64_t{1} << F::kEntryLg2, FlushKind::kEntry);
    }
  }

  // A leaf of 2^size bytes at low address `va` came into force, or went.
  // Racing, the history records it at once and the version is returned (0
  // alone); a leaf written into a table not yet published is recorded when
  // the table is (Publish below). A replicated leaf is recorded at its
  // first entry's store and Settled after its last (history.h).
  // `cow`: fork write-protected it, sharing the frame with the child.
  uint64_t Installed(uint64_t va, unsigned size, Oa oa, LeafAttrs a, bool cow = false) {
    if constexpr (S::kRacing) return s_.Installed(High(va), size, oa, a, cow);
    return 0;
  }
  // fork's frames: the child's reference to a shared frame; whether a frame
  // may be pinned (alone, nothing pins); a fresh frame for a copy.
  void ShareFrame(Oa oa) {
    if constexpr (S::kRacing) {
      s_.ShareFrame(oa);
    } else {
      env_.frames->OnMap(oa);
    }
  }
  bool MaybePinned(Oa oa) {
    if constexpr (S::kRacing) return s_.MaybePinned(oa);
    return false;
  }
  Oa CopyFrame(unsigned size_lg2) {
    if constexpr (S::kRacing) return s_.CopyFrame(size_lg2);
    PTSIM_CHECK(false, "%s: alone, no frame is pinned, so fork copies none", F::kName);
    return Oa(0);
  }
  uint64_t Cleared(uint64_t va, unsigned size, Oa oa) {
    --leaves_;
    if constexpr (S::kRacing) {
      return s_.Cleared(High(va), size, oa);
    } else {
      env_.frames->OnUnmap(oa);
      return 0;
    }
  }
  // Marks the event of a leaf of n entries as being written (history.h);
  // returns it.
  uint64_t Unsettled(uint64_t version, uint64_t n) {
    if constexpr (S::kRacing) {
      if (n > 1) s_.Unsettled(version);
    }
    return version;
  }
  void Settled(uint64_t version) {
    if constexpr (S::kRacing) {
      if (version != 0) s_.Settled(version);
    }
  }

  void Invalidate(LRange e, bool table) {
    if constexpr (S::kRacing) {
      s_.Invalidate(High(e.first), High(e.last), table);
    } else {
      if (env_.invalidator) env_.invalidator->InvalidateRange(High(e.first), High(e.last), table);
    }
  }

  // Writes a 2^size leaf (one entry or a group) for low address `va` at
  // entry `index` of the level-l table; `order` is relaxed only for
  // unpublished tables, whose leaves come into force with the table. The
  // frame is counted before the leaf can be seen, so a lockless GUP that
  // sees the leaf always finds the frame referenced.
  void StoreLeaf(Oa table, Level l, uint64_t index, uint64_t va, unsigned size, Oa oa, LeafAttrs attrs,
                 std::memory_order order) {
    if constexpr (S::kRacing) s_.MapFrame(oa);
    const uint64_t n = uint64_t{1} << (size - f_.ItemLg2(l));
    const bool published = order != std::memory_order_relaxed;
    uint64_t version = 0;
    for (uint64_t i = 0; i < n; ++i) {
      Put(Entry(table, l, index + i), {EncodeLeafEntry(f_, l, size, oa, attrs, i), l}, order);
      if (i == 0 && published) version = Unsettled(Installed(va, size, oa, attrs), n);
    }
    if (n > 1) Settled(version);
    if constexpr (!S::kRacing) env_.frames->OnMap(oa);
    if constexpr (S::kRacing) {
      if (!published) unpublished_.push_back({va, size, oa, attrs});
    }
    ++leaves_;
  }

  // Stores `v`, the pointer to a table filled while unpublished, and brings
  // that table's leaves into force.
  void Publish(const EntryPtr<F>& ep, EntryVal<F> v) {
    Put(ep, v, std::memory_order_release);
    for (const PendingLeaf& p : unpublished_) Installed(p.va, p.size, p.oa, p.attrs);
    unpublished_.clear();
  }

  bool TableIsEmpty(Oa table, Level l) const {
    if constexpr (!S::kRacing) {
      if (const std::optional<bool> empty = live_.Empty(table)) return *empty;
    }
    for (uint64_t i = 0; i < (uint64_t{1} << f_.IndexLg2(l)); ++i) {
      if (Entry(table, l, i).Load(std::memory_order_relaxed).raw != 0) return false;  // ORDERING: caller holds the only writer role
    }
    return true;
  }

  // Builds a table at level l whose leaves of 2^piece bytes together map
  // what one entry of level l+1 mapped: low address `va` to `oa` with
  // `attrs`. Pieces smaller than an entry of level l get tables of their own.
  absl::StatusOr<Oa> BuildSplit(Level l, uint64_t va, Oa oa, LeafAttrs attrs, unsigned piece) {
    auto table = AllocTable(l);
    if (!table.ok()) return table.status();
    const unsigned item = f_.ItemLg2(l);
    const uint64_t n = uint64_t{1} << f_.IndexLg2(l);
    const uint64_t step = piece >= item ? uint64_t{1} << (piece - item) : 1;
    for (uint64_t i = 0; i < n; i += step) {
      const Oa at = oa + (i << item);
      if (piece >= item) {
        PTSIM_CHECK(((at.value() + LowMask(piece)) >> LeafOaBits(f_, l)) == 0,
                    "%s: split would truncate oa %#x in a level-%d leaf; CheckSplits must refuse it", F::kName,
                    at.value(), l.value());
        StoreLeaf(*table, l, i, va + (i << item), piece, at, attrs, std::memory_order_relaxed);  // ORDERING: unpublished table
        continue;
      }
      auto sub = BuildSplit(l.Below(), va + (i << item), at, attrs, piece);
      if (!sub.ok()) return sub.status();  // the partial table leaks into the allocator's live set; reported at teardown
      Put(Entry(*table, l, i), {f_.EncodeTable(l, *sub), l}, std::memory_order_relaxed);  // ORDERING: unpublished table
    }
    return table;
  }

  // Replaces the one-entry leaf `v` at `ep`, which maps low address `va`, by
  // a table of leaves of the next smaller size mapping the same thing.
  absl::Status SplitEntry(const EntryPtr<F>& ep, EntryVal<F> v, Level l, uint64_t va) {
    PTSIM_CHECK(l.value() > 0 && f_.CanTable(l), "%s: cannot split a level-%d leaf", F::kName, l.value());
    const Oa oa = f_.LeafOa(v.raw, l);
    const LeafAttrs attrs = f_.DecodeAttrs(v.raw, l);
    unpublished_.clear();
    auto child = BuildSplit(l.Below(), va, oa, attrs, SmallerLeafLg2(f_, f_.ItemLg2(l)));
    if (!child.ok()) return child.status();
    // The history sees the large leaf go and the pieces come at the
    // instant of the one store that swaps them.
    Cleared(va, f_.ItemLg2(l), oa);
    Publish(ep, {f_.EncodeTable(l, *child), l});
    return absl::OkStatus();
  }

  // Rewrites the replicated leaf `g` in place as leaves of the next smaller
  // size, which geometry.h guarantees are at the same level; each entry
  // keeps its own accessed/dirty bits. Never allocates, so never fails.
  void SplitGroup(const LeafRef& g) {
    const unsigned item = f_.ItemLg2(g.level);
    const unsigned piece = SmallerLeafLg2(f_, g.size_lg2);
    PTSIM_CHECK(piece >= item && LevelOfLeafSize(f_, piece) == g.level,
                "%s: a 2^%d replicated leaf must split into leaves of its own level", F::kName, g.size_lg2);
    const uint64_t n = g.Entries(item);
    std::vector<typename F::Raw> next(n);
    const Oa oa = g.oa;
    for (uint64_t i = 0; i < n; ++i) {
      const LeafAttrs own = f_.DecodeAttrs(g.At(*this, i).Load(std::memory_order_acquire).raw, g.level);
      const uint64_t in_piece = i & LowMask(piece - item);
      next[i] = EncodeLeafEntry(f_, g.level, piece, oa + ((i - in_piece) << item), own, in_piece);
    }
    const uint64_t step = uint64_t{1} << (piece - item);
    if constexpr (S::kRacing) {
      for (uint64_t i = 0; i < n; i += step) s_.MapFrame(oa + (i << item));
    }
    // The group goes at its first store (a clear, or its first piece's
    // entry), each piece comes at its own first entry's store.
    uint64_t gone = 0;
    if constexpr (ReplicaBreakBeforeMake<F>()) {
      for (uint64_t i = 0; i < n; ++i) {
        Put(g.At(*this, i), {0, g.level}, std::memory_order_release);
        if (i == 0) gone = Unsettled(Cleared(g.span.first, g.size_lg2, oa), n);
      }
      Settled(gone);
      Invalidate(g.span, false);
    }
    uint64_t piece_version = 0;
    for (uint64_t i = 0; i < n; ++i) {
      Put(g.At(*this, i), {next[i], g.level}, std::memory_order_release);
      if (!ReplicaBreakBeforeMake<F>() && i == 0) gone = Unsettled(Cleared(g.span.first, g.size_lg2, oa), n);
      if (i % step == 0) {
        piece_version = Unsettled(
            Installed(g.span.first + (i << item), piece, oa + (i << item), f_.DecodeAttrs(next[i], g.level)), step);
        if constexpr (!S::kRacing) env_.frames->OnMap(oa + (i << item));
        ++leaves_;
      }
      if (step > 1 && (i + 1) % step == 0) Settled(piece_version);
    }
    if (!ReplicaBreakBeforeMake<F>()) Settled(gone);
  }

  // Calls fn(EntryPtr, entry_first, entry_last, sub_first, sub_last) for
  // every entry of the table at level l that overlaps r; r lies inside the
  // table's span. Stops at the first non-OK status.
  template <typename Fn>
  absl::Status ForEntries(Oa table, Level l, LRange r, Fn&& fn) {
    const unsigned item = f_.ItemLg2(l);
    const uint64_t mask = LowMask(f_.IndexLg2(l));
    const uint64_t base = AlignDown(r.first, item + f_.IndexLg2(l));
    const uint64_t first_i = (r.first >> item) & mask;
    const uint64_t last_i = (r.last >> item) & mask;
    for (uint64_t i = first_i; i <= last_i; ++i) {
      const uint64_t e_first = base + (i << item);
      const uint64_t e_last = e_first + LowMask(item);
      const LRange sub{std::max(r.first, e_first), std::min(r.last, e_last)};
      if (auto st = fn(Entry(table, l, i), LRange{e_first, e_last}, sub); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  bool AnyLeafIn(Oa table, Level l, LRange r) {
    bool found = false;
    (void)ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) {
      // ORDERING: acquire pairs with the release that published a child
      // table, so its contents are seen before we descend.
      const EntryVal<F> v = ep.Load(std::memory_order_acquire);
      switch (f_.Classify(v.raw, l)) {
        case EntryKind::kEmpty:
          break;
        case EntryKind::kTable: {
          const Child c = ChildOf(v, l, e);
          if (const std::optional<LRange> in = Clip(sub, c.span)) found = AnyLeafIn(c.table, c.level, *in);
          break;
        }
        case EntryKind::kLeaf:
        case EntryKind::kInvalid:
          found = true;
          break;
      }
      return found ? absl::CancelledError() : absl::OkStatus();
    });
    return found;
  }

  F f_;
  SpaceEnv env_;
  S s_;
  Oa root_;
  bool has_root_ = false;  // a root may sit at OA 0, so the address is no sentinel
  uint64_t leaves_ = 0;
  LiveEntries live_;  // non-empty entries of the tables allocated here (alone only)

 private:
  struct PendingLeaf {
    uint64_t va;
    unsigned size;
    Oa oa;
    LeafAttrs attrs;
  };
  std::vector<PendingLeaf> unpublished_;  // leaves of the table being built, in force once it is published
};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_TABLES_H_
