// The format concept: the one extension point of ptsim.
//
// A format is a class in one header under src/formats/ plus one line in
// src/formats/all_formats.h. An instance is the format with its runtime
// configuration (see config.h). Generic code (mmu/, ops/, the harness) is
// templated on the format, so a walk is inlined per format; the type-erased
// façade in src/any/any_format.h serves one fuzzer binary and one CLI for all.
//
// The contract of every member is written once, on ExampleFormat below,
// which is compiled and checked against the concept. Formats do not restate
// it. Derived helpers (indexing, canonical addresses, ...) are in geometry.h.
#ifndef PTSIM_PT_FORMAT_H_
#define PTSIM_PT_FORMAT_H_

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>

#include "src/base/addr.h"
#include "src/base/bits.h"
#include "src/pt/attrs.h"
#include "src/pt/config.h"
#include "src/pt/entry.h"
#include "src/pt/level.h"

namespace ptsim {

// How the untranslated top bits of a VA must look.
enum class VaExtension : uint8_t {
  kZero,  // upper bits zero (x86 32-bit, ARM TTBR0, RISC-V IOMMU-ish)
  kOnes,  // upper bits one (ARM TTBR1 half)
  kSign,  // sign-extension of bit VaBits()-1 (x86-64, RISC-V)
};

// A named raw bit, for printing entries and for `ptsim dump --json` attrs.
struct NamedBit {
  std::string_view name;
  unsigned bit;
  // True when the bit means "denied" (NX, XN); printed as-is, not inverted.
  bool negative = false;
};

template <typename F>
concept PageTableFormat =
    (std::same_as<typename F::Raw, uint32_t> || std::same_as<typename F::Raw, uint64_t>) &&
    std::constructible_from<F, const FormatConfig&> &&
    requires(const F f, typename F::Raw raw, Level l, Oa oa, LeafAttrs a, bool b) {
      { F::kName } -> std::convertible_to<std::string_view>;
      { F::kEntryLg2 } -> std::convertible_to<unsigned>;
      { std::span<const ConfigKnob>(F::kKnobs) };
      { std::span<const NamedBit>(F::kNamedBits) };
      { f.TopLevel() } -> std::same_as<Level>;
      { f.VaBits() } -> std::same_as<unsigned>;
      { f.OaBits() } -> std::same_as<unsigned>;
      { f.VaExt() } -> std::same_as<VaExtension>;
      { f.LevelName(l) } -> std::convertible_to<std::string_view>;
      { f.IndexLg2(l) } -> std::same_as<unsigned>;
      { f.ItemLg2(l) } -> std::same_as<unsigned>;
      { f.CanLeaf(l) } -> std::same_as<bool>;
      { f.CanTable(l) } -> std::same_as<bool>;
      { f.Classify(raw, l) } -> std::same_as<EntryKind>;
      { f.TableOa(raw, l) } -> std::same_as<Oa>;
      { f.LeafOa(raw, l) } -> std::same_as<Oa>;
      { f.DecodeAttrs(raw, l) } -> std::same_as<LeafAttrs>;
      { f.Restrictions() } -> std::same_as<TableRestrictions>;
      { f.EncodeTable(l, oa) } -> std::same_as<typename F::Raw>;
      { f.EncodeLeaf(l, oa, a) } -> std::same_as<typename F::Raw>;
      { f.Canonical(a) } -> std::same_as<LeafAttrs>;
      { f.MarkAccessed(raw, l, b) } -> std::same_as<typename F::Raw>;
    };

// ExampleFormat documents the contract. It is a real, tiny format (two
// levels of 8-byte entries, 4 KiB pages, 2 MiB leaves at level 1) so the
// documentation is compiled and tested like any other format.
class ExampleFormat {
 public:
  // The raw entry word: uint32_t or uint64_t. Table memory holds exactly
  // these bytes, little-endian.
  using Raw = uint64_t;
  // Stable, unique name; its hash is the format's ID in corpora, so never
  // rename a format.
  static constexpr std::string_view kName = "example";
  // log2 of sizeof(Raw).
  static constexpr unsigned kEntryLg2 = 3;
  // The runtime knobs and their defaults, in the order FormatConfig holds
  // them. Empty when the format has none.
  static constexpr ConfigKnob kKnobs[] = {
      {"writable_tables", 0, 1, 1, "table entries allow writes below them"},
  };
  // Raw bits worth naming in dumps, as the manual names them.
  static constexpr NamedBit kNamedBits[] = {{"valid", 0}, {"leaf", 1}, {"write", 2}, {"user", 3}};

  explicit ExampleFormat(const FormatConfig& cfg) : writable_tables_(cfg.Get(0) != 0) {}

  // The level of the root table; levels run TopLevel() down to 0.
  Level TopLevel() const { return Level(1); }
  // Bits of input address translated; the rest must follow VaExt().
  unsigned VaBits() const { return 30; }
  // Bits of output address a leaf or table pointer can hold.
  unsigned OaBits() const { return 40; }
  VaExtension VaExt() const { return VaExtension::kZero; }
  // The architecture's name for a level, for printing only.
  std::string_view LevelName(Level l) const { return l.value() == 1 ? "DIR" : "PT"; }
  // log2 of the number of entries in a table at level l (its size in bytes
  // is IndexLg2 + kEntryLg2).
  unsigned IndexLg2(Level) const { return 9; }
  // log2 of the bytes one entry at level l maps: a leaf's size.
  unsigned ItemLg2(Level l) const { return 12 + 9 * static_cast<unsigned>(l.value()); }
  // Whether an entry at level l may be a leaf / point to a table.
  bool CanLeaf(Level) const { return true; }
  bool CanTable(Level l) const { return l.value() > 0; }

  // The one classification of a raw entry; every predicate derives from it.
  // Must be total: any bits at any level give a kind.
  EntryKind Classify(Raw raw, Level l) const {
    if (!Valid::Test(raw)) return EntryKind::kEmpty;
    if (IsLeafBit::Test(raw)) return EntryKind::kLeaf;
    return CanTable(l) ? EntryKind::kTable : EntryKind::kInvalid;
  }
  // Output address of the table a kTable entry points to.
  Oa TableOa(Raw raw, Level) const { return Oa(OaField::InPlace(raw)); }
  // Output address of a kLeaf entry: the base of the ItemLg2(l) block, or
  // of the whole leaf when the entry is one of a replicated group
  // (LeafSizeLg2 in geometry.h).
  Oa LeafOa(Raw raw, Level) const { return Oa(OaField::InPlace(raw)); }
  // Attributes of a kLeaf entry, including accessed/dirty.
  LeafAttrs DecodeAttrs(Raw raw, Level) const {
    return LeafAttrs().With(Attr::kRead).With(Attr::kWrite, Write::Test(raw)).With(Attr::kUser, User::Test(raw));
  }
  // Which raw bits of a kTable entry restrict what lies below it (see
  // TableRestrictions in attrs.h). The same at every level; TablePermsOf()
  // in geometry.h decodes one entry with it.
  TableRestrictions Restrictions() const { return {.allow_write = Write::kMask}; }
  // A table entry pointing at `table`, allowing everything below it that
  // the configuration allows. `table` is aligned to the table's size.
  Raw EncodeTable(Level, Oa table) const {
    Raw r = Valid::Put(Raw{0}, true);
    r = Write::Put(r, writable_tables_);
    return OaField::Set(r, table.value() >> OaField::kLo);
  }
  // A leaf at level l mapping `oa` (aligned to ItemLg2(l)) with Canonical(a).
  Raw EncodeLeaf(Level, Oa oa, LeafAttrs a) const {
    Raw r = IsLeafBit::Put(Valid::Put(Raw{0}, true), true);
    r = Write::Put(r, a.Has(Attr::kWrite));
    r = User::Put(r, a.Has(Attr::kUser));
    return OaField::Set(r, oa.value() >> OaField::kLo);
  }
  // What a requested attribute set becomes in this format: the bits it cannot
  // express take their fixed value (here: always readable, never executable
  // control, no A/D). DecodeAttrs(EncodeLeaf(l, oa, a)) == Canonical(a).
  LeafAttrs Canonical(LeafAttrs a) const {
    return LeafAttrs().With(Attr::kRead).With(Attr::kWrite, a.Has(Attr::kWrite)).With(Attr::kUser, a.Has(Attr::kUser));
  }
  // The entry after a hardware access: accessed set, and dirty when `write`.
  // Formats without hardware A/D return `raw` unchanged.
  Raw MarkAccessed(Raw raw, Level, bool) const { return raw; }

 private:
  using Valid = Bit<0>;
  using IsLeafBit = Bit<1>;
  using Write = Bit<2>;
  using User = Bit<3>;
  using OaField = Field<39, 12>;

  bool writable_tables_;
};

static_assert(PageTableFormat<ExampleFormat>);

}  // namespace ptsim

#endif  // PTSIM_PT_FORMAT_H_
