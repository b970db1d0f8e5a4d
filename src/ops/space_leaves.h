// Visiting the leaves of a range: the one range descent that unmap,
// protect and fork's copy (space.h) share, alone or racing, and fork's
// decision for each leaf it copies.
#ifndef PTSIM_OPS_SPACE_LEAVES_H_
#define PTSIM_OPS_SPACE_LEAVES_H_

#include <optional>

#include "absl/status/status.h"
#include "src/base/check.h"
#include "src/ops/space_map.h"

namespace ptsim {

// A leaf fork hands to the child: the same VA, size and attributes (write
// taken away where the parent's was write-protected), and the frame shared
// or, for a page that may be pinned, a fresh copy. `ref_taken`: the child's
// frame reference is already counted (a shared frame); a copy's is not.
struct CopiedLeaf {
  Va va;
  unsigned size_lg2;
  Oa oa;
  LeafAttrs attrs;
  bool ref_taken;
};

template <PageTableFormat F, typename S>
class SpaceLeaves : protected SpaceMap<F, S> {
  using Base = SpaceMap<F, S>;

 protected:
  using typename Base::Child;
  using typename Base::LeafRef;
  using typename Base::LRange;
  using Base::ChildOf;
  using Base::Clip;
  using Base::ForEntries;
  using Base::High;
  using Base::IndexAt;
  using Base::Installed;
  using Base::Invalidate;
  using Base::Put;
  using Base::Settled;
  using Base::SplitEntry;
  using Base::SplitGroup;
  using Base::f_;
  using Base::s_;

  SpaceLeaves(const F& f, const SpaceEnv& env, S sync) : Base(f, env, std::move(sync)) {}

  // Calls on_leaf(LeafRef, entry) for every leaf wholly inside r, splitting
  // the leaves r covers only in part (or, with `whole`, visiting them whole
  // too), and after(ep, l, e, child) once the walk returns from a child
  // table. `entry` is the value of the entry in r that led to the leaf.
  // Unmap, protect and fork's copy differ only there.
  // `parent` is the entry that points to `table` (null for the root).
  //
  // Racing, a leaf is changed under its table's lock after checking that
  // the table is still hooked and the entry still holds a leaf of the same
  // size and output (hardware may have set accessed/dirty bits meanwhile);
  // a table unhooked meanwhile was empty, so nothing in it is left to
  // visit, and an entry that changed is looked at again as it now is.
  template <typename OnLeaf, typename After>
  absl::Status VisitLeaves(Oa table, Level l, const EntryPtr<F>* parent, LRange r, const char* what, bool whole,
                           OnLeaf& on_leaf, After& after) {
    std::optional<uint64_t> visited_last;  // the last entry of a replicated leaf already visited
    return ForEntries(table, l, r, [&](const EntryPtr<F>& ep, LRange e, LRange sub) -> absl::Status {
      if (visited_last && e.first <= *visited_last) return absl::OkStatus();
      std::optional<EntryVal<F>> known;  // read under the lock just now: no need to read it again
      for (;;) {
        const EntryVal<F> v = known ? *known : ep.Load(std::memory_order_acquire);
        known.reset();
        switch (f_.Classify(v.raw, l)) {
          case EntryKind::kEmpty:
            return absl::OkStatus();
          case EntryKind::kInvalid:
            // Racing, another CPU's bug can put it there: a finding, not ours.
            if constexpr (S::kRacing) s_.Invalid(what, ep, v, l);
            PTSIM_CHECK(false, "%s: %s found an invalid entry %#x at level %d", F::kName, what, v.raw, l.value());
            return absl::OkStatus();
          case EntryKind::kLeaf: {
            const unsigned size = LeafSizeLg2(f_, v.raw, l);
            const LRange span{AlignDown(e.first, size), BlockLast(e.first, size)};
            const LeafRef g{table, l, IndexAt(l, span.first), size, span, f_.LeafOa(v.raw, l)};
            const bool inside = whole || (r.first <= span.first && span.last <= r.last);
            absl::Status st;
            auto change = [&](EntryVal<F> now) {
              if (inside) {
                on_leaf(g, now);
              } else if (size == f_.ItemLg2(l)) {
                st = SplitEntry(ep, now, l, e.first);
              } else {
                SplitGroup(g);
              }
            };
            if constexpr (S::kRacing) {
              EntryVal<F> now = v;
              const Locked k = s_.Under(
                  table, l, ep, parent,
                  [&] {
                    now = ep.Load(std::memory_order_relaxed);  // ORDERING: under the table's lock
                    return f_.Classify(now.raw, l) == EntryKind::kLeaf && LeafSizeLg2(f_, now.raw, l) == size &&
                           f_.LeafOa(now.raw, l) == g.oa;
                  },
                  [&] { change(now); });
              if (k == Locked::kUnhooked) return absl::OkStatus();
              if (k == Locked::kChanged) {
                known = now;
                continue;
              }
            } else {
              change(v);
            }
            if (!st.ok()) return st;
            if (inside) {
              visited_last = span.last;
              return absl::OkStatus();
            }
            continue;  // look at the entry again: a smaller leaf or a table
          }
          case EntryKind::kTable: {
            const Child c = ChildOf(v, l, e);
            const std::optional<LRange> in = Clip(sub, c.span);
            if (!in) return absl::OkStatus();  // only the part a skipping entry does not map
            if (auto st = VisitLeaves(c.table, c.level, &ep, *in, what, whole, on_leaf, after); !st.ok()) return st;
            after(ep, l, e, c);
            return absl::OkStatus();
          }
        }
      }
    });
  }

  // fork's source side for one leaf (copy_present_pte), under its table's
  // lock when racing; `v` is the entry that was visited. A read-only leaf
  // is shared; a writable one that may be pinned is copied at once, since
  // a pin must keep seeing the parent's page; any other writable leaf is
  // write-protected in place, each entry keeping its own accessed/dirty
  // bits, and shared copy-on-write. The child's reference is counted
  // before the lock is dropped, so a racing remove cannot free the frame.
  template <typename Emit>
  void CopyLeaf(const LeafRef& g, EntryVal<F> v, Emit& emit) {
    const Va va = High(g.span.first);
    const LeafAttrs attrs = f_.DecodeAttrs(v.raw, g.level).Without(Attr::kAccessed);
    if (!attrs.Has(Attr::kWrite)) {
      this->ShareFrame(g.oa);
      emit(CopiedLeaf{va, g.size_lg2, g.oa, attrs, true});
      return;
    }
    if (this->MaybePinned(g.oa)) {
      emit(CopiedLeaf{va, g.size_lg2, this->CopyFrame(g.size_lg2), attrs, false});
      return;
    }
    const LeafAttrs shared = attrs.Without(Attr::kWrite);
    const uint64_t n = g.Entries(f_.ItemLg2(g.level));
    uint64_t version = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const EntryPtr<F> ep = g.At(*this, i);
      // ORDERING: under the table's lock (racing) or alone.
      const LeafAttrs own = f_.DecodeAttrs(ep.Load(std::memory_order_relaxed).raw, g.level).Without(Attr::kWrite);
      Put(ep, {EncodeLeafEntry(f_, g.level, g.size_lg2, g.oa, own, i), g.level}, std::memory_order_release);
      if (i == 0) version = this->Unsettled(Installed(g.span.first, g.size_lg2, g.oa, shared, /*cow=*/true), n);
    }
    if (n > 1) Settled(version);
    Invalidate(g.span, false);
    this->ShareFrame(g.oa);
    emit(CopiedLeaf{va, g.size_lg2, g.oa, shared, true});
  }
};

}  // namespace ptsim

#endif  // PTSIM_OPS_SPACE_LEAVES_H_
