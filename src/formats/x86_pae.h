// x86 PAE paging: three levels of 8-byte entries over a 32-bit linear
// address, 4 KiB and 2 MiB pages, output addresses up to MAXPHYADDR.
//
// Intel SDM Vol. 3A, §4.4 "PAE Paging": §4.4.1 (the PDPTE registers),
// Table 4-7 (PDPTE), 4-8 (PDE mapping a 2-MByte page), 4-9 (PDE referencing
// a page table), 4-10 (PTE mapping a 4-KByte page); §4.6 (access rights),
// §4.8 (accessed and dirty flags).
//
//   ptsim level | SDM name | entries | one entry maps
//   2           | PDPT     | 4       | 1 GiB (never a leaf)
//   1           | PD       | 512     | 2 MiB (leaf if PS=1)
//   0           | PT       | 512     | 4 KiB
//
// The PDPT is 4 x 8 = 32 bytes and only 32-byte aligned: CR3 bits 31:5
// locate it (§4.4.1), so it need not start a page. PDPTEs are a different
// layout from PDEs (Table 4-7): only P, PWT, PCD and the address are
// defined; bits 2:1 and 8:5 are reserved, so there is no R/W, U/S, A or PS,
// and bits 63:M are reserved whatever IA32_EFER.NXE says. PDEs and PTEs
// have the 64-bit-paging flag layout, except that bits 62:M are reserved
// (4-level paging ignores 62:52) and there are no protection keys.
//
// Restrictions: hardware honours R/W, U/S and XD in a PDE that references a
// page table (§4.6.1), and a PDPTE restricts nothing (it has no such bits:
// 2:1 are reserved, 63 is reserved). Restrictions() states the PDE rule;
// RestrictingBits() hands the walk a PDPTE with R/W and U/S forced on, so
// the PDPTE on every path neither denies nor needs them.
//
// SMEP, SMAP and CR0.WP are the architecture's rules (src/hw/x86.h, with
// the CPU mode of src/hw/x86_mode.h), not the neutral walk's. Not modelled:
// PAT/PCD/PWT memory types, CR4.PGE; the PDPTE registers themselves (hardware
// loads the four PDPTEs when CR3 is written and faults reserved bits there
// with #GP, where ptsim rereads them on every walk and reports a reserved
// fault at level 2); the PDPT itself must lie below 4 GiB (CR3 is 32 bits
// wide), which no format member can state.
#ifndef PTSIM_FORMATS_X86_PAE_H_
#define PTSIM_FORMATS_X86_PAE_H_

#include <string_view>

#include "src/formats/x86_flags.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

class X86Pae {
 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = "x86_pae";
  static constexpr unsigned kEntryLg2 = 3;
  static constexpr ConfigKnob kKnobs[] = {
      {"maxphyaddr", 32, 52, 52, "MAXPHYADDR: output address bits; higher address bits are reserved"},
      {"nxe", 0, 1, 1, "IA32_EFER.NXE: bit 63 of a PDE/PTE is XD; when 0 it is reserved"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"present", 0}, {"write", 1},    {"user", 2},   {"pwt", 3},          {"pcd", 4},
      {"accessed", 5}, {"dirty", 6},   {"global", 8}, {"nx", 63, true},
  };

  explicit X86Pae(const FormatConfig& cfg)
      : oa_bits_(static_cast<unsigned>(cfg.Get(0))),
        nxe_(cfg.Get(1) != 0),
        oa_mask_(AddrBits::kMask & LowMask(oa_bits_)),
        // Table 4-7: bits 63:M of a PDPTE, XD position included.
        pdpte_rsvd_mask_(PdpteRsvdLow::kMask | PdpteRsvdMid::kMask | ~LowMask(oa_bits_)),
        // Tables 4-8..4-10: bits 62:M, and bit 63 too when NXE is off.
        rsvd_mask_((~LowMask(oa_bits_) & ~Xd::kMask) | (nxe_ ? 0 : Xd::kMask)),
        xd_mask_(nxe_ ? Xd::kMask : 0) {}

  Level TopLevel() const { return Level(2); }
  unsigned VaBits() const { return 32; }
  unsigned OaBits() const { return oa_bits_; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"PT", "PD", "PDPT"};
    return kNames[l.value()];
  }
  // Linear-address bits 31:30 pick one of four PDPTEs (§4.4.1); 29:21 and
  // 20:12 index the 512-entry PD and PT.
  unsigned IndexLg2(Level l) const { return l.value() == 2 ? 2 : 9; }
  unsigned ItemLg2(Level l) const { return 12 + 9 * static_cast<unsigned>(l.value()); }
  // Table 4-7 has no PS bit: a PDPTE always references a page directory.
  bool CanLeaf(Level l) const { return l.value() <= 1; }
  bool CanTable(Level l) const { return l.value() >= 1; }

  EntryKind Classify(Raw raw, Level l) const {
    if (!P::Test(raw)) return EntryKind::kEmpty;
    if (l.value() == 2) return (raw & pdpte_rsvd_mask_) == 0 ? EntryKind::kTable : EntryKind::kInvalid;
    if ((raw & rsvd_mask_) != 0) return EntryKind::kInvalid;
    if (l.value() == 0) return EntryKind::kLeaf;
    if (!Ps::Test(raw)) return EntryKind::kTable;
    // Table 4-8: bit 12 of a 2 MiB PDE is PAT, bits 20:13 are reserved.
    return Rsvd2M::Get(raw) == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(raw & oa_mask_); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(raw & oa_mask_ & ~LowMask(ItemLg2(l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(true, Rw::Test(raw), (raw & xd_mask_) == 0, Us::Test(raw), G::Test(raw), A::Test(raw),
                         D::Test(raw));
  }
  // §4.6.1: R/W and U/S must be set in every table PDE on the path, and XD
  // set in any forbids fetches below it.
  TableRestrictions Restrictions() const {
    return {.allow_write = Rw::kMask, .allow_user = Us::kMask, .deny_exec = xd_mask_};
  }
  // Table 4-7: a PDPTE carries no access controls, so it counts as allowing
  // write and user (its reserved bit 63 is never set in a valid PDPTE).
  uint64_t RestrictingBits(Raw raw, Level l) const { return l.value() == 2 ? raw | Rw::kMask | Us::kMask : raw; }
  // Table 4-7: a PDPTE is P and the address, nothing else (bits 2:1 must be
  // 0). Table 4-9: a table PDE allows everything below it.
  Raw EncodeTable(Level l, Oa table) const {
    const Raw flags = l.value() == 1 ? x86::TableFlags<Raw>() : P::Put(Raw{0}, true);
    return flags | (table.value() & AddrBits::kMask);
  }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    Raw r = x86::LeafFlags<Raw>(a, l.value() == 1);
    if (nxe_) r = Xd::Put(r, !a.Has(Attr::kExec));
    return r | (oa.value() & AddrBits::kMask);
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    a = a.With(Attr::kRead);
    return nxe_ ? a : a.With(Attr::kExec);
  }
  // §4.8: the processor sets A in every PDE and PTE it uses, and D in the
  // entry that maps the page on a write. PDPTEs have no A flag (bit 5 is
  // reserved in Table 4-7): setting it would make the PDPTE invalid.
  Raw MarkAccessed(Raw raw, Level l, bool write) const {
    if (l.value() == 2) return raw;
    return x86::MarkAccessed(raw, Classify(raw, l) == EntryKind::kLeaf, write);
  }

 private:
  using P = x86::P;
  using Rw = x86::Rw;
  using Us = x86::Us;
  using A = x86::A;
  using D = x86::D;
  using Ps = x86::Ps;
  using G = x86::G;
  using Xd = Bit<63>;
  using AddrBits = Field<51, 12>;
  using PdpteRsvdLow = Field<2, 1>;  // where a PDE has R/W and U/S
  using PdpteRsvdMid = Field<8, 5>;  // where a PDE has A, D, PS and G
  using Rsvd2M = Field<20, 13>;

  unsigned oa_bits_;
  bool nxe_;
  // Derived once: the walk tests them on every entry.
  uint64_t oa_mask_;          // address bits M-1:12
  uint64_t pdpte_rsvd_mask_;  // bits 2:1, 8:5 and 63:M of a PDPTE
  uint64_t rsvd_mask_;        // bits 62:M of a PDE or PTE, and XD when NXE is off
  uint64_t xd_mask_;          // XD when NXE is on, else nothing
};

static_assert(PageTableFormat<X86Pae>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_X86_PAE_H_
