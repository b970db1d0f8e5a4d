// Exhaustive check of the ARMv7 short-descriptor hardware walk
// (src/hw/armv7.h) against an expectation written separately from the ARM
// ARM v7-A/R (DDI 0406C): the permission tables of B3.7.1 copied as rows of
// strings (Table B3-8 for SCTLR.AFE = 0, Table B3-9 for AFE = 1), XN/PXN
// (B3.7.2), DACR (B3.7.3), the fault-checking order (B3.12.3) and the FS
// encodings (B3.13.3 Table B3-23) written out as numbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/formats/armv7_short.h"
#include "src/hw/armv7.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"

namespace ptsim {
namespace {

namespace a7 = hw::armv7;
using fmt::ArmV7Short;

const ArmV7Short kF{FormatConfig()};

// ---------------------------------------------------------------------------
// The expectation.

// B3.7.1 Table B3-8 (AFE = 0): AP[2:0] -> PL1 access, PL0 access.
struct ApRow {
  const char* ap;
  const char* pl1;
  const char* pl0;
};
constexpr ApRow kTableB3_8[] = {
    {"000", "none", "none"}, {"001", "rw", "none"}, {"010", "rw", "ro"}, {"011", "rw", "rw"},
    {"100", "none", "none"},  // reserved: ptsim grants nothing (docs/hw/armv7.md)
    {"101", "ro", "none"},   {"110", "ro", "ro"},   {"111", "ro", "ro"},
};
// B3.7.1 Table B3-9 (AFE = 1): AP[2:1] -> PL1, PL0; AP[0] is the Access flag.
constexpr ApRow kTableB3_9[] = {
    {"00", "rw", "none"},
    {"01", "rw", "rw"},
    {"10", "ro", "none"},
    {"11", "ro", "ro"},
};

std::string Bits(unsigned v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s += ((v >> i) & 1) ? '1' : '0';
  return s;
}

std::string_view Lookup(unsigned ap, bool afe, bool pl1) {
  if (afe) {
    for (const ApRow& r : kTableB3_9) {
      if (Bits(ap >> 1, 2) == r.ap) return pl1 ? r.pl1 : r.pl0;
    }
  } else {
    for (const ApRow& r : kTableB3_8) {
      if (Bits(ap, 3) == r.ap) return pl1 ? r.pl1 : r.pl0;
    }
  }
  return "?";
}

enum class DomSetting { kNoAccess, kClient, kReserved, kManager };
constexpr unsigned DacrBits(DomSetting s) {
  return s == DomSetting::kNoAccess ? 0 : s == DomSetting::kClient ? 1 : s == DomSetting::kReserved ? 2 : 3;
}

struct Case {
  bool page;  // small/large page, else section/supersection
  unsigned ap;
  bool xn, pxn;
  DomSetting dom;
  bool afe, pl1;
  char access;  // 'r', 'w', 'x'
};

// 0 for success, else the FS[4:0] value of Table B3-23.
unsigned ExpectFs(const Case& c) {
  // B3.12.3: domain first (No access, and reserved 10 taken as No access).
  if (c.dom == DomSetting::kNoAccess || c.dom == DomSetting::kReserved) return c.page ? 0b01011 : 0b01001;
  // Then the Access flag, AP[0], when SCTLR.AFE = 1.
  if (c.afe && (c.ap & 1) == 0) return c.page ? 0b00110 : 0b00011;
  // Manager: no permission checks (B3.7.3).
  if (c.dom == DomSetting::kManager) return 0;
  const std::string_view grant = Lookup(c.ap, c.afe, c.pl1);
  bool allowed = false;
  if (c.access == 'r') allowed = grant != "none";
  if (c.access == 'w') allowed = grant == "rw";
  // B3.7.2: never from XN; never at PL1 from PXN; never without read.
  if (c.access == 'x') allowed = grant != "none" && !c.xn && !(c.pxn && c.pl1);
  return allowed ? 0 : (c.page ? 0b01111 : 0b01101);
}

// ---------------------------------------------------------------------------
// Descriptors, bit by bit from B3.5.1.

constexpr uint64_t kTtb = 0x100000;
constexpr uint64_t kL2 = 0x104400;
constexpr uint32_t kVa = 0x12345678;

void Put32(PhysMem& mem, uint64_t addr, uint32_t v) { std::memcpy(mem.Writable(Oa(addr)), &v, 4); }

enum class Kind { kSection, kSupersection, kSmall, kLarge };
const char* KindName(Kind k) {
  return k == Kind::kSection ? "section" : k == Kind::kSupersection ? "supersection" : k == Kind::kSmall ? "small" : "large";
}

struct Built {
  uint64_t pa_base;
  unsigned size_lg2;
};

Built Build(PhysMem& mem, Kind k, unsigned ap, bool xn, bool pxn, unsigned domain) {
  mem.Fill(Oa(kTtb), 0x8000, 0);
  const uint64_t l1_addr = kTtb + (kVa >> 20) * 4;
  const uint32_t ap10 = ap & 3, ap2 = (ap >> 2) & 1;
  switch (k) {
    case Kind::kSection: {
      // 1MB section: PA[31:20], AP[2] b15, AP[1:0] b11:10, domain b8:5, XN
      // b4, bits[1:0] = 1:PXN.
      const uint32_t d = 0xabc00000u | ap2 << 15 | ap10 << 10 | domain << 5 | uint32_t{xn} << 4 | 2u | uint32_t{pxn};
      Put32(mem, l1_addr, d);
      return {0xabc00000u, 20};
    }
    case Kind::kSupersection: {
      // Supersection: PA[31:24], bit 18 = 1; bits 8:5 are not a domain but
      // extended base address bits PA[39:36] (set to 1010 here, so a walker
      // that reads them as a domain is caught); the domain is 0.
      const uint32_t d =
          0xab000000u | 1u << 18 | ap2 << 15 | ap10 << 10 | 0xau << 5 | uint32_t{xn} << 4 | 2u | uint32_t{pxn};
      Put32(mem, l1_addr, d);
      return {0xab000000u, 24};
    }
    case Kind::kSmall:
    case Kind::kLarge: {
      // Page table: base b31:10, domain b8:5, PXN b2, bits[1:0] = 01.
      Put32(mem, l1_addr, static_cast<uint32_t>(kL2) | domain << 5 | uint32_t{pxn} << 2 | 1u);
      const uint64_t l2_addr = kL2 + ((kVa >> 12) & 0xff) * 4;
      if (k == Kind::kSmall) {
        // Small page: PA[31:12], AP[2] b9, AP[1:0] b5:4, bit 1 = 1, XN b0.
        Put32(mem, l2_addr, 0xabcde000u | ap2 << 9 | ap10 << 4 | 2u | uint32_t{xn});
        return {0xabcde000u, 12};
      }
      // Large page: PA[31:16], XN b15, AP[2] b9, AP[1:0] b5:4, bits[1:0] = 01.
      Put32(mem, l2_addr, 0xabcd0000u | uint32_t{xn} << 15 | ap2 << 9 | ap10 << 4 | 1u);
      return {0xabcd0000u, 16};
    }
  }
  return {};
}

TEST(ArmV7AccessEnumeration, EveryApXnPxnDomainAfePlAccess) {
  PhysMem mem(Oa(kTtb), 0x10000);
  uint64_t total = 0, ok = 0;
  uint64_t per_kind[4] = {};
  const DomSetting settings[] = {DomSetting::kNoAccess, DomSetting::kClient, DomSetting::kReserved,
                                 DomSetting::kManager};
  for (Kind k : {Kind::kSection, Kind::kSupersection, Kind::kSmall, Kind::kLarge}) {
    const bool page = k == Kind::kSmall || k == Kind::kLarge;
    // A supersection is always domain 0 (no domain field).
    const unsigned domains = k == Kind::kSupersection ? 1 : 16;
    for (unsigned ap = 0; ap < 8; ++ap) {
      for (int xn = 0; xn < 2; ++xn) {
        for (int pxn = 0; pxn < 2; ++pxn) {
          for (unsigned domain = 0; domain < domains; ++domain) {
            const Built b = Build(mem, k, ap, xn, pxn, domain);
            for (DomSetting s : settings) {
              // The other fifteen domains get a setting that would change
              // the outcome, so reading the wrong DACR field shows.
              const unsigned other = s == DomSetting::kClient ? 0u : 1u;
              uint32_t dacr = 0;
              for (unsigned d = 0; d < 16; ++d) dacr |= (d == domain ? DacrBits(s) : other) << (2 * d);
              for (int afe = 0; afe < 2; ++afe) {
                for (int pl1 = 0; pl1 < 2; ++pl1) {
                  for (char acc : {'r', 'w', 'x'}) {
                    const Case c{page, ap, xn != 0, pxn != 0, s, afe != 0, pl1 != 0, acc};
                    const a7::Mode mode{pl1 ? a7::Pl::kPl1 : a7::Pl::kPl0, dacr, afe != 0};
                    const a7::Access access =
                        acc == 'r' ? a7::Access::kRead : acc == 'w' ? a7::Access::kWrite : a7::Access::kFetch;
                    const a7::Result r = a7::Walk(kF, &mem, Oa(kTtb), kVa, access, mode);
                    const unsigned want = ExpectFs(c);
                    const std::string where =
                        absl::StrFormat("%s ap=%s xn=%d pxn=%d domain=%d dacr=%#x afe=%d pl%d access=%c", KindName(k),
                                        Bits(ap, 3), xn, pxn, domain, dacr, afe, pl1, acc);
                    ++total;
                    ++per_kind[static_cast<int>(k)];
                    if (want == 0) {
                      ++ok;
                      ASSERT_TRUE(r.ok) << where << " got " << a7::FsName(r.fault.fs);
                      ASSERT_EQ(r.pa.value(), b.pa_base + (kVa & ((uint64_t{1} << b.size_lg2) - 1))) << where;
                      ASSERT_EQ(r.size_lg2, b.size_lg2) << where;
                      continue;
                    }
                    ASSERT_FALSE(r.ok) << where << " expected FS " << Bits(want, 5);
                    ASSERT_EQ(static_cast<unsigned>(r.fault.fs), want) << where << " got " << a7::FsName(r.fault.fs);
                    // B3.12: fetches report in IFSR/IFAR, data in DFSR/DFAR
                    // with WnR; the Domain field names the descriptor's.
                    ASSERT_EQ(r.fault.prefetch_abort, acc == 'x') << where;
                    ASSERT_EQ(r.fault.wnr, acc == 'w') << where;
                    ASSERT_EQ(r.fault.far, kVa) << where;
                    ASSERT_EQ(r.fault.domain, domain) << where;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  ::testing::Test::RecordProperty("armv7_short_combinations", std::to_string(total));
  std::printf("armv7_short: %llu combinations checked (%llu translate); section %llu, supersection %llu, small %llu, "
              "large %llu\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(per_kind[0]), static_cast<unsigned long long>(per_kind[1]),
              static_cast<unsigned long long>(per_kind[2]), static_cast<unsigned long long>(per_kind[3]));
  EXPECT_GT(ok, 0u);
}

// ---------------------------------------------------------------------------
// Faults before the domain: translation faults and walk aborts.

class ArmV7Access : public ::testing::Test {
 protected:
  PhysMem mem_{Oa(kTtb), 0x10000};
  const a7::Mode kManagerEverywhere{a7::Pl::kPl1, 0xffffffffu, false};
};

// B3.5.1: first-level bits[1:0] = 00 -> translation fault, section (00101),
// whatever the DACR says.
TEST_F(ArmV7Access, FirstLevelFaultEntryIsSectionTranslationFault) {
  const a7::Result r = a7::Walk(kF, &mem_, Oa(kTtb), kVa, a7::Access::kWrite, {a7::Pl::kPl1, 0, false});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fs, a7::Fs::kTranslationSection);
  EXPECT_TRUE(r.fault.wnr);
  EXPECT_EQ(r.fault.far, kVa);
}

// B3.12.3: for a page the second-level descriptor is fetched before the
// domain is checked, so a fault entry there is a translation fault (page,
// 00111) even in a No access domain.
TEST_F(ArmV7Access, SecondLevelFaultBeatsDomainFault) {
  Put32(mem_, kTtb + (kVa >> 20) * 4, static_cast<uint32_t>(kL2) | 5u << 5 | 1u);
  const a7::Result r = a7::Walk(kF, &mem_, Oa(kTtb), kVa, a7::Access::kFetch, {a7::Pl::kPl0, 0, false});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fs, a7::Fs::kTranslationPage);
  EXPECT_TRUE(r.fault.prefetch_abort);
  EXPECT_EQ(r.fault.domain, 5);
}

// B3.13.3: a walk whose descriptor read fails is a synchronous external
// abort on translation table walk, first level 01100, second level 01110.
TEST_F(ArmV7Access, TableOutsideMemoryIsWalkExternalAbort) {
  a7::Result r = a7::Walk(kF, &mem_, Oa(0x200000), kVa, a7::Access::kRead, kManagerEverywhere);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fs, a7::Fs::kExternalAbortWalkL1);
  Put32(mem_, kTtb + (kVa >> 20) * 4, 0x00300000u | 1u);  // a page table outside memory
  r = a7::Walk(kF, &mem_, Oa(kTtb), kVa, a7::Access::kRead, kManagerEverywhere);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fs, a7::Fs::kExternalAbortWalkL2);
}

// B3.7.2: PXN in a page table descriptor stops PL1 execution from every
// page below it, but not PL0's.
TEST_F(ArmV7Access, PageTablePxnStopsOnlyPl1Fetch) {
  Build(mem_, Kind::kSmall, 0b011, false, /*pxn=*/true, 0);
  EXPECT_TRUE(a7::Walk(kF, &mem_, Oa(kTtb), kVa, a7::Access::kFetch, {a7::Pl::kPl0, 0x55555555u, false}).ok);
  const a7::Result r = a7::Walk(kF, &mem_, Oa(kTtb), kVa, a7::Access::kFetch, {a7::Pl::kPl1, 0x55555555u, false});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.fs, a7::Fs::kPermissionPage);
}

// ---------------------------------------------------------------------------
// The default mode (PL from the access, all domains Client, AFE = 0)
// against the generic walker on random trees built by Space.
TEST(ArmV7AccessVsGeneric, DefaultModeAgreesOnSpaceTrees) {
  constexpr uint64_t kBase = 0x1000000;
  PhysMem mem(Oa(kBase), 0x1000000);
  TableAllocator alloc(&mem, OaRange{Oa(kBase), Oa(kBase + 0x1000000 - 1)});
  FrameTable frames;
  Space<ArmV7Short> space(kF, SpaceEnv{&mem, &alloc, &frames, nullptr, 1});
  ASSERT_TRUE(space.Init().ok());
  std::mt19937_64 rng(7);
  std::vector<uint64_t> starts;
  for (int n = 0; n < 80; ++n) {
    const unsigned lg2 = 12 + static_cast<unsigned>(rng() % 14);  // 4 KiB .. 32 MiB
    const uint64_t va = rng() & 0xffffffffu & ~LowMask(lg2);
    const uint64_t oa = rng() & 0xffffffffu & ~LowMask(lg2);
    if (va + (uint64_t{1} << lg2) - 1 > 0xffffffffu || oa + (uint64_t{1} << lg2) - 1 > 0xffffffffu) continue;
    if (space.Map(VaRange{Va(va), Va(va + (uint64_t{1} << lg2) - 1)}, Oa(oa),
                  LeafAttrs::FromBits(static_cast<uint8_t>(rng() & 0x7f)))
            .ok()) {
      starts.push_back(va);
    }
  }
  ASSERT_GT(starts.size(), 20u);
  uint64_t compared = 0, translated = 0;
  for (int n = 0; n < 5000; ++n) {
    const uint32_t va = static_cast<uint32_t>(n % 2 == 0 ? starts[rng() % starts.size()] + (rng() & 0x1ffffff) : rng());
    for (bool user : {false, true}) {
      for (AccessType t : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
        const a7::Access acc = t == AccessType::kRead    ? a7::Access::kRead
                               : t == AccessType::kWrite ? a7::Access::kWrite
                                                         : a7::Access::kFetch;
        const WalkResult g = Translate(kF, &mem, space.root(), Va(va), Access{t, user});
        const a7::Result h = a7::Walk(kF, &mem, space.root(), va, acc, {user ? a7::Pl::kPl0 : a7::Pl::kPl1});
        ++compared;
        ASSERT_EQ(h.ok, g.ok) << std::hex << va << " " << AccessTypeName(t) << " user " << user;
        if (!g.ok) continue;
        ++translated;
        EXPECT_EQ(h.pa, g.t.oa);
        EXPECT_EQ(h.size_lg2, g.t.size_lg2);
      }
    }
  }
  std::printf("armv7_short: %llu walks compared with generic Translate, %llu translated\n",
              static_cast<unsigned long long>(compared), static_cast<unsigned long long>(translated));
  EXPECT_GT(translated, compared / 20);
  space.Destroy();
}

}  // namespace
}  // namespace ptsim
