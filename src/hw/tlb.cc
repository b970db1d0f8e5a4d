#include "src/hw/cached_mmu.h"
#include "src/hw/tlb.h"

#include <algorithm>

namespace ptsim::hw {
namespace {

bool Overlaps(uint64_t a_first, uint64_t a_last, uint64_t b_first, uint64_t b_last) {
  return a_first <= b_last && b_first <= a_last;
}

// The least recently used index among those `pick` accepts.
template <typename V, typename Pick>
size_t Victim(const V& v, Pick pick) {
  size_t best = v.size();
  for (size_t i = 0; i < v.size(); ++i) {
    if (pick(v[i]) && (best == v.size() || v[i].stamp < v[best].stamp)) best = i;
  }
  return best;
}

}  // namespace

const LeafEntry* Tlb::FindLeaf(Asid asid, uint64_t va) const {
  const LeafEntry* best = nullptr;
  for (const LeafEntry& e : leaves_) {
    if ((e.global || e.asid == asid) && e.va_base <= va && va <= e.last() && (!best || e.stamp > best->stamp)) {
      best = &e;
    }
  }
  return best;
}

const WalkEntry* Tlb::FindWalk(Asid asid, uint64_t va) const {
  const WalkEntry* best = nullptr;
  for (const WalkEntry& w : walks_) {
    if (w.asid != asid || va < w.va_base || va > w.last()) continue;
    // The deepest entry saves the most reads (SDM §4.10.3.2 uses the PDE
    // cache before the PDPTE cache before the PML4 cache).
    if (!best || w.level < best->level || (w.level == best->level && w.stamp > best->stamp)) best = &w;
  }
  return best;
}

void Tlb::InsertLeaf(LeafEntry e) {
  e.stamp = ++clock_;
  for (LeafEntry& old : leaves_) {
    if (old.asid == e.asid && old.global == e.global && old.va_base == e.va_base && old.size_lg2 == e.size_lg2) {
      old = e;
      return;
    }
  }
  if (leaves_.size() >= cfg_.leaf_capacity) {
    leaves_.erase(leaves_.begin() + static_cast<ptrdiff_t>(Victim(leaves_, [](const LeafEntry&) { return true; })));
  }
  leaves_.push_back(e);
}

void Tlb::InsertWalk(WalkEntry w) {
  w.stamp = ++clock_;
  size_t at_level = 0;
  for (WalkEntry& old : walks_) {
    if (old.asid == w.asid && old.level == w.level && old.va_base == w.va_base) {
      old = w;
      return;
    }
    at_level += old.level == w.level;
  }
  if (at_level >= cfg_.walk_capacity_per_level) {
    const Level l = w.level;
    walks_.erase(walks_.begin() +
                 static_cast<ptrdiff_t>(Victim(walks_, [l](const WalkEntry& o) { return o.level == l; })));
  }
  walks_.push_back(w);
}

size_t Tlb::Invalidate(const Selector& s) {
  const bool ranged = s.first.has_value();
  const uint64_t first = s.first.value_or(0), last = s.last.value_or(~uint64_t{0});
  size_t n = 0;
  if (s.leaves) {
    n += static_cast<size_t>(std::erase_if(leaves_, [&](const LeafEntry& e) {
      const bool who = e.global ? s.global : (s.nonglobal && (!s.asid || e.asid == *s.asid));
      return who && (!ranged || Overlaps(e.va_base, e.last(), first, last));
    }));
    stats_.invalidated_leaves += n;
  }
  if (s.walks) {
    const size_t w = static_cast<size_t>(std::erase_if(walks_, [&](const WalkEntry& e) {
      return (!s.asid || e.asid == *s.asid) &&
             (s.walks_any_va || !ranged || Overlaps(e.va_base, e.last(), first, last));
    }));
    stats_.invalidated_walks += w;
    n += w;
  }
  return n;
}

std::string DescribeLeaf(const LeafEntry& e) {
  return absl::StrFormat("leaf TLB entry {%s va %#x size 2^%d -> oa %#x %s, level %d, filled from root %#x}",
                         e.global ? "global" : absl::StrFormat("asid %d", e.asid), e.va_base, e.size_lg2,
                         e.oa_base.value(), AttrsToString(e.attrs), e.level.value(), e.source_root.value());
}

std::string DescribeWalk(const WalkEntry& e) {
  return absl::StrFormat(
      "level-%d walk-cache entry {asid %d va %#x..%#x -> level-%d table %#x, entry %#x at %#x, filled from root %#x}",
      e.level.value(), e.asid, e.va_base, e.last(), e.next_level.value(), e.next_table.value(), e.raw,
      e.entry_addr.value(), e.source_root.value());
}

const char* ServedByName(ServedBy s) {
  switch (s) {
    case ServedBy::kLeafTlb:
      return "leaf TLB";
    case ServedBy::kWalkCache:
      return "paging-structure cache";
    case ServedBy::kWalk:
      return "walk";
  }
  return "?";
}

std::string Finding::ToString() const {
  return absl::StrFormat("va %#x (asid %d): the %s serves %s but the tables give %s; stale: %s", va.value(), asid,
                         ServedByName(by), served, fresh, stale);
}

// --- x86 -------------------------------------------------------------------
namespace x86 {

void Invlpg(Tlb& t, Va va) {
  t.CountInstruction();
  // SDM Vol. 3A §4.10.4.1 INVLPG: entries for the page in the current PCID,
  // global entries for the page regardless of PCID, and every paging-
  // structure-cache entry of the current PCID whatever its address.
  t.Invalidate({.asid = t.current(), .nonglobal = true, .global = true, .first = va.value(), .last = va.value(),
                .leaves = true, .walks = true, .walks_any_va = true});
}

void Invpcid(Tlb& t, InvpcidType type, Asid pcid, Va va) {
  t.CountInstruction();
  switch (type) {
    case InvpcidType::kAddress:
      // SDM §4.10.4.1, INVPCID type 0: non-global entries of the PCID for
      // the address, and all paging-structure-cache entries of the PCID.
      t.Invalidate({.asid = pcid, .nonglobal = true, .global = false, .first = va.value(), .last = va.value(),
                    .leaves = true, .walks = true, .walks_any_va = true});
      return;
    case InvpcidType::kSingleContext:
      // Type 1: every entry of the PCID except global ones, all levels.
      t.Invalidate({.asid = pcid, .nonglobal = true, .global = false, .leaves = true, .walks = true,
                    .walks_any_va = true});
      return;
    case InvpcidType::kAllIncludingGlobal:
      // Type 2: every entry, every PCID, globals included.
      t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .leaves = true, .walks = true,
                    .walks_any_va = true});
      return;
    case InvpcidType::kAllExceptGlobal:
      // Type 3: every non-global entry of every PCID, all levels.
      t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = false, .leaves = true, .walks = true,
                    .walks_any_va = true});
      return;
  }
}

void MovCr3(Tlb& t, Asid pcid, bool noflush) {
  t.CountInstruction();
  t.set_current(pcid);
  // SDM §4.10.4.1 MOV to CR3: with CR4.PCIDE=1 and bit 63 set, nothing need
  // be invalidated; otherwise the new PCID's non-global entries and its
  // paging-structure-cache entries go (PCID 000H when PCIDE=0).
  if (t.config().pcid && noflush) return;
  t.Invalidate({.asid = t.current(), .nonglobal = true, .global = false, .leaves = true, .walks = true,
                .walks_any_va = true});
}

void SetCr4Pge(Tlb& t, bool pge) {
  t.CountInstruction();
  // SDM §4.10.4.1 MOV to CR4: changing PGE invalidates all TLB entries,
  // global ones included, and all paging-structure caches, every PCID.
  t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .leaves = true, .walks = true,
                .walks_any_va = true});
  t.set_global_pages(pge);
}

}  // namespace x86

// --- Arm -------------------------------------------------------------------
namespace arm {

void TlbiVae1(Tlb& t, Asid asid, Va va) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: by VA, given ASID or global, every level of the walk.
  t.Invalidate({.asid = asid, .nonglobal = true, .global = true, .first = va.value(), .last = va.value(),
                .leaves = true, .walks = true});
}

void TlbiVale1(Tlb& t, Asid asid, Va va) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: last level only; cached table entries may remain.
  t.Invalidate({.asid = asid, .nonglobal = true, .global = true, .first = va.value(), .last = va.value(),
                .leaves = true, .walks = false});
}

void TlbiVaae1(Tlb& t, Va va) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: by VA, all ASIDs, every level.
  t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .first = va.value(), .last = va.value(),
                .leaves = true, .walks = true});
}

void TlbiVaale1(Tlb& t, Va va) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: by VA, all ASIDs, last level only.
  t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .first = va.value(), .last = va.value(),
                .leaves = true, .walks = false});
}

void TlbiAside1(Tlb& t, Asid asid) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: every non-global entry with the ASID; globals stay.
  t.Invalidate({.asid = asid, .nonglobal = true, .global = false, .leaves = true, .walks = true,
                .walks_any_va = true});
}

void TlbiVmalle1(Tlb& t) {
  t.CountInstruction();
  // Arm ARM D8, TLBI page of DDI 0601: all stage 1 entries of the VMID, every ASID, globals too.
  t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .leaves = true, .walks = true,
                .walks_any_va = true});
}

void SetTtbrAsid(Tlb& t, Asid asid) { t.set_current(asid); }

}  // namespace arm

// --- RISC-V ----------------------------------------------------------------
namespace riscv {

void SfenceVma(Tlb& t, std::optional<Va> rs1, std::optional<Asid> rs2) {
  t.CountInstruction();
  // RISC-V privileged spec, SFENCE.VMA (§12.2.1): the four cases.
  if (!rs1 && !rs2) {
    // All levels, all address spaces, global mappings included.
    t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .leaves = true, .walks = true,
                  .walks_any_va = true});
  } else if (!rs1) {
    // All levels of address space rs2, except global mappings.
    t.Invalidate({.asid = *rs2, .nonglobal = true, .global = false, .leaves = true, .walks = true,
                  .walks_any_va = true});
  } else if (!rs2) {
    // Only leaf PTEs for the VA, all address spaces, globals included.
    t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .first = rs1->value(),
                  .last = rs1->value(), .leaves = true, .walks = false});
  } else {
    // Only leaf PTEs for the VA in address space rs2, not global mappings.
    t.Invalidate({.asid = *rs2, .nonglobal = true, .global = false, .first = rs1->value(), .last = rs1->value(),
                  .leaves = true, .walks = false});
  }
}

void SetSatpAsid(Tlb& t, Asid asid) { t.set_current(asid); }

}  // namespace riscv

// --- Intel VT-d -------------------------------------------------------------
namespace vtd {

void IotlbGlobal(Tlb& t) {
  t.CountInstruction();
  // VT-d §6.5.1.2 global invalidation: every IOTLB and paging-structure entry.
  t.Invalidate({.asid = std::nullopt, .nonglobal = true, .global = true, .leaves = true, .walks = true,
                .walks_any_va = true});
}

void IotlbDomain(Tlb& t, Asid did) {
  t.CountInstruction();
  // VT-d §6.5.1.2 domain-selective: every entry tagged with the domain id.
  t.Invalidate({.asid = did, .nonglobal = true, .global = false, .leaves = true, .walks = true,
                .walks_any_va = true});
}

void IotlbPage(Tlb& t, Asid did, Va addr, unsigned am, bool ih) {
  t.CountInstruction();
  // VT-d §6.5.1.2 / §6.5.2.3 page-selective-within-domain: the 2^am pages
  // at addr (addr aligned to them); IH=1 lets hardware keep non-leaf
  // (paging-structure-cache) entries.
  const unsigned lg2 = 12 + am;
  const uint64_t first = AlignDown(addr.value(), lg2);
  t.Invalidate({.asid = did, .nonglobal = true, .global = false, .first = first, .last = first | LowMask(lg2),
                .leaves = true, .walks = !ih});
}

}  // namespace vtd

// --- AMD IOMMU --------------------------------------------------------------
namespace amd {

void InvalidatePages(Tlb& t, Asid domain, uint64_t address, bool s, bool pde) {
  t.CountInstruction();
  // AMD IOMMU spec §2.4.3 INVALIDATE_IOMMU_PAGES: S=0 one 4 KiB page; S=1
  // a range of 2^(n+1) bytes where n >= 12 is the lowest clear bit of the
  // address; a clear bit only at 63 (0x7FFF_FFFF_FFFF_Fxxx) means all.
  uint64_t first = AlignDown(address, 12), last = first | LowMask(12);
  if (s) {
    const unsigned n = 12 + Ctz(~(address >> 12));
    if (n >= 63) {
      first = 0;
      last = ~uint64_t{0};
    } else {
      first = AlignDown(address, n + 1);
      last = first | LowMask(n + 1);
    }
  }
  // PDE=1: the cached page-directory entries for the range as well.
  t.Invalidate({.asid = domain, .nonglobal = true, .global = false, .first = first, .last = last, .leaves = true,
                .walks = pde});
}

}  // namespace amd
}  // namespace ptsim::hw
