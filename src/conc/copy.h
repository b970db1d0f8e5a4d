// copy (fork): copy a range of one address space into the other, racing
// GUP-fast, remove and hardware walks.
//
// Protocol (copy_page_range, research §4):
//   * hold the source's fork lock (GUP's slow path takes it too) and make
//     write_protect_seq odd for the whole walk, so a GUP-fast pin that
//     overlaps it backs out;
//   * count in the source's pending flushes;
//   * per source leaf, under its table's lock: a writable page that may be
//     pinned is copied at once into a fresh frame for the child (a pin must
//     keep seeing the parent's page); any other writable page is
//     write-protected in the source and shared read-only; read-only pages
//     are shared. The child's reference is taken before the lock is dropped,
//     so a concurrent remove cannot free the frame under the copy;
//   * install the child's leaves in the destination (a populate that may
//     lose to something already there, in which case the reference is
//     dropped);
//   * shoot down the source range: until then other CPUs may still write
//     through writable TLB entries (the window fork really has).
// The kernel half is shared, not copied.
#ifndef PTSIM_CONC_COPY_H_
#define PTSIM_CONC_COPY_H_

#include <algorithm>
#include <optional>
#include <vector>

#include "src/conc/populate.h"
#include "src/conc/remove.h"

namespace ptsim {
namespace conc_internal {

struct ChildLeaf {
  Va va;
  unsigned size_lg2;
  Oa oa;
  LeafAttrs attrs;
  bool ref_taken;
};

template <PageTableFormat F>
void CopyTable(World<F>& w, int key, Oa table, Level l, const EntryPtr<F>* parent, Va first, Va last,
               std::vector<ChildLeaf>& out) {
  const F& f = w.f;
  std::optional<uint64_t> done_last;  // the last address of a replicated leaf already copied
  ForEachEntryIn(w, l, first, last, [&](Va a, Va b) {
    if (done_last && a.value() <= *done_last) return;
    const EntryPtr<F> ep = TablePtr<F>{table, l}.At(w.mem, IndexOf(f, a, l));
    const EntryVal<F> v = ep.Load(std::memory_order_acquire);
    const EntryKind kind = f.Classify(v.raw, l);
    if (kind == EntryKind::kTable) {
      // A skipping entry maps only the first part of its span.
      const Level below = NextTableLevel(f, v.raw, l);
      const uint64_t part_last = AlignDown(a.value(), f.ItemLg2(l)) + LowMask(f.ItemLg2(below) + f.IndexLg2(below));
      if (a.value() > part_last) return;
      CopyTable(w, key, f.TableOa(v.raw, l), below, &ep, a, Va(std::min(b.value(), part_last)), out);
      return;
    }
    if (kind != EntryKind::kLeaf) return;
    SpinLock& lock = w.LockFor(table, l, key);
    lock.Lock(w.m);
    const EntryVal<F> cur = ep.Load(std::memory_order_relaxed);
    if (!w.StillPoints(parent, table) || f.Classify(cur.raw, l) != EntryKind::kLeaf) {
      lock.Unlock(w.m);
      return;
    }
    // A replicated leaf (ARM contiguous, RISC-V NAPOT) is one leaf: copied
    // once, all its entries write-protected together.
    const unsigned size = LeafSizeLg2(f, cur.raw, l);
    const Va base(a.value() & ~LowMask(size));
    done_last = base.value() + LowMask(size);
    const Oa head = f.LeafOa(cur.raw, l);
    const LeafAttrs attrs = f.DecodeAttrs(cur.raw, l).Without(Attr::kAccessed);
    if (!attrs.Has(Attr::kWrite)) {
      w.frames.Map(w.m, head.value());
      out.push_back({base, size, head, attrs, true});
    } else if (w.frames.MaybePinned(w.m, head.value())) {
      out.push_back({base, size, Oa(w.AllocDataFrame(size)), attrs, false});
    } else {
      // Each entry keeps its own accessed/dirty bits.
      const uint64_t n = uint64_t{1} << (size - f.ItemLg2(l));
      const uint64_t first_index = IndexOf(f, base, l);
      // The history sees it at the first store and settled at the last.
      uint64_t version = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const EntryPtr<F> e = TablePtr<F>{table, l}.At(w.mem, first_index + i);
        const LeafAttrs own = f.DecodeAttrs(e.Load(std::memory_order_relaxed).raw, l).Without(Attr::kWrite);
        e.Store(EntryVal<F>{EncodeLeafEntry(f, l, size, head, own, i), l}, std::memory_order_release);
        if (i == 0) {
          version = w.RecordInstall(
              key, Mapping{base.value(), size, head.value(), PermBits(attrs.Without(Attr::kWrite))}, /*cow=*/true);
          if (n > 1) w.RecordUnsettled(version);
        }
      }
      if (n > 1) w.RecordSettled(version);
      w.frames.Map(w.m, head.value());
      out.push_back({base, size, head, attrs.Without(Attr::kWrite), true});
    }
    lock.Unlock(w.m);
  });
}

}  // namespace conc_internal

template <PageTableFormat F>
void Copy(World<F>& w, int src, int dst, Va first, Va last) {
  using namespace conc_internal;
  if (w.IsKernel(first) || src == dst) return;
  auto& s = w.spaces[src];
  s.fork_lock.Lock(w.m);
  w.m.rt().Point(PointKind::kRef, 0x50000 + src);
  s.fork_seq.fetch_add(1, std::memory_order_seq_cst);
  std::atomic<int>& pending = w.flush_pending[src];
  pending.fetch_add(1, std::memory_order_seq_cst);

  std::vector<ChildLeaf> children;
  {
    const WalkerSection<F> section(w, src);
    CopyTable<F>(w, src, s.root, w.f.TopLevel(), nullptr, first, last, children);
  }
  for (const ChildLeaf& c : children) {
    const Populated r =
        Populate(w, dst, c.va, c.va + LowMask(c.size_lg2), c.oa, c.attrs, c.size_lg2, c.ref_taken);
    if (r.installed == 0 && c.ref_taken) w.frames.Unmap(w.m, c.oa.value());
  }

  const uint64_t flush_time = w.m.rt().Now();
  ShootdownRange(w, src, first, last);
  w.m.rt().Point(PointKind::kRef, 0x50000 + src);
  s.fork_seq.fetch_add(1, std::memory_order_seq_cst);
  pending.fetch_sub(1, std::memory_order_seq_cst);
  s.fork_lock.Unlock(w.m);
  w.CheckNoStaleTlb("copy", src, first, last, flush_time);
}

}  // namespace ptsim

#endif  // PTSIM_CONC_COPY_H_
