// GUP: take a reference (or a pin) on the page mapped at a VA.
//
// GUP-fast protocol (mm/gup.c, research §1.2):
//   * a pin first samples fork's write_protect_seq and gives up if it is
//     odd (a fork is write-protecting);
//   * interrupts off: an IPI shootdown, and therefore a table free that
//     waits for one, cannot complete until the walk is over; the section
//     also counts as an RCU read-side section;
//   * every level is read exactly once and the next table derived from that
//     value; a leaf must allow the access (a pin needs a writable,
//     i.e. exclusive, page);
//   * get-unless-zero on the frame, then the pin, then re-read the leaf and
//     every table entry above it: any change means a remover or fork may
//     have decided without seeing this reference, so back out;
//   * interrupts on; for a pin, the sequence count must not have moved.
// Any failure falls back to the slow path: under fork's lock and the leaf
// table's lock, with no lockless step left. Neither path faults pages in:
// an unmapped address is a plain failure.
#ifndef PTSIM_CONC_GUP_H_
#define PTSIM_CONC_GUP_H_

#include "absl/container/inlined_vector.h"
#include "src/conc/world.h"

namespace ptsim {
namespace conc_internal {

template <PageTableFormat F>
bool Allows(const F& f, typename F::Raw raw, Level l, bool write, bool pin) {
  const LeafAttrs a = f.DecodeAttrs(raw, l);
  return !((write || pin) && !a.Has(Attr::kWrite));
}

template <PageTableFormat F>
bool GupFast(World<F>& w, int space, Va va, bool write, bool pin) {
  const F& f = w.f;
  const int key = w.KeyOf(space, va);
  auto& s = w.spaces[space];
  const bool check_seq = pin && !w.cfg.Has(Bug::kGupNoForkSeq);
  uint64_t seq = 0;
  if (check_seq) {
    w.m.rt().Point(PointKind::kRef, 0x50000 + space);
    seq = s.fork_seq.load(std::memory_order_acquire);
    if (seq & 1) return false;
  }
  w.m.IrqOff();
  const uint64_t start = w.m.rt().Now();
  absl::InlinedVector<std::pair<EntryPtr<F>, EntryVal<F>>, kMaxLevels> path;
  Oa table = s.root;
  for (Level l = f.TopLevel();;) {
    const EntryPtr<F> ep = TablePtr<F>{table, l}.At(w.mem, IndexOf(f, va, l));
    const EntryVal<F> v = ep.Load(std::memory_order_acquire);
    const uint64_t seen_at = w.m.rt().Now();
    switch (f.Classify(v.raw, l)) {
      case EntryKind::kEmpty:
        w.CheckAbsent("gup-fast", key, va, l, start, seen_at);
        w.m.IrqOn();
        return false;
      case EntryKind::kInvalid:
        w.Fail("invalid-entry", absl::StrFormat("cpu%d gup-fast read an invalid level-%d entry 0x%x at 0x%x",
                                                w.m.self(), l.value(), uint64_t{v.raw}, ep.addr().value()));
      case EntryKind::kTable: {
        path.emplace_back(ep, v);
        EntryVal<F> next = v;
        if (w.cfg.Has(Bug::kGupDoubleRead)) next = ep.Load(std::memory_order_acquire);
        // An entry that skips levels maps only the VAs whose skipped index
        // bits are zero (geometry.h); the hardware faults on the others.
        const Level below = NextTableLevel(f, next.raw, l);
        if ((va.value() & SkippedVaMask(f, l, below)) != 0) {
          w.CheckAbsent("gup-fast", key, va, SkipFaultLevel(f, va, l, below), start, seen_at);
          w.m.IrqOn();
          return false;
        }
        table = f.TableOa(next.raw, l);
        l = below;
        continue;
      }
      case EntryKind::kLeaf:
        break;
    }
    w.CheckLive("gup-fast", key, va, l, v.raw, start, seen_at);
    if (!Allows(f, v.raw, l, write, pin)) {
      w.m.IrqOn();
      return false;
    }
    const uint64_t head = f.LeafOa(v.raw, l).value();
    if (!w.frames.TryGet(w.m, head)) {
      w.m.IrqOn();
      return false;
    }
    if (pin) w.frames.Pin(w.m, head);
    bool same = ep.Load(std::memory_order_acquire) == v;
    for (size_t i = 0; i < path.size() && same; ++i) {
      same = path[i].first.Load(std::memory_order_acquire) == path[i].second;
    }
    w.m.IrqOn();
    if (same && check_seq) {
      w.m.rt().Point(PointKind::kRef, 0x50000 + space);
      same = s.fork_seq.load(std::memory_order_acquire) == seq;
    }
    if (!same) {
      if (pin) w.frames.Unpin(w.m, head);
      w.frames.Put(w.m, head);
      return false;
    }
    w.cpu[w.m.self()].held.push_back({head, pin, space, va, w.m.rt().Now()});
    return true;
  }
}

template <PageTableFormat F>
bool GupSlow(World<F>& w, int space, Va va, bool write, bool pin) {
  const F& f = w.f;
  const int key = w.KeyOf(space, va);
  auto& s = w.spaces[space];
  s.fork_lock.Lock(w.m);
  std::optional<WalkerSection<F>> section;
  section.emplace(w, key);
  bool got = false;
  for (bool retry = true; retry;) {
    retry = false;
    Oa table = s.root;
    std::optional<EntryPtr<F>> parent;
    for (Level l = f.TopLevel();;) {
      const EntryPtr<F> ep = TablePtr<F>{table, l}.At(w.mem, IndexOf(f, va, l));
      const EntryVal<F> v = ep.Load(std::memory_order_acquire);
      const EntryKind kind = f.Classify(v.raw, l);
      if (kind == EntryKind::kTable) {
        const Level below = NextTableLevel(f, v.raw, l);
        if ((va.value() & SkippedVaMask(f, l, below)) != 0) break;  // not mapped (see GupFast)
        parent = ep;
        table = f.TableOa(v.raw, l);
        l = below;
        continue;
      }
      if (kind != EntryKind::kLeaf) break;
      SpinLock& lock = w.LockFor(table, l, key);
      lock.Lock(w.m);
      if (!w.StillPoints(parent ? &*parent : nullptr, table)) {
        lock.Unlock(w.m);
        retry = true;
        break;
      }
      const EntryVal<F> cur = ep.Load(std::memory_order_relaxed);
      if (f.Classify(cur.raw, l) == EntryKind::kLeaf && Allows(f, cur.raw, l, write, pin)) {
        w.CheckLive("gup-slow", key, va, l, cur.raw, w.m.rt().Now(), w.m.rt().Now());
        const uint64_t head = f.LeafOa(cur.raw, l).value();
        PTSIM_CHECK(w.frames.TryGet(w.m, head), "a mapped frame 0x%x has no references", head);
        if (pin) w.frames.Pin(w.m, head);
        w.cpu[w.m.self()].held.push_back({head, pin, space, va, w.m.rt().Now()});
        got = true;
      }
      lock.Unlock(w.m);
      break;
    }
  }
  section.reset();
  s.fork_lock.Unlock(w.m);
  return got;
}

}  // namespace conc_internal

// True when a reference (or pin) was taken; it is held until Unpin or the
// end of the run.
template <PageTableFormat F>
bool Gup(World<F>& w, int space, Va va, bool write, bool pin) {
  return conc_internal::GupFast(w, space, va, write, pin) || conc_internal::GupSlow(w, space, va, write, pin);
}

// Drops every reference and pin this CPU holds.
template <PageTableFormat F>
void ReleaseHeld(World<F>& w) {
  auto& held = w.cpu[w.m.self()].held;
  for (const auto& h : held) {
    w.CheckPinReleased(h);
    if (h.pinned) w.frames.Unpin(w.m, h.head);
    w.frames.Put(w.m, h.head);
  }
  held.clear();
}

}  // namespace ptsim

#endif  // PTSIM_CONC_GUP_H_
