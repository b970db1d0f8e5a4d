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
#include "src/mem/frames.h"
#include "src/mem/table_allocator.h"
#include "src/ops/live_entries.h"
#include "src/ops/space_checks.h"
#include "src/pt/geometry.h"

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

template <PageTableFormat F>
class Space {
 public:
  Space(const F& f, const SpaceEnv& env) : f_(f), env_(env) {}

  absl::Status Init() {
    auto root = AllocTable(f_.TopLevel());
    if (!root.ok()) return root.status();
    root_ = *root;
    has_root_ = true;
    return absl::OkStatus();
  }

  const F& format() const { return f_; }
  Oa root() const { return root_; }
  uint64_t leaves() const { return leaves_; }
  const SpaceEnv& env() const { return env_; }

  // Maps [r.first, r.last] to [oa, ...] with `attrs`, using the largest leaf
  // that fits the alignment of both addresses, or only 2^force_lg2 leaves
  // when force_lg2 != 0. Fails without changing anything when any part of
  // the range is already mapped.
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
    if (AnyLeafIn(root_, f_.TopLevel(), lr)) {
      return absl::AlreadyExistsError(
          absl::StrFormat("[%#x, %#x] overlaps an existing mapping", r.first.value(), r.last.value()));
    }
    MapCtx ctx{oa.value() - lr.first, Canonical(attrs), force_lg2};
    absl::Status st = MapIn(ctx, root_, f_.TopLevel(), lr);
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
    env_.alloc->ReleaseDeferred();
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

  // Removes everything and frees the root. The space is unusable after.
  // The stores, invalidations and frees are those of unmapping the whole
  // space, in the same order; only empty entries are not visited.
  void Destroy() {
    if (!has_root_) return;
    TearDownIn(root_, f_.TopLevel(), 0);
    env_.alloc->ReleaseDeferred();
    env_.alloc->Free(root_);
    live_.OnFree(root_);
    has_root_ = false;
  }

  LeafAttrs Canonical(LeafAttrs a) const { return f_.Canonical(a); }

 private:
  struct LRange {
    uint64_t first;
    uint64_t last;
  };
  struct MapCtx {
    uint64_t delta;  // oa = low va + delta
    LeafAttrs attrs;
    unsigned force_lg2;
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
    EntryPtr<F> At(const Space& s, uint64_t i) const { return s.Entry(table, level, first + i); }
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

  // The refusals an operation makes before changing anything
  // (space_checks.h).
  absl::Status CheckRange(VaRange r) const { return CheckSpaceRange(f_, r); }
  absl::Status CheckForcedSize(VaRange r, Oa oa, unsigned lg2) const { return CheckLeafSize(f_, r, oa, lg2); }
  absl::Status CheckSplits(LRange r) const {
    if (auto st = CheckSplitAt(f_, env_.mem, root_, r.first); !st.ok()) return st;
    if (r.last == LowMask(f_.VaBits())) return absl::OkStatus();
    return CheckSplitAt(f_, env_.mem, root_, r.last + 1);
  }

  absl::StatusOr<Oa> AllocTable(Level l) {
    const unsigned lg2 = std::max(TableSizeLg2(f_, l), TableAllocator::kMinSizeLg2);
    auto t = env_.alloc->Alloc(lg2, env_.id, l.value());
    if (t.ok()) live_.OnAlloc(*t, f_.IndexLg2(l), F::kEntryLg2);
    // The zeroes must reach a non-coherent walker before any pointer to
    // the table does (seed 003 maps a new table for DMA when allocating it).
    if (t.ok() && env_.flusher) env_.flusher->Flush(*t, uint64_t{1} << lg2, FlushKind::kNewTable);
    return t;
  }

  // Stores an entry and, for a walker that is not cache-coherent, writes it
  // back at once (every store; callers never batch).
  void Put(const EntryPtr<F>& ep, EntryVal<F> v, std::memory_order order) {
    ep.Store(v, order);
    live_.OnStore(ep.addr(), v.raw != 0);
    if (env_.flusher) env_.flusher->Flush(ep.addr(), uint64_t{1} << F::kEntryLg2, FlushKind::kEntry);
  }

  EntryPtr<F> Entry(Oa table, Level l, uint64_t index) const { return TablePtr<F>{table, l}.At(env_.mem, index); }

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

  // The largest leaf that can start at entry `e` of a level-l table: one
  // entry or a replicated group, inside r, with both addresses aligned to
  // it, of the forced size if any, and holding the output address; 0 if
  // none. Taken entry by entry from the top, this is the model's greedy
  // choice.
  unsigned LeafSizeAt(const MapCtx& ctx, Level l, LRange e, LRange r) const {
    const uint64_t oa = e.first + ctx.delta;
    for (uint64_t sizes = LeafSizesLg2(f_, l); sizes != 0; sizes &= ~(uint64_t{1} << FloorLog2(sizes))) {
      const unsigned s = FloorLog2(sizes);
      if (ctx.force_lg2 != 0 && ctx.force_lg2 != s) continue;
      if (!IsAligned(e.first, s) || !IsAligned(oa, s) || e.first < r.first || r.last - e.first < LowMask(s)) continue;
      if (((oa + LowMask(s)) >> LeafOaBits(f_, l)) != 0) continue;
      return s;
    }
    return 0;
  }

  uint64_t IndexAt(Level l, uint64_t low) const { return (low >> f_.ItemLg2(l)) & LowMask(f_.IndexLg2(l)); }

  // Writes a 2^size leaf (one entry or a group) at entry `index` of the
  // level-l table; `order` is relaxed only for unpublished tables.
  void StoreLeaf(Oa table, Level l, uint64_t index, unsigned size, Oa oa, LeafAttrs attrs, std::memory_order order) {
    const uint64_t n = uint64_t{1} << (size - f_.ItemLg2(l));
    for (uint64_t i = 0; i < n; ++i) {
      Put(Entry(table, l, index + i), {EncodeLeafEntry(f_, l, size, oa, attrs, i), l}, order);
    }
    env_.frames->OnMap(oa);
    ++leaves_;
  }

  absl::Status MapIn(const MapCtx& ctx, Oa table, Level l, LRange r) {
    // Entries already written as part of a replicated leaf are skipped.
    std::optional<uint64_t> written_last;
    return ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) -> absl::Status {
      if (written_last && e.first <= *written_last) return absl::OkStatus();
      EntryVal<F> v = ep.Load(std::memory_order_acquire);
      EntryKind kind = f_.Classify(v.raw, l);
      if (kind == EntryKind::kEmpty) {
        if (const unsigned size = LeafSizeAt(ctx, l, e, r); size != 0) {
          // ORDERING: release, as every leaf store (see the protocol above).
          StoreLeaf(table, l, IndexAt(l, e.first), size, Oa(e.first + ctx.delta), ctx.attrs, std::memory_order_release);
          written_last = e.first + LowMask(size);
          return absl::OkStatus();
        }
        if (!f_.CanTable(l)) {
          // Only an output address too wide for the smallest leaf gets here.
          return absl::OutOfRangeError(absl::StrFormat("oa %#x does not fit a level-%d leaf (%d address bits)",
                                                       e.first + ctx.delta, l.value(), LeafOaBits(f_, l)));
        }
        const Level next = NewTableLevel(l, e, sub);
        auto child = AllocTable(next);
        if (!child.ok()) return child.status();
        // ORDERING: release publishes the zeroed table before the pointer.
        v = {EncodeTableTo(f_, l, next, *child), l};
        Put(ep, v, std::memory_order_release);
        kind = EntryKind::kTable;
      }
      PTSIM_CHECK(kind == EntryKind::kTable, "%s: map found a %s entry %#x at level %d after the overlap check",
                  F::kName, EntryKindName(kind), v.raw, l.value());
      Child c = ChildOf(v, l, e);
      if (c.level != l.Below() && !HoldsStrictly(c.span, sub)) {
        auto unskipped = Unskip(ep, l, e, c);
        if (!unskipped.ok()) return unskipped.status();
        c = ChildOf(*unskipped, l, e);
      }
      return MapIn(ctx, c.table, c.level, sub);
    });
  }

  // Whether `span` holds r and is larger than it: then every leaf the
  // best-fit choice takes for r is smaller than span, so it lies at or
  // below the level of a table whose span that is.
  static bool HoldsStrictly(LRange span, LRange r) {
    return span.first <= r.first && r.last <= span.last && (span.first != r.first || span.last != r.last);
  }

  // The level of a new table for the empty entry e at level l, to map sub:
  // l - 1, or with skips the lowest level whose span from e.first holds
  // sub strictly (see the policy at the top).
  Level NewTableLevel(Level l, LRange e, LRange sub) const {
    Level next = l.Below();
    if (!BuildsSkips(f_)) return next;
    while (!next.IsBottom() && HoldsStrictly({e.first, e.first + LowMask(f_.ItemLg2(next))}, sub)) {
      next = next.Below();
    }
    return next;
  }

  // Replaces the skipping entry at ep (level l, span e, pointing to c) by
  // one pointing to a new level l - 1 table whose first entry points to c,
  // skipping one level fewer; returns the new entry.
  absl::StatusOr<EntryVal<F>> Unskip(const EntryPtr<F>& ep, Level l, LRange e, const Child& c) {
    const Level mid_level = l.Below();
    auto mid = AllocTable(mid_level);
    if (!mid.ok()) return mid.status();
    Put(Entry(*mid, mid_level, 0), {EncodeTableTo(f_, mid_level, c.level, c.table), mid_level},
        std::memory_order_relaxed);  // ORDERING: unpublished table
    const EntryVal<F> v{EncodeTableTo(f_, l, mid_level, *mid), l};
    // ORDERING: release publishes the new table's entry before the pointer.
    Put(ep, v, std::memory_order_release);
    // Translations are unchanged; a cached copy of the skipping entry would
    // only miss the part about to be mapped, but drop it like a table.
    Invalidate(e, true);
    return v;
  }

  bool TableIsEmpty(Oa table, Level l) const {
    if (const std::optional<bool> empty = live_.Empty(table)) return *empty;
    for (uint64_t i = 0; i < (uint64_t{1} << f_.IndexLg2(l)); ++i) {
      if (Entry(table, l, i).Load(std::memory_order_relaxed).raw != 0) return false;  // ORDERING: caller holds the only writer role
    }
    return true;
  }

  // Builds a table at level l whose leaves of 2^piece bytes together map
  // what one entry of level l+1 mapped: from `oa` with `attrs`. Pieces
  // smaller than an entry of level l get tables of their own.
  absl::StatusOr<Oa> BuildSplit(Level l, Oa oa, LeafAttrs attrs, unsigned piece) {
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
        StoreLeaf(*table, l, i, piece, at, attrs, std::memory_order_relaxed);  // ORDERING: unpublished table
        continue;
      }
      auto sub = BuildSplit(l.Below(), at, attrs, piece);
      if (!sub.ok()) return sub.status();  // the partial table leaks into the allocator's live set; reported at teardown
      Put(Entry(*table, l, i), {f_.EncodeTable(l, *sub), l}, std::memory_order_relaxed);  // ORDERING: unpublished table
    }
    return table;
  }

  // Replaces the one-entry leaf `v` at `ep` by a table of leaves of the next
  // smaller size mapping the same thing.
  absl::Status SplitEntry(const EntryPtr<F>& ep, EntryVal<F> v, Level l) {
    PTSIM_CHECK(l.value() > 0 && f_.CanTable(l), "%s: cannot split a level-%d leaf", F::kName, l.value());
    const Oa oa = f_.LeafOa(v.raw, l);
    auto child = BuildSplit(l.Below(), oa, f_.DecodeAttrs(v.raw, l), SmallerLeafLg2(f_, f_.ItemLg2(l)));
    if (!child.ok()) return child.status();
    Put(ep, {f_.EncodeTable(l, *child), l}, std::memory_order_release);
    env_.frames->OnUnmap(oa);
    --leaves_;
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
    if constexpr (ReplicaBreakBeforeMake<F>()) {
      for (uint64_t i = 0; i < n; ++i) Put(g.At(*this, i), {0, g.level}, std::memory_order_release);
      Invalidate(g.span, false);
    }
    for (uint64_t i = 0; i < n; ++i) Put(g.At(*this, i), {next[i], g.level}, std::memory_order_release);
    env_.frames->OnUnmap(oa);
    --leaves_;
    for (uint64_t i = 0; i < n; i += uint64_t{1} << (piece - item)) {
      env_.frames->OnMap(oa + (i << item));
      ++leaves_;
    }
  }

  // Calls on_leaf(LeafRef) for every leaf wholly inside r, splitting the
  // leaves r covers only in part, and after(ep, l, e, child) once the walk
  // returns from a child table. Unmap and protect differ only there.
  template <typename OnLeaf, typename After>
  absl::Status VisitLeaves(Oa table, Level l, LRange r, const char* what, OnLeaf& on_leaf, After& after) {
    std::optional<uint64_t> visited_last;  // the last entry of a replicated leaf already visited
    return ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) -> absl::Status {
      if (visited_last && e.first <= *visited_last) return absl::OkStatus();
      for (;;) {
        const EntryVal<F> v = ep.Load(std::memory_order_acquire);
        switch (f_.Classify(v.raw, l)) {
          case EntryKind::kEmpty:
            return absl::OkStatus();
          case EntryKind::kInvalid:
            PTSIM_CHECK(false, "%s: %s found an invalid entry %#x at level %d", F::kName, what, v.raw, l.value());
            return absl::OkStatus();
          case EntryKind::kLeaf: {
            const unsigned size = LeafSizeLg2(f_, v.raw, l);
            const LRange span{AlignDown(e.first, size), BlockLast(e.first, size)};
            const LeafRef g{table, l, IndexAt(l, span.first), size, span, f_.LeafOa(v.raw, l)};
            if (r.first <= span.first && span.last <= r.last) {
              on_leaf(g);
              visited_last = span.last;
              return absl::OkStatus();
            }
            if (size == f_.ItemLg2(l)) {
              if (auto st = SplitEntry(ep, v, l); !st.ok()) return st;
            } else {
              SplitGroup(g);
            }
            continue;  // look at the entry again: a smaller leaf or a table
          }
          case EntryKind::kTable: {
            const Child c = ChildOf(v, l, e);
            const std::optional<LRange> in = Clip(sub, c.span);
            if (!in) return absl::OkStatus();  // only the part a skipping entry does not map
            if (auto st = VisitLeaves(c.table, c.level, *in, what, on_leaf, after); !st.ok()) return st;
            after(ep, l, e, c);
            return absl::OkStatus();
          }
        }
      }
    });
  }

  absl::Status UnmapIn(Oa table, Level l, LRange r) {
    auto clear = [&](const LeafRef& g) {
      for (uint64_t i = 0; i < g.Entries(f_.ItemLg2(g.level)); ++i) {
        Put(g.At(*this, i), {0, g.level}, std::memory_order_release);
      }
      env_.frames->OnUnmap(g.oa);
      --leaves_;
      Invalidate(g.span, false);
    };
    auto free_if_empty = [&](const EntryPtr<F>& ep, Level at, LRange e, const Child& child) {
      if (!TableIsEmpty(child.table, child.level)) return;
      // Unhook, invalidate, and only then free (after the grace period).
      Put(ep, {0, at}, std::memory_order_release);
      Invalidate(e, true);
      env_.alloc->FreeDeferred(child.table);
      live_.OnFree(child.table);
    };
    return VisitLeaves(table, l, r, "unmap", clear, free_if_empty);
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
          env_.frames->OnUnmap(g.oa);
          --leaves_;
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
    auto rewrite = [&](const LeafRef& g) {
      for (uint64_t i = 0; i < g.Entries(f_.ItemLg2(g.level)); ++i) {
        const EntryPtr<F> ep = g.At(*this, i);
        const LeafAttrs old = f_.DecodeAttrs(ep.Load(std::memory_order_acquire).raw, g.level);
        const LeafAttrs a = Canonical(
            perms.With(Attr::kAccessed, old.Has(Attr::kAccessed)).With(Attr::kDirty, old.Has(Attr::kDirty)));
        Put(ep, {EncodeLeafEntry(f_, g.level, g.size_lg2, g.oa, a, i), g.level}, std::memory_order_release);
      }
      Invalidate(g.span, false);
    };
    auto nothing = [](const EntryPtr<F>&, Level, LRange, const Child&) {};
    return VisitLeaves(table, l, r, "protect", rewrite, nothing);
  }

  void Invalidate(LRange e, bool table) {
    if (env_.invalidator) env_.invalidator->InvalidateRange(High(e.first), High(e.last), table);
  }

  F f_;
  SpaceEnv env_;
  Oa root_;
  bool has_root_ = false;  // a root may sit at OA 0, so the address is no sentinel
  uint64_t leaves_ = 0;
  LiveEntries live_;  // non-empty entries of the tables allocated here
};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_H_
