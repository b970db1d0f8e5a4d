// Exhaustive check of the IOMMU walks (src/hw/iommu.h) against expectations
// written separately from the specifications:
//   * Intel VT-d (Rev. 5.10) §3.7.1 "Access Rights": a read needs R = 1 and
//     a write W = 1 in every second-stage entry used; R = W = 0 is not
//     present; the fault reasons of §7.1.3 (4h, 5h, 6h, 7h, Ch);
//   * AMD IOMMU (pub. 48882) §2.2.3: PR, and IR/IW ANDed over every PDE and
//     the PTE; the IO_PAGE_FAULT event flags of §2.5 (PR, RW, PE, RZ).
// Every combination of the permission bits at every level of the walk, for
// every level that can hold the leaf, times the request type, is checked.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/formats/amd_iommu_v1.h"
#include "src/formats/vtd.h"
#include "src/hw/iommu.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using hw::DmaAccess;

constexpr uint64_t kMemBase = 0x100000;
constexpr uint64_t kMemSize = 0x10000;

void Put64(PhysMem& mem, uint64_t addr, uint64_t v) { std::memcpy(mem.Writable(Oa(addr)), &v, 8); }
uint64_t TableAt(int depth) { return kMemBase + uint64_t(depth) * 0x1000; }  // depth 0 = root

// ---------------------------------------------------------------------------
// VT-d second stage.

// What the spec says for one walk: `rw[d]` are (R, W) of the entry at depth d
// (0 = root), the last one the leaf.
struct VtdExpect {
  bool ok;
  unsigned reason;  // §7.1.3 fault reason when !ok
};
VtdExpect ExpectVtd(const std::vector<unsigned>& rw, bool write, bool beyond_agaw) {
  if (beyond_agaw) return {false, 0x4};
  // "Access Rights": the request's right must be granted by every entry.
  for (unsigned e : rw) {
    const bool r = e & 1, w = e & 2;
    if (write && !w) return {false, 0x5};
    if (!write && !r) return {false, 0x6};
  }
  return {true, 0};
}

template <int kLevels>
uint64_t EnumerateVtd() {
  using F = fmt::VtdSs<kLevels>;
  const F f = golden::Make<F>();  // haw 48, 2 MiB and 1 GiB pages
  PhysMem mem(Oa(kMemBase), kMemSize);
  const unsigned va_bits = 12 + 9 * kLevels;
  const uint64_t iova_in = 0x5a5a5a5a5a5a5a5aull & ((uint64_t{1} << va_bits) - 1);
  const uint64_t leaf_oa = uint64_t{1} << 40;  // outside memory, 1 GiB aligned, below HAW
  uint64_t n = 0;
  for (bool beyond : {false, true}) {
    const uint64_t iova = beyond ? iova_in | (uint64_t{1} << va_bits) : iova_in;
    for (int leaf_level = 0; leaf_level <= 2; ++leaf_level) {
      const int entries = kLevels - leaf_level;  // root .. leaf
      uint64_t combos = 1;
      for (int d = 0; d < entries; ++d) combos *= 4;
      for (uint64_t c = 0; c < combos; ++c) {
        std::vector<unsigned> rw(entries);
        for (int d = 0; d < entries; ++d) rw[d] = (c >> (2 * d)) & 3;
        mem.Fill(Oa(kMemBase), kMemSize, 0);
        for (int d = 0; d < entries; ++d) {
          const int level = kLevels - 1 - d;
          const uint64_t index = (iova_in >> (12 + 9 * level)) & 511;
          uint64_t e = rw[d];
          if (d + 1 < entries) {
            e |= TableAt(d + 1);  // §9.8: address of the next table, bits (HAW-1):12
          } else {
            e |= leaf_oa | (level > 0 ? uint64_t{1} << 7 : 0);  // PS for 2 MiB / 1 GiB
          }
          Put64(mem, TableAt(d) + index * 8, e);
        }
        for (DmaAccess acc : {DmaAccess::kRead, DmaAccess::kWrite}) {
          const bool write = acc == DmaAccess::kWrite;
          const hw::vtd::Result r = hw::vtd::Walk(f, &mem, Oa(TableAt(0)), iova, acc);
          const VtdExpect e = ExpectVtd(rw, write, beyond);
          const std::string where = absl::StrFormat("%s iova %#x leaf level %d combo %#x %s", F::kName, iova,
                                                    leaf_level, c, write ? "write" : "read");
          ++n;
          if (e.ok) {
            EXPECT_TRUE(r.ok) << where << " got " << hw::vtd::FaultReasonName(r.reason);
            if (!r.ok) return n;
            const unsigned lg2 = 12 + 9 * leaf_level;
            EXPECT_EQ(r.oa.value(), leaf_oa + (iova & ((uint64_t{1} << lg2) - 1))) << where;
            EXPECT_EQ(r.size_lg2, lg2) << where;
          } else {
            EXPECT_FALSE(r.ok) << where;
            if (r.ok) return n;
            EXPECT_EQ(static_cast<unsigned>(r.reason), e.reason) << where << " got " << hw::vtd::FaultReasonName(r.reason);
            EXPECT_EQ(r.fault_addr, iova) << where;
            if (static_cast<unsigned>(r.reason) != e.reason) return n;
          }
        }
      }
    }
  }
  return n;
}

template <int kLevels>
void RunVtd() {
  const uint64_t n = EnumerateVtd<kLevels>();
  const std::string name(fmt::VtdSs<kLevels>::kName);
  ::testing::Test::RecordProperty(name + "_combinations", std::to_string(n));
  std::printf("%s: %llu combinations checked\n", name.c_str(), static_cast<unsigned long long>(n));
}

TEST(VtdAccessEnumeration, ThreeLevel) { RunVtd<3>(); }
TEST(VtdAccessEnumeration, FourLevel) { RunVtd<4>(); }
TEST(VtdAccessEnumeration, FiveLevel) { RunVtd<5>(); }

class VtdAccess : public ::testing::Test {
 protected:
  // 4-level: root at depth 0; iova 0 uses index 0 everywhere.
  void Chain(uint64_t root_extra, uint64_t leaf) {
    Put64(mem_, TableAt(0), TableAt(1) | 3 | root_extra);
    Put64(mem_, TableAt(1), TableAt(2) | 3);
    Put64(mem_, TableAt(2), TableAt(3) | 3);
    Put64(mem_, TableAt(3), leaf);
  }
  PhysMem mem_{Oa(kMemBase), kMemSize};
  const fmt::VtdSs4 f_ = golden::Make<fmt::VtdSs4>();
};

// §3.7 reserved bits: bit 62 (IW, reserved without Second Stage I/O
// Read/Write) in a present entry is reason Ch; so is PS in an SS-PML4E.
TEST_F(VtdAccess, ReservedBitsAreReasonC) {
  Chain(uint64_t{1} << 62, 0x200000 | 3);
  EXPECT_EQ(hw::vtd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kRead).reason,
            hw::vtd::FaultReason::kPagingEntryReserved);
  Chain(uint64_t{1} << 7, 0x200000 | 3);
  const hw::vtd::Result r = hw::vtd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kWrite);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.reason, hw::vtd::FaultReason::kPagingEntryReserved);
  EXPECT_EQ(r.fault_level, 3);
}

// §7.1.3 reason 7h: a table outside memory.
TEST_F(VtdAccess, TableOutsideMemoryIsReason7) {
  Put64(mem_, TableAt(0), 0x40000000 | 3);
  EXPECT_EQ(hw::vtd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kRead).reason,
            hw::vtd::FaultReason::kPagingEntryAccess);
}

// §3.7.1: a non-leaf entry with R = 0, W = 1 denies reads below it. The
// generic walker cannot say so (TableRestrictions has no read control) and
// translates: the one known difference.
TEST_F(VtdAccess, NonLeafWithoutReadDeniesReadsBelow) {
  Put64(mem_, TableAt(0), TableAt(1) | 2);
  Put64(mem_, TableAt(1), TableAt(2) | 3);
  Put64(mem_, TableAt(2), TableAt(3) | 3);
  Put64(mem_, TableAt(3), 0x200000 | 3);
  const hw::vtd::Result r = hw::vtd::Walk(f_, &mem_, Oa(TableAt(0)), 0x123, DmaAccess::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.reason, hw::vtd::FaultReason::kRead);
  EXPECT_TRUE(hw::vtd::Walk(f_, &mem_, Oa(TableAt(0)), 0x123, DmaAccess::kWrite).ok);
  const WalkResult g = Translate(f_, &mem_, Oa(TableAt(0)), Va(0x123), Access{AccessType::kRead, false},
                                 MmuOptions{false});
  EXPECT_TRUE(g.ok) << "generic walker: no hierarchical read control";
}

// ---------------------------------------------------------------------------
// AMD IOMMU v1.

// Entry states: 0 = PR clear (IR/IW set, to show they are then ignored),
// 1..4 = present with (IR, IW) = state - 1.
struct AmdExpect {
  bool ok;
  hw::amd::PageFaultFlags flags;
};
AmdExpect ExpectAmd(const std::vector<unsigned>& state, bool write, bool beyond) {
  if (beyond) return {false, {.rw = write}};
  bool ir = true, iw = true;
  for (unsigned s : state) {
    if (s == 0) return {false, {.rw = write}};  // not present: PR = 0
    ir = ir && ((s - 1) & 1);
    iw = iw && ((s - 1) & 2);
  }
  // §2.2.3: the ANDed IR/IW decide; PE with PR = 1.
  if (write ? !iw : !ir) return {false, {.pr = true, .rw = write, .pe = true}};
  return {true, {}};
}

uint64_t EnumerateAmd(int levels) {
  const auto f = golden::Make<fmt::AmdIommuV1>({absl::StrFormat("levels=%d", levels)});
  PhysMem mem(Oa(kMemBase), kMemSize);
  const unsigned va_bits = std::min(12u + 9u * static_cast<unsigned>(levels), 64u);
  const uint64_t dva_in = va_bits >= 64 ? 0x5a5a5a5a5a5a5a5aull : 0x5a5a5a5a5a5a5a5aull & LowMask(va_bits);
  const uint64_t leaf_oa = uint64_t{1} << 50;  // outside memory, aligned for every PTE size, below 2^52
  uint64_t n = 0;
  std::vector<bool> beyond_cases = {false};
  if (va_bits < 64) beyond_cases.push_back(true);
  for (bool beyond : beyond_cases) {
    const uint64_t dva = beyond ? dva_in | (uint64_t{1} << va_bits) : dva_in;
    // §2.2.3 Page Table Level Parameters: AMD level 6 holds no PTEs.
    for (int leaf_level = 0; leaf_level <= std::min(levels - 1, 4); ++leaf_level) {
      const int entries = levels - leaf_level;
      uint64_t combos = 1;
      for (int d = 0; d < entries; ++d) combos *= 5;
      for (uint64_t c = 0; c < combos; ++c) {
        std::vector<unsigned> state(entries);
        uint64_t rest = c;
        for (int d = 0; d < entries; ++d) {
          state[d] = static_cast<unsigned>(rest % 5);
          rest /= 5;
        }
        mem.Fill(Oa(kMemBase), kMemSize, 0);
        for (int d = 0; d < entries; ++d) {
          const int level = levels - 1 - d;  // ptsim level; AMD level = level + 1
          const unsigned index_bits = level == levels - 1 ? va_bits - (12 + 9 * level) : 9;
          const uint64_t index = (dva_in >> (12 + 9 * level)) & LowMask(index_bits);
          const unsigned perm = state[d] == 0 ? 3 : state[d] - 1;
          uint64_t e = (state[d] == 0 ? 0 : 1) | uint64_t{perm & 1} << 61 | uint64_t{(perm >> 1) & 1} << 62;
          if (d + 1 < entries) {
            // A PDE: Next Level = the AMD level of the table below (= this
            // ptsim level), address bits 51:12.
            e |= TableAt(d + 1) | uint64_t(level) << 9;
          } else {
            e |= leaf_oa;  // a PTE: Next Level 0, the page of this level's size
          }
          Put64(mem, TableAt(d) + index * 8, e);
        }
        for (DmaAccess acc : {DmaAccess::kRead, DmaAccess::kWrite}) {
          const bool write = acc == DmaAccess::kWrite;
          const hw::amd::Result r = hw::amd::Walk(f, &mem, Oa(TableAt(0)), dva, acc);
          const AmdExpect e = ExpectAmd(state, write, beyond);
          const std::string where = absl::StrFormat("amd levels=%d dva %#x leaf level %d combo %d %s", levels, dva,
                                                    leaf_level, c, write ? "write" : "read");
          ++n;
          if (e.ok) {
            EXPECT_TRUE(r.ok) << where;
            if (!r.ok) return n;
            const unsigned lg2 = 12 + 9 * leaf_level;
            EXPECT_EQ(r.oa.value(), leaf_oa + (dva & LowMask(lg2))) << where;
            EXPECT_EQ(r.size_lg2, lg2) << where;
          } else {
            EXPECT_FALSE(r.ok) << where;
            if (r.ok) return n;
            EXPECT_EQ(r.event, hw::amd::EventCode::kIoPageFault) << where;
            EXPECT_TRUE(r.flags == e.flags) << where << " pr " << r.flags.pr << " rw " << r.flags.rw << " pe "
                                            << r.flags.pe << " rz " << r.flags.rz;
            EXPECT_EQ(r.address, dva) << where;
            if (!(r.flags == e.flags)) return n;
          }
        }
      }
    }
  }
  return n;
}

TEST(AmdIommuAccessEnumeration, EveryModeEveryIrIwAtEveryLevel) {
  uint64_t total = 0;
  for (int levels = 1; levels <= 6; ++levels) {
    const uint64_t n = EnumerateAmd(levels);
    if (::testing::Test::HasFailure()) return;
    total += n;
    ::testing::Test::RecordProperty(absl::StrFormat("amd_iommu_v1_levels%d_combinations", levels), std::to_string(n));
    std::printf("amd_iommu_v1 levels=%d: %llu combinations checked\n", levels, static_cast<unsigned long long>(n));
  }
  ::testing::Test::RecordProperty("amd_iommu_v1_combinations", std::to_string(total));
  std::printf("amd_iommu_v1: %llu combinations checked in all\n", static_cast<unsigned long long>(total));
}

class AmdAccess : public ::testing::Test {
 protected:
  PhysMem mem_{Oa(kMemBase), kMemSize};
  const fmt::AmdIommuV1 f_ = golden::Make<fmt::AmdIommuV1>();  // 4 levels
};

// Reserved bits (58:52 in a PTE) and a Next Level above the PDE's own level
// are RZ with PR = 1.
TEST_F(AmdAccess, ReservedAndIllegalNextLevelAreRz) {
  Put64(mem_, TableAt(0), TableAt(1) | uint64_t{5} << 9 | 1 | uint64_t{3} << 61);  // NL 5 at AMD level 4
  hw::amd::Result r = hw::amd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_TRUE(r.flags.rz && r.flags.pr);
  Put64(mem_, TableAt(0), (uint64_t{1} << 52) | 1 | uint64_t{3} << 61);  // a 512 GiB PTE with bit 52 set
  r = hw::amd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kWrite);
  ASSERT_FALSE(r.ok);
  EXPECT_TRUE(r.flags.rz && r.flags.pr && r.flags.rw);
}

TEST_F(AmdAccess, TableOutsideMemoryIsPageTabHardwareError) {
  Put64(mem_, TableAt(0), 0x40000000 | uint64_t{3} << 9 | 1 | uint64_t{3} << 61);
  const hw::amd::Result r = hw::amd::Walk(f_, &mem_, Oa(TableAt(0)), 0, DmaAccess::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.event, hw::amd::EventCode::kPageTabHardwareError);
}

// A PDE's IR = 0 denies reads below it (IR/IW ANDed); the generic walker
// has no read restriction and translates.
TEST_F(AmdAccess, PdeWithoutIrDeniesReadsBelow) {
  Put64(mem_, TableAt(0), TableAt(1) | uint64_t{3} << 9 | 1 | uint64_t{2} << 61);  // IW only
  Put64(mem_, TableAt(1), TableAt(2) | uint64_t{2} << 9 | 1 | uint64_t{3} << 61);
  Put64(mem_, TableAt(2), TableAt(3) | uint64_t{1} << 9 | 1 | uint64_t{3} << 61);
  Put64(mem_, TableAt(3), 0x200000 | 1 | uint64_t{3} << 61);
  const hw::amd::Result r = hw::amd::Walk(f_, &mem_, Oa(TableAt(0)), 0x42, DmaAccess::kRead);
  ASSERT_FALSE(r.ok);
  EXPECT_TRUE(r.flags.pe && r.flags.pr && !r.flags.rw);
  EXPECT_TRUE(hw::amd::Walk(f_, &mem_, Oa(TableAt(0)), 0x42, DmaAccess::kWrite).ok);
  EXPECT_TRUE(Translate(f_, &mem_, Oa(TableAt(0)), Va(0x42), Access{AccessType::kRead, false}, MmuOptions{false}).ok)
      << "generic walker: no hierarchical read control";
}

// ---------------------------------------------------------------------------
// Both against the generic walker on random Space trees (ops write table
// entries granting everything, so the two must agree exactly).

template <typename F, typename WalkFn>
void CompareWithGeneric(const F& f, uint64_t seed, WalkFn walk) {
  constexpr uint64_t kBase = 0x1000000;
  PhysMem mem(Oa(kBase), 0x1000000);
  TableAllocator alloc(&mem, OaRange{Oa(kBase), Oa(kBase + 0x1000000 - 1)});
  FrameTable frames;
  Space<F> space(f, SpaceEnv{&mem, &alloc, &frames, nullptr, 1});
  ASSERT_TRUE(space.Init().ok());
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> starts;
  for (int n = 0; n < 60; ++n) {
    const unsigned lg2 = 12 + static_cast<unsigned>(rng() % 20);
    const uint64_t va = rng() & LowMask(std::min(f.VaBits(), 40u)) & ~LowMask(lg2);
    const uint64_t oa = rng() & LowMask(40) & ~LowMask(lg2);
    if (space.Map(VaRange{Va(va), Va(va + (uint64_t{1} << lg2) - 1)}, Oa(oa),
                  LeafAttrs::FromBits(static_cast<uint8_t>(rng() & 0x7f)))
            .ok()) {
      starts.push_back(va);
    }
  }
  ASSERT_GT(starts.size(), 10u);
  uint64_t compared = 0, translated = 0;
  for (int n = 0; n < 4000; ++n) {
    const uint64_t va = n % 2 == 0 ? starts[rng() % starts.size()] + (rng() & 0xfffff) : rng() & LowMask(f.VaBits());
    for (DmaAccess acc : {DmaAccess::kRead, DmaAccess::kWrite}) {
      const AccessType t = acc == DmaAccess::kRead ? AccessType::kRead : AccessType::kWrite;
      const WalkResult g = Translate(f, &mem, space.root(), Va(va), Access{t, false}, MmuOptions{false});
      const auto h = walk(&mem, space.root(), va, acc);
      ++compared;
      ASSERT_EQ(h.ok, g.ok) << F::kName << " va " << std::hex << va;
      if (!g.ok) continue;
      ++translated;
      EXPECT_EQ(h.oa, g.t.oa);
      EXPECT_EQ(h.size_lg2, g.t.size_lg2);
    }
  }
  std::printf("%s: %llu walks compared with generic Translate, %llu translated\n", std::string(F::kName).c_str(),
              static_cast<unsigned long long>(compared), static_cast<unsigned long long>(translated));
  EXPECT_GT(translated, compared / 20);
  space.Destroy();
}

TEST(IommuAccessVsGeneric, Vtd4) {
  const auto f = golden::Make<fmt::VtdSs4>();
  CompareWithGeneric(f, 4, [&](PhysMem* m, Oa root, uint64_t va, DmaAccess a) { return hw::vtd::Walk(f, m, root, va, a); });
}
TEST(IommuAccessVsGeneric, Vtd5) {
  const auto f = golden::Make<fmt::VtdSs5>();
  CompareWithGeneric(f, 5, [&](PhysMem* m, Oa root, uint64_t va, DmaAccess a) { return hw::vtd::Walk(f, m, root, va, a); });
}
TEST(IommuAccessVsGeneric, AmdWithLevelSkipping) {
  const auto f = golden::Make<fmt::AmdIommuV1>({"levels=5", "skip=1"});
  CompareWithGeneric(f, 6, [&](PhysMem* m, Oa root, uint64_t va, DmaAccess a) { return hw::amd::Walk(f, m, root, va, a); });
}

}  // namespace
}  // namespace ptsim
