// x86 32-bit paging: two levels of 4-byte entries, 4 KiB and 4 MiB pages.
//
// Intel SDM Vol. 3A, §4.3 "32-Bit Paging": Figure 4-4 (formats of CR3 and
// the paging-structure entries), Table 4-4 (PDE mapping a 4-MByte page),
// 4-5 (PDE referencing a page table), 4-6 (PTE mapping a 4-KByte page);
// §4.6 (access rights), §4.8 (accessed and dirty flags).
//
//   ptsim level | SDM name | entries | one entry maps
//   1           | PD       | 1024    | 4 MiB (leaf if CR4.PSE=1 and PS=1)
//   0           | PT       | 1024    | 4 KiB
//
// PSE-36 (Table 4-4): a 4 MiB PDE keeps physical address bits 31:22 in
// place and carries bits 39:32 in its bits 20:13, because the entry is only
// 32 bits wide. With M = MAXPHYADDR, bits (M-20):13 hold address bits
// (M-1):32 and bits 21:(M-19) are reserved. Without PSE-36, bits 21:13 are
// all reserved. Page tables and 4 KiB pages always lie below 4 GiB (bits
// 31:12 of the entry, Tables 4-5 and 4-6).
//
// 32-bit paging has no execute-disable bit: every mapping is executable.
// PTEs and PDEs that reference a page table have no reserved bits at all;
// only a 4 MiB PDE can be malformed.
//
// SMEP, SMAP and CR0.WP are the architecture's rules (src/hw/x86.h). Not
// modelled: PAT/PCD/PWT memory types, CR4.PGE (G is decoded as written),
// CR3 flags.
#ifndef PTSIM_FORMATS_X86_32_H_
#define PTSIM_FORMATS_X86_32_H_

#include <string_view>

#include "src/formats/x86_flags.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

class X86_32 {
 public:
  using Raw = uint32_t;
  static constexpr std::string_view kName = "x86_32";
  static constexpr unsigned kEntryLg2 = 2;
  static constexpr ConfigKnob kKnobs[] = {
      {"pse", 0, 1, 1, "CR4.PSE: PS=1 in a PDE maps a 4 MiB page; when 0 PS is ignored"},
      {"pse36", 0, 1, 1, "CPUID PSE-36: 4 MiB PDE bits 20:13 hold OA bits 39:32; when 0 they are reserved"},
      {"maxphyaddr", 32, 40, 40, "MAXPHYADDR with PSE-36: higher 4 MiB address bits are reserved"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"present", 0}, {"write", 1},    {"user", 2},  {"pwt", 3},
      {"pcd", 4},     {"accessed", 5}, {"dirty", 6}, {"global", 8},
  };

  explicit X86_32(const FormatConfig& cfg)
      : pse_(cfg.Get(0) != 0),
        pse36_(cfg.Get(1) != 0),
        // Without PSE-36 no entry can name an address above 4 GiB, whatever
        // MAXPHYADDR the processor reports.
        oa_bits_(pse36_ ? static_cast<unsigned>(cfg.Get(2)) : 32) {}

  Level TopLevel() const { return Level(1); }
  unsigned VaBits() const { return 32; }
  unsigned OaBits() const { return oa_bits_; }
  // Table 4-6: a PTE holds physical address bits 31:12 only; the wider
  // address of PSE-36 exists only in 4 MiB PDEs (Table 4-4). With pse=0
  // no 4 MiB leaf exists, so 32 bits are all any leaf can reach.
  unsigned LeafOaBits(Level l) const { return l.value() == 1 && pse_ ? oa_bits_ : 32; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  std::string_view LevelName(Level l) const { return l.value() == 1 ? "PD" : "PT"; }
  unsigned IndexLg2(Level) const { return 10; }
  unsigned ItemLg2(Level l) const { return 12 + 10 * static_cast<unsigned>(l.value()); }
  bool CanLeaf(Level l) const { return l.value() == 0 || pse_; }
  bool CanTable(Level l) const { return l.value() == 1; }

  EntryKind Classify(Raw raw, Level l) const {
    if (!P::Test(raw)) return EntryKind::kEmpty;
    if (l.value() == 0) return EntryKind::kLeaf;
    // Table 4-5: with CR4.PSE = 0 bit 7 is ignored, so the PDE still
    // references a page table.
    if (!pse_ || !Ps::Test(raw)) return EntryKind::kTable;
    // Table 4-4: the reserved bits of a 4 MiB PDE depend on PSE-36 and M.
    if (!pse36_) return Rsvd4MNoPse36::Get(raw) == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
    if (Rsvd4M::Test(raw)) return EntryKind::kInvalid;
    return (HighOa(raw) & ~LowMask(oa_bits_)) == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(Addr4K::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const {
    if (l.value() == 0) return Oa(Addr4K::InPlace(raw));
    // Figure 4-3: the address is reassembled from two non-contiguous
    // pieces. The mask drops bits a kLeaf cannot have (all of 39:32
    // without PSE-36, where oa_bits_ is 32).
    return Oa((Addr4M::InPlace(raw) | HighOa(raw)) & LowMask(oa_bits_));
  }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs()
        .With(Attr::kRead)
        .With(Attr::kWrite, Rw::Test(raw))
        .With(Attr::kExec)
        .With(Attr::kUser, Us::Test(raw))
        .With(Attr::kGlobal, G::Test(raw))
        .With(Attr::kAccessed, A::Test(raw))
        .With(Attr::kDirty, D::Test(raw));
  }
  // §4.6.1: R/W and U/S of the PDE restrict the whole 4 MiB region below it.
  // There is no XD bit, so nothing restricts instruction fetches.
  TableRestrictions Restrictions() const { return {.allow_write = Rw::kMask, .allow_user = Us::kMask}; }
  Raw EncodeTable(Level, Oa table) const {
    return Addr4K::Set(x86::TableFlags<Raw>(), Addr4K::Get(table.value()));
  }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    Raw r = x86::LeafFlags<Raw>(a, l.value() == 1);
    if (l.value() == 0) return Addr4K::Set(r, Addr4K::Get(oa.value()));
    r = Addr4M::Set(r, Addr4M::Get(oa.value()));
    // Bits 39:32 of the address move down to bits 20:13 (zero below 4 GiB,
    // so this is a no-op without PSE-36 for any OA under OaBits()).
    return Pse36Addr::Set(r, OaHigh::Get(oa.value()));
  }
  LeafAttrs Canonical(LeafAttrs a) const { return a.With(Attr::kRead).With(Attr::kExec); }
  Raw MarkAccessed(Raw raw, Level l, bool write) const {
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
  // Page-table address in a PDE, page address in a PTE: OA bits 31:12 in place.
  using Addr4K = Field<31, 12>;
  // A 4 MiB PDE: OA bits 31:22 in place, OA bits 39:32 at bits 20:13, and
  // bit 21 reserved (with PSE-36) or bits 21:13 reserved (without).
  using Addr4M = Field<31, 22>;
  using Pse36Addr = Field<20, 13>;
  using Rsvd4M = Bit<21>;
  using Rsvd4MNoPse36 = Field<21, 13>;
  // Not an entry field: the bits of an output address that PSE-36 relocates.
  using OaHigh = Field<39, 32>;

  // OA bits 39:32 of a 4 MiB PDE, back in their place in the address.
  static uint64_t HighOa(Raw raw) { return OaHigh::Set(uint64_t{0}, Pse36Addr::Get(raw)); }

  bool pse_;
  bool pse36_;
  unsigned oa_bits_;
};

static_assert(PageTableFormat<X86_32>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_X86_32_H_
