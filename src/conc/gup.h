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

#include "src/conc/sections.h"
#include "src/conc/world.h"
#include "src/walk/lookup.h"

namespace ptsim {
namespace conc_internal {

template <PageTableFormat F>
bool Allows(const F& f, typename F::Raw raw, Level l, bool write, bool pin) {
  const LeafAttrs a = f.DecodeAttrs(raw, l);
  return !((write || pin) && !a.Has(Attr::kWrite));
}

// GUP reads the tables as any software walk does (walk/lookup.h), noting
// when it read the last entry, which is the oracles' time; under
// Bug::kGupDoubleRead the next table comes from a second read of the entry.
template <PageTableFormat F>
struct GupWalkRules : LookupRules<F> {
  using typename LookupRules<F>::Fault;
  using typename LookupRules<F>::Path;
  World<F>* w;
  uint64_t* seen_at;
  bool double_read;

  Step<Fault> Entry(const F& f, uint64_t raw, Level l, Va va, Path& p) const {
    *seen_at = w->m.rt().Now();
    const Step<Fault> s = LookupRules<F>::Of(f, raw, l);
    if (s.kind != StepKind::kTable) return s;
    uint64_t next = raw;
    if (double_read) next = TablePtr<F>{p.table, l}.At(w->mem, IndexOf(f, va, l)).Load(std::memory_order_acquire).raw;
    p.table = f.TableOa(static_cast<typename F::Raw>(next), l);
    return Step<Fault>::Table(next);
  }
};

// Reads `va` in `space` once, as GUP-fast does. The trace holds every entry
// read, for the re-check.
template <PageTableFormat F>
BasicWalkResult<typename LookupRules<F>::Fault> GupWalk(World<F>& w, int space, Va va, bool double_read,
                                                         WalkTrace& trace, uint64_t& seen_at) {
  const Oa root = w.spaces[space].root;
  const GupWalkRules<F> rules{{}, &w, &seen_at, double_read};
  return WalkFrom(w.f, w.mem, WalkStart<typename LookupRules<F>::Path>{root, w.f.TopLevel(), {root}}, va, rules,
                  &trace, /*write_back=*/false);
}

// A walk that found no leaf: nothing mapped there, or a finding.
template <PageTableFormat F>
void GupMiss(World<F>& w, const char* who, int key, Va va, const typename LookupRules<F>::Fault& fault,
             uint64_t start, uint64_t seen_at) {
  using Stop = typename LookupRules<F>::Stop;
  switch (fault.stop) {
    case Stop::kAbsent:
      w.CheckAbsent(who, key, va, fault.level, start, seen_at);
      return;
    case Stop::kInvalid:
      w.Fail("invalid-entry", absl::StrFormat("cpu%d %s read an invalid level-%d entry 0x%x", w.m.self(), who,
                                              fault.level.value(), fault.raw));
    case Stop::kOutside:
      w.NotATable(Oa(fault.raw));
    case Stop::kNonCanonical:
      w.Fail("walk-fault", absl::StrFormat("cpu%d %s of non-canonical 0x%x", w.m.self(), who, va.value()));
  }
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
  WalkTrace trace;
  uint64_t seen_at = start;
  const auto r = GupWalk(w, space, va, w.cfg.Has(Bug::kGupDoubleRead), trace, seen_at);
  if (!r.ok) {
    GupMiss(w, "gup-fast", key, va, r.fault, start, seen_at);
    w.m.IrqOn();
    return false;
  }
  const Level l = r.t.level;
  const typename F::Raw raw = static_cast<typename F::Raw>(r.t.raw);
  w.CheckLive("gup-fast", key, va, l, raw, start, seen_at);
  if (!Allows(f, raw, l, write, pin)) {
    w.m.IrqOn();
    return false;
  }
  const uint64_t head = f.LeafOa(raw, l).value();
  if (!w.frames.TryGet(w.m, head)) {
    w.m.IrqOn();
    return false;
  }
  if (pin) w.frames.Pin(w.m, head);
  // The leaf first, then every table entry above it from the top, each
  // against the value the walk read.
  auto unchanged = [&](const WalkStep& st) {
    return TablePtr<F>{st.table, st.level}.At(w.mem, st.index).Load(std::memory_order_acquire).raw == st.raw;
  };
  bool same = unchanged(trace.steps[trace.count - 1]);
  for (int i = 0; i + 1 < trace.count && same; ++i) same = unchanged(trace.steps[i]);
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
    WalkTrace trace;
    uint64_t seen_at = 0;
    const auto r = GupWalk(w, space, va, /*double_read=*/false, trace, seen_at);
    if (!r.ok) break;  // not mapped; the fast path has judged what it read
    // The leaf's table, and the entry above that points to it.
    const WalkStep& at = trace.steps[trace.count - 1];
    const Level l = at.level;
    std::optional<EntryPtr<F>> parent;
    if (trace.count > 1) {
      const WalkStep& up = trace.steps[trace.count - 2];
      parent = TablePtr<F>{up.table, up.level}.At(w.mem, up.index);
    }
    const EntryPtr<F> ep = TablePtr<F>{at.table, l}.At(w.mem, at.index);
    SpinLock& lock = w.LockFor(at.table, l, key);
    lock.Lock(w.m);
    if (!w.StillPoints(parent ? &*parent : nullptr, at.table)) {
      lock.Unlock(w.m);
      retry = true;
      continue;
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
