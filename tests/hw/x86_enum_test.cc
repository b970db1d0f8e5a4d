// Exhaustive enumeration of the x86 access-rights, fault and A/D rules, in
// the manner of kvm-unit-tests x86/access.c: for each x86 paging mode a walk
// path is written entry by entry with raw bit math from the manual, every
// combination of the permission-relevant bits on it is tried against a grid
// of CPU modes and accesses, and the walker's verdict (outcome, error code,
// level, output address, key, and every entry's bits afterwards) is
// compared with Expect() below.
//
// Expect() is written from Intel SDM Vol. 3A directly, in a different shape
// from src/hw/x86.h: it works from the enumeration's own description of each
// entry (never decoding raw bits, never calling the formats or the walker's
// helpers), stops the walk as §4.3 / §4.4.2 / §4.5.4 describe, then
// evaluates §4.6.1 and §4.6.2 as a list of denial rules in the manual's own
// order (supervisor-mode access: reads, writes, fetches; user-mode access:
// reads, writes, fetches; then protection keys), and composes the error code
// from §4.7 item by item.
//
// Dimensions and pruning (docs/hw/x86.md has the numbers):
//   * path: the leaf's entry and its parent take every state (not present;
//     present with each R/W, U/S, XD combination; present with a reserved
//     bit); entries higher up take one restriction at a time (not present,
//     permissive, R/W=0, U/S=0, XD=1, reserved bit). R/W and U/S fold with
//     AND and XD with OR, so two restrictions in one upper entry add nothing
//     that the full product on the two lowest entries and the product of
//     single restrictions across levels do not already exercise. PAE PDPTEs
//     (Table 4-7) have only: not present, present, reserved bit.
//   * leaf level: every page size the mode has (4 KiB, 2/4 MiB, 1 GiB).
//   * part "rights": every path × NXE {0, 1} (not for 32-bit paging) ×
//     CR0.WP × CR4.SMEP × CR4.SMAP × EFLAGS.AC × the 10 accesses
//     (read/write/fetch at CPL 3 and CPL 0, implicit supervisor read/write
//     at CPL 3 and CPL 0), with A and D clear everywhere (the case where
//     the walk writes the most).
//   * part "accessed-dirty": every path × all 8 presets of (table A, leaf A,
//     leaf D) × the 10 accesses, NXE = 1, CR0.WP = 1 and 0. A and D are
//     never inputs to the rights rules, so their presets need not multiply
//     the SMEP/SMAP/AC/NXE grid (that would double the 5-level run).
//   * part "keys" (4/5-level only): leaf entry in every state × parent
//     {permissive, R/W=0, U/S=0} × every leaf size × key {0, 1, 15} ×
//     (CR4.PKE, PKRU) in 7 settings × (CR4.PKS, IA32_PKRS) in 4 × CR0.WP ×
//     CR4.SMAP × EFLAGS.AC × the 10 accesses.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/hw/x86.h"
#include "tests/hw/x86_util.h"

namespace ptsim {
namespace {

using hw::x86::Mode;
using hw::x86::Op;
using hw::x86::Outcome;

// What the manual says about each mode's geometry (Table 4-1, §4.3-§4.5),
// written here rather than asked of the format.
struct Geometry {
  int levels;            // 2, 3, 4 or 5
  unsigned entry_bytes;  // 4 (32-bit paging) or 8
  int max_leaf_level;    // 1 (4 MiB or 2 MiB pages) or 2 (1 GiB pages)
  bool has_xd;           // XD in bit 63 (PAE, 4/5-level)
  bool has_keys;         // protection keys in bits 62:59 (4/5-level, §4.6.2)
  bool pae_pdpt;         // the top level is PAE's four PDPTEs (Table 4-7)
  bool cr4_pae;          // CR4.PAE = 1: I/D is reported with NXE (§4.7)
  std::vector<std::string> settings;  // knobs: MAXPHYADDR 40 makes bit 51 reserved
};

Geometry GeometryOf(hw::x86::Paging paging) {
  switch (paging) {
    case hw::x86::Paging::k32Bit:
      return {2, 4, 1, false, false, false, false, {}};
    case hw::x86::Paging::kPae:
      return {3, 8, 1, true, false, true, true, {"maxphyaddr=40"}};
    case hw::x86::Paging::k4Level:
      return {4, 8, 2, true, true, false, true, {"maxphyaddr=40"}};
    case hw::x86::Paging::k5Level:
      break;
  }
  return {5, 8, 2, true, true, false, true, {"maxphyaddr=40"}};
}

unsigned ShiftOf(const Geometry& g, int level) { return g.entry_bytes == 4 ? 12 + 10 * level : 12 + 9 * level; }

constexpr uint64_t kTables = 0x10000;     // level l's table at kTables + l * 0x1000
constexpr uint64_t kLeafOa = 0x40000000;  // aligned for every page size
constexpr uint64_t kOffset = 0x123;

// The VA: index l + 1 at level l, so no index is zero; canonical in every mode.
uint64_t VaOf(const Geometry& g) {
  uint64_t va = kOffset;
  for (int l = 0; l < g.levels; ++l) va |= uint64_t(l + 1) << ShiftOf(g, l);
  return va;
}
uint64_t EntryAddr(const Geometry& g, int l) { return kTables + 0x1000 * l + (l + 1) * g.entry_bytes; }

// One path entry as the enumeration describes it.
struct EntryState {
  bool p = true, rw = true, us = true, xd = false, rsvd = false;
};

struct Path {
  int leaf_level = 0;
  std::array<EntryState, 5> e{};  // by level
};

struct Presets {
  bool table_a = false, leaf_a = false, leaf_d = false;
};

struct Acc {
  Op op;
  int cpl;
  bool implicit;
};
constexpr Acc kAccesses[] = {
    {Op::kRead, 3, false},  {Op::kWrite, 3, false}, {Op::kFetch, 3, false}, {Op::kRead, 0, false},
    {Op::kWrite, 0, false}, {Op::kFetch, 0, false}, {Op::kRead, 3, true},   {Op::kWrite, 3, true},
    {Op::kRead, 0, true},   {Op::kWrite, 0, true},
};

// Can a reserved bit be set in this entry? Every 64-bit entry: bit 51 with
// MAXPHYADDR 40 (Tables 4-8..4-10, 4-15..4-20), bit 2 of a PDPTE (Table
// 4-7). In 32-bit paging only a 4 MiB PDE has reserved bits (Table 4-4:
// bit 21 with PSE-36); PTEs and table PDEs have none (Tables 4-5, 4-6).
bool CanReserve(const Geometry& g, const Path& p, int l) { return g.entry_bytes == 8 || (l == 1 && p.leaf_level == 1); }
bool IsPdpte(const Geometry& g, int l) { return g.pae_pdpt && l == g.levels - 1; }

// Raw entry bits, Intel SDM Vol. 3A Tables 4-4..4-10 and 4-15..4-20.
uint64_t RawOf(const Geometry& g, const Path& p, int l, const Presets& pr, uint8_t key) {
  const EntryState& s = p.e[l];
  const bool leaf = l == p.leaf_level;
  uint64_t r = leaf ? kLeafOa : kTables + 0x1000 * (l - 1);
  if (s.p) r |= 1;
  if (IsPdpte(g, l)) return s.rsvd ? r | 0x4 : r;  // Table 4-7: bits 2:1 reserved, no A
  if (s.rw) r |= 0x2;
  if (s.us) r |= 0x4;
  if (leaf ? pr.leaf_a : pr.table_a) r |= 0x20;
  if (leaf && pr.leaf_d) r |= 0x40;
  if (leaf && l > 0) r |= 0x80;  // PS
  if (s.xd) r |= 1ull << 63;
  if (leaf && g.has_keys) r |= uint64_t{key} << 59;
  if (s.rsvd) r |= g.entry_bytes == 8 ? 1ull << 51 : 1ull << 21;
  return r;
}

struct Verdict {
  Outcome outcome = Outcome::kOk;
  uint32_t ec = 0;
  int level = 0;
  bool operator==(const Verdict&) const = default;
};

// What the rules see, in the manual's terms.
struct Facts {
  bool supervisor;  // §4.6: CPL < 3, or an implicit access
  bool implicit;
  Op op;
  bool user_addr;  // §4.6.1: U/S = 1 in every paging-structure entry
  bool rw_all;     // R/W = 1 in every paging-structure entry
  bool xd_some;    // XD = 1 in some entry, with IA32_EFER.NXE = 1
  bool keys;       // IA32_EFER.LMA = 1 (4/5-level paging)
  uint8_t key;
  Mode m;
};

bool Ad(uint32_t reg, uint8_t key) { return (reg >> (2 * key)) & 1; }
bool Wd(uint32_t reg, uint8_t key) { return (reg >> (2 * key + 1)) & 1; }

struct Rule {
  const char* cite;
  bool key_rule;  // counts for §4.7's PK flag
  bool (*denies)(const Facts&);
};

// Intel SDM Vol. 3A §4.6.1 then §4.6.2, in the manual's order.
constexpr Rule kRules[] = {
    {"4.6.1 supervisor data read, user-mode address, SMAP, AC=0 or implicit", false,
     [](const Facts& f) {
       return f.supervisor && f.op == Op::kRead && f.user_addr && f.m.smap && (!f.m.ac || f.implicit);
     }},
    {"4.6.1 supervisor data write, supervisor-mode address, WP=1, some R/W=0", false,
     [](const Facts& f) { return f.supervisor && f.op == Op::kWrite && !f.user_addr && f.m.wp && !f.rw_all; }},
    {"4.6.1 supervisor data write, user-mode address, SMAP, AC=0 or implicit", false,
     [](const Facts& f) {
       return f.supervisor && f.op == Op::kWrite && f.user_addr && f.m.smap && (!f.m.ac || f.implicit);
     }},
    {"4.6.1 supervisor data write, user-mode address, WP=1, some R/W=0", false,
     [](const Facts& f) { return f.supervisor && f.op == Op::kWrite && f.user_addr && f.m.wp && !f.rw_all; }},
    {"4.6.1 supervisor fetch, supervisor-mode address, NXE and some XD=1", false,
     [](const Facts& f) { return f.supervisor && f.op == Op::kFetch && !f.user_addr && f.xd_some; }},
    {"4.6.1 supervisor fetch, user-mode address, SMEP", false,
     [](const Facts& f) { return f.supervisor && f.op == Op::kFetch && f.user_addr && f.m.smep; }},
    {"4.6.1 supervisor fetch, user-mode address, NXE and some XD=1", false,
     [](const Facts& f) { return f.supervisor && f.op == Op::kFetch && f.user_addr && f.xd_some; }},
    {"4.6.1 user data read, supervisor-mode address", false,
     [](const Facts& f) { return !f.supervisor && f.op == Op::kRead && !f.user_addr; }},
    {"4.6.1 user data write, supervisor-mode address", false,
     [](const Facts& f) { return !f.supervisor && f.op == Op::kWrite && !f.user_addr; }},
    {"4.6.1 user data write, some R/W=0", false,
     [](const Facts& f) { return !f.supervisor && f.op == Op::kWrite && !f.rw_all; }},
    {"4.6.1 user fetch, supervisor-mode address", false,
     [](const Facts& f) { return !f.supervisor && f.op == Op::kFetch && !f.user_addr; }},
    {"4.6.1 user fetch, NXE and some XD=1", false,
     [](const Facts& f) { return !f.supervisor && f.op == Op::kFetch && f.xd_some; }},
    {"4.6.2 PKE, user-mode address, data access, PKRU.AD", true,
     [](const Facts& f) { return f.keys && f.m.pke && f.user_addr && f.op != Op::kFetch && Ad(f.m.pkru, f.key); }},
    {"4.6.2 PKE, user-mode address, write, PKRU.WD, user access or WP=1", true,
     [](const Facts& f) {
       return f.keys && f.m.pke && f.user_addr && f.op == Op::kWrite && Wd(f.m.pkru, f.key) &&
              (!f.supervisor || f.m.wp);
     }},
    {"4.6.2 PKS, supervisor-mode address, data access, PKRS.AD", true,
     [](const Facts& f) { return f.keys && f.m.pks && !f.user_addr && f.op != Op::kFetch && Ad(f.m.pkrs, f.key); }},
    {"4.6.2 PKS, supervisor-mode address, write, PKRS.WD, user access or WP=1", true,
     [](const Facts& f) {
       return f.keys && f.m.pks && !f.user_addr && f.op == Op::kWrite && Wd(f.m.pkrs, f.key) &&
              (!f.supervisor || f.m.wp);
     }},
};

Verdict Expect(const Geometry& g, const Path& p, bool nxe, const Mode& m, const Acc& a, uint8_t key) {
  const bool supervisor = a.cpl < 3 || a.implicit;
  // §4.7, Figure 4-12: the bits that describe the access.
  uint32_t access = 0;
  if (a.op == Op::kWrite) access |= 0x2;                                           // W/R
  if (!supervisor) access |= 0x4;                                                   // U/S
  if (a.op == Op::kFetch && (m.smep || (g.cr4_pae && nxe))) access |= 0x10;         // I/D
  // §4.3 / §4.4.2 / §4.5.4: the walk, top down; P = 0 ends it with no
  // translation, as does a reserved bit (§4.4.1: in a PAE PDPTE, #GP).
  for (int l = g.levels - 1; l >= p.leaf_level; --l) {
    const EntryState& s = p.e[l];
    if (!s.p) return {Outcome::kPageFault, access, l};
    const bool reserved = s.rsvd || (g.has_xd && !IsPdpte(g, l) && s.xd && !nxe);
    if (reserved && IsPdpte(g, l)) return {Outcome::kGeneralProtection, 0, l};
    if (reserved) return {Outcome::kPageFault, 0x1 | 0x8 | access, l};
  }
  Facts f{supervisor, a.implicit, a.op, true, true, false, g.has_keys, key, m};
  for (int l = g.levels - 1; l >= p.leaf_level; --l) {
    if (IsPdpte(g, l)) continue;  // Table 4-7: a PDPTE has no R/W, U/S or XD
    f.user_addr = f.user_addr && p.e[l].us;
    f.rw_all = f.rw_all && p.e[l].rw;
    f.xd_some = f.xd_some || (nxe && p.e[l].xd);
  }
  bool denied = false, pk = false;
  for (const Rule& r : kRules) {
    if (!r.denies(f)) continue;
    denied = true;
    pk = pk || r.key_rule;
  }
  if (!denied) return {Outcome::kOk, 0, p.leaf_level};
  return {Outcome::kPageFault, 0x1 | access | (pk ? 0x20u : 0u), p.leaf_level};
}

// §4.8 as docs/hw/x86.md reads it: A in every table entry the walk passed
// (not PDPTEs, which have none), A in the leaf and D on a write only when
// the access is allowed.
uint64_t ExpectAfter(const Geometry& g, const Path& p, int l, uint64_t before, const Verdict& v, Op op) {
  if (v.outcome == Outcome::kGeneralProtection || IsPdpte(g, l)) return before;
  if (l > p.leaf_level) return l > v.level ? before | 0x20 : before;
  if (v.outcome != Outcome::kOk) return before;
  return before | 0x20 | (op == Op::kWrite ? 0x40 : 0);
}

std::string Describe(const Geometry& g, const Path& p, const Presets& pr, bool nxe, const Mode& m, const Acc& a,
                     uint8_t key) {
  std::string s = absl::StrFormat("leaf=L%d", p.leaf_level);
  for (int l = g.levels - 1; l >= p.leaf_level; --l) {
    const EntryState& e = p.e[l];
    absl::StrAppendFormat(&s, " L%d:%s%s%s%s%s", l, e.p ? "P" : "-", e.rw ? "W" : "", e.us ? "U" : "",
                          e.xd ? "X" : "", e.rsvd ? "R" : "");
  }
  absl::StrAppendFormat(&s, " presets(tA=%d lA=%d lD=%d) key=%d nxe=%d %s op=%d cpl=%d implicit=%d", pr.table_a,
                        pr.leaf_a, pr.leaf_d, key, nxe,
                        absl::StrFormat("cpl=%d,wp=%d,smep=%d,smap=%d,ac=%d,pke=%d,pkru=0x%x,pks=%d,pkrs=0x%x", m.cpl,
                                        m.wp, m.smep, m.smap, m.ac, m.pke, m.pkru, m.pks, m.pkrs),
                        static_cast<int>(a.op), a.cpl,
                        a.implicit);
  return s;
}

// The states an entry takes (see the dimension notes at the top).
std::vector<EntryState> FullStates(const Geometry& g, const Path& p, int l) {
  if (IsPdpte(g, l)) return {{.p = false}, {}, {.rsvd = true}};
  std::vector<EntryState> v = {{.p = false}};
  for (int bits = 0; bits < (g.has_xd ? 8 : 4); ++bits) {
    v.push_back({.p = true, .rw = (bits & 1) != 0, .us = (bits & 2) != 0, .xd = (bits & 4) != 0});
  }
  if (CanReserve(g, p, l)) v.push_back({.rsvd = true});
  return v;
}
std::vector<EntryState> UpperStates(const Geometry& g, const Path& p, int l) {
  if (IsPdpte(g, l)) return {{.p = false}, {}, {.rsvd = true}};
  std::vector<EntryState> v = {{.p = false}, {}, {.rw = false}, {.us = false}};
  if (g.has_xd) v.push_back({.xd = true});
  if (CanReserve(g, p, l)) v.push_back({.rsvd = true});
  return v;
}

// Every path whose entry at level l takes each of states[l] in turn.
void ForEachPath(const Geometry& g, int leaf_level, const std::vector<std::vector<EntryState>>& states,
                 const std::function<void(const Path&)>& fn) {
  Path p;
  p.leaf_level = leaf_level;
  std::function<void(int)> rec = [&](int l) {
    if (l < leaf_level) {
      fn(p);
      return;
    }
    for (const EntryState& s : states[l]) {
      p.e[l] = s;
      rec(l - 1);
    }
  };
  rec(g.levels - 1);
}

template <typename F>
class Enumerator {
 public:
  explicit Enumerator(std::string_view name) : g_(GeometryOf(*hw::x86::PagingOf<F>())), va_(VaOf(g_)) {
    for (int nxe = 0; nxe < 2; ++nxe) {
      FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
      for (const std::string& s : g_.settings) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
      if (g_.has_xd) {
        EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, nxe ? "nxe=1" : "nxe=0", &cfg).ok());
      }
      formats_.emplace_back(cfg);
    }
  }

  // One walk against one expectation; a mismatch is reported (the first ten
  // in full) and counted.
  void Check(const Path& p, const Presets& pr, bool nxe, const Mode& m, const Acc& a, uint8_t key) {
    std::array<uint64_t, 5> before{};
    for (int l = g_.levels - 1; l >= p.leaf_level; --l) {
      before[l] = RawOf(g_, p, l, pr, key);
      x86test::PutRaw(&mem_, EntryAddr(g_, l), before[l], g_.entry_bytes);
    }
    Mode mode = m;
    mode.cpl = a.cpl;
    const Oa root(kTables + 0x1000 * (g_.levels - 1));
    const hw::x86::Result r = hw::x86::Walk(formats_[nxe && g_.has_xd ? 1 : 0], &mem_, root, Va(va_),
                                            hw::x86::Access{a.op, a.implicit}, mode);
    const Verdict want = Expect(g_, p, nxe, mode, a, key);
    const Verdict got{r.outcome, r.error_code, r.level.value()};
    ++count_;
    std::string why;
    if (got != want) {
      why = absl::StrFormat("outcome %d ec %#x L%d, want outcome %d ec %#x L%d", static_cast<int>(got.outcome), got.ec,
                            got.level, static_cast<int>(want.outcome), want.ec, want.level);
    } else if (want.outcome == Outcome::kOk) {
      const unsigned lg2 = ShiftOf(g_, p.leaf_level);
      const uint8_t want_key = g_.has_keys ? key : 0;
      if (r.oa != Oa(kLeafOa + (va_ & LowMask(lg2))) || r.size_lg2 != lg2 || r.pkey != want_key) {
        why = absl::StrFormat("oa %#x size 2^%d key %d, want %#x 2^%d key %d", r.oa.value(), r.size_lg2, r.pkey,
                              kLeafOa + (va_ & LowMask(lg2)), lg2, want_key);
      }
    }
    for (int l = g_.levels - 1; l >= p.leaf_level && why.empty(); --l) {
      const uint64_t after = x86test::GetRaw(&mem_, EntryAddr(g_, l), g_.entry_bytes);
      const uint64_t want_after = ExpectAfter(g_, p, l, before[l], want, a.op);
      if (after != want_after) why = absl::StrFormat("L%d entry %#x, want %#x", l, after, want_after);
    }
    if (why.empty()) return;
    if (++mismatches_ <= 10) ADD_FAILURE() << why << "\n  case: " << Describe(g_, p, pr, nxe, mode, a, key);
  }

  const Geometry& geometry() const { return g_; }
  uint64_t count() const { return count_; }
  uint64_t mismatches() const { return mismatches_; }

 private:
  Geometry g_;
  uint64_t va_;
  std::vector<F> formats_;
  PhysMem mem_{Oa(0), 1 << 20};
  uint64_t count_ = 0;
  uint64_t mismatches_ = 0;
};

template <typename F>
void EnumerateFormat(std::string_view name) {
  Enumerator<F> en(name);
  const Geometry& g = en.geometry();
  const std::vector<int> nxes = g.has_xd ? std::vector<int>{0, 1} : std::vector<int>{0};
  auto states_for = [&](int leaf_level, int full_levels) {
    Path probe;
    probe.leaf_level = leaf_level;
    std::vector<std::vector<EntryState>> st(g.levels);
    for (int l = leaf_level; l < g.levels; ++l) {
      st[l] = l < leaf_level + full_levels ? FullStates(g, probe, l) : UpperStates(g, probe, l);
    }
    return st;
  };
  uint64_t parts[3] = {};

  // Part "rights".
  for (int leaf = 0; leaf <= g.max_leaf_level; ++leaf) {
    ForEachPath(g, leaf, states_for(leaf, 2), [&](const Path& p) {
      for (int nxe : nxes) {
        for (int bits = 0; bits < 16; ++bits) {
          Mode m;
          m.wp = bits & 1;
          m.smep = bits & 2;
          m.smap = bits & 4;
          m.ac = bits & 8;
          for (const Acc& a : kAccesses) en.Check(p, Presets{}, nxe, m, a, 0);
        }
      }
    });
  }
  parts[0] = en.count();

  // Part "accessed-dirty".
  for (int leaf = 0; leaf <= g.max_leaf_level; ++leaf) {
    ForEachPath(g, leaf, states_for(leaf, 2), [&](const Path& p) {
      for (int bits = 0; bits < 8; ++bits) {
        const Presets pr{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
        for (bool wp : {true, false}) {
          Mode m;
          m.wp = wp;
          for (const Acc& a : kAccesses) en.Check(p, pr, g.has_xd, m, a, 0);
        }
      }
    });
  }
  parts[1] = en.count() - parts[0];

  // Part "keys".
  if (g.has_keys) {
    struct KeyReg {
      bool on;
      uint32_t reg;
    };
    constexpr KeyReg kPkru[] = {{false, 0xffffffff}, {true, 0}, {true, 0x4}, {true, 0x8},
                                {true, 0xc},         {true, 0x80000000}, {true, 0xfffffffc}};
    constexpr KeyReg kPkrs[] = {{false, 0xffffffff}, {true, 0}, {true, 0x4}, {true, 0x80000000}};
    for (int leaf = 0; leaf <= g.max_leaf_level; ++leaf) {
      Path probe;
      probe.leaf_level = leaf;
      std::vector<std::vector<EntryState>> st(g.levels, std::vector<EntryState>{EntryState{}});
      st[leaf] = FullStates(g, probe, leaf);
      st[leaf + 1] = {{}, {.rw = false}, {.us = false}};
      ForEachPath(g, leaf, st, [&](const Path& p) {
        for (uint8_t key : {0, 1, 15}) {
          for (const KeyReg& u : kPkru) {
            for (const KeyReg& s : kPkrs) {
              for (int bits = 0; bits < 8; ++bits) {
                Mode m;
                m.pke = u.on;
                m.pkru = u.reg;
                m.pks = s.on;
                m.pkrs = s.reg;
                m.wp = bits & 1;
                m.smap = bits & 2;
                m.ac = bits & 4;
                for (const Acc& a : kAccesses) en.Check(p, Presets{}, true, m, a, key);
              }
            }
          }
        }
      });
    }
  }
  parts[2] = en.count() - parts[0] - parts[1];

  EXPECT_EQ(en.mismatches(), 0u);
  const std::string n(name);
  ::testing::Test::RecordProperty(n + "_combinations", std::to_string(en.count()));
  ::testing::Test::RecordProperty(n + "_rights", std::to_string(parts[0]));
  ::testing::Test::RecordProperty(n + "_accessed_dirty", std::to_string(parts[1]));
  ::testing::Test::RecordProperty(n + "_keys", std::to_string(parts[2]));
  std::printf("%s: %llu combinations checked (rights %llu, accessed-dirty %llu, keys %llu), %llu mismatches\n",
              n.c_str(), static_cast<unsigned long long>(en.count()), static_cast<unsigned long long>(parts[0]),
              static_cast<unsigned long long>(parts[1]), static_cast<unsigned long long>(parts[2]),
              static_cast<unsigned long long>(en.mismatches()));
}

void Enumerate(std::string_view name) {
  x86test::WithX86Format(name, [&]<typename F>() { EnumerateFormat<F>(name); });
}

TEST(X86Enumeration, Paging32Bit) { Enumerate("x86_32"); }
TEST(X86Enumeration, PagingPae) { Enumerate("x86_pae"); }
TEST(X86Enumeration, Paging4Level) { Enumerate("x86_64_4level"); }
TEST(X86Enumeration, Paging5Level) { Enumerate("x86_64_5level"); }

}  // namespace
}  // namespace ptsim
