// The x86 hardware-faithful walk (src/hw/x86.h): golden page-fault error
// codes worked out by hand from Intel SDM Vol. 3A §4.6 and §4.7 (Figure
// 4-12: P=0x1 W/R=0x2 U/S=0x4 RSVD=0x8 I/D=0x10 PK=0x20), the CPU-mode
// parser, accessed/dirty compare-and-swap under interference, and agreement
// with the generic walker in the default mode on random trees. The
// exhaustive enumeration is x86_enum_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "src/harness/executor.h"
#include "src/hw/all_families.h"
#include "src/hw/x86.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"
#include "tests/hw/x86_util.h"

namespace ptsim {
namespace {

using hw::x86::Access;
using hw::x86::Mode;
using hw::x86::Op;
using hw::x86::Outcome;
using x86test::GetRaw;
using x86test::PutRaw;
using x86test::WithX86Format;

// Entry bits, Intel SDM Vol. 3A Tables 4-15..4-20 (and 4-4..4-10).
constexpr uint64_t kP = 1, kRw = 2, kUs = 4, kA = 0x20, kD = 0x40, kPs = 0x80, kXd = 1ull << 63;
constexpr uint64_t kTbl = kP | kRw | kUs;

Mode Cpl(int cpl) {
  Mode m;
  m.cpl = cpl;
  return m;
}

// A 4-level path for VA 0x401123: PML4[0] at 0x1000, PDPT[0] at 0x2000,
// PD[2] at 0x3000, PT[1] at 0x4000, page at 0x5000. The tests set the PTE.
class X86_64Path : public ::testing::Test {
 protected:
  static constexpr uint64_t kVa = 0x401123;
  static constexpr uint64_t kPte = 0x4000 + 1 * 8;
  static constexpr uint64_t kPde = 0x3000 + 2 * 8;
  void Build(uint64_t pte, std::initializer_list<std::string_view> settings = {"maxphyaddr=40"}) {
    settings_ = std::vector<std::string_view>(settings);
    PutRaw(&mem_, 0x1000, 0x2000 | kTbl, 8);
    PutRaw(&mem_, 0x2000, 0x3000 | kTbl, 8);
    PutRaw(&mem_, kPde, 0x4000 | kTbl, 8);
    PutRaw(&mem_, kPte, pte, 8);
  }
  hw::x86::Result Walk(Op op, const Mode& m, bool implicit = false, uint64_t va = kVa) {
    hw::x86::Result r;
    WithX86Format("x86_64_4level", [&]<typename F>() {
      FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
      for (std::string_view s : settings_) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
      r = hw::x86::Walk(F(cfg), &mem_, Oa(0x1000), Va(va), Access{op, implicit}, m);
    });
    return r;
  }
  uint64_t Get(uint64_t addr) { return GetRaw(&mem_, addr, 8); }

  PhysMem mem_{Oa(0), 1 << 20};
  std::vector<std::string_view> settings_;
};

// §4.6.1: a user-mode access to a supervisor-mode address is never allowed;
// §4.7: P=1 (protection), W/R=1 (write), U/S=1 (CPL 3): 0x7.
TEST_F(X86_64Path, UserWriteToSupervisorPageIs0x7) {
  Build(0x5000 | kP | kRw);
  const auto r = Walk(Op::kWrite, Cpl(3));
  EXPECT_EQ(r.outcome, Outcome::kPageFault);
  EXPECT_EQ(r.error_code, 0x7u);
  EXPECT_EQ(r.level, Level(0));
}

// §4.7: P=0 for a not-present PTE; U/S=1; nothing else: 0x4.
TEST_F(X86_64Path, UserReadOfNotPresentPteIs0x4) {
  Build(0x5000 | kRw | kUs);
  const auto r = Walk(Op::kRead, Cpl(3));
  EXPECT_EQ(r.error_code, 0x4u);
  EXPECT_EQ(r.level, Level(0));
}

// §4.6.1: with CR4.SMEP = 1 a supervisor-mode fetch from a user-mode
// address faults; §4.7: P=1, I/D=1 (SMEP is on): 0x11.
TEST_F(X86_64Path, SupervisorFetchOfUserPageWithSmepIs0x11) {
  Build(0x5000 | kP | kRw | kUs);
  Mode m = Cpl(0);
  m.smep = true;
  EXPECT_EQ(Walk(Op::kFetch, m).error_code, 0x11u);
  m.smep = false;
  EXPECT_TRUE(Walk(Op::kFetch, m).ok());
}

// §4.5.4 / Table 4-20: with MAXPHYADDR = 40, bit 51 of a PTE is reserved;
// §4.7: RSVD=1 with P=1: supervisor read 0x9, supervisor write 0xb, user
// write 0xf, user fetch with NXE 0x1d.
TEST_F(X86_64Path, ReservedBitErrorCodes) {
  Build(0x5000 | kP | kRw | kUs | (1ull << 51));
  EXPECT_EQ(Walk(Op::kRead, Cpl(0)).error_code, 0x9u);
  EXPECT_EQ(Walk(Op::kWrite, Cpl(0)).error_code, 0xbu);
  EXPECT_EQ(Walk(Op::kWrite, Cpl(3)).error_code, 0xfu);
  EXPECT_EQ(Walk(Op::kFetch, Cpl(3)).error_code, 0x1du);
}

// Table 4-20: XD (bit 63) is reserved when IA32_EFER.NXE = 0; §4.7: I/D is
// then not reported for a fetch without SMEP: a user fetch is 0xd.
TEST_F(X86_64Path, XdWithoutNxeIsReservedAndFetchHasNoIdBit) {
  Build(0x5000 | kP | kRw | kUs | kXd, {"maxphyaddr=40", "nxe=0"});
  EXPECT_EQ(Walk(Op::kFetch, Cpl(3)).error_code, 0xdu);
  EXPECT_EQ(Walk(Op::kRead, Cpl(3)).error_code, 0xdu);
}

// §4.6.1: user fetch from an XD page with NXE = 1: P|U/S|I/D = 0x15.
TEST_F(X86_64Path, UserFetchOfXdPageIs0x15) {
  Build(0x5000 | kP | kUs | kXd);
  EXPECT_EQ(Walk(Op::kFetch, Cpl(3)).error_code, 0x15u);
  EXPECT_TRUE(Walk(Op::kRead, Cpl(3)).ok());
}

// §4.6.1: a supervisor write to a read-only page faults only with CR0.WP = 1
// (0x3); with WP = 0 it succeeds and sets D (§4.8).
TEST_F(X86_64Path, SupervisorWriteToReadOnlyPageFollowsWp) {
  Build(0x5000 | kP);
  EXPECT_EQ(Walk(Op::kWrite, Cpl(0)).error_code, 0x3u);
  EXPECT_EQ(Get(kPte) & (kA | kD), 0u) << "no A/D on the leaf of a faulting access";
  Mode m = Cpl(0);
  m.wp = false;
  const auto r = Walk(Op::kWrite, m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.oa, Oa(0x5123));
  EXPECT_EQ(Get(kPte), 0x5000 | kP | kA | kD);
}

// §4.6.1 SMAP: a supervisor data access to a user-mode address is allowed
// only when explicit and EFLAGS.AC = 1; implicit accesses always fault.
TEST_F(X86_64Path, SmapNeedsAcAndAnExplicitAccess) {
  Build(0x5000 | kP | kRw | kUs);
  Mode m = Cpl(0);
  m.smap = true;
  EXPECT_EQ(Walk(Op::kRead, m).error_code, 0x1u);
  m.ac = true;
  EXPECT_TRUE(Walk(Op::kRead, m).ok());
  EXPECT_EQ(Walk(Op::kWrite, m, /*implicit=*/true).error_code, 0x3u);
  // An implicit access at CPL 3 is a supervisor-mode access: U/S=0.
  m.cpl = 3;
  EXPECT_EQ(Walk(Op::kRead, m, /*implicit=*/true).error_code, 0x1u);
}

// §4.6.2 and §4.7: key 1 in bits 62:59; PKRU AD1 (bit 2) forbids data
// accesses (user read: P|U/S|PK = 0x25), WD1 (bit 3) forbids user writes
// (0x27) and supervisor writes only with CR0.WP = 1; fetches ignore keys.
TEST_F(X86_64Path, ProtectionKeys) {
  Build(0x5000 | kP | kRw | kUs | (1ull << 59));
  Mode m = Cpl(3);
  m.pke = true;
  m.pkru = 0x4;
  EXPECT_EQ(Walk(Op::kRead, m).error_code, 0x25u);
  EXPECT_TRUE(Walk(Op::kFetch, m).ok());
  m.pkru = 0x8;
  EXPECT_TRUE(Walk(Op::kRead, m).ok());
  EXPECT_EQ(Walk(Op::kWrite, m).error_code, 0x27u);
  m.cpl = 0;
  EXPECT_EQ(Walk(Op::kWrite, m).error_code, 0x23u);
  m.wp = false;
  EXPECT_TRUE(Walk(Op::kWrite, m).ok());
  m.pke = false;
  m.pkru = 0xffffffff;
  m.wp = true;
  EXPECT_TRUE(Walk(Op::kWrite, m).ok()) << "keys are ignored with CR4.PKE = 0";
}

// §4.6.2: with CR4.PKS, IA32_PKRS governs supervisor-mode addresses.
TEST_F(X86_64Path, SupervisorProtectionKeys) {
  Build(0x5000 | kP | kRw | (2ull << 59));
  Mode m = Cpl(0);
  m.pks = true;
  m.pkrs = 0x10;  // AD2
  EXPECT_EQ(Walk(Op::kRead, m).error_code, 0x21u);
  m.pkrs = 0x20;  // WD2
  EXPECT_EQ(Walk(Op::kWrite, m).error_code, 0x23u);
  m.pke = true;
  m.pkru = 0xffffffff;
  m.pkrs = 0;
  EXPECT_TRUE(Walk(Op::kWrite, m).ok()) << "PKRU is for user-mode addresses only";
}

// §4.7: a user-mode access (U/S=1) that violates both U/S and a key reports
// PK too: the PK flag depends only on its own conditions.
TEST_F(X86_64Path, PkFlagAccompaniesOtherViolations) {
  Build(0x5000 | kP | kUs | (3ull << 59));
  Mode m = Cpl(3);
  m.pke = true;
  m.pkru = 0x80;  // WD3
  EXPECT_EQ(Walk(Op::kWrite, m).error_code, 0x27u);
}

// §4.8: A is set in the table entries the walk used even when the access
// then faults; the leaf gets neither A nor D (docs/hw/x86.md).
TEST_F(X86_64Path, TableEntriesGetAccessedOnAPermissionFault) {
  Build(0x5000 | kP | kUs);
  EXPECT_EQ(Walk(Op::kWrite, Cpl(3)).error_code, 0x7u);
  EXPECT_EQ(Get(0x1000), 0x2000 | kTbl | kA);
  EXPECT_EQ(Get(0x2000), 0x3000 | kTbl | kA);
  EXPECT_EQ(Get(kPde), 0x4000 | kTbl | kA);
  EXPECT_EQ(Get(kPte), 0x5000 | kP | kUs);
}

// A PDE with PS=1 maps 2 MiB: D is set in it on a write (§4.8).
TEST_F(X86_64Path, LargeLeafGetsDirty) {
  Build(0);
  PutRaw(&mem_, kPde, 0x200000 | kP | kRw | kPs, 8);
  const auto r = Walk(Op::kWrite, Cpl(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.size_lg2, 21u);
  EXPECT_EQ(r.oa, Oa(0x201123));
  EXPECT_EQ(Get(kPde), 0x200000 | kP | kRw | kPs | kA | kD);
}

// Table 4-15: PS (bit 7) is reserved in a PML4E; the walk stops there with
// RSVD (supervisor read: P|RSVD = 0x9, at level 3) before any later entry.
TEST_F(X86_64Path, PsInPml4eIsReserved) {
  Build(0x5000 | kP | kRw | kUs);
  PutRaw(&mem_, 0x1000, 0x2000 | kTbl | kPs, 8);
  const auto r = Walk(Op::kRead, Cpl(0));
  EXPECT_EQ(r.error_code, 0x9u);
  EXPECT_EQ(r.level, Level(3));
}

// Table 4-18: bits 20:13 of a 2 MiB PDE are reserved (a misaligned large
// page): user write, P|W/R|U/S|RSVD = 0xf at level 1. Table 4-16: without
// 1-GByte pages, PS in a PDPTE is reserved: 0x9 at level 2.
TEST_F(X86_64Path, MisalignedLargePageAndUnsupported1GAreReserved) {
  Build(0);
  PutRaw(&mem_, kPde, 0x202000 | kP | kRw | kUs | kPs, 8);
  auto r = Walk(Op::kWrite, Cpl(3));
  EXPECT_EQ(r.error_code, 0xfu);
  EXPECT_EQ(r.level, Level(1));
  PutRaw(&mem_, 0x2000, 0x40000000 | kP | kRw | kPs, 8);
  settings_ = {"maxphyaddr=40", "pdpe1gb=0"};
  r = Walk(Op::kRead, Cpl(0));
  EXPECT_EQ(r.error_code, 0x9u);
  EXPECT_EQ(r.level, Level(2));
  settings_ = {"maxphyaddr=40"};
  r = Walk(Op::kRead, Cpl(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.size_lg2, 30u);
}

// §4.6.1: XD in a table entry (here the PDE) forbids fetches from the whole
// region below; the fault is reported at the leaf's level, where the rights
// are decided: user fetch P|U/S|I/D = 0x15 at level 0.
TEST_F(X86_64Path, XdInATableEntryForbidsFetchBelow) {
  Build(0x5000 | kP | kUs);
  PutRaw(&mem_, kPde, 0x4000 | kTbl | kXd, 8);
  const auto r = Walk(Op::kFetch, Cpl(3));
  EXPECT_EQ(r.error_code, 0x15u);
  EXPECT_EQ(r.level, Level(0));
  EXPECT_TRUE(Walk(Op::kRead, Cpl(3)).ok());
}

// Vol. 1 §3.3.7.1: a non-canonical address raises #GP, not #PF.
TEST_F(X86_64Path, NonCanonicalIsGeneralProtection) {
  Build(0x5000 | kP | kRw | kUs);
  const auto r = Walk(Op::kRead, Cpl(3), false, 0x0000800000000000ull);
  EXPECT_EQ(r.outcome, Outcome::kGeneralProtection);
  EXPECT_EQ(r.error_code, 0u);
}

// Interference at the compare-and-swap (src/hw/x86.h protocol).
class Interfere : public MemObserver {
 public:
  Interfere(PhysMem* mem, uint64_t addr, uint64_t value) : mem_(mem), addr_(addr), value_(value) {}
  void OnAccess(Oa addr, unsigned, MemAccess kind) override {
    if (kind != MemAccess::kCompareExchange || addr != Oa(addr_) || done_) return;
    done_ = true;
    PutRaw(mem_, addr_, value_, 8);
  }

 private:
  PhysMem* mem_;
  uint64_t addr_;
  uint64_t value_;
  bool done_ = false;
};

// A mutator clears the PTE between the walk's read and its A/D swap: the
// swap fails, the walk restarts from the root and faults not present; the
// cleared entry is not written back.
TEST_F(X86_64Path, ClearedLeafIsNotResurrected) {
  Build(0x5000 | kP | kRw | kUs);
  Interfere clear(&mem_, kPte, 0);
  mem_.set_observer(&clear);
  const auto r = Walk(Op::kWrite, Cpl(3));
  mem_.set_observer(nullptr);
  EXPECT_EQ(r.outcome, Outcome::kPageFault);
  EXPECT_EQ(r.error_code, 0x6u);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_EQ(Get(kPte), 0u);
}

// Software sets an available bit (bit 9, ignored by hardware) meanwhile:
// one restart, then the walk succeeds and keeps the software's bit.
TEST_F(X86_64Path, ConcurrentChangeRestartsTheWalk) {
  Build(0x5000 | kP | kRw | kUs);
  Interfere touch(&mem_, 0x2000, 0x3000 | kTbl | (1u << 9));
  mem_.set_observer(&touch);
  const auto r = Walk(Op::kRead, Cpl(3));
  mem_.set_observer(nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.restarts, 1);
  EXPECT_EQ(Get(0x2000), 0x3000 | kTbl | kA | (1u << 9));
  EXPECT_EQ(Get(kPte), 0x5000 | kP | kRw | kUs | kA);
}

// 32-bit paging (§4.3) has no XD and no NXE: §4.7 sets I/D for a fetch only
// with CR4.SMEP = 1. A not-present PDE, user fetch: 0x4, with SMEP 0x14.
TEST(X86_32Access, IdBitOnlyWithSmep) {
  PhysMem mem(Oa(0), 1 << 20);
  WithX86Format("x86_32", [&]<typename F>() {
    const F f = golden::Make<F>();
    Mode m = Cpl(3);
    auto r = hw::x86::Walk(f, &mem, Oa(0x1000), Va(0x00c00000), Access{Op::kFetch}, m);
    EXPECT_EQ(r.error_code, 0x4u);
    EXPECT_EQ(r.level, Level(1));
    m.smep = true;
    r = hw::x86::Walk(f, &mem, Oa(0x1000), Va(0x00c00000), Access{Op::kFetch}, m);
    EXPECT_EQ(r.error_code, 0x14u);
    // Table 4-4 with PSE-36 and MAXPHYADDR 40: bit 21 of a 4 MiB PDE is
    // reserved. Supervisor write: P|W/R|RSVD = 0xb.
    PutRaw(&mem, 0x1000 + 3 * 4, 0x00400000 | kP | kRw | kPs | (1u << 21), 4);
    r = hw::x86::Walk(f, &mem, Oa(0x1000), Va(0x00c00000), Access{Op::kWrite}, Cpl(0));
    EXPECT_EQ(r.error_code, 0xbu);
  });
}

// §4.4.1: PAE PDPTEs are loaded by MOV to CR3, which raises #GP(0) when one
// sets a reserved bit (bits 2:1 are reserved, Table 4-7); a not-present
// PDPTE is a #PF with P=0 when used.
TEST(X86PaeAccess, ReservedPdpteIsGeneralProtection) {
  PhysMem mem(Oa(0), 1 << 20);
  WithX86Format("x86_pae", [&]<typename F>() {
    const F f = golden::Make<F>();
    auto r = hw::x86::Walk(f, &mem, Oa(0x1000), Va(0x40000000), Access{Op::kWrite}, Cpl(3));
    EXPECT_EQ(r.outcome, Outcome::kPageFault);
    EXPECT_EQ(r.error_code, 0x6u);
    EXPECT_EQ(r.level, Level(2));
    PutRaw(&mem, 0x1000 + 8, 0x2000 | kP | kRw, 8);
    r = hw::x86::Walk(f, &mem, Oa(0x1000), Va(0x40000000), Access{Op::kWrite}, Cpl(3));
    EXPECT_EQ(r.outcome, Outcome::kGeneralProtection);
    EXPECT_EQ(r.level, Level(2));
  });
}

// The CLI form of the mode is the family's knobs (src/hw/x86_mode.h), read
// by the one settings parser (src/pt/config.h) and turned into the rules'
// Mode.
using X86Rules = HwRules<fmt::X86_64L4>;
absl::StatusOr<Mode> ParseMode(std::string_view text) {
  FormatConfig cfg = FormatConfig::Defaults(X86Rules::kModeKnobs);
  if (auto st = ApplySettingList("mode", X86Rules::kModeKnobs, text, &cfg); !st.ok()) return st;
  return X86Rules::ModeOf(cfg);
}

TEST(X86Mode, ParsesTheCliForm) {
  auto m = ParseMode("wp=1,smep=1,smap=1,ac=0,pke=1,pkru=0x55555554,cpl=3");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->cpl, 3);
  EXPECT_TRUE(m->wp && m->smep && m->smap && m->pke);
  EXPECT_FALSE(m->ac);
  EXPECT_EQ(m->pkru, 0x55555554u);
  FormatConfig cfg = FormatConfig::Defaults(X86Rules::kModeKnobs);
  ASSERT_TRUE(ApplySettingList("mode", X86Rules::kModeKnobs, "wp=1,smep=1,smap=1,ac=0,pke=1,pkru=0x55555554,cpl=3",
                               &cfg)
                  .ok());
  auto again = ParseMode(SettingsDiff(X86Rules::kModeKnobs, cfg));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *m);
  EXPECT_EQ(*ParseMode(""), Mode());
}

TEST(X86Mode, RejectsBadInput) {
  EXPECT_FALSE(ParseMode("cpl=4").ok());
  EXPECT_FALSE(ParseMode("wp=2").ok());
  EXPECT_FALSE(ParseMode("nxe=1").ok()) << "NXE is the format's knob";
  EXPECT_FALSE(ParseMode("smep").ok());
  EXPECT_FALSE(ParseMode("pkru=0xzz").ok());
}

// In the default mode (CR0.WP = 1, no SMEP, SMAP or keys) the x86 walk must
// agree with the generic walker on random trees built by Space: outcome,
// output address, leaf size and level, the fault's level and kind, and the
// accessed/dirty bits each writes.
template <typename F>
void AgreeWithGenericWalker(uint64_t seed) {
  Arena arena;
  const F f = golden::Make<F>();
  Space<F> space(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(space.Init().ok());
  std::mt19937_64 rng(seed);
  const unsigned va_bits = std::min(f.VaBits(), 40u);
  struct Mapped {
    uint64_t va, size;
  };
  std::vector<Mapped> mapped;
  constexpr unsigned kSizesLg2[] = {12, 13, 16, 21, 22, 23, 30};
  for (int i = 0; i < 200; ++i) {
    const unsigned lg2 = kSizesLg2[rng() % std::size(kSizesLg2)];
    const uint64_t size = uint64_t{1} << lg2;
    const uint64_t va = (rng() & LowMask(va_bits)) & ~LowMask(std::min(lg2, 22u));
    const uint64_t oa = (rng() & LowMask(32)) & ~LowMask(std::min(lg2, 22u));
    LeafAttrs a = LeafAttrs().With(Attr::kRead);
    a = a.With(Attr::kWrite, rng() & 1).With(Attr::kExec, rng() & 1).With(Attr::kUser, rng() & 1);
    const Va first = CanonicalVa(f, (rng() & 1) ? va : va | (uint64_t{1} << (f.VaBits() - 1)));
    if (space.Map(VaRange{first, first + (size - 1)}, Oa(oa), a).ok()) mapped.push_back({first.value(), size});
  }
  ASSERT_GT(mapped.size(), 50u);
  PhysMem* mem = &arena.mem();
  int checked = 0;
  for (int i = 0; i < 4000; ++i) {
    uint64_t va;
    if (i % 4 == 3) {
      va = rng();  // anywhere, often non-canonical
    } else {
      const Mapped& m = mapped[rng() % mapped.size()];
      va = m.va + rng() % m.size;
    }
    const AccessType type = static_cast<AccessType>(rng() % 3);
    const bool user = rng() & 1;
    WalkTrace trace;
    const WalkResult g =
        Translate(f, mem, space.root(), Va(va), ptsim::Access{type, user}, MmuOptions{.update_ad = false}, &trace);
    // Snapshot the entries on the path, walk the x86 way, then restore them
    // and let the generic walker set A/D: both must write the same bits.
    std::vector<uint64_t> before(trace.count), after_x86(trace.count), after_generic(trace.count);
    const unsigned bytes = 1u << F::kEntryLg2;
    for (int k = 0; k < trace.count; ++k) before[k] = GetRaw(mem, trace.steps[k].entry_addr.value(), bytes);
    const Op op = type == AccessType::kRead ? Op::kRead : type == AccessType::kWrite ? Op::kWrite : Op::kFetch;
    const hw::x86::Result x = hw::x86::Walk(f, mem, space.root(), Va(va), Access{op}, Cpl(user ? 3 : 0));
    for (int k = 0; k < trace.count; ++k) {
      after_x86[k] = GetRaw(mem, trace.steps[k].entry_addr.value(), bytes);
      PutRaw(mem, trace.steps[k].entry_addr.value(), before[k], bytes);
    }
    Translate(f, mem, space.root(), Va(va), ptsim::Access{type, user}, MmuOptions{.update_ad = true});
    for (int k = 0; k < trace.count; ++k) after_generic[k] = GetRaw(mem, trace.steps[k].entry_addr.value(), bytes);
    const std::string where = absl::StrFormat("%s va=%#x %s user=%d", F::kName, va, AccessTypeName(type), user);
    ASSERT_EQ(x.ok(), g.ok) << where;
    EXPECT_EQ(after_x86, after_generic) << where;
    ++checked;
    if (g.ok) {
      EXPECT_EQ(x.oa, g.t.oa) << where;
      EXPECT_EQ(x.size_lg2, g.t.size_lg2) << where;
      EXPECT_EQ(x.level, g.t.level) << where;
      continue;
    }
    EXPECT_EQ(x.level, g.fault.level) << where;
    switch (g.fault.kind) {
      case FaultKind::kNonCanonical:
        EXPECT_EQ(x.outcome, Outcome::kGeneralProtection) << where;
        break;
      case FaultKind::kNotPresent:
        EXPECT_EQ(x.outcome, Outcome::kPageFault) << where;
        EXPECT_EQ(x.error_code & (hw::x86::kErrP | hw::x86::kErrRsvd), 0u) << where;
        break;
      case FaultKind::kPermission:
        EXPECT_EQ(x.outcome, Outcome::kPageFault) << where;
        EXPECT_EQ(x.error_code & (hw::x86::kErrP | hw::x86::kErrRsvd), hw::x86::kErrP) << where;
        break;
      case FaultKind::kReserved:
        EXPECT_EQ(x.error_code & hw::x86::kErrRsvd, hw::x86::kErrRsvd) << where;
        break;
      case FaultKind::kOutsideMemory:
        EXPECT_EQ(x.outcome, Outcome::kOutsideMemory) << where;
        break;
      case FaultKind::kAccessedDirty:
        ADD_FAILURE() << "the neutral rules set accessed/dirty: " << where;
        break;
    }
  }
  ::testing::Test::RecordProperty(std::string(F::kName) + "_generic_agreement_walks", checked);
}

TEST(X86Access, DefaultModeAgreesWithGenericWalkerOnRandomTrees) {
  for (std::string_view name : x86test::kX86Names) {
    for (uint64_t seed : {1, 2, 3}) {
      WithX86Format(name, [&]<typename F>() { AgreeWithGenericWalker<F>(seed); });
    }
  }
}

}  // namespace
}  // namespace ptsim
