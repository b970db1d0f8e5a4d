// A per-CPU (or per-IOMMU) translation cache: a leaf TLB and paging-structure
// ("walk") caches, tagged by address-space id, with each architecture's
// invalidation instructions as operations on it (DESIGN.md §6).
//
// What is cached, and why stale entries matter:
//   * leaf entries: one translation of a whole leaf (4 KiB .. 1 GiB, or a
//     replicated group), tagged with an address-space id (x86 PCID, ARM
//     ASID, RISC-V ASID, VT-d / AMD domain id) unless global. Intel SDM
//     Vol. 3A §4.10.2 "Translation Lookaside Buffers (TLBs)", §4.10.2.4
//     "Global Pages"; Arm ARM (DDI 0487) D8 "Translation Lookaside
//     Buffers", nG bit; RISC-V privileged spec §12.2.1 / §12.3 (SFENCE.VMA,
//     the G bit).
//   * walk-cache entries: one table entry met on a walk, i.e. "the VA bits
//     above this level's item size select this next table", with the
//     permissions accumulated so far. Intel SDM Vol. 3A §4.10.3 "Paging-
//     Structure Caches" (PML4/PDPTE/PDE caches, tagged by PCID, never
//     global); Arm ARM D8 TLBs: "caching of translation table entries from
//     any level"; RISC-V privileged spec §12.2.1 (SFENCE.VMA: implementations
//     may cache non-leaf PTEs). A walk that hits resumes from the cached
//     table without reading the levels above it (SDM §4.10.3.2 "Using the
//     Paging-Structure Caches to Translate Linear Addresses").
// A hit serves the cached value without reading memory: that is the point,
// a stale entry is visible. The lookups that fill it are CachedMmu's
// (src/hw/cached_mmu.h): a miss, and the rest of a walk after a walk-cache
// hit, are the one walker's (src/walk/walk.h), filling from its WalkTrace.
//
// The model keeps exactly what each architecture guarantees to remove and
// nothing more: invalidations remove the entries the manual says they must,
// and every other entry stays (hardware may drop more; software may not
// count on it). Capacity is bounded; replacement is least-recently-used by a
// counter, so it is deterministic.
//
// Not modelled: negative (faulting) entries, which none of the manuals let
// software rely on being absent or present; A/D updates in CachedMmu (its
// fills walk with update_ad = false, so a lookup never changes the tables;
// the race harness's hardware accesses set them, src/conc/walk.h); ARM VMIDs and
// x86 VPIDs (one guest); the RISC-V G bit in non-leaf PTEs (walk-cache
// entries are never global here, as on x86).
#ifndef PTSIM_HW_TLB_H_
#define PTSIM_HW_TLB_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"

namespace ptsim::hw {

using Asid = uint32_t;

// One cached translation of a whole leaf.
struct LeafEntry {
  Asid asid = 0;
  bool global = false;
  uint64_t va_base = 0;  // canonical VA of the leaf's first byte
  unsigned size_lg2 = 0;
  Level level;
  Oa oa_base;
  LeafAttrs attrs;  // effective (table restrictions applied), A/D as read
  Oa source_root;   // diagnostics only: the root it was walked from (hardware does not keep it)
  uint64_t stamp = 0;
  // The entry holds the leaf's dirty flag as the walk that filled it left
  // it (true too for a format whose hardware keeps none): a write through
  // a clean entry walks again to set it in the leaf (Intel SDM Vol. 3A
  // §4.8 and §4.10.2.2 "Caching Translations in TLBs").
  bool dirty = false;
  // The race harness's history version of the leaf it was filled from, for
  // its stale-translation oracle (src/conc/world.h); 0 elsewhere.
  uint64_t version = 0;

  uint64_t last() const { return va_base | LowMask(size_lg2); }
};

// One cached table entry: VAs in [va_base, va_base + 2^span_lg2) continue
// at `next_table` (level `next_level`) with the restrictions in `path`.
struct WalkEntry {
  Asid asid = 0;
  Level level;  // level of the table that holds the cached entry
  uint64_t va_base = 0;
  unsigned span_lg2 = 0;  // ItemLg2(level)
  Oa next_table;
  Level next_level;
  PathBits path;      // every table entry from the root down to this one, folded
  Oa entry_addr;      // diagnostics: where the entry was read
  uint64_t raw = 0;   // diagnostics: the entry's bits when cached
  Oa source_root;     // diagnostics only
  uint64_t stamp = 0;
  // The table entries from the root down to this one, as read: what an
  // architecture's rules fold again when a walk resumes here (the race
  // harness's hardware accesses; CachedMmu keeps `path` instead).
  std::array<WalkStep, kMaxLevels> above{};
  int above_count = 0;

  uint64_t last() const { return va_base | LowMask(span_lg2); }
};

struct TlbConfig {
  size_t leaf_capacity = 64;
  size_t walk_capacity_per_level = 16;
  // x86 CR4.PGE: with it clear the G bit is ignored, every fill is
  // non-global (SDM Vol. 3A §4.10.2.4). Other architectures: always true.
  bool global_pages = true;
  // x86 CR4.PCIDE: with it clear every entry is PCID 000H (SDM §4.10.1).
  bool pcid = true;
};

// Which entries one invalidation removes, in the shape every manual uses:
// "entries for <address-space ids>, <global or not>, for <VA or all>, at
// <last level only or every level>". The architecture's instructions below
// build one or two of these from the manual's text.
struct Selector {
  std::optional<Asid> asid;   // nullopt: every address-space id
  bool nonglobal = true;      // leaf entries tagged with a matching id
  bool global = false;        // global leaf entries (any id)
  std::optional<uint64_t> first, last;  // nullopt: every VA (for leaves)
  bool leaves = true;
  bool walks = false;         // walk-cache entries of a matching id...
  bool walks_any_va = false;  // ...for every VA, not only [first, last]
};

struct TlbStats {
  uint64_t leaf_hits = 0;
  uint64_t walk_hits = 0;
  uint64_t misses = 0;
  uint64_t invalidated_leaves = 0;
  uint64_t invalidated_walks = 0;
  uint64_t instructions = 0;
};

class Tlb {
 public:
  explicit Tlb(TlbConfig cfg = {}) : cfg_(cfg) {}

  const TlbConfig& config() const { return cfg_; }
  Asid current() const { return current_; }
  void set_current(Asid a) { current_ = cfg_.pcid ? a : 0; }
  void set_global_pages(bool on) { cfg_.global_pages = on; }

  // The entry serving `va` for id `asid`, if any (global ones serve every id).
  const LeafEntry* FindLeaf(Asid asid, uint64_t va) const;
  // The deepest walk-cache entry of `asid` whose span holds `va`.
  const WalkEntry* FindWalk(Asid asid, uint64_t va) const;
  void Touch(const LeafEntry* e) { const_cast<LeafEntry*>(e)->stamp = ++clock_; }
  void Touch(const WalkEntry* e) { const_cast<WalkEntry*>(e)->stamp = ++clock_; }

  void InsertLeaf(LeafEntry e);
  void InsertWalk(WalkEntry e);

  // Removes what `s` selects; returns how many entries went.
  size_t Invalidate(const Selector& s);
  void CountInstruction() { ++stats_.instructions; }

  const std::vector<LeafEntry>& leaves() const { return leaves_; }
  const std::vector<WalkEntry>& walks() const { return walks_; }
  TlbStats& stats() { return stats_; }
  void Clear() {
    leaves_.clear();
    walks_.clear();
  }

 private:
  TlbConfig cfg_;
  Asid current_ = 0;
  uint64_t clock_ = 0;
  std::vector<LeafEntry> leaves_;
  std::vector<WalkEntry> walks_;
  TlbStats stats_;
};

std::string DescribeLeaf(const LeafEntry& e);
std::string DescribeWalk(const WalkEntry& e);

// ---------------------------------------------------------------------------
// The architectures' invalidation instructions, each with the manual's
// required effect. VAs are canonical; a "page" operand is any address in the
// page.

namespace x86 {
// INVLPG (SDM Vol. 3A §4.10.4.1): TLB entries for the page in the current
// PCID, global entries for the page whatever their PCID (§4.10.2.4), and
// every paging-structure-cache entry of the current PCID, for every VA.
void Invlpg(Tlb& t, Va va);
enum class InvpcidType : uint8_t { kAddress = 0, kSingleContext = 1, kAllIncludingGlobal = 2, kAllExceptGlobal = 3 };
// INVPCID (SDM Vol. 3A §4.10.4.1 and the INVPCID instruction page, Vol. 2A):
//   0 individual address: non-global entries of `pcid` for the page, and
//     every paging-structure-cache entry of `pcid`;
//   1 single context: every non-global entry and paging-structure-cache
//     entry of `pcid`;
//   2 all contexts including globals: everything;
//   3 all contexts except globals: every non-global entry and every
//     paging-structure-cache entry, all PCIDs.
void Invpcid(Tlb& t, InvpcidType type, Asid pcid, Va va = Va(0));
// MOV to CR3 (SDM Vol. 3A §4.10.4.1): switches to `pcid`; unless PCIDE=1 and
// bit 63 (NOFLUSH) is set, invalidates the non-global entries and every
// paging-structure-cache entry of the new PCID (PCID 000H without PCIDE).
void MovCr3(Tlb& t, Asid pcid, bool noflush);
// MOV to CR4 changing PGE (SDM Vol. 3A §4.10.4.1): invalidates every TLB and
// paging-structure-cache entry, global ones included, for every PCID. With
// PGE clear the G bit is ignored on fills (§4.10.2.4).
void SetCr4Pge(Tlb& t, bool pge);
}  // namespace x86

namespace arm {
// TLBI by VA, EL1 (Arm ARM (DDI 0487) D8 "TLB maintenance instructions",
// and the TLBI VAE1/VALE1/VAAE1/VAALE1 pages of DDI 0601, AArch64 System
// Instructions): an entry is affected
// when it translates the VA and is global or has the given ASID ("by VA":
// VAE1, VALE1) or whatever its ASID ("all ASIDs": VAAE1, VAALE1). The
// last-level forms (VALE1, VAALE1) need only remove cached copies of the
// last-level entry: cached table entries from other levels may stay.
void TlbiVae1(Tlb& t, Asid asid, Va va);
void TlbiVale1(Tlb& t, Asid asid, Va va);
void TlbiVaae1(Tlb& t, Va va);
void TlbiVaale1(Tlb& t, Va va);
// TLBI ASIDE1 (Arm ARM D8; the TLBI ASIDE1 page of DDI 0601): every
// non-global entry with the ASID, at every level; global entries stay.
void TlbiAside1(Tlb& t, Asid asid);
// TLBI VMALLE1 (Arm ARM D8; the TLBI VMALLE1 page of DDI 0601): every
// stage 1 EL1&0 entry of the current VMID, global or not, every ASID (one
// VMID here).
void TlbiVmalle1(Tlb& t);
// Writing TTBR0_EL1 with a new ASID: no invalidation (Arm ARM D8, ASIDs:
// entries are tagged, so a switch needs none).
void SetTtbrAsid(Tlb& t, Asid asid);
}  // namespace arm

namespace riscv {
// SFENCE.VMA rs1, rs2 (RISC-V privileged spec, "Supervisor Memory-Management
// Fence Instruction", §12.2.1 in the 2024 edition):
//   rs1=x0, rs2=x0: every entry, every ASID, global ones included, every level;
//   rs1=x0, rs2=a : every entry for ASID a, every level, except global mappings;
//   rs1=va, rs2=x0: only leaf entries for va, every ASID, global ones included;
//   rs1=va, rs2=a : only leaf entries for va in ASID a, except global mappings.
// With rs1 != x0 only leaf PTEs are covered: a changed non-leaf PTE needs
// rs1 = x0 (the spec's commentary says so explicitly).
void SfenceVma(Tlb& t, std::optional<Va> rs1, std::optional<Asid> rs2);
// Writing satp with a new ASID: no invalidation (§12.1.11 satp).
void SetSatpAsid(Tlb& t, Asid asid);
}  // namespace riscv

namespace vtd {
// IOTLB invalidation (Intel VT-d spec rev 4.x §6.5.1.2 "IOTLB Invalidation",
// §6.5.2.3 "IOTLB Invalidate Descriptor"): global: everything; domain-
// selective: every IOTLB and paging-structure-cache entry of the domain;
// page-selective-within-domain: IOTLB entries of the domain for the 2^am
// pages at `addr` (aligned to them), and with IH=0 also the paging-
// structure-cache entries for those mappings; IH=1 says no non-leaf entry
// changed, so hardware may keep them.
void IotlbGlobal(Tlb& t);
void IotlbDomain(Tlb& t, Asid did);
void IotlbPage(Tlb& t, Asid did, Va addr, unsigned am, bool ih);
}  // namespace vtd

namespace amd {
// INVALIDATE_IOMMU_PAGES (AMD IOMMU spec 48882 rev 3.x §2.4.3): the
// domain's cached translations for the address range (S=0: one 4 KiB page;
// S=1: a naturally aligned power-of-two range encoded by the lowest clear
// bit of the address, all ones = every page); PDE=1 also removes the cached
// page-directory (non-leaf) entries for that range, PDE=0 only leaf ones.
void InvalidatePages(Tlb& t, Asid domain, uint64_t address, bool s, bool pde);
}  // namespace amd

}  // namespace ptsim::hw

#endif  // PTSIM_HW_TLB_H_
