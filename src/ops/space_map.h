// Mapping a range: the one descent that fills empty entries with leaves of
// the best-fitting (or a forced) size, allocating tables on the way, alone
// or racing (space.h's Map is the entry point).
//
// Alone, the caller has checked that nothing in the range is mapped, so
// every entry on the way is empty or a table.
//
// Racing, mapping is populate (mm/memory.c's __pte_alloc and pmd_install,
// research/concurrency.md §3), and what is already mapped is left as it is
// and counted as present:
//   * each entry is read once, acquire; a table is followed, a leaf (of any
//     size) means that part is present, an empty entry gets a leaf or a
//     table;
//   * a new table is allocated and zeroed with no lock held; under the lock
//     of the table that will hold the pointer, the entry is checked to be
//     still empty and the table still hooked, and the pointer is published
//     with a release store. The loser drops its never-published table at
//     once and descends into the winner's;
//   * a leaf is written the same way, its frame counted before the store,
//     so a lockless GUP that sees the leaf always finds the frame counted;
//   * a table unhooked meanwhile (a remove reclaimed it) sends the map back
//     to the root, from the entry it was working on.
#ifndef PTSIM_OPS_SPACE_MAP_H_
#define PTSIM_OPS_SPACE_MAP_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/ops/space_tables.h"

namespace ptsim {

template <PageTableFormat F, typename S>
class SpaceMap : protected SpaceTables<F, S> {
  using Base = SpaceTables<F, S>;

 protected:
  using typename Base::Child;
  using typename Base::LRange;
  using Base::AllocTable;
  using Base::Entry;
  using Base::f_;
  using Base::Invalidate;
  using Base::Put;
  using Base::root_;
  using Base::s_;

  SpaceMap(const F& f, const SpaceEnv& env, S sync) : Base(f, env, std::move(sync)) {}

  struct MapCtx {
    uint64_t delta;  // oa = low va + delta
    LeafAttrs attrs;
    unsigned force_lg2;
  };

  // Racing: maps what is empty in lr, restarting from the root when a table
  // on the way was unhooked, at the first address not yet done.
  absl::Status Populate(const MapCtx& ctx, LRange lr) {
    for (uint64_t from = lr.first;;) {
      restart_.reset();
      absl::Status st = MapIn(ctx, root_, f_.TopLevel(), nullptr, {from, lr.last});
      if (!restart_) return st;
      from = *restart_;
    }
  }

  // `parent` is the entry that points to `table` (null for the root).
  absl::Status MapIn(const MapCtx& ctx, Oa table, Level l, const EntryPtr<F>* parent, LRange r) {
    // Entries already written as part of a replicated leaf are skipped.
    std::optional<uint64_t> written_last;
    return this->ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) -> absl::Status {
      if (written_last && e.first <= *written_last) return absl::OkStatus();
      std::optional<EntryVal<F>> known;  // read under the lock just now
      for (;;) {
        EntryVal<F> v = known ? *known : ep.Load(std::memory_order_acquire);
        known.reset();
        EntryKind kind = f_.Classify(v.raw, l);
        if (kind == EntryKind::kEmpty) {
          if (const unsigned size = LeafSizeAt(ctx, l, e, r); size != 0) {
            const Locked k = PutLeaf(ctx, table, l, parent, e, size, &v);
            if (k == Locked::kUnhooked) return Restart(sub.first);
            if (k == Locked::kChanged && f_.Classify(v.raw, l) != EntryKind::kEmpty) {
              known = v;
              continue;
            }
            // Written, or another leaf took part of the group: either way
            // this group's entries are done with.
            if (k == Locked::kChanged) Present(ctx, {e.first, e.first + LowMask(size)});
            written_last = e.first + LowMask(size);
            return absl::OkStatus();
          }
          if (!f_.CanTable(l)) {
            // Only an output address too wide for the smallest leaf gets here.
            return absl::OutOfRangeError(absl::StrFormat("oa %#x does not fit a level-%d leaf (%d address bits)",
                                                         e.first + ctx.delta, l.value(), LeafOaBits(f_, l)));
          }
          const absl::StatusOr<Locked> k = PutTable(table, l, parent, ep, e, sub, &v);
          if (!k.ok()) return k.status();
          if (*k == Locked::kUnhooked) return Restart(sub.first);
          if (*k == Locked::kChanged) {
            known = v;
            continue;
          }
          kind = EntryKind::kTable;
        }
        if constexpr (S::kRacing) {
          if (kind == EntryKind::kInvalid) s_.Invalid("populate", ep, v, l);
          // A leaf of any size, or a table where the forced size's leaf
          // goes: that part is mapped already.
          if (kind == EntryKind::kLeaf ||
              (ctx.force_lg2 != 0 && LevelOfLeafSize(f_, ctx.force_lg2) == l)) {
            Present(ctx, sub);
            return absl::OkStatus();
          }
        }
        PTSIM_CHECK(kind == EntryKind::kTable, "%s: map found a %s entry %#x at level %d after the overlap check",
                    F::kName, EntryKindName(kind), v.raw, l.value());
        Child c = this->ChildOf(v, l, e);
        if (c.level != l.Below() && !HoldsStrictly(c.span, sub)) {
          const absl::StatusOr<Locked> k = PutUnskip(table, l, parent, ep, e, c, &v);
          if (!k.ok()) return k.status();
          if (*k == Locked::kUnhooked) return Restart(sub.first);
          known = v;
          continue;  // read it again: the unskipped entry, or what replaced it
        }
        return MapIn(ctx, c.table, c.level, &ep, sub);
      }
    });
  }

 private:
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

  // Whether `span` holds r and is larger than it: then every leaf the
  // best-fit choice takes for r is smaller than span, so it lies at or
  // below the level of a table whose span that is.
  static bool HoldsStrictly(LRange span, LRange r) {
    return span.first <= r.first && r.last <= span.last && (span.first != r.first || span.last != r.last);
  }

  // The level of a new table for the empty entry e at level l, to map sub:
  // l - 1, or with skips the lowest level whose span from e.first holds
  // sub strictly (space_tables.h states the skipping policy).
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

  absl::Status Restart(uint64_t at) {
    restart_ = at;
    return absl::AbortedError("a table on the way was unhooked");
  }

  void Present(const MapCtx& ctx, LRange part) {
    if constexpr (S::kRacing) {
      s_.Populated(false, ctx.force_lg2 != 0 ? ((part.last - part.first) >> ctx.force_lg2) + 1 : 1);
    }
  }

  // Writes the 2^size leaf for entry span e. Racing, only if all its
  // entries are still empty and the table still hooked; *now gets the
  // first entry as it was then.
  Locked PutLeaf(const MapCtx& ctx, Oa table, Level l, const EntryPtr<F>* parent, LRange e, unsigned size,
                 EntryVal<F>* now) {
    const uint64_t index = this->IndexAt(l, e.first);
    auto store = [&] {
      // ORDERING: release, as every leaf store (space.h's protocol).
      this->StoreLeaf(table, l, index, e.first, size, Oa(e.first + ctx.delta), ctx.attrs,
                      std::memory_order_release);
    };
    if constexpr (!S::kRacing) {
      store();
      return Locked::kDone;
    } else {
      const uint64_t n = uint64_t{1} << (size - f_.ItemLg2(l));
      const Locked k = s_.Under(
          table, l, this->Entry(table, l, index), parent,
          [&] {
            for (uint64_t i = 0; i < n; ++i) {
              const EntryVal<F> cur = this->Entry(table, l, index + i).Load(std::memory_order_relaxed);  // ORDERING: under the table's lock
              if (i == 0) *now = cur;
              if (f_.Classify(cur.raw, l) != EntryKind::kEmpty) return false;
            }
            return true;
          },
          store);
      if (k == Locked::kDone) s_.Populated(true, 1);
      return k;
    }
  }

  // Hooks a new table under the empty entry ep. Racing, the table is
  // allocated with no lock held and dropped unpublished when the entry is
  // no longer empty (*now gets what it holds) or the table was unhooked.
  absl::StatusOr<Locked> PutTable(Oa table, Level l, const EntryPtr<F>* parent, const EntryPtr<F>& ep, LRange e, LRange sub,
                  EntryVal<F>* now) {
    const Level next = NewTableLevel(l, e, sub);
    auto child = this->AllocTable(next);
    if (!child.ok()) return child.status();
    const EntryVal<F> v{EncodeTableTo(f_, l, next, *child), l};
    if constexpr (!S::kRacing) {
      // ORDERING: release publishes the zeroed table before the pointer.
      this->Put(ep, v, std::memory_order_release);
      *now = v;
      return Locked::kDone;
    } else {
      const Locked k = s_.Under(
          table, l, ep, parent,
          [&] {
            *now = ep.Load(std::memory_order_relaxed);  // ORDERING: under the table's lock
            return f_.Classify(now->raw, l) == EntryKind::kEmpty || !s_.RechecksEmpty();
          },
          [&] { s_.PublishTable(ep, v, *child, next); });
      if (k == Locked::kDone) {
        *now = v;
      } else {
        s_.DropTable(*child);
      }
      return k;
    }
  }

  // Replaces the skipping entry ep (pointing to c) by one skipping a level
  // fewer (space_tables.h's Unskip), racing only if it still holds *now.
  absl::StatusOr<Locked> PutUnskip(Oa table, Level l, const EntryPtr<F>* parent, const EntryPtr<F>& ep, LRange e, const Child& c,
                   EntryVal<F>* now) {
    if constexpr (!S::kRacing) {
      auto unskipped = Unskip(ep, l, e, c);
      if (!unskipped.ok()) return unskipped.status();
      *now = *unskipped;
      return Locked::kDone;
    } else {
      const EntryVal<F> was = *now;
      absl::StatusOr<EntryVal<F>> unskipped = absl::InternalError("not run");
      const Locked k = s_.Under(
          table, l, ep, parent,
          [&] {
            *now = ep.Load(std::memory_order_relaxed);  // ORDERING: under the table's lock
            return now->raw == was.raw;
          },
          [&] { unskipped = Unskip(ep, l, e, c); });
      if (k != Locked::kDone) return k;
      if (!unskipped.ok()) return unskipped.status();
      *now = *unskipped;
      return k;
    }
  }

  std::optional<uint64_t> restart_;  // racing: where to start again from the root
};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_MAP_H_
