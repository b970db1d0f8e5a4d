// Format-neutral leaf attributes. Every format encodes the subset it can
// express; `Canonical` (see format.h) says what a request becomes.
#ifndef PTSIM_PT_ATTRS_H_
#define PTSIM_PT_ATTRS_H_

#include <cstdint>
#include <string>

namespace ptsim {

enum class Attr : uint8_t { kRead, kWrite, kExec, kUser, kGlobal, kAccessed, kDirty };
inline constexpr int kNumAttrs = 7;

class LeafAttrs {
 public:
  constexpr LeafAttrs() = default;
  static constexpr LeafAttrs FromBits(uint8_t bits) { LeafAttrs a; a.bits_ = bits & 0x7f; return a; }
  // All seven attributes at once, in Attr order: decoders build the set in
  // one expression instead of a chain of With() calls.
  static constexpr LeafAttrs Of(bool read, bool write, bool exec, bool user, bool global, bool accessed,
                                bool dirty) {
    return FromBits(static_cast<uint8_t>(unsigned{read} | unsigned{write} << 1 | unsigned{exec} << 2 |
                                         unsigned{user} << 3 | unsigned{global} << 4 | unsigned{accessed} << 5 |
                                         unsigned{dirty} << 6));
  }
  static constexpr LeafAttrs Rw() { return LeafAttrs().With(Attr::kRead).With(Attr::kWrite); }
  static constexpr LeafAttrs Rwx() { return Rw().With(Attr::kExec); }

  constexpr bool Has(Attr a) const { return (bits_ >> static_cast<int>(a)) & 1; }
  constexpr LeafAttrs With(Attr a, bool on = true) const {
    LeafAttrs r = *this;
    const uint8_t m = static_cast<uint8_t>(1u << static_cast<int>(a));
    r.bits_ = on ? (bits_ | m) : (bits_ & ~m);
    return r;
  }
  constexpr LeafAttrs Without(Attr a) const { return With(a, false); }
  constexpr uint8_t bits() const { return bits_; }
  // The attributes that describe permission, not history (A/D).
  constexpr LeafAttrs Permissions() const { return Without(Attr::kAccessed).Without(Attr::kDirty); }
  constexpr LeafAttrs operator&(LeafAttrs o) const { return FromBits(bits_ & o.bits_); }
  constexpr bool operator==(const LeafAttrs&) const = default;

 private:
  uint8_t bits_ = 0;
};

// Short letters, one per attribute, in Attr order: "rwxugad".
std::string AttrsToString(LeafAttrs a);
// Parses the letters above ('-' ignored); false on an unknown letter.
bool AttrsFromString(std::string_view s, LeafAttrs* out);
const char* AttrName(Attr a);

// What table entries allow below them (x86 R/W, U/S, XD at every level;
// ARM APTable/XNTable). The effective permission of a leaf is the leaf's own
// attributes ANDed with every table entry on the way down.
struct TablePerms {
  bool write = true;
  bool exec = true;
  bool user = true;
  constexpr bool operator==(const TablePerms&) const = default;
};

// How a format's table entries restrict what lies below them, declared as
// raw bit masks: an attribute stays allowed below a table entry only if the
// entry has every bit of its allow_ mask and no bit of its deny_ mask. Every
// hierarchical control in the formats ptsim covers has this shape (x86 R/W
// and U/S must be set at every level, XD set at any level forbids; ARM
// APTable and XNTable bits forbid when set). Being masks, restrictions
// compose down a walk with one AND and one OR per level (PathBits), as a
// hardware walker does, instead of being decoded at every level.
struct TableRestrictions {
  uint64_t allow_write = 0;
  uint64_t allow_exec = 0;
  uint64_t allow_user = 0;
  uint64_t deny_write = 0;
  uint64_t deny_exec = 0;
  uint64_t deny_user = 0;
};

// The table entries met on the way to a leaf, folded: `all` has the bits
// set in every entry, `any` the bits set in at least one.
struct PathBits {
  uint64_t all = ~uint64_t{0};
  uint64_t any = 0;
  constexpr void Add(uint64_t raw) {
    all &= raw;
    any |= raw;
  }
};

constexpr TablePerms PermsOf(const TableRestrictions& r, PathBits p) {
  return {.write = (p.all & r.allow_write) == r.allow_write && (p.any & r.deny_write) == 0,
          .exec = (p.all & r.allow_exec) == r.allow_exec && (p.any & r.deny_exec) == 0,
          .user = (p.all & r.allow_user) == r.allow_user && (p.any & r.deny_user) == 0};
}

}  // namespace ptsim

#endif  // PTSIM_PT_ATTRS_H_
