// A hardware access on one CPU: its TLB first, then the MMU's walk under
// the family's own rules in the run's CPU mode (src/hw/family.h; accessed/
// dirty set by compare-and-swap where that hardware sets them), then a TLB
// fill.
//
// The walk is one instruction's worth of work: interrupts and shootdowns
// wait for it to finish (Machine::HwWalkBegin/End), so a TLB fill can never
// land after the shootdown that should have removed it.
#ifndef PTSIM_CONC_WALK_H_
#define PTSIM_CONC_WALK_H_

#include <optional>
#include <span>

#include "src/conc/world.h"
#include "src/mmu/mmu.h"

namespace ptsim {

struct AccessOutcome {
  bool ok = false;
  bool from_tlb = false;
  Translation t{};
  Fault fault{};
};

template <PageTableFormat F>
AccessOutcome HwAccess(World<F>& w, int space, Va va, Access acc) {
  const F& f = w.f;
  const int key = w.KeyOf(space, va);
  const int self = w.m.self();
  const FormatConfig& mode = acc.user ? w.user_mode : w.kernel_mode;
  AccessOutcome out;
  if (const std::optional<hw::LeafEntry> hit = w.tlbs[self].Lookup(key, va.value())) {
    // The entry holds the effective permissions; the manual's verdict on
    // them in this mode decides, as the walk's rules would.
    if (!HwRules<F>::Verdict(f, hit->attrs, acc.type, mode) && (acc.type != AccessType::kWrite || hit->dirty)) {
      out.ok = out.from_tlb = true;
      out.t = {hit->oa_base + (va.value() - hit->va_base), hit->size_lg2, hit->level, hit->attrs, 0};
      return out;
    }
    // A permission miss in the TLB is re-walked, as hardware does before
    // raising the fault; so is a write through a clean entry, which must
    // set the dirty bit in the leaf (src/hw/tlb.h).
    w.tlbs[self].Drop(key, va.value());
  }
  w.m.HwWalkBegin();
  const uint64_t start = w.m.rt().Now();
  // A paging-structure-cache hit resumes the walk below the cached entry,
  // reading none of the levels above it: a table the entry still points to
  // after it was unhooked is read all the same (the hardware's view until
  // the invalidation reaches this CPU).
  const Oa root = w.spaces[space].root;
  const std::optional<hw::WalkEntry> cached = w.tlbs[self].LookupWalk(key, va.value());
  const std::span<const WalkStep> above =
      cached ? std::span<const WalkStep>(cached->above.data(), static_cast<size_t>(cached->above_count))
             : std::span<const WalkStep>();
  const HwResume resume{cached ? cached->next_table : Oa(), cached ? cached->next_level : Level(), above};
  WalkTrace trace;
  const HwWalkResult r = HwTranslate(f, w.mem, root, va, acc.type, mode, &trace, /*write_back=*/true,
                                     cached ? &resume : nullptr);
  w.tlbs[self].FillWalks(f, key, root, va, above, trace);
  const uint64_t at = w.cpu[self].last_access;
  if (r.ok) {
    const Mapping mp{va.value() & ~LowMask(r.t.size_lg2), r.t.size_lg2, r.t.oa.value() & ~LowMask(r.t.size_lg2),
                     PermBits(r.t.attrs)};
    const HistoryEvent* e = w.CheckLive("hardware walk", key, va, mp, start, at);
    const uint64_t version = e == nullptr ? 0 : e->version;
    const auto leaf = static_cast<typename F::Raw>(r.t.raw);
    w.tlbs[self].Fill({.asid = static_cast<hw::Asid>(key),
                       .va_base = mp.va,
                       .size_lg2 = mp.size_lg2,
                       .level = r.t.level,
                       .oa_base = Oa(mp.oa),
                       .attrs = r.t.attrs,
                       .source_root = root,
                       // A write walk did what this hardware does for a
                       // write; a read leaves the entry clean unless the
                       // leaf is dirty already.
                       .dirty = acc.type == AccessType::kWrite ||
                                f.MarkAccessed(leaf, r.t.level, /*write=*/true) == leaf,
                       .version = version});
    out.ok = true;
    out.t = r.t;
  } else {
    out.fault = r.fault;
    switch (r.fault.kind) {
      case FaultKind::kNotPresent:
        // An absence seen through a cached table entry may be stale: the
        // table was unhooked empty and not yet invalidated here, while a
        // populate already mapped the address through a new one. The
        // access faults and is retried, which the manuals allow (Intel SDM
        // Vol. 3A §4.10.4.3); what must not happen, a walk into a freed
        // table, is the freed-table check's.
        if (!cached) w.CheckAbsent("hardware walk", key, va, r.fault.level, start, at);
        break;
      case FaultKind::kPermission:
      // Accessed/dirty left to software (Arm without hardware AF/DBM
      // management, RISC-V Svade): the kernel's fault handler would set the
      // flag; the access itself fails, as a permission fault does.
      case FaultKind::kAccessedDirty:
        break;
      case FaultKind::kReserved:
      case FaultKind::kOutsideMemory:
      case FaultKind::kNonCanonical:
        w.Fail("walk-fault", absl::StrFormat("cpu%d's hardware walk of 0x%x faulted: %s at level %d", self,
                                             va.value(), FaultKindName(r.fault.kind), r.fault.level.value()));
    }
  }
  w.m.HwWalkEnd();
  return out;
}

}  // namespace ptsim

#endif  // PTSIM_CONC_WALK_H_
