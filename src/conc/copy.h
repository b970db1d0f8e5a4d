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

#include <string>
#include <vector>

#include "src/conc/sections.h"
#include "src/conc/populate.h"
#include "src/conc/remove.h"

namespace ptsim {

template <PageTableFormat F>
void Copy(World<F>& w, int src, int dst, Va first, Va last) {
  if (w.IsKernel(first) || src == dst) return;
  auto& s = w.spaces[src];
  s.fork_lock.Lock(w.m);
  w.m.rt().Point(PointKind::kRef, 0x50000 + src);
  s.fork_seq.fetch_add(1, std::memory_order_seq_cst);
  std::atomic<int>& pending = w.flush_pending[src];
  pending.fetch_add(1, std::memory_order_seq_cst);

  // The source side is the sequential fork (src/ops/space.h's Copy) under
  // the racing sync: each leaf under its table's lock, after the "still
  // hooked, still that leaf" check.
  std::vector<CopiedLeaf> children;
  {
    const WalkerSection<F> section(w, src);
    typename ConcSync<F>::Deferred d;
    Space<F, ConcSync<F>> space(w.f, SpaceEnv{.mem = w.mem}, ConcSync<F>(w, src, src, &d));
    space.Adopt(s.root);
    const absl::Status st = space.Copy({first, last}, [&](const CopiedLeaf& c) { children.push_back(c); });
    PTSIM_CHECK(st.ok(), "copy of a validated range failed: %s", std::string(st.message()));
  }
  for (const CopiedLeaf& c : children) {
    const Populated r =
        Populate(w, dst, c.va, c.va + LowMask(c.size_lg2), c.oa, c.attrs, c.size_lg2, c.ref_taken);
    if (r.installed == 0 && c.ref_taken) w.frames.Unmap(w.m, c.oa.value());
  }

  const uint64_t flush_time = w.m.rt().Now();
  conc_internal::ShootdownRange(w, src, first, last);
  w.m.rt().Point(PointKind::kRef, 0x50000 + src);
  s.fork_seq.fetch_add(1, std::memory_order_seq_cst);
  pending.fetch_sub(1, std::memory_order_seq_cst);
  s.fork_lock.Unlock(w.m);
  w.CheckNoStaleTlb("copy", src, first, last, flush_time);
}

}  // namespace ptsim

#endif  // PTSIM_CONC_COPY_H_
