// populate: map leaves of one size over a range, allocating tables on the
// way, racing everything. It is the sequential map (src/ops/space.h) under
// the racing sync (space_sync.h); space_map.h states the protocol
// (mm/memory.c's __pte_alloc and pmd_install, research §3): what is mapped
// already stays and is counted as present, tables and leaves are published
// under their table's lock after the "has another populated it?" and
// "still hooked?" checks, and a kernel-half top-level entry goes into the
// kernel's reference table and is copied into every space.
#ifndef PTSIM_CONC_POPULATE_H_
#define PTSIM_CONC_POPULATE_H_

#include "absl/status/status.h"
#include "src/conc/space_sync.h"
#include "src/conc/sections.h"
#include "src/conc/world.h"
#include "src/ops/space.h"

namespace ptsim {

struct Populated {
  absl::Status status;  // not OK when table memory ran out part way
  uint64_t installed = 0;
  uint64_t present = 0;  // leaves found mapped already (by a leaf of any size)
};

// Maps [first, last] to [oa, ...] with 2^size_lg2 leaves. With
// frames_counted the caller already holds the frame reference each mapping
// will own (fork's child), and drops it itself for a leaf not installed.
template <PageTableFormat F>
Populated Populate(World<F>& w, int space, Va first, Va last, Oa oa, LeafAttrs attrs, unsigned size_lg2,
                   bool frames_counted = false) {
  const int key = w.KeyOf(space, first);
  typename ConcSync<F>::Deferred d;
  ConcSync<F> sync(w, space, key, &d);
  if (frames_counted) sync.FramesCounted();
  absl::Status st;
  {
    const WalkerSection<F> section(w, key);
    Space<F, ConcSync<F>> s(w.f, SpaceEnv{.mem = w.mem}, sync);
    s.Adopt(w.spaces[space].root);
    st = s.Map({first, last}, oa, attrs, size_lg2);
  }
  return {st, d.installed, d.present};
}

}  // namespace ptsim

#endif  // PTSIM_CONC_POPULATE_H_
