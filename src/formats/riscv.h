// RISC-V Sv32, Sv39, Sv48 and Sv57 page-based virtual memory.
//
// The RISC-V Instruction Set Manual, Volume II: Privileged Architecture,
// chapter "Supervisor-Level ISA", sections by name:
//   * "Sv32: Page-Based 32-bit Virtual-Memory Systems": "Addressing and
//     Memory Protection" (the PTE format, the R/W/X encodings, the non-leaf
//     rules for D, A, U and G) and "Virtual Address Translation Process"
//     (the 8-step algorithm; steps cited below as "step n");
//   * "Sv39: Page-Based 39-bit Virtual-Memory System", "Sv48: Page-Based
//     48-bit Virtual-Memory System" and "Sv57: Page-Based 57-bit
//     Virtual-Memory System": the wider PTE, PPN split and superpages, and
//     the rule that bits 63:39 (63:48, 63:57) of a VA equal bit 38 (47, 56);
//   * the Svadu/Svade discussion of the A and D bits: step 7, the PTE
//     text on A/D under "Sv32", and the chapter '"Svadu" Extension for
//     Hardware Updating of A/D Bits' (menvcfg.ADUE; when hardware updating
//     is off, Svade's exceptions take effect);
//   * the chapter '"Svpbmt" Extension for Page-Based Memory Types' (the
//     PBMT field, its encodings, and the rule that it is reserved in
//     non-leaf PTEs) for the `svpbmt` knob;
//   * the chapter '"Svnapot" Extension for NAPOT Translation Contiguity'
//     (the N bit, the table of NAPOT encodings, the reserved ones, and the
//     rule that N is reserved in non-leaf PTEs) for the `svnapot` knob.
//
// Levels: the spec's walk index i runs from LEVELS-1 (the root, indexed by
// VPN[LEVELS-1]) down to 0, exactly as ptsim numbers levels, so ptsim level
// i is the table indexed by VPN[i]; LevelName prints that.
//
//   ptsim level | name   | Sv32 entry | Sv39 entry | Sv48 entry | Sv57 entry
//   4           | VPN[4] |            |            |            | 256 TiB
//   3           | VPN[3] |            |            | 512 GiB    | 512 GiB
//   2           | VPN[2] |            | 1 GiB      | 1 GiB      | 1 GiB
//   1           | VPN[1] | 4 MiB      | 2 MiB      | 2 MiB      | 2 MiB
//   0           | VPN[0] | 4 KiB      | 4 KiB      | 4 KiB      | 4 KiB
// Every level can hold a leaf ("any level of PTE may be a leaf PTE").
//
// PTE: V (0), R (1), W (2), X (3), U (4), G (5), A (6), D (7), RSW (9:8,
// ignored by hardware), PPN from bit 10: 31:10 in Sv32 (PPN[1] 31:20 and
// PPN[0] 19:10, a 34-bit physical address), 53:10 in Sv39/48/57 (a 56-bit
// physical address). The PPN is the physical address shifted right by 12,
// so the OA does not sit in place: it moves up by two bits.
//
// Classification (steps 3, 4 and 6):
//   V = 0                                 kEmpty
//   bits 63:54 nonzero (64-bit PTEs)      kInvalid: N (63) without Svnapot
//                                         and 60:54 are reserved
//                                         (page fault), and PBMT (62:61) is
//                                         reserved without Svpbmt; all raise
//                                         a page fault when set. With
//                                         svpbmt = 1, PBMT 1 (NC) and 2 (IO)
//                                         are legal in a leaf; 3 is reserved,
//                                         and any nonzero PBMT in a pointer
//                                         is reserved (Svpbmt chapter).
//                                         With svnapot = 1, N is legal in a
//                                         leaf at level 0 whose PPN[3:0] is
//                                         1000 (a 64 KiB NAPOT page); N with
//                                         any other PPN[3:0], in a leaf above
//                                         level 0, or in a pointer is
//                                         reserved (Svnapot chapter)
//   R = 0 and W = 1 (with any X)          kInvalid: reserved encoding
//   R = W = X = 0                         pointer: kTable, but kInvalid at
//                                         level 0 (step 4: i < 0 faults) or
//                                         with D, A or U set (reserved in
//                                         non-leaf PTEs)
//   otherwise                             leaf: kLeaf, but kInvalid at level
//                                         i > 0 when PPN[i-1:0] != 0 (step 6:
//                                         a misaligned superpage)
// The MMU reports kInvalid as a reserved fault; on hardware all of these
// are page faults, which ptsim splits from "not present" because software
// must never write them.
//
// Attributes: read R, write W, exec X, user U, global G, accessed A, dirty
// D, each its own bit. Two requests have no encoding and are canonicalised
// by adding R: write without read (R = 0, W = 1 is reserved), and none of
// R/W/X (that is a pointer, not a leaf). Execute-only (X alone) is a real
// leaf and stays as asked. D without W is legal and kept.
//
// There are no hierarchical permissions: a pointer carries no R/W/X/U, so
// Restrictions() is empty. G in a pointer makes everything below it global
// (a TLB matter, not a permission); it is neither written nor decoded.
//
// A/D (step 7): with Svadu (knob svadu = 1, the default) the walker sets A
// in the leaf it uses, and D on a store, atomically with the PTE it read;
// pointers have no A/D (the bits are reserved there), so they are never
// marked. With Svade (svadu = 0) hardware never writes a PTE:
// MarkAccessed returns the entry unchanged. Svade instead raises a page
// fault when A = 0, or D = 0 on a store; that fault is not modelled yet
// (it needs a fault hook in the MMU), so a walk with svadu = 0 succeeds and
// leaves A/D as they were.
//
// Svpbmt (knob svpbmt, 64-bit PTEs only; Sv32 has no PBMT field): PBMT
// picks a memory type (0 PMA, 1 NC, 2 IO) that overrides the PMA. LeafAttrs
// carries no memory type, so EncodeLeaf writes PBMT = 0 and DecodeAttrs
// ignores the field; what matters for a page-table simulator is that a
// legal PBMT is a leaf, a reserved one faults, and PBMT never leaks into
// the PPN (it sits above bit 53, outside the Ppn field).
//
// Svnapot (knob svnapot, 64-bit PTEs only): a 64 KiB page is a replicated
// leaf (pt/geometry.h) of the 16 aligned level-0 PTEs that cover it, each
// with N = 1 and PPN[3:0] = 1000 (the only NAPOT size the chapter defines;
// the hardware replaces those four PPN bits with VPN[0][3:0], so LeafOa
// clears them). The chapter asks for the 16 PTEs to agree in bits 5:0 and
// the PPN; EncodeReplica writes 16 identical PTEs, and hardware sets A and
// D in the one PTE a walk read, so A and D may differ between them. An
// inconsistent group is a programming error (one of the translations is
// used, unpredictably): CheckTree and ForEachLeaf report it. No
// break-before-make is required by the chapter for changing a NAPOT range
// into base pages, so a split rewrites the PTEs in ascending order; the
// chapter's advice to flush with SFENCE.VMA after the change is the
// Invalidator's business.
//
// The Svade A/D page fault, MXR and SUM, and the rule that S-mode never
// executes U = 1 pages and reads them only with SUM are the architecture's
// rules (src/hw/riscv.h, with the hart's mode of src/hw/riscv_mode.h); the
// neutral walk (Permits() in mmu.h) lets a supervisor access any user page,
// as x86 without SMAP/SMEP. Not modelled: the hypervisor's G-stage (Sv39x4
// ...) and PMP/PMA checks.
#ifndef PTSIM_FORMATS_RISCV_H_
#define PTSIM_FORMATS_RISCV_H_

#include <array>
#include <string_view>
#include <type_traits>

#include "src/formats/riscv_bits.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

template <int kLevels, typename RawT>
class RiscvSv {
  static constexpr bool kIs32 = std::is_same_v<RawT, uint32_t>;
  static_assert(kIs32 ? kLevels == 2 : (kLevels >= 3 && kLevels <= 5), "Sv32 has 2 levels; Sv39/48/57 3, 4, 5");

 public:
  using Raw = RawT;
  static constexpr std::string_view kName = kIs32          ? "riscv_sv32"
                                            : kLevels == 3 ? "riscv_sv39"
                                            : kLevels == 4 ? "riscv_sv48"
                                                           : "riscv_sv57";
  static constexpr unsigned kEntryLg2 = kIs32 ? 2 : 3;
  static constexpr ConfigKnob kSvaduKnob = {
      "svadu", 0, 1, 1, "menvcfg.ADUE: 1 = Svadu, hardware sets A (D on a store) in leaves; 0 = Svade, no writes"};
  static constexpr ConfigKnob kSvpbmtKnob = {
      "svpbmt", 0, 1, 0, "Svpbmt: PBMT (bits 62:61) 1 = NC and 2 = IO are legal in leaves; 0 = PBMT is reserved"};
  static constexpr ConfigKnob kSvnapotKnob = {
      "svnapot", 0, 1, 0, "Svnapot: N (bit 63) with PPN[3:0] = 1000 in 16 level-0 PTEs maps a 64 KiB page; 0 = N is reserved"};
  // Sv32 PTEs have no PBMT field and no N bit, so only the 64-bit modes
  // offer those knobs.
  static constexpr auto kKnobs = [] {
    if constexpr (kIs32) {
      return std::array{kSvaduKnob};
    } else {
      return std::array{kSvaduKnob, kSvpbmtKnob, kSvnapotKnob};
    }
  }();
  static constexpr NamedBit kNamedBits[] = {
      {"valid", 0}, {"read", 1},   {"write", 2},    {"exec", 3},
      {"user", 4},  {"global", 5}, {"accessed", 6}, {"dirty", 7},
  };

  explicit RiscvSv(const FormatConfig& cfg)
      : svadu_(cfg.Get(0) != 0),
        // Sv32 has no second or third knob; their slots are never read.
        svnapot_(!kIs32 && cfg.Get(2) != 0),
        reserved_mask_(kIs32 ? 0
                             : Reserved64::kMask & ~(cfg.Get(1) != 0 ? Pbmt::kMask : 0) &
                                   ~(svnapot_ ? N::kMask : 0)) {}

  Level TopLevel() const { return Level(kLevels - 1); }
  unsigned VaBits() const { return kPageLg2 + kIndexBits * kLevels; }
  unsigned OaBits() const { return kPageLg2 + Ppn::kWidth; }
  // Sv32 translates the whole 32-bit VA; the wider modes require bits
  // 63:VaBits to copy bit VaBits-1 ("Sv39", "Sv48", "Sv57" sections).
  VaExtension VaExt() const { return kIs32 ? VaExtension::kZero : VaExtension::kSign; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"VPN[0]", "VPN[1]", "VPN[2]", "VPN[3]", "VPN[4]"};
    return kNames[l.value()];
  }
  // A table is one 4 KiB page of PTEs: 1024 4-byte PTEs or 512 8-byte ones.
  unsigned IndexLg2(Level) const { return kIndexBits; }
  unsigned ItemLg2(Level l) const { return kPageLg2 + kIndexBits * static_cast<unsigned>(l.value()); }
  bool CanLeaf(Level) const { return true; }
  bool CanTable(Level l) const { return l.value() > 0; }

  EntryKind Classify(Raw raw, Level l) const {
    // Step 3: V = 0, the reserved R/W combination and reserved bits all
    // fault; only V = 0 means "nothing here".
    if (!V::Test(raw)) return EntryKind::kEmpty;
    if ((raw & reserved_mask_) != 0) return EntryKind::kInvalid;
    if (!R::Test(raw) && W::Test(raw)) return EntryKind::kInvalid;
    // Only reachable with svpbmt = 1 (reserved_mask_ covers PBMT otherwise):
    // encoding 3 is reserved for future standard use.
    if (Pbmt::Get(raw) == kPbmtReserved) return EntryKind::kInvalid;
    if (!R::Test(raw) && !X::Test(raw)) {
      // Step 4: a pointer. At i = 0 there is no next level; D, A and U are
      // reserved in non-leaf PTEs, and so are PBMT (Svpbmt chapter) and N
      // (Svnapot chapter).
      if (l.IsBottom()) return EntryKind::kInvalid;
      if (D::Test(raw) || A::Test(raw) || U::Test(raw) || Pbmt::Get(raw) != 0 || N::Test(raw)) {
        return EntryKind::kInvalid;
      }
      return EntryKind::kTable;
    }
    // Only reachable with svnapot = 1: the one defined NAPOT encoding is a
    // level-0 leaf with PPN[3:0] = 1000; every other is reserved.
    if (N::Test(raw)) {
      return l.IsBottom() && NapotLow::Get(raw) == kNapot64K ? EntryKind::kLeaf : EntryKind::kInvalid;
    }
    // Step 6: a superpage's PPN[i-1:0] must be zero. Those PPN fields sit
    // right above bit 10, one stride each, for every mode.
    const uint64_t low_ppn = Ppn::InPlace(raw) & LowMask(Ppn::kLo + kIndexBits * static_cast<unsigned>(l.value()));
    return low_ppn == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  // Step 4: a = pte.ppn * PAGESIZE.
  Oa TableOa(Raw raw, Level) const { return Oa(Ppn::Get(raw) << kPageLg2); }
  // Step 8: pa.ppn[i-1:0] come from the VA, so the leaf's base drops them;
  // a NAPOT PTE's PPN[3:0] come from VPN[0][3:0] too.
  Oa LeafOa(Raw raw, Level l) const { return Oa((Ppn::Get(raw) << kPageLg2) & ~LowMask(LeafSizeLg2(raw, l))); }
  // Replicated leaves (pt/geometry.h): 64 KiB NAPOT pages.
  uint64_t ReplicatedSizesLg2(Level l) const { return svnapot_ && l.IsBottom() ? uint64_t{1} << kNapotLg2 : 0; }
  unsigned LeafSizeLg2(Raw raw, Level l) const { return N::Test(raw) ? kNapotLg2 : ItemLg2(l); }
  // All 16 PTEs are the same: N = 1, PPN[3:0] = 1000 over the 64 KiB base.
  Raw EncodeReplica(Level l, unsigned, Oa oa, LeafAttrs a, uint64_t) const {
    return N::Put(NapotLow::Set(EncodeLeaf(l, oa, a), kNapot64K), true);
  }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(R::Test(raw), W::Test(raw), X::Test(raw), U::Test(raw), G::Test(raw), A::Test(raw),
                         D::Test(raw));
  }
  // Non-leaf PTEs hold no permission bits at all.
  TableRestrictions Restrictions() const { return {}; }
  Raw EncodeTable(Level, Oa table) const {
    const Raw r = V::Put(Raw{0}, true);
    return Ppn::Set(r, table.value() >> kPageLg2);
  }
  // Goes through Canonical, so the result is never a pointer (R|W|X = 0)
  // nor the reserved W-without-R encoding.
  Raw EncodeLeaf(Level, Oa oa, LeafAttrs a) const {
    a = Canonical(a);
    Raw r = V::Put(Raw{0}, true);
    r = R::Put(r, a.Has(Attr::kRead));
    r = W::Put(r, a.Has(Attr::kWrite));
    r = X::Put(r, a.Has(Attr::kExec));
    r = U::Put(r, a.Has(Attr::kUser));
    r = G::Put(r, a.Has(Attr::kGlobal));
    r = A::Put(r, a.Has(Attr::kAccessed));
    r = D::Put(r, a.Has(Attr::kDirty));
    return Ppn::Set(r, oa.value() >> kPageLg2);
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    const bool any_access = a.Has(Attr::kRead) || a.Has(Attr::kWrite) || a.Has(Attr::kExec);
    if (a.Has(Attr::kWrite) || !any_access) a = a.With(Attr::kRead);
    return a;
  }
  // Step 7 with Svadu: A in the leaf, and D on a store. Pointers are left
  // alone: their A/D bits are reserved, and setting them would turn a good
  // pointer into a faulting one.
  Raw MarkAccessed(Raw raw, Level l, bool write) const {
    if (!svadu_ || Classify(raw, l) != EntryKind::kLeaf) return raw;
    raw = A::Put(raw, true);
    if (write) raw = D::Put(raw, true);
    return raw;
  }

 private:
  static constexpr unsigned kPageLg2 = 12;
  // VPN[i] and PPN[i] (below the top one) are 10 bits in Sv32, 9 otherwise.
  static constexpr unsigned kIndexBits = kIs32 ? 10 : 9;

  // Bit positions: src/formats/riscv_bits.h. In a 32-bit Raw, the 64-bit
  // fields (N, PBMT, bits 60:54) read as 0.
  using V = riscv_pte::V;
  using R = riscv_pte::R;
  using W = riscv_pte::W;
  using X = riscv_pte::X;
  using U = riscv_pte::U;
  using G = riscv_pte::G;
  using A = riscv_pte::A;
  using D = riscv_pte::D;
  using Rsw = riscv_pte::Rsw;
  using Ppn = std::conditional_t<kIs32, riscv_pte::Ppn32, riscv_pte::Ppn64>;
  using Reserved64 = riscv_pte::Reserved64;
  using Pbmt = riscv_pte::Pbmt;
  static constexpr uint64_t kPbmtReserved = 3;
  using N = riscv_pte::N;
  using NapotLow = riscv_pte::NapotLow;
  static constexpr uint64_t kNapot64K = 0b1000;
  static constexpr unsigned kNapotLg2 = 16;

  bool svadu_;
  bool svnapot_;
  uint64_t reserved_mask_;  // derived once: the walk tests it on every entry
};

using RiscvSv32 = RiscvSv<2, uint32_t>;
using RiscvSv39 = RiscvSv<3, uint64_t>;
using RiscvSv48 = RiscvSv<4, uint64_t>;
using RiscvSv57 = RiscvSv<5, uint64_t>;
static_assert(PageTableFormat<RiscvSv32>);
static_assert(PageTableFormat<RiscvSv39>);
static_assert(PageTableFormat<RiscvSv48>);
static_assert(PageTableFormat<RiscvSv57>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_RISCV_H_
