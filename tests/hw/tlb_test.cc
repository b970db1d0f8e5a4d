// The TLB model (src/hw/tlb.h) and the invalidators (src/hw/invalidate.h).
//
// Two kinds of test:
//   * InstructionTable: every invalidation instruction against a table of
//     rows written from the manuals' text, independently of the Selector
//     code that implements them: ten kinds of cached entry, and for each
//     instruction which kinds must go;
//   * random op sequences (deterministic seeds) over several formats: the
//     correct invalidator of each architecture leaves no finding, each
//     buggy one is caught.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "src/formats/all_formats.h"
#include "src/harness/executor.h"
#include "src/hw/invalidate.h"
#include "src/hw/cached_mmu.h"
#include "src/hw/tlb.h"
#include "src/ops/space.h"

namespace ptsim::hw {
namespace {

// --- The instruction table ----------------------------------------------------

constexpr Asid kA = 1, kB = 2;  // kA is current
constexpr uint64_t kIn = 0x40201000, kOut = 0x80000000;

// The ten kinds of entry, in this order (the columns of every row):
//   0 leaf, ASID A, non-global, for the operand VA     1 ... another VA
//   2 leaf, ASID B, non-global, for the operand VA     3 ... another VA
//   4 leaf, global, for the operand VA                 5 ... another VA
//   6 walk-cache entry of A whose span holds the VA    7 ... another VA
//   8 walk-cache entry of B whose span holds the VA    9 ... another VA
void FillTen(Tlb& t) {
  auto leaf = [&](Asid a, bool g, uint64_t va) {
    LeafEntry e;
    e.asid = a;
    e.global = g;
    e.va_base = va;
    e.size_lg2 = 12;
    e.oa_base = Oa(va);
    t.InsertLeaf(e);
  };
  auto walk = [&](Asid a, uint64_t va) {
    WalkEntry w;
    w.asid = a;
    w.level = Level(1);
    w.span_lg2 = 21;
    w.va_base = AlignDown(va, 21);
    w.next_table = Oa(0x1000000);
    t.InsertWalk(w);
  };
  leaf(kA, false, kIn);
  leaf(kA, false, kOut);
  leaf(kB, false, kIn);
  leaf(kB, false, kOut);
  leaf(0, true, kIn);
  leaf(0, true, kOut);
  walk(kA, kIn);
  walk(kA, kOut);
  walk(kB, kIn);
  walk(kB, kOut);
}

// 'x' where the entry kind is gone, '.' where it stays.
std::string Survivors(const Tlb& t) {
  std::string s(10, 'x');
  for (const LeafEntry& e : t.leaves()) {
    const int va = e.va_base == kIn ? 0 : 1;
    s[static_cast<size_t>(e.global ? 4 + va : (e.asid == kA ? 0 : 2) + va)] = '.';
  }
  for (const WalkEntry& w : t.walks()) {
    s[static_cast<size_t>((w.asid == kA ? 6 : 8) + (w.va_base == AlignDown(kIn, 21) ? 0 : 1))] = '.';
  }
  return s;
}

struct Row {
  const char* name;
  std::function<void(Tlb&)> op;
  const char* gone;  // the manual's answer, column by column
};

// Each row is the cited text read column by column.
const Row kRows[] = {
    // Intel SDM Vol. 3A §4.10.4.1, INVLPG: the page in the current PCID,
    // global entries for the page, every paging-structure entry of the PCID.
    {"x86 INVLPG", [](Tlb& t) { x86::Invlpg(t, Va(kIn)); }, "x...x.xx.."},
    // INVPCID type 0: that PCID's non-global entries for the address, all
    // of that PCID's paging-structure entries.
    {"x86 INVPCID 0 (A)", [](Tlb& t) { x86::Invpcid(t, x86::InvpcidType::kAddress, kA, Va(kIn)); }, "x.....xx.."},
    {"x86 INVPCID 0 (B)", [](Tlb& t) { x86::Invpcid(t, x86::InvpcidType::kAddress, kB, Va(kIn)); }, "..x.....xx"},
    // Type 1: all of the PCID except globals.
    {"x86 INVPCID 1 (A)", [](Tlb& t) { x86::Invpcid(t, x86::InvpcidType::kSingleContext, kA); }, "xx....xx.."},
    // Type 2: everything.
    {"x86 INVPCID 2", [](Tlb& t) { x86::Invpcid(t, x86::InvpcidType::kAllIncludingGlobal, 0); }, "xxxxxxxxxx"},
    // Type 3: everything but globals.
    {"x86 INVPCID 3", [](Tlb& t) { x86::Invpcid(t, x86::InvpcidType::kAllExceptGlobal, 0); }, "xxxx..xxxx"},
    // MOV to CR3: the new PCID's non-global entries and its paging-structure
    // entries, unless bit 63 with PCIDE.
    {"x86 MOV CR3 A", [](Tlb& t) { x86::MovCr3(t, kA, false); }, "xx....xx.."},
    {"x86 MOV CR3 B", [](Tlb& t) { x86::MovCr3(t, kB, false); }, "..xx....xx"},
    {"x86 MOV CR3 B NOFLUSH", [](Tlb& t) { x86::MovCr3(t, kB, true); }, ".........."},
    // MOV to CR4 toggling PGE: everything.
    {"x86 CR4.PGE off", [](Tlb& t) { x86::SetCr4Pge(t, false); }, "xxxxxxxxxx"},
    // Arm ARM D8, TLBI page of DDI 0601: VAE1 = by VA, this ASID or global, all levels.
    {"arm TLBI VAE1 A", [](Tlb& t) { arm::TlbiVae1(t, kA, Va(kIn)); }, "x...x.x..."},
    // VALE1: the same, last level only.
    {"arm TLBI VALE1 A", [](Tlb& t) { arm::TlbiVale1(t, kA, Va(kIn)); }, "x...x....."},
    // VAAE1: by VA, any ASID, all levels.
    {"arm TLBI VAAE1", [](Tlb& t) { arm::TlbiVaae1(t, Va(kIn)); }, "x.x.x.x.x."},
    // VAALE1: by VA, any ASID, last level.
    {"arm TLBI VAALE1", [](Tlb& t) { arm::TlbiVaale1(t, Va(kIn)); }, "x.x.x....."},
    // ASIDE1: the ASID's non-global entries, every level.
    {"arm TLBI ASIDE1 B", [](Tlb& t) { arm::TlbiAside1(t, kB); }, "..xx....xx"},
    // VMALLE1: every EL1&0 entry.
    {"arm TLBI VMALLE1", [](Tlb& t) { arm::TlbiVmalle1(t); }, "xxxxxxxxxx"},
    {"arm TTBR0 ASID switch", [](Tlb& t) { arm::SetTtbrAsid(t, kB); }, ".........."},
    // RISC-V privileged spec, SFENCE.VMA: the four rs1/rs2 cases.
    {"riscv SFENCE.VMA x0,x0", [](Tlb& t) { riscv::SfenceVma(t, std::nullopt, std::nullopt); }, "xxxxxxxxxx"},
    {"riscv SFENCE.VMA x0,A", [](Tlb& t) { riscv::SfenceVma(t, std::nullopt, kA); }, "xx....xx.."},
    {"riscv SFENCE.VMA va,x0", [](Tlb& t) { riscv::SfenceVma(t, Va(kIn), std::nullopt); }, "x.x.x....."},
    {"riscv SFENCE.VMA va,A", [](Tlb& t) { riscv::SfenceVma(t, Va(kIn), kA); }, "x........."},
    // VT-d §6.5.1.2: global, domain-selective, page-selective (IH).
    {"vtd IOTLB global", [](Tlb& t) { vtd::IotlbGlobal(t); }, "xxxxxxxxxx"},
    {"vtd IOTLB domain A", [](Tlb& t) { vtd::IotlbDomain(t, kA); }, "xx....xx.."},
    {"vtd IOTLB PSI A am0 IH0", [](Tlb& t) { vtd::IotlbPage(t, kA, Va(kIn), 0, false); }, "x.....x..."},
    {"vtd IOTLB PSI A am0 IH1", [](Tlb& t) { vtd::IotlbPage(t, kA, Va(kIn), 0, true); }, "x........."},
    // AMD §2.4.3 INVALIDATE_IOMMU_PAGES: PDE bit, S bit.
    {"amd INVALIDATE_IOMMU_PAGES A PDE0", [](Tlb& t) { amd::InvalidatePages(t, kA, kIn, false, false); }, "x........."},
    {"amd INVALIDATE_IOMMU_PAGES A PDE1", [](Tlb& t) { amd::InvalidatePages(t, kA, kIn, false, true); }, "x.....x..."},
    {"amd INVALIDATE_IOMMU_PAGES A all", [](Tlb& t) { amd::InvalidatePages(t, kA, 0x7fff'ffff'ffff'f000, true, true); },
     "xx....xx.."},
};

TEST(InstructionTable, EveryInstructionRemovesWhatItsManualSays) {
  int checked = 0;
  for (const Row& r : kRows) {
    Tlb t;
    t.set_current(kA);
    FillTen(t);
    ASSERT_EQ(Survivors(t), "..........");
    r.op(t);
    EXPECT_EQ(Survivors(t), r.gone) << r.name;
    checked += 10;
  }
  RecordProperty("checked", checked);
  EXPECT_EQ(checked, 10 * static_cast<int>(std::size(kRows)));
}

TEST(InstructionTable, PcideOffMeansOnePcidAndPgeOffMeansNoGlobals) {
  Tlb t(TlbConfig{.global_pages = false, .pcid = false});
  t.set_current(7);
  EXPECT_EQ(t.current(), 0u) << "SDM §4.10.1: with CR4.PCIDE=0 the current PCID is 000H";
}

TEST(InstructionTable, AmdRangeEncoding) {
  // S=1, address bit 12 clear: 8 KiB; bits 12 set, 13 clear: 16 KiB.
  Tlb t;
  auto one = [&](uint64_t va) {
    LeafEntry e;
    e.asid = kA;
    e.va_base = va;
    e.size_lg2 = 12;
    t.InsertLeaf(e);
  };
  for (uint64_t va = 0x10000; va < 0x18000; va += 0x1000) one(va);
  amd::InvalidatePages(t, kA, 0x10000, true, false);  // [0x10000, 0x11fff]
  EXPECT_EQ(t.leaves().size(), 6u);
  amd::InvalidatePages(t, kA, 0x14000 | 0x1000, true, false);  // [0x14000, 0x17fff]
  EXPECT_EQ(t.leaves().size(), 2u);
}

// --- Lookups ---------------------------------------------------------------

TEST(CachedMmu, HitsServeStaleBytesAndMissesFill) {
  Arena arena;
  fmt::X86_64L4 f(FormatConfig::Defaults(fmt::X86_64L4::kKnobs));
  Space<fmt::X86_64L4> s(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(s.Init().ok());
  Tlb t;
  CachedMmu<fmt::X86_64L4> mmu(f, &arena.mem(), &t);
  ASSERT_TRUE(s.Map({Va(0x40000000), Va(0x40000fff)}, Oa(0x5000), LeafAttrs::Rw()).ok());
  auto r = mmu.Lookup(s.root(), 1, Va(0x40000123));
  EXPECT_EQ(r.by, ServedBy::kWalk);
  EXPECT_EQ(r.out.oa, Oa(0x5123));
  EXPECT_EQ(t.leaves().size(), 1u);
  EXPECT_EQ(t.walks().size(), 3u);  // PML4E, PDPTE, PDE
  EXPECT_EQ(mmu.Lookup(s.root(), 1, Va(0x40000456)).by, ServedBy::kLeafTlb);
  // Nobody invalidates: the unmapped page is still served, and found.
  ASSERT_TRUE(s.Unmap({Va(0x40000000), Va(0x40000fff)}).ok());
  EXPECT_EQ(mmu.Lookup(s.root(), 1, Va(0x40000000)).by, ServedBy::kLeafTlb);
  auto found = CheckCaches(mmu, s.root(), 1, {});
  const Finding* leaf = nullptr;
  for (const Finding& x : found) {
    if (x.by == ServedBy::kLeafTlb && x.va == Va(0x40000000)) leaf = &x;
  }
  ASSERT_NE(leaf, nullptr);
  EXPECT_NE(leaf->ToString().find("fault not-present at level 3"), std::string::npos) << leaf->ToString();
  // The freed tables stay reachable through the walk caches too.
  EXPECT_EQ(found.size(), 2u);  // the leaf at 0x40000000, the PML4E cache entry at 0
  // A neighbour in the same 2 MiB resumes from the cached (now freed) PDE's table.
  t.Invalidate({.leaves = true});
  EXPECT_EQ(mmu.Lookup(s.root(), 1, Va(0x40001000)).by, ServedBy::kWalkCache);
  s.Destroy();
}

TEST(CachedMmu, CapacityIsBoundedAndLeastRecentlyUsedGoes) {
  Tlb t(TlbConfig{.leaf_capacity = 2});
  for (uint64_t va : {0x1000, 0x2000}) {
    LeafEntry e;
    e.va_base = va;
    e.size_lg2 = 12;
    t.InsertLeaf(e);
  }
  t.Touch(t.FindLeaf(0, 0x1000));
  LeafEntry e;
  e.va_base = 0x3000;
  e.size_lg2 = 12;
  t.InsertLeaf(e);
  EXPECT_NE(t.FindLeaf(0, 0x1000), nullptr);
  EXPECT_EQ(t.FindLeaf(0, 0x2000), nullptr);
  EXPECT_NE(t.FindLeaf(0, 0x3000), nullptr);
}

// --- Random op sequences ----------------------------------------------------

struct Rng {
  uint64_t s;
  uint64_t Next() {  // splitmix64: the same sequence on every platform
    uint64_t z = (s += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

enum class Arch { kX86, kArm, kRiscv, kVtd, kAmd };

struct RunStats {
  uint64_t ops = 0;
  uint64_t checks = 0;
  uint64_t findings = 0;
  uint64_t instructions = 0;
  std::string first;
};

std::unique_ptr<ArchInvalidator> MakeInvalidator(Arch a, Tlb* t, Asid asid, unsigned page_lg2,
                                                 InvalidatorOptions o) {
  switch (a) {
    case Arch::kX86:
      return std::make_unique<X86Invalidator>(t, asid, page_lg2, o);
    case Arch::kArm:
      return std::make_unique<ArmInvalidator>(t, asid, page_lg2, o);
    case Arch::kRiscv:
      return std::make_unique<RiscvInvalidator>(t, asid, page_lg2, o);
    case Arch::kVtd:
      return std::make_unique<VtdInvalidator>(t, asid, page_lg2, o);
    case Arch::kAmd:
      return std::make_unique<AmdInvalidator>(t, asid, page_lg2, o);
  }
  return nullptr;
}

void SwitchTo(Arch a, Tlb& t, Asid asid) {
  switch (a) {
    case Arch::kX86:
      x86::MovCr3(t, asid, /*noflush=*/true);
      return;
    case Arch::kArm:
      arm::SetTtbrAsid(t, asid);
      return;
    case Arch::kRiscv:
      riscv::SetSatpAsid(t, asid);
      return;
    case Arch::kVtd:
    case Arch::kAmd:
      return;  // an IOMMU serves every domain at once
  }
}

constexpr int kSteps = 150;
constexpr int kSeeds = 24;

// Two address spaces (ids 1 and 2) on one TLB; space 0 may hold global
// leaves. Random map / unmap / protect / context switch, with lookups that
// fill the caches before each change, and the finding checked after it.
template <PageTableFormat F>
RunStats RunRandom(Arch arch, Bug bug, uint64_t seed) {
  Arena arena;
  const F f(FormatConfig::Defaults(F::kKnobs));
  Rng rng{seed};
  Tlb tlb(TlbConfig{.leaf_capacity = 48, .walk_capacity_per_level = 8});
  CachedMmu<F> mmu(f, &arena.mem(), &tlb);
  const bool iommu = arch == Arch::kVtd || arch == Arch::kAmd;
  const unsigned u0 = f.ItemLg2(Level(0)), u1 = f.ItemLg2(Level(1)), u2 = f.ItemLg2(Level(2));
  std::unique_ptr<ArchInvalidator> inv[2];
  std::unique_ptr<Space<F>> sp[2];
  for (int i = 0; i < 2; ++i) {
    InvalidatorOptions o{.bug = bug,
                         .full_flush_pages = seed % 2 ? uint64_t{8} : uint64_t{33},
                         .may_global = i == 0 && !iommu,
                         .wrong_asid = static_cast<Asid>(2 - i)};
    inv[i] = MakeInvalidator(arch, &tlb, static_cast<Asid>(i + 1), u0, o);
    sp[i] = std::make_unique<Space<F>>(
        f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), inv[i].get(), static_cast<uint32_t>(i + 1)});
    PTSIM_CHECK(sp[i]->Init().ok(), "init");
  }
  int cur = 0;
  SwitchTo(arch, tlb, 1);
  const uint64_t base = uint64_t{1} << u2;
  auto pick = [&](uint64_t* first, uint64_t* last) {
    const uint64_t half = base + rng.Below(2) * (uint64_t{1} << u2);
    if (rng.Below(4) != 0) {
      const uint64_t n = 1 + rng.Below(12);
      *first = half + rng.Below(3) * (uint64_t{1} << u1) + rng.Below(512 - 12) * (uint64_t{1} << u0);
      *last = *first + (n << u0) - 1;
    } else {
      *first = half + rng.Below(3) * (uint64_t{1} << u1);
      *last = *first + ((1 + rng.Below(2)) << u1) - 1;
    }
  };
  auto touch = [&](int who, uint64_t va) {
    if (!iommu && who != cur) return;  // a CPU walks only its current space
    (void)mmu.Lookup(sp[who]->root(), static_cast<Asid>(who + 1), CanonicalVa(f, va));
  };
  RunStats st;
  for (int step = 0; step < kSteps; ++step) {
    const uint64_t kind = rng.Below(10);
    if (kind == 9 && !iommu) {
      cur = 1 - cur;
      SwitchTo(arch, tlb, static_cast<Asid>(cur + 1));
      continue;
    }
    const int who = static_cast<int>(rng.Below(2));
    uint64_t first, last;
    pick(&first, &last);
    // Fill the caches with what the change is about to touch.
    for (int k = 0; k < 2; ++k) {
      touch(who, first);
      touch(who, last & ~LowMask(u0));
      touch(who, (first + rng.Below(last - first + 1)) & ~LowMask(u0));
      uint64_t a, b;
      pick(&a, &b);
      touch(static_cast<int>(rng.Below(2)), a);
    }
    const VaRange r{CanonicalVa(f, first), CanonicalVa(f, last)};
    LeafAttrs attrs = rng.Below(3) == 0 ? LeafAttrs().With(Attr::kRead) : LeafAttrs::Rw();
    if (who == 0 && rng.Below(2) == 0) attrs = attrs.With(Attr::kGlobal);
    if (kind < 4) {
      const uint64_t oa = (first & LowMask(u2 + 1)) + rng.Below(4) * (uint64_t{1} << u2);
      (void)sp[who]->Map(r, Oa(oa), attrs);
    } else if (kind < 7) {
      (void)sp[who]->Unmap(r);
    } else {
      (void)sp[who]->Protect(r, attrs);
    }
    ++st.ops;
    for (int i = 0; i < 2; ++i) {
      const std::vector<Va> probes{r.first, CanonicalVa(f, last & ~LowMask(u0))};
      auto found = CheckCaches(mmu, sp[i]->root(), static_cast<Asid>(i + 1), probes);
      ++st.checks;
      st.findings += found.size();
      if (!found.empty() && st.first.empty()) {
        st.first = absl::StrFormat("seed %d step %d: %s", seed, step, found[0].ToString());
      }
    }
  }
  st.instructions = tlb.stats().instructions;
  for (auto& s : sp) s->Destroy();
  return st;
}

struct Case {
  const char* format;
  Arch arch;
  std::function<RunStats(Arch, Bug, uint64_t)> run;
};

const Case kCases[] = {
    {"x86_64_4level", Arch::kX86, RunRandom<fmt::X86_64L4>},
    {"x86_64_5level", Arch::kX86, RunRandom<fmt::X86_64L5>},
    {"armv8_s1_4k", Arch::kArm, RunRandom<fmt::ArmV8S1_4K>},
    {"armv8_s1_16k", Arch::kArm, RunRandom<fmt::ArmV8S1_16K>},
    {"riscv_sv39", Arch::kRiscv, RunRandom<fmt::RiscvSv39>},
    {"riscv_sv48", Arch::kRiscv, RunRandom<fmt::RiscvSv48>},
    {"vtd_ss_4level", Arch::kVtd, RunRandom<fmt::VtdSs4>},
    {"amd_iommu_v1", Arch::kAmd, RunRandom<fmt::AmdIommuV1>},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.format; }

RunStats RunSeeds(const Case& c, Bug bug) {
  RunStats total;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const RunStats s = c.run(c.arch, bug, seed);
    total.ops += s.ops;
    total.checks += s.checks;
    total.findings += s.findings;
    total.instructions += s.instructions;
    if (total.first.empty()) total.first = s.first;
  }
  std::printf("[tlb] %-14s bug=%-13s seeds=%d ops=%llu checks=%llu instructions=%llu findings=%llu\n", c.format,
              BugName(bug), kSeeds, static_cast<unsigned long long>(total.ops),
              static_cast<unsigned long long>(total.checks), static_cast<unsigned long long>(total.instructions),
              static_cast<unsigned long long>(total.findings));
  return total;
}

class RandomOps : public ::testing::TestWithParam<Case> {};

TEST_P(RandomOps, CorrectInvalidatorLeavesNoStaleEntry) {
  const RunStats s = RunSeeds(GetParam(), Bug::kNone);
  EXPECT_EQ(s.findings, 0u) << s.first;
  EXPECT_GT(s.ops, 0u);
}

// Which bugs each architecture can show at all. x86 kLeafOnly is the one
// that cannot: every INVLPG / INVPCID type 0 of the cleared leaves already
// drops all paging-structure-cache entries of the PCID (SDM §4.10.4.1), and
// Space frees a table only after clearing (and invalidating) its leaves in
// the same operation. Without globals, an IOMMU has no kForgetGlobal.
bool Catchable(Arch a, Bug b) {
  if (b == Bug::kLeafOnly) return a != Arch::kX86;
  if (b == Bug::kForgetGlobal) return a == Arch::kX86 || a == Arch::kArm || a == Arch::kRiscv;
  return true;
}

TEST_P(RandomOps, EachBuggyInvalidatorIsCaught) {
  for (Bug b : {Bug::kLeafOnly, Bug::kForgetGlobal, Bug::kWrongAsid}) {
    const RunStats s = RunSeeds(GetParam(), b);
    if (Catchable(GetParam().arch, b)) {
      EXPECT_GT(s.findings, 0u) << BugName(b) << " was not caught";
      if (!s.first.empty()) std::printf("[tlb]   e.g. %s\n", s.first.c_str());
    } else {
      EXPECT_EQ(s.findings, 0u) << BugName(b) << ": " << s.first;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, RandomOps, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.format); });

}  // namespace
}  // namespace ptsim::hw
