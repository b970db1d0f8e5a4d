// The hardware-faithful ARMv8-A walk (src/hw/armv8.h) against the manual.
//
// 1. Exhaustive enumeration: for each format below, every combination of the
//    leaf's permission bits, the hierarchical controls of a table above it,
//    every level that can hold a leaf, and every mode and access kind, is
//    walked and compared with an expectation written here independently of
//    the walker, as rows copied from the manual's tables and applied in the
//    manual's order (Arm ARM DDI 0487, D8 "Memory access control").
// 2. Agreement with the generic walker (src/mmu/mmu.h) in the default mode
//    on random trees built by Space, with the one documented divergence.
// 3. Golden vectors with exact ESR fault status codes.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/formats/armv8.h"
#include "src/formats/armv8_s2.h"
#include "src/harness/executor.h"
#include "src/hw/armv8.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using golden::Make;
using hw::armv8::AccessKind;
using hw::armv8::El;
using hw::armv8::FaultType;
using hw::armv8::Mode;
using hw::armv8::Result;
using hw::armv8::Walk;

// ---------------------------------------------------------------------------
// The expectation, from the manual's tables. Nothing here calls the walker's
// helpers; bit positions are spelled out again.
// ---------------------------------------------------------------------------

// Descriptor bits (D8 "Memory attribute fields in the VMSAv8-64 translation
// table format descriptors").
constexpr uint64_t kBitAp1 = 1ull << 6;   // AP[1] / S2AP[0]
constexpr uint64_t kBitAp2 = 1ull << 7;   // AP[2] / S2AP[1]
constexpr uint64_t kBitAf = 1ull << 10;
constexpr uint64_t kBitDbm = 1ull << 51;
constexpr uint64_t kBitPxn = 1ull << 53;  // PXN / XN[0]
constexpr uint64_t kBitUxn = 1ull << 54;  // UXN / XN[1]
constexpr uint64_t kBitPxnTable = 1ull << 59;
constexpr uint64_t kBitUxnTable = 1ull << 60;
constexpr uint64_t kBitApTable0 = 1ull << 61;
constexpr uint64_t kBitApTable1 = 1ull << 62;
constexpr uint64_t kLeafPermBits = kBitAp1 | kBitAp2 | kBitAf | kBitDbm | kBitPxn | kBitUxn;

// D8 "Data access permissions for stage 1", the table for a translation
// regime with two privilege levels (EL1&0): AP[2:1] -> access at EL1, EL0.
struct ApRow {
  unsigned ap;  // AP[2:1]
  bool el1_read, el1_write, el0_read, el0_write;
};
constexpr ApRow kStage1ApTable[] = {
    {0b00, true, true, false, false},  // EL1 RW, EL0 none
    {0b01, true, true, true, true},    // EL1 RW, EL0 RW
    {0b10, true, false, false, false}, // EL1 RO, EL0 none
    {0b11, true, false, true, false},  // EL1 RO, EL0 RO
};

// D8 "Access permissions for instruction execution", the table for the
// EL1&0 regime without WXN: UXN, PXN, AP[2:1] -> executable at EL1, at EL0.
// Rows with AP[2:1] = 01 are not executable at EL1 whatever PXN says (EL0
// can write them).
struct ExecRow {
  unsigned uxn, pxn, ap;
  bool el1_exec, el0_exec;
};
constexpr ExecRow kStage1ExecTable[] = {
    {0, 0, 0b00, true, true},   {0, 0, 0b01, false, true},  {0, 0, 0b10, true, true},   {0, 0, 0b11, true, true},
    {0, 1, 0b00, false, true},  {0, 1, 0b01, false, true},  {0, 1, 0b10, false, true},  {0, 1, 0b11, false, true},
    {1, 0, 0b00, true, false},  {1, 0, 0b01, false, false}, {1, 0, 0b10, true, false},  {1, 0, 0b11, true, false},
    {1, 1, 0b00, false, false}, {1, 1, 0b01, false, false}, {1, 1, 0b10, false, false}, {1, 1, 0b11, false, false},
};

// D8 "Hierarchical control of data access permissions": APTable -> what
// it removes below (AP[2:1] read as if AP[2] were set / AP[1] clear).
struct ApTableRow {
  unsigned ap_table;
  bool force_read_only, force_no_el0;
};
constexpr ApTableRow kApTableTable[] = {
    {0b00, false, false},  // no effect
    {0b01, false, true},   // no access from EL0
    {0b10, true, false},   // no write access at any EL
    {0b11, true, true},    // both
};

// D8 "Data access permissions for stage 2": S2AP -> read, write.
struct S2apRow {
  unsigned s2ap;
  bool read, write;
};
constexpr S2apRow kStage2ApTable[] = {
    {0b00, false, false}, {0b01, true, false}, {0b10, false, true}, {0b11, true, true}};

// D8 "Access permissions for instruction execution" at stage 2 with
// FEAT_XNX: XN[1:0] -> executable at EL1, at EL0. Without FEAT_XNX, bit 53
// is RES0 and XN (bit 54) forbids both.
struct S2XnRow {
  unsigned xn;
  bool el1_exec, el0_exec;
};
constexpr S2XnRow kStage2XnxTable[] = {
    {0b00, true, true}, {0b01, false, true}, {0b10, false, false}, {0b11, true, false}};

// D17 "ISS encoding for an exception from a Data Abort", DFSC, by Arm level
// 0..3: the code the walk must report.
constexpr uint8_t kFscAddressSize[4] = {0x00, 0x01, 0x02, 0x03};
constexpr uint8_t kFscTranslation[4] = {0x04, 0x05, 0x06, 0x07};
constexpr uint8_t kFscAccessFlag[4] = {0x08, 0x09, 0x0a, 0x0b};
constexpr uint8_t kFscPermission[4] = {0x0c, 0x0d, 0x0e, 0x0f};

enum class Who : uint8_t { kEl0, kEl1, kEl1Unprivileged };
constexpr Who kWhos[] = {Who::kEl0, Who::kEl1, Who::kEl1Unprivileged};
constexpr AccessKind kAccesses[] = {AccessKind::kRead, AccessKind::kWrite, AccessKind::kFetch};

struct Expected {
  FaultType fault = FaultType::kNone;
  uint64_t leaf_after = 0;  // the descriptor in memory after the access
};

struct S1Case {
  uint64_t leaf = 0;    // only the permission bits
  uint64_t tables = 0;  // hierarchical bits on one table descriptor above the leaf
  Who who = Who::kEl1;
  bool pan = false, epan = false, wxn = false, ha = false, hd = false;
  AccessKind acc = AccessKind::kRead;
};

Expected ExpectS1(const S1Case& c, uint64_t leaf_raw) {
  const bool af = (c.leaf & kBitAf) != 0;
  // Rule 1 (D8 "The Access flag", fault prioritization): AF = 0 without
  // hardware AF management is an Access flag fault, before any permission.
  if (!af && !c.ha) return {FaultType::kAccessFlag, leaf_raw};
  // Rule 2 (D8 "Hardware management of the dirty state"): with HA and HD
  // on, DBM = 1 means AP[2] is read as 0 (writable-clean).
  unsigned ap = static_cast<unsigned>((c.leaf >> 6) & 3);  // AP[2:1]
  const bool dirty_managed = c.ha && c.hd && (c.leaf & kBitDbm) != 0;
  if (dirty_managed) ap &= 0b01;
  // Rule 3 (D8 "Hierarchical control of data access permissions").
  const unsigned ap_table = ((c.tables & kBitApTable1) != 0 ? 2u : 0u) | ((c.tables & kBitApTable0) != 0 ? 1u : 0u);
  for (const ApTableRow& row : kApTableTable) {
    if (row.ap_table != ap_table) continue;
    if (row.force_read_only) ap |= 0b10;
    if (row.force_no_el0) ap &= 0b10;
  }
  // Rule 4: the stage 1 data access permission table.
  ApRow perms{};
  for (const ApRow& row : kStage1ApTable) {
    if (row.ap == ap) perms = row;
  }
  // Rule 5: the execute table, with UXNTable/PXNTable (D8 "Hierarchical
  // control of instruction fetching") ORed into UXN/PXN.
  const unsigned uxn = ((c.leaf & kBitUxn) != 0 || (c.tables & kBitUxnTable) != 0) ? 1 : 0;
  const unsigned pxn = ((c.leaf & kBitPxn) != 0 || (c.tables & kBitPxnTable) != 0) ? 1 : 0;
  ExecRow exec{};
  for (const ExecRow& row : kStage1ExecTable) {
    if (row.uxn == uxn && row.pxn == pxn && row.ap == ap) exec = row;
  }
  // Which permissions apply: EL0's for EL0 and for unprivileged loads and
  // stores at EL1 (not for fetches, which LDTR/STTR are not).
  const bool el0_rules = c.who == Who::kEl0 || (c.who == Who::kEl1Unprivileged && c.acc != AccessKind::kFetch);
  // Rule 6 (D8 "Privileged access never"): a privileged data access with
  // PAN = 1 to EL0-readable memory (EPAN: or EL0-executable) faults.
  bool el1_read = perms.el1_read, el1_write = perms.el1_write;
  if (c.pan && !el0_rules && c.acc != AccessKind::kFetch && (perms.el0_read || (c.epan && exec.el0_exec))) {
    el1_read = el1_write = false;
  }
  // Rule 7 (D8 "Access permissions for instruction execution", WXN).
  bool el0_exec = exec.el0_exec, el1_exec = exec.el1_exec;
  if (c.wxn && perms.el0_write) el0_exec = false;
  if (c.wxn && el1_write) el1_exec = false;
  bool allowed = false;
  switch (c.acc) {
    case AccessKind::kRead:
      allowed = el0_rules ? perms.el0_read : el1_read;
      break;
    case AccessKind::kWrite:
      allowed = el0_rules ? perms.el0_write : el1_write;
      break;
    case AccessKind::kFetch:
      allowed = el0_rules ? el0_exec : el1_exec;
      break;
  }
  if (!allowed) return {FaultType::kPermission, leaf_raw};
  // Rule 8: the hardware's writes (AF; AP[2] cleared by a write).
  uint64_t after = leaf_raw;
  if (c.ha) after |= kBitAf;
  if (c.acc == AccessKind::kWrite && dirty_managed) after &= ~kBitAp2;
  return {FaultType::kNone, after};
}

struct S2Case {
  uint64_t leaf = 0;
  bool el0 = false, ha = false, hd = false, xnx = false;
  AccessKind acc = AccessKind::kRead;
};

Expected ExpectS2(const S2Case& c, uint64_t leaf_raw) {
  if ((c.leaf & kBitAf) == 0 && !c.ha) return {FaultType::kAccessFlag, leaf_raw};  // D8 "The Access flag"
  const unsigned s2ap = static_cast<unsigned>((c.leaf >> 6) & 3);
  S2apRow perms{};
  for (const S2apRow& row : kStage2ApTable) {
    if (row.s2ap == s2ap) perms = row;
  }
  // D8 "Hardware management of the dirty state", stage 2: DBM with HA and
  // HD on makes S2AP[1] read as 1.
  const bool dirty_managed = c.ha && c.hd && (c.leaf & kBitDbm) != 0;
  bool exec = false;
  if (c.xnx) {
    const unsigned xn = static_cast<unsigned>((c.leaf >> 53) & 3);
    for (const S2XnRow& row : kStage2XnxTable) {
      if (row.xn == xn) exec = c.el0 ? row.el0_exec : row.el1_exec;
    }
  } else {
    exec = (c.leaf & kBitUxn) == 0;
  }
  bool allowed = false;
  switch (c.acc) {
    case AccessKind::kRead:
      allowed = perms.read;
      break;
    case AccessKind::kWrite:
      allowed = perms.write || dirty_managed;
      break;
    case AccessKind::kFetch:
      allowed = exec;
      break;
  }
  if (!allowed) return {FaultType::kPermission, leaf_raw};
  uint64_t after = leaf_raw;
  if (c.ha) after |= kBitAf;
  if (c.acc == AccessKind::kWrite && dirty_managed) after |= kBitAp2;
  return {FaultType::kNone, after};
}

uint8_t ExpectedFsc(FaultType t, int arm_level) {
  switch (t) {
    case FaultType::kAddressSize:
      return kFscAddressSize[arm_level];
    case FaultType::kTranslation:
      return kFscTranslation[arm_level];
    case FaultType::kAccessFlag:
      return kFscAccessFlag[arm_level];
    case FaultType::kPermission:
      return kFscPermission[arm_level];
    default:
      return 0xff;
  }
}

// ---------------------------------------------------------------------------
// Hand-built trees: one table per level at fixed addresses, the path to
// `va` only.
// ---------------------------------------------------------------------------

constexpr uint64_t kRoot = 0;
constexpr uint64_t kTableStride = 0x100000;  // table for depth d at d * 1 MiB
constexpr uint64_t kLeafOa = 0x80'0000'0000ull;  // 512 GiB: aligned for every leaf size used

template <typename F>
uint64_t TableAt(const F& f, Level l) {
  return kRoot + kTableStride * static_cast<uint64_t>(f.TopLevel().value() - l.value());
}

// Writes the path from the root to a leaf at `leaf_level` for `va`; the
// table descriptor at `bits_level` carries `table_bits` (the others none).
// Returns the leaf's entry.
template <typename F>
EntryPtr<F> Install(const F& f, PhysMem* mem, Va va, Level leaf_level, uint64_t leaf_raw, uint64_t table_bits,
                    Level bits_level) {
  for (int lv = f.TopLevel().value(); lv > leaf_level.value(); --lv) {
    const Level l(lv);
    uint64_t raw = f.EncodeTable(l, Oa(TableAt(f, l.Below())));
    if (l == bits_level) raw |= table_bits;
    TablePtr<F>{Oa(TableAt(f, l)), l}.At(mem, IndexOf(f, va, l)).Store({raw, l}, std::memory_order_relaxed);
  }
  const EntryPtr<F> leaf = TablePtr<F>{Oa(TableAt(f, leaf_level)), leaf_level}.At(mem, IndexOf(f, va, leaf_level));
  leaf.Store({leaf_raw, leaf_level}, std::memory_order_relaxed);
  return leaf;
}

// A VA with a nonzero index at every level, in the format's half.
template <typename F>
Va TestVa(const F& f) {
  return CanonicalVa(f, 0x0000'5a5a'5a5a'5a5aull);
}

std::string Describe(const S1Case& c, int arm_level) {
  return absl::StrFormat("L%d leaf=%#x tables=%#x who=%d pan=%d epan=%d wxn=%d ha=%d hd=%d acc=%d", arm_level,
                         c.leaf, c.tables, static_cast<int>(c.who), c.pan, c.epan, c.wxn, c.ha, c.hd,
                         static_cast<int>(c.acc));
}

// Compares one walk with the expectation; returns false (after one
// failure message) when they differ.
// `what` describes the case; it is called only on a mismatch.
template <typename F, typename Describer>
bool Check(const F& f, PhysMem* mem, const EntryPtr<F>& leaf, Level l, Va va, const Result& got, const Expected& want,
           AccessKind acc, bool stage2, const Describer& what) {
  const int arm_level = 3 - l.value();
  const uint64_t in_memory = leaf.Load(std::memory_order_relaxed).raw;
  bool same = in_memory == want.leaf_after && got.ok == (want.fault == FaultType::kNone);
  if (same && got.ok) {
    const unsigned lg2 = f.ItemLg2(l);
    same = got.oa == Oa(kLeafOa + va.Mod(lg2)) && got.size_lg2 == lg2 && got.arm_level == arm_level &&
           got.desc == want.leaf_after;
  } else if (same) {
    same = got.fault.type == want.fault && got.fault.arm_level == arm_level &&
           got.fault.fsc == ExpectedFsc(want.fault, arm_level) && got.fault.stage2 == stage2 &&
           got.fault.wnr == (acc == AccessKind::kWrite) && got.fault.fetch == (acc == AccessKind::kFetch);
  }
  if (same) return true;
  ADD_FAILURE() << what() << ": got ok=" << got.ok << " fault=" << hw::armv8::FaultTypeName(got.fault.type)
                << " fsc=" << int{got.fault.fsc} << " memory=" << std::hex << in_memory << "; want fault="
                << hw::armv8::FaultTypeName(want.fault) << " memory=" << want.leaf_after;
  return false;
}

// Every combination for one stage 1 format (`settings` without `ha`).
template <typename F>
uint64_t EnumerateStage1(std::initializer_list<std::string_view> settings) {
  uint64_t checked = 0;
  int failures = 0;
  PhysMem mem(Oa(0), 8 * kTableStride);
  for (const bool ha : {false, true}) {
    std::vector<std::string_view> knobs(settings);
    knobs.push_back(ha ? "ha=1" : "ha=0");
    FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
    for (std::string_view s : knobs) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
    const F f(cfg);
    const Va va = TestVa(f);
    for (int lv = 0; lv < f.TopLevel().value(); ++lv) {
      const Level l(lv);
      if (!f.CanLeaf(l)) continue;
      const uint64_t base = f.EncodeLeaf(l, Oa(kLeafOa), LeafAttrs().With(Attr::kRead)) & ~kLeafPermBits;
      // The controls sit on the top table descriptor or on the one just
      // above the leaf (one place when those are the same).
      std::vector<Level> bits_levels{f.TopLevel()};
      if (l.Above() != f.TopLevel()) bits_levels.push_back(l.Above());
      for (const Level bits_level : bits_levels) {
        for (unsigned leaf_bits = 0; leaf_bits < 64; ++leaf_bits) {
          // AP[2:1], UXN, PXN, AF, DBM.
          const uint64_t perm = ((leaf_bits & 3ull) << 6) | ((leaf_bits >> 2 & 1ull) << 54) |
                                ((leaf_bits >> 3 & 1ull) << 53) | ((leaf_bits >> 4 & 1ull) << 10) |
                                ((leaf_bits >> 5 & 1ull) << 51);
          for (unsigned table_bits = 0; table_bits < 16; ++table_bits) {
            const uint64_t tables = static_cast<uint64_t>(table_bits) << 59;  // PXNTable..APTable[1]
            for (const Who who : kWhos) {
              for (unsigned flags = 0; flags < 16; ++flags) {
                for (const AccessKind acc : kAccesses) {
                  S1Case c{perm, tables, who, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, ha,
                           (flags & 8) != 0, acc};
                  const EntryPtr<F> leaf = Install(f, &mem, va, l, base | perm, tables, bits_level);
                  Mode m;
                  m.el = who == Who::kEl0 ? El::kEl0 : El::kEl1;
                  m.unprivileged = who == Who::kEl1Unprivileged;
                  m.pan = c.pan;
                  m.epan = c.epan;
                  m.wxn = c.wxn;
                  m.hd = c.hd;
                  const Result got = Walk(f, &mem, Oa(kRoot), va, acc, m);
                  const Expected want = ExpectS1(c, base | perm);
                  ++checked;
                  const auto what = [&] {
                    return Describe(c, 3 - lv) + absl::StrFormat(" controls at L%d", 3 - bits_level.value());
                  };
                  if (!Check(f, &mem, leaf, l, va, got, want, acc, false, what) && ++failures > 20) return checked;
                }
              }
            }
          }
        }
      }
    }
  }
  return checked;
}

template <typename F>
uint64_t EnumerateStage2(std::initializer_list<std::string_view> settings) {
  uint64_t checked = 0;
  int failures = 0;
  PhysMem mem(Oa(0), 8 * kTableStride);
  for (unsigned knob_bits = 0; knob_bits < 4; ++knob_bits) {
    const bool ha = (knob_bits & 1) != 0;
    const bool xnx = (knob_bits & 2) != 0;
    std::vector<std::string_view> knobs(settings);
    knobs.push_back(ha ? "ha=1" : "ha=0");
    knobs.push_back(xnx ? "xnx=1" : "xnx=0");
    FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
    for (std::string_view s : knobs) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
    const F f(cfg);
    const Va ipa = TestVa(f);
    for (int lv = 0; lv <= f.TopLevel().value(); ++lv) {
      const Level l(lv);
      if (!f.CanLeaf(l)) continue;
      const uint64_t base = f.EncodeLeaf(l, Oa(kLeafOa), LeafAttrs()) & ~kLeafPermBits;
      for (unsigned leaf_bits = 0; leaf_bits < 64; ++leaf_bits) {
        // S2AP[1:0], XN[1:0], AF, DBM.
        const uint64_t perm = ((leaf_bits & 3ull) << 6) | ((leaf_bits >> 2 & 3ull) << 53) |
                              ((leaf_bits >> 4 & 1ull) << 10) | ((leaf_bits >> 5 & 1ull) << 51);
        for (const bool el0 : {false, true}) {
          for (const bool hd : {false, true}) {
            for (const AccessKind acc : kAccesses) {
              const S2Case c{perm, el0, ha, hd, xnx, acc};
              const EntryPtr<F> leaf = Install(f, &mem, ipa, l, base | perm, 0, f.TopLevel());
              Mode m;
              m.el = el0 ? El::kEl0 : El::kEl1;
              m.hd = hd;
              const Result got = Walk(f, &mem, Oa(kRoot), ipa, acc, m);
              const Expected want = ExpectS2(c, base | perm);
              ++checked;
              const auto what = [&] {
                return absl::StrFormat("S2 L%d leaf=%#x el0=%d ha=%d hd=%d xnx=%d acc=%d", 3 - lv, perm, el0, ha, hd,
                                       xnx, static_cast<int>(acc));
              };
              if (!Check(f, &mem, leaf, l, ipa, got, want, acc, true, what) && ++failures > 20) return checked;
            }
          }
        }
      }
    }
  }
  return checked;
}

void Report(const char* name, uint64_t n) {
  ::testing::Test::RecordProperty(absl::StrFormat("combinations_%s", name), std::to_string(n));
  std::printf("[ armv8 enumeration ] %s: %llu combinations checked\n", name, static_cast<unsigned long long>(n));
}

TEST(ArmV8Enumeration, Stage1_4K_Ttbr0_48) {
  const uint64_t n = EnumerateStage1<fmt::ArmV8S1_4K>({});
  Report("armv8_s1_4k_ttbr0_va48", n);
  // (L1: 1 place for the table controls, L2: 2, L3: 2) x 64 leaf x 16 table x 3 who x 16 flags x 3 accesses x 2 HA.
  EXPECT_EQ(n, 5u * 64 * 16 * 3 * 16 * 3 * 2);
}

TEST(ArmV8Enumeration, Stage1_4K_Ttbr1_48) {
  const uint64_t n = EnumerateStage1<fmt::ArmV8S1_4K>({"ttbr1=1"});
  Report("armv8_s1_4k_ttbr1_va48", n);
  EXPECT_EQ(n, 5u * 64 * 16 * 3 * 16 * 3 * 2);
}

TEST(ArmV8Enumeration, Stage1_4K_Lpa2_52) {
  // FEAT_LPA2: a 4KB L0 block (512 GiB) exists, and the walk starts at L-1.
  const uint64_t n = EnumerateStage1<fmt::ArmV8S1_4K>({"lpa=1", "va_bits=52", "oa_bits=52"});
  Report("armv8_s1_4k_lpa2_va52", n);
  EXPECT_EQ(n, 7u * 64 * 16 * 3 * 16 * 3 * 2);  // L0: 1 place, L1-L3: 2
}

TEST(ArmV8Enumeration, Stage1_16K_48) {
  const uint64_t n = EnumerateStage1<fmt::ArmV8S1_16K>({});
  Report("armv8_s1_16k_va48", n);
  EXPECT_EQ(n, 4u * 64 * 16 * 3 * 16 * 3 * 2);  // L2 and L3: 2 places each
}

TEST(ArmV8Enumeration, Stage1_64K_48) {
  const uint64_t n = EnumerateStage1<fmt::ArmV8S1_64K>({});
  Report("armv8_s1_64k_va48", n);
  EXPECT_EQ(n, 3u * 64 * 16 * 3 * 16 * 3 * 2);  // L2 (below the top): 1, L3: 2
}

TEST(ArmV8Enumeration, Stage2_4K_Ipa40) {
  const uint64_t n = EnumerateStage2<fmt::ArmV8S2_4K>({});
  Report("armv8_s2_4k_ipa40", n);
  // 3 leaf levels (L1 is the concatenated top) x 64 leaf x 2 EL x 2 HD x 3 accesses x 4 (HA, XNX).
  EXPECT_EQ(n, 3u * 64 * 2 * 2 * 3 * 4);
}

TEST(ArmV8Enumeration, Stage2_16K) {
  const uint64_t n = EnumerateStage2<fmt::ArmV8S2_16K>({});
  Report("armv8_s2_16k", n);
  // Leaves at L2 (32 MiB blocks) and L3; an L1 block needs 52-bit output addresses.
  EXPECT_EQ(n, 2u * 64 * 2 * 2 * 3 * 4);
}

TEST(ArmV8Enumeration, Stage2_64K_Ipa48) {
  const uint64_t n = EnumerateStage2<fmt::ArmV8S2_64K>({"ipa_bits=48"});
  Report("armv8_s2_64k_ipa48", n);
  EXPECT_EQ(n, 2u * 64 * 2 * 2 * 3 * 4);
}

// ---------------------------------------------------------------------------
// Golden vectors: hand-built descriptors, exact ESR codes. 4KB granule,
// va_bits = 39 (start at L1, 512 entries), tables at 0x1000 (L1), 0x2000
// (L2), 0x3000 (L3). A table descriptor is address | 0b11; an L3 page is
// address | 0b11 | attributes, an L2 block address | 0b01 | attributes.
// Attribute bits: AP[1] 0x40, AP[2] 0x80, SH inner 0x300, AF 0x400,
// DBM 1 << 51, PXN 1 << 53, UXN 1 << 54.
// ---------------------------------------------------------------------------

class ArmV8Golden : public golden::Table64Test {
 protected:
  // VA 0x40201abc: L1 index 1, L2 index 1, L3 index 1, offset 0xabc.
  static constexpr uint64_t kVa = 0x40201abc;
  void PathToL3(uint64_t l3_entry, uint64_t l1_extra = 0, uint64_t l2_extra = 0) {
    Put(0x1000 + 8, 0x2003 | l1_extra);
    Put(0x2000 + 8, 0x3003 | l2_extra);
    Put(0x3000 + 8, l3_entry);
  }
  template <typename F>
  Result Go(const F& f, uint64_t va, AccessKind acc, Mode m = {}) {
    return Walk(f, &mem_, Oa(0x1000), Va(va), acc, m);
  }
  static Mode El0() {
    Mode m;
    m.el = El::kEl0;
    return m;
  }
};

// D8 "Translation fault": an invalid L1 descriptor; DFSC 0b000101.
TEST_F(ArmV8Golden, InvalidL1IsTranslationFaultLevel1) {
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  const Result r = Go(f, kVa, AccessKind::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fsc, 0x05);
  EXPECT_EQ(r.fault.arm_level, 1);
  EXPECT_FALSE(r.fault.wnr);
}

// A write to an EL1 read-only page (AP[2:1] = 10) at EL1: Permission
// fault level 3, DFSC 0b001111, WnR = 1.
TEST_F(ArmV8Golden, WriteToReadOnlyPageIsPermissionFaultLevel3WithWnR) {
  PathToL3(0x0060000080000783ull);  // UXN|PXN, AF, SH, AP=10, page 0x80000000
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  const Result r = Go(f, kVa, AccessKind::kWrite);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fsc, 0x0f);
  EXPECT_TRUE(r.fault.wnr);
  const Result read = Go(f, kVa, AccessKind::kRead);
  ASSERT_TRUE(read.ok);
  EXPECT_EQ(read.oa, Oa(0x80000abc));
}

// D8 "The Access flag": AF = 0 with TCR.HA = 0 on a 2 MiB block at L2:
// Access flag fault level 2, DFSC 0b001010, even for an access the
// permissions also forbid (the Access flag fault has priority).
TEST_F(ArmV8Golden, AccessFlagFaultComesBeforePermissionFault) {
  Put(0x1000 + 8, 0x2003);
  Put(0x2000 + 8, 0x0060000080200381ull);  // block, AP=10 (EL1 RO), AF = 0
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39", "ha=0"});
  const Result r = Go(f, kVa, AccessKind::kWrite);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.type, FaultType::kAccessFlag);
  EXPECT_EQ(r.fault.fsc, 0x0a);
  EXPECT_TRUE(r.fault.wnr);
  EXPECT_EQ(Get(0x2008), 0x0060000080200381ull) << "nothing written back";
  // With HA = 1 the read succeeds and the hardware sets AF.
  const auto fha = Make<fmt::ArmV8S1_4K>({"va_bits=39", "ha=1"});
  const Result ok = Go(fha, kVa, AccessKind::kRead);
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.oa, Oa(0x80201abc));
  EXPECT_EQ(ok.size_lg2, 21u);
  EXPECT_EQ(Get(0x2008), 0x0060000080200781ull);
}

// Implicit PXN: an EL0-writable page (AP = 01) with PXN = 0 is not
// executable at EL1 (IFSC 0b001111) but is at EL0 (UXN = 0).
TEST_F(ArmV8Golden, El0WritablePageIsNotExecutableAtEl1) {
  PathToL3(0x0000000080000743ull);  // AP=01, AF, SH, UXN = PXN = 0
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  const Result r = Go(f, kVa, AccessKind::kFetch);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fsc, 0x0f);
  EXPECT_TRUE(r.fault.fetch);
  EXPECT_FALSE(r.fault.wnr);
  EXPECT_TRUE(Go(f, kVa, AccessKind::kFetch, El0()).ok);
}

// PAN: an EL1 load from an EL0-accessible page faults with PAN = 1 (DFSC
// 0b001111); LDTR (unprivileged) is checked as EL0 and succeeds.
TEST_F(ArmV8Golden, PanFaultsPrivilegedButNotUnprivilegedLoads) {
  PathToL3(0x0060000080000743ull);
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  Mode pan;
  pan.pan = true;
  const Result r = Go(f, kVa, AccessKind::kRead, pan);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fsc, 0x0f);
  pan.unprivileged = true;
  EXPECT_TRUE(Go(f, kVa, AccessKind::kRead, pan).ok);
  // APTable[0] = 1 on the L1 table descriptor takes EL0 access away, and
  // with it PAN's reason to fault.
  PathToL3(0x0060000080000743ull, 1ull << 61);
  pan.unprivileged = false;
  EXPECT_TRUE(Go(f, kVa, AccessKind::kRead, pan).ok);
  EXPECT_FALSE(Go(f, kVa, AccessKind::kRead, El0()).ok);
}

// DBM with TCR.HD = 1: a write to a writable-clean page (AP[2] = 1,
// DBM = 1) clears AP[2] instead of faulting; with HD = 0 it faults.
TEST_F(ArmV8Golden, DirtyBitModifierClearsAp2OnWrite) {
  PathToL3(0x0068000080000783ull);  // DBM, UXN, PXN, AF, AP=10
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  const Result no_hd = Go(f, kVa, AccessKind::kWrite);
  ASSERT_FALSE(no_hd.ok);
  EXPECT_EQ(no_hd.fault.fsc, 0x0f);
  Mode hd;
  hd.hd = true;
  const Result r = Go(f, kVa, AccessKind::kWrite, hd);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(Get(0x3008), 0x0068000080000703ull);
  // APTable[1] = 1 on the L2 table descriptor (not the top one) still
  // forbids the write, and nothing changes.
  PathToL3(0x0068000080000783ull, 0, 1ull << 62);
  const Result ro = Go(f, kVa, AccessKind::kWrite, hd);
  ASSERT_FALSE(ro.ok);
  EXPECT_EQ(ro.fault.fsc, 0x0f);
  EXPECT_EQ(Get(0x3008), 0x0068000080000783ull);
}

// D8 "Address size fault": with a 40-bit PA size, a page at 2^40 is an
// Address size fault at level 3 (DFSC 0b000011); an L3 descriptor with
// bits[1:0] = 01 is reserved and a Translation fault (0b000111).
TEST_F(ArmV8Golden, AddressSizeAndReservedDescriptors) {
  PathToL3(0x0060010000000743ull);
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39", "oa_bits=40"});
  const Result big = Go(f, kVa, AccessKind::kRead);
  ASSERT_FALSE(big.ok);
  EXPECT_EQ(big.fault.fsc, 0x03);
  PathToL3(0x0060000080000741ull);
  const Result reserved = Go(f, kVa, AccessKind::kRead);
  ASSERT_FALSE(reserved.ok);
  EXPECT_EQ(reserved.fault.fsc, 0x07);
}

// A VA outside the TTBR0 range (bit 39 set with va_bits = 39): Translation
// fault level 0, DFSC 0b000100.
TEST_F(ArmV8Golden, OutOfRangeVaIsTranslationFaultLevel0) {
  PathToL3(0x0060000080000743ull);
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  const Result r = Go(f, kVa | (1ull << 39), AccessKind::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fsc, 0x04);
  EXPECT_EQ(r.fault.arm_level, 0);
}

// Stage 2, 4KB, ipa_bits = 39 with concat=0 (start at L1, 512 entries):
// S2AP = 01 (read-only) refuses a write with a stage 2 Permission fault;
// FEAT_XNX XN[1:0] = 01 lets EL0 execute but not EL1.
TEST_F(ArmV8Golden, Stage2PermissionsAndXnx) {
  PathToL3(0x00200000800007c3ull & ~0x80ull);  // XN[0], AF, SH, S2AP = 01
  const auto f = Make<fmt::ArmV8S2_4K>({"ipa_bits=39", "concat=0", "xnx=1"});
  const Result w = Go(f, kVa, AccessKind::kWrite);
  ASSERT_FALSE(w.ok);
  EXPECT_EQ(w.fault.fsc, 0x0f);
  EXPECT_TRUE(w.fault.stage2);
  EXPECT_TRUE(w.fault.wnr);
  EXPECT_TRUE(Go(f, kVa, AccessKind::kFetch, El0()).ok);
  const Result x = Go(f, kVa, AccessKind::kFetch);
  ASSERT_FALSE(x.ok);
  EXPECT_EQ(x.fault.fsc, 0x0f);
  EXPECT_TRUE(x.fault.fetch);
  // With VTCR_EL2.HD and DBM, the write sets S2AP[1].
  PathToL3(0x00280000800007c3ull & ~0x80ull);
  Mode hd;
  hd.hd = true;
  ASSERT_TRUE(Go(f, kVa, AccessKind::kWrite, hd).ok);
  EXPECT_EQ(Get(0x3008), 0x00280000800007c3ull);
}

// A mutator clears the leaf between the walk's read and its AF update: the
// compare-and-swap fails, the walk restarts, finds the entry invalid and
// takes a Translation fault; the cleared entry stays cleared.
class ClearOnCas : public MemObserver {
 public:
  ClearOnCas(PhysMem* mem, uint64_t addr) : mem_(mem), addr_(addr) {}
  void OnAccess(Oa addr, unsigned, MemAccess kind) override {
    if (kind != MemAccess::kCompareExchange || addr != Oa(addr_) || fired_) return;
    fired_ = true;
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(mem_->Writable(Oa(addr_)))).store(0);
  }

 private:
  PhysMem* mem_;
  uint64_t addr_;
  bool fired_ = false;
};

TEST_F(ArmV8Golden, FailedUpdateRestartsAndNeverResurrects) {
  PathToL3(0x0060000080000343ull);  // AF = 0, HA = 1 (default): the walk wants to set AF
  const auto f = Make<fmt::ArmV8S1_4K>({"va_bits=39"});
  ClearOnCas obs(&mem_, 0x3008);
  mem_.set_observer(&obs);
  const Result r = Go(f, kVa, AccessKind::kRead);
  mem_.set_observer(nullptr);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_EQ(r.fault.fsc, 0x07);
  EXPECT_EQ(Get(0x3008), 0u);
}

// ---------------------------------------------------------------------------
// Default mode against the generic walker, on random trees built by Space.
// ---------------------------------------------------------------------------

struct Agreement {
  uint64_t compared = 0;
  uint64_t el1_fetch_of_user_exec = 0;  // the known divergence (see below)
};

template <typename F>
Agreement CompareWithGeneric(const F& f, uint64_t seed, bool stage2) {
  Agreement a;
  Arena arena;
  Space<F> s(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  EXPECT_TRUE(s.Init().ok());
  std::mt19937_64 rng(seed);
  std::vector<unsigned> sizes;
  for (int lv = 0; lv <= f.TopLevel().value(); ++lv) {
    if (f.CanLeaf(Level(lv))) sizes.push_back(f.ItemLg2(Level(lv)));
  }
  std::vector<Va> mapped;
  const unsigned span_lg2 = std::min(f.VaBits(), 36u);  // keep mappings dense enough to collide
  for (int i = 0; i < 60; ++i) {
    const unsigned lg2 = sizes[rng() % (sizes.size() > 1 ? 2 : 1)];  // the two smallest leaf sizes
    const uint64_t va_low = (rng() & LowMask(span_lg2)) & ~LowMask(lg2);
    const uint64_t oa = (rng() & LowMask(40)) & ~LowMask(lg2);
    const Va first = CanonicalVa(f, va_low);
    const uint64_t r = rng();
    const LeafAttrs attrs = LeafAttrs::Of(stage2 ? (r & 1) != 0 : true, (r & 2) != 0, (r & 4) != 0, (r & 8) != 0,
                                          (r & 16) != 0, (r & 32) != 0, false);
    if (s.Map({first, first + (LowMask(lg2))}, Oa(oa), attrs).ok()) mapped.push_back(first);
  }
  EXPECT_GT(mapped.size(), 20u);
  for (int i = 0; i < 3000; ++i) {
    Va va = CanonicalVa(f, rng() & LowMask(span_lg2));
    if (i % 2 == 0 && !mapped.empty()) {
      // Two draws, sequenced: the same numbers with every compiler.
      const uint64_t pick = rng() % mapped.size();
      va = mapped[pick] + (rng() & 0xfff);
    }
    if (i % 97 == 0) va = Va(va.value() ^ (uint64_t{1} << 62));  // out of range
    for (const AccessType type : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
      for (const bool user : {false, true}) {
        WalkTrace trace;
        const WalkResult g = Translate(f, &arena.mem(), s.root(), va, Access{type, user}, MmuOptions{}, &trace);
        Mode m;
        m.el = user ? El::kEl0 : El::kEl1;
        const AccessKind acc = type == AccessType::kRead    ? AccessKind::kRead
                               : type == AccessType::kWrite ? AccessKind::kWrite
                                                            : AccessKind::kFetch;
        const Result h = Walk(f, &arena.mem(), s.root(), va, acc, m);
        ++a.compared;
        if (g.ok && h.ok) {
          EXPECT_EQ(g.t.oa, h.oa) << std::hex << va.value();
          EXPECT_EQ(g.t.size_lg2, h.size_lg2) << std::hex << va.value();
          continue;
        }
        if (g.ok != h.ok) {
          // Known divergence: the generic walker lets an EL1 fetch through a
          // page whose neutral attributes are user + exec; the format
          // encodes such a page with PXN = 1 (and the manual forbids EL1
          // execution of EL0-writable memory anyway), so hardware faults.
          const uint64_t leaf = trace.count > 0 ? trace.steps[trace.count - 1].raw : 0;
          const bool known = !stage2 && g.ok && !user && type == AccessType::kExec &&
                             h.fault.type == FaultType::kPermission && (leaf & kBitAp1) != 0;
          EXPECT_TRUE(known) << "generic ok=" << g.ok << " hw ok=" << h.ok << " va=" << std::hex << va.value()
                             << " type=" << static_cast<int>(type) << " user=" << user << " leaf=" << leaf;
          if (known) ++a.el1_fetch_of_user_exec;
          continue;
        }
        // Both fault: the same level, and the kind maps onto the FSC.
        if (g.fault.kind == FaultKind::kNonCanonical) {
          EXPECT_EQ(h.fault.fsc, 0x04);
          continue;
        }
        EXPECT_EQ(h.fault.arm_level, 3 - g.fault.level.value()) << std::hex << va.value();
        switch (g.fault.kind) {
          case FaultKind::kNotPresent:
            EXPECT_EQ(h.fault.type, FaultType::kTranslation);
            break;
          case FaultKind::kPermission:
            EXPECT_EQ(h.fault.type, FaultType::kPermission);
            break;
          default:
            ADD_FAILURE() << "unexpected generic fault " << FaultKindName(g.fault.kind);
        }
      }
    }
  }
  s.Destroy();
  return a;
}

template <typename F>
void AgreeOn(const char* name, std::initializer_list<std::string_view> settings, bool stage2) {
  FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
  for (std::string_view s : settings) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
  const F f(cfg);
  Agreement total;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const Agreement a = CompareWithGeneric(f, seed, stage2);
    total.compared += a.compared;
    total.el1_fetch_of_user_exec += a.el1_fetch_of_user_exec;
  }
  ::testing::Test::RecordProperty(absl::StrFormat("generic_compared_%s", name), std::to_string(total.compared));
  std::printf("[ armv8 vs generic ] %s: %llu accesses compared, %llu EL1 fetches of user-exec pages diverge\n", name,
              static_cast<unsigned long long>(total.compared),
              static_cast<unsigned long long>(total.el1_fetch_of_user_exec));
}

TEST(ArmV8AgreesWithGeneric, Stage1_4K) { AgreeOn<fmt::ArmV8S1_4K>("s1_4k", {}, false); }
TEST(ArmV8AgreesWithGeneric, Stage1_4K_Ttbr1) { AgreeOn<fmt::ArmV8S1_4K>("s1_4k_ttbr1", {"ttbr1=1"}, false); }
TEST(ArmV8AgreesWithGeneric, Stage1_16K) { AgreeOn<fmt::ArmV8S1_16K>("s1_16k", {}, false); }
TEST(ArmV8AgreesWithGeneric, Stage1_64K) { AgreeOn<fmt::ArmV8S1_64K>("s1_64k", {}, false); }
TEST(ArmV8AgreesWithGeneric, Stage2_4K) { AgreeOn<fmt::ArmV8S2_4K>("s2_4k", {}, true); }
TEST(ArmV8AgreesWithGeneric, Stage2_16K) { AgreeOn<fmt::ArmV8S2_16K>("s2_16k", {}, true); }
TEST(ArmV8AgreesWithGeneric, Stage2_64K) { AgreeOn<fmt::ArmV8S2_64K>("s2_64k", {}, true); }

}  // namespace
}  // namespace ptsim
