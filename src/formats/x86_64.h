// x86-64 4-level and 5-level paging.
//
// Intel SDM Vol. 3A, §4.5 "4-Level Paging and 5-Level Paging": Table 4-14
// (PML5E), 4-15 (PML4E), 4-16 (PDPTE mapping a 1-GByte page), 4-17 (PDPTE
// referencing a page directory), 4-18 (PDE mapping a 2-MByte page), 4-19
// (PDE referencing a page table), 4-20 (PTE mapping a 4-KByte page); §4.6
// (access rights), §4.8 (accessed and dirty flags). AMD APM Vol. 2 §5.3
// describes the same layout.
//
//   ptsim level | 4-level name | 5-level name | one entry maps
//   4           |              | PML5         | 256 TiB
//   3           | PML4         | PML4         | 512 GiB
//   2           | PDPT         | PDPT         | 1 GiB (leaf if PS=1)
//   1           | PD           | PD           | 2 MiB (leaf if PS=1)
//   0           | PT           | PT           | 4 KiB
//
// Protection keys (bits 62:59, x86_flags.h), SMEP, SMAP and CR0.WP are the
// architecture's rules (src/hw/x86.h). Not modelled: PAT/PCD/PWT memory
// types.
#ifndef PTSIM_FORMATS_X86_64_H_
#define PTSIM_FORMATS_X86_64_H_

#include <string_view>

#include "src/formats/x86_flags.h"
#include "src/pt/format.h"

namespace ptsim::fmt {

template <int kLevels>
class X86_64 {
  static_assert(kLevels == 4 || kLevels == 5);

 public:
  using Raw = uint64_t;
  static constexpr std::string_view kName = kLevels == 4 ? "x86_64_4level" : "x86_64_5level";
  static constexpr unsigned kEntryLg2 = 3;
  static constexpr ConfigKnob kKnobs[] = {
      {"maxphyaddr", 32, 52, 52, "MAXPHYADDR: output address bits; higher address bits are reserved"},
      {"nxe", 0, 1, 1, "IA32_EFER.NXE: bit 63 is XD; when 0 bit 63 is reserved"},
      {"pdpe1gb", 0, 1, 1, "CPUID 1-GByte pages: PS=1 in a PDPTE maps 1 GiB; when 0 it is reserved"},
  };
  static constexpr NamedBit kNamedBits[] = {
      {"present", 0}, {"write", 1},    {"user", 2},   {"pwt", 3},          {"pcd", 4},
      {"accessed", 5}, {"dirty", 6},   {"global", 8}, {"nx", 63, true},
  };

  explicit X86_64(const FormatConfig& cfg)
      : oa_bits_(static_cast<unsigned>(cfg.Get(0))),
        nxe_(cfg.Get(1) != 0),
        gb_pages_(cfg.Get(2) != 0),
        oa_mask_(AddrBits::kMask & LowMask(oa_bits_)),
        rsvd_mask_(x86::ReservedAddrBits(oa_bits_) | (nxe_ ? 0 : Xd::kMask)),
        xd_mask_(nxe_ ? Xd::kMask : 0) {}

  Level TopLevel() const { return Level(kLevels - 1); }
  unsigned VaBits() const { return 12 + 9 * kLevels; }
  unsigned OaBits() const { return oa_bits_; }
  VaExtension VaExt() const { return VaExtension::kSign; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"PT", "PD", "PDPT", "PML4", "PML5"};
    return kNames[l.value()];
  }
  unsigned IndexLg2(Level) const { return 9; }
  unsigned ItemLg2(Level l) const { return 12 + 9 * static_cast<unsigned>(l.value()); }
  bool CanLeaf(Level l) const { return l.value() <= 1 || (l.value() == 2 && gb_pages_); }
  bool CanTable(Level l) const { return l.value() >= 1; }

  EntryKind Classify(Raw raw, Level l) const {
    if (!P::Test(raw)) return EntryKind::kEmpty;
    // §4.5.4 / Tables 4-14..4-20: bits M..51 are reserved at every level,
    // and bit 63 when EFER.NXE = 0.
    if ((raw & rsvd_mask_) != 0) return EntryKind::kInvalid;
    if (l.value() == 0) return EntryKind::kLeaf;
    if (!Ps::Test(raw)) return EntryKind::kTable;
    // PS is reserved in PML4Es and PML5Es, and in PDPTEs without 1-GByte pages.
    if (!CanLeaf(l)) return EntryKind::kInvalid;
    // A large page's address bits below its alignment (other than PAT at
    // bit 12) are reserved: a misaligned superpage faults.
    const uint64_t low = raw & LowMask(ItemLg2(l)) & ~LowMask(13);
    return low == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(raw & oa_mask_); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(raw & oa_mask_ & ~LowMask(ItemLg2(l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs::Of(true, Rw::Test(raw), (raw & xd_mask_) == 0, Us::Test(raw), G::Test(raw), A::Test(raw),
                         D::Test(raw));
  }
  // §4.6.1: R/W, U/S and XD in every paging-structure entry restrict the
  // access rights of everything below it.
  TableRestrictions Restrictions() const {
    return {.allow_write = Rw::kMask, .allow_user = Us::kMask, .deny_exec = xd_mask_};
  }
  Raw EncodeTable(Level, Oa table) const { return x86::TableFlags<Raw>() | (table.value() & AddrBits::kMask); }
  Raw EncodeLeaf(Level l, Oa oa, LeafAttrs a) const {
    Raw r = x86::LeafFlags<Raw>(a, l.value() > 0);
    if (nxe_) r = Xd::Put(r, !a.Has(Attr::kExec));
    return r | (oa.value() & AddrBits::kMask);
  }
  LeafAttrs Canonical(LeafAttrs a) const {
    a = a.With(Attr::kRead);
    return nxe_ ? a : a.With(Attr::kExec);
  }
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
  using Xd = Bit<63>;
  using AddrBits = x86::Addr52;

  unsigned oa_bits_;
  bool nxe_;
  bool gb_pages_;
  // Derived once: the walk tests them on every entry.
  uint64_t oa_mask_;    // address bits 51:12 below MAXPHYADDR
  uint64_t rsvd_mask_;  // bits MAXPHYADDR..51, and XD when NXE is off
  uint64_t xd_mask_;    // XD when NXE is on, else nothing
};

using X86_64L4 = X86_64<4>;
using X86_64L5 = X86_64<5>;
static_assert(PageTableFormat<X86_64L4>);
static_assert(PageTableFormat<X86_64L5>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_X86_64_H_
