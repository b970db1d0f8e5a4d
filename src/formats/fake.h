// `fake`: a format no hardware has, with geometry chosen to break generic
// code that quietly assumes x86 (in the spirit of Hafnium's fake arch):
//
//   level | entries | table bytes | one entry maps | leaf?
//   2     | 32      | 128         | 512 KiB        | yes
//   1     | 8       | 32          | 64 KiB         | no (must descend)
//   0     | 64      | 256         | 1 KiB          | yes
//
// 4-byte entries, a 24-bit sign-extended VA, 32-byte tables (the smallest
// the allocator serves), a level that cannot hold leaves between two that
// can, and an inverted permission bit (supervisor-only).
//
// Entry layout (32 bits):
//   bit 0  valid      bit 1  leaf (0 = table)
//   leaf:  bit 2 write, bit 3 supervisor-only, bit 4 exec, bit 5 accessed,
//          bit 6 dirty, bit 7 global, bits 31:10 OA[31:10]
//   table: bit 2 write allowed below, bit 3 supervisor-only below,
//          bit 4 exec allowed below, bits 31:5 table OA[31:5]
#ifndef PTSIM_FORMATS_FAKE_H_
#define PTSIM_FORMATS_FAKE_H_

#include <array>
#include <string_view>

#include "src/pt/format.h"

namespace ptsim::fmt {

class Fake {
 public:
  using Raw = uint32_t;
  static constexpr std::string_view kName = "fake";
  static constexpr unsigned kEntryLg2 = 2;
  static constexpr std::array<ConfigKnob, 0> kKnobs{};
  static constexpr NamedBit kNamedBits[] = {
      {"valid", 0}, {"leaf", 1},     {"write", 2},  {"supervisor", 3, true},
      {"exec", 4},  {"accessed", 5}, {"dirty", 6},  {"global", 7},
  };

  explicit Fake(const FormatConfig&) {}

  Level TopLevel() const { return Level(2); }
  unsigned VaBits() const { return 24; }
  unsigned OaBits() const { return 32; }
  VaExtension VaExt() const { return VaExtension::kSign; }
  std::string_view LevelName(Level l) const {
    constexpr std::string_view kNames[] = {"F0", "F1", "F2"};
    return kNames[l.value()];
  }
  unsigned IndexLg2(Level l) const {
    constexpr unsigned kIdx[] = {6, 3, 5};
    return kIdx[l.value()];
  }
  unsigned ItemLg2(Level l) const {
    constexpr unsigned kItem[] = {10, 16, 19};
    return kItem[l.value()];
  }
  bool CanLeaf(Level l) const { return l.value() != 1; }
  bool CanTable(Level l) const { return l.value() > 0; }

  EntryKind Classify(Raw raw, Level l) const {
    if (!Valid::Test(raw)) return EntryKind::kEmpty;
    if (!IsLeaf::Test(raw)) return CanTable(l) ? EntryKind::kTable : EntryKind::kInvalid;
    if (!CanLeaf(l)) return EntryKind::kInvalid;
    return (raw & LowMask(ItemLg2(l)) & ~LowMask(10)) == 0 ? EntryKind::kLeaf : EntryKind::kInvalid;
  }
  Oa TableOa(Raw raw, Level) const { return Oa(TableAddr::InPlace(raw)); }
  Oa LeafOa(Raw raw, Level l) const { return Oa(LeafAddr::InPlace(raw) & ~LowMask(ItemLg2(l))); }
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs()
        .With(Attr::kRead)
        .With(Attr::kWrite, Write::Test(raw))
        .With(Attr::kUser, !Supervisor::Test(raw))
        .With(Attr::kExec, Exec::Test(raw))
        .With(Attr::kAccessed, Accessed::Test(raw))
        .With(Attr::kDirty, Dirty::Test(raw))
        .With(Attr::kGlobal, Global::Test(raw));
  }
  TableRestrictions Restrictions() const {
    return {.allow_write = Write::kMask, .allow_exec = Exec::kMask, .deny_user = Supervisor::kMask};
  }
  Raw EncodeTable(Level, Oa table) const {
    Raw r = Valid::Put(Raw{0}, true);
    r = Write::Put(r, true);
    r = Exec::Put(r, true);
    return r | static_cast<Raw>(table.value() & TableAddr::kMask);
  }
  Raw EncodeLeaf(Level, Oa oa, LeafAttrs a) const {
    Raw r = IsLeaf::Put(Valid::Put(Raw{0}, true), true);
    r = Write::Put(r, a.Has(Attr::kWrite));
    r = Supervisor::Put(r, !a.Has(Attr::kUser));
    r = Exec::Put(r, a.Has(Attr::kExec));
    r = Accessed::Put(r, a.Has(Attr::kAccessed));
    r = Dirty::Put(r, a.Has(Attr::kDirty));
    r = Global::Put(r, a.Has(Attr::kGlobal));
    return r | static_cast<Raw>(oa.value() & LeafAddr::kMask);
  }
  LeafAttrs Canonical(LeafAttrs a) const { return a.With(Attr::kRead); }
  Raw MarkAccessed(Raw raw, Level l, bool write) const {
    if (Classify(raw, l) != EntryKind::kLeaf) return raw;
    raw = Accessed::Put(raw, true);
    return write ? Dirty::Put(raw, true) : raw;
  }

 private:
  using Valid = Bit<0>;
  using IsLeaf = Bit<1>;
  using Write = Bit<2>;
  using Supervisor = Bit<3>;
  using Exec = Bit<4>;
  using Accessed = Bit<5>;
  using Dirty = Bit<6>;
  using Global = Bit<7>;
  using LeafAddr = Field<31, 10>;
  using TableAddr = Field<31, 5>;
};

static_assert(PageTableFormat<Fake>);

}  // namespace ptsim::fmt

#endif  // PTSIM_FORMATS_FAKE_H_
