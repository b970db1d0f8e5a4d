// Exhaustive check of the RISC-V hardware walk (src/hw/riscv.h) against an
// expectation written separately, straight from The RISC-V Instruction Set
// Manual, Volume II (Privileged Architecture), "Supervisor-Level ISA":
// "Memory Privilege in sstatus" (SUM, MXR), "Sv32" > "Addressing and Memory
// Protection" and "Virtual Address Translation Process", the Sv39/48/57 VA
// rule, and the "Svadu" chapter.
//
// The expectation (Expect below) does not call the walker's helpers: it
// reads a PTE as eight named booleans and runs down a list of rows, one per
// rule in the order the translation process states them; the first row that
// matches decides the outcome. Only what a hart makes visible is compared:
// success and the physical address, or the exception cause and stval, and
// the PTE bytes afterwards (the Svadu update).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/formats/riscv.h"
#include "src/hw/riscv.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

namespace rv = hw::riscv;
using fmt::RiscvSv32;
using fmt::RiscvSv39;
using fmt::RiscvSv48;
using fmt::RiscvSv57;

// ---------------------------------------------------------------------------
// The expectation, from the manual, in its own vocabulary.

// One PTE's low byte, bit by bit, as "Addressing and Memory Protection"
// draws it: D A G U X W R V from bit 7 down to bit 0.
struct PteBits {
  bool v, r, w, x, u, g, a, d;
  static PteBits FromByte(unsigned b) {
    return {(b & 1) != 0,  (b & 2) != 0,  (b & 4) != 0,  (b & 8) != 0,
            (b & 16) != 0, (b & 32) != 0, (b & 64) != 0, (b & 128) != 0};
  }
};

enum class Kind { kOk, kPageFault, kAccessFault };

struct Case {
  int levels;         // LEVELS: 2 (Sv32), 3, 4, 5
  int vpn_bits;       // 10 in Sv32, 9 otherwise
  int leaf_level;     // i at which the PTE under test sits
  bool misaligned;    // its PPN[0] bit 0 is set (only for i > 0)
  PteBits leaf;       // the PTE under test
  PteBits parent;     // the pointer right above it (when i < LEVELS-1)
  bool user_mode;     // U-mode, else S-mode
  bool sum, mxr, svadu;
  char access;        // 'l' load, 's' store, 'f' fetch
  bool va_ok;         // upper VA bits copy the top translated bit
};

struct Expected {
  Kind kind = Kind::kOk;
  bool sets_a = false, sets_d = false;
};

// Rows of the translation process, in the manual's order. Each row says
// when it fires and what it yields. The PTE under test with R = W = X = 0
// is a pointer, whose target (the leaf OA, outside simulated memory) makes
// the next PTE read an access fault.
std::vector<std::pair<const char*, std::function<bool(const Case&)>>> PageFaultRows() {
  auto has_parent = [](const Case& c) { return c.leaf_level < c.levels - 1; };
  auto is_pointer = [](const Case& c) { return !c.leaf.r && !c.leaf.x; };
  return {
      // "Sv39" (and Sv48, Sv57): upper bits must equal the top VA bit.
      {"va", [](const Case& c) { return !c.va_ok; }},
      // Step 3 on the parent pointer: V is always 1 there; for non-leaf PTEs
      // D, A and U are reserved ("Addressing and Memory Protection").
      {"parent dau", [=](const Case& c) { return has_parent(c) && (c.parent.d || c.parent.a || c.parent.u); }},
      // Step 3 on the PTE under test.
      {"v=0", [](const Case& c) { return !c.leaf.v; }},
      {"r=0 w=1", [](const Case& c) { return !c.leaf.r && c.leaf.w; }},
      // Step 4: a pointer, with its reserved D/A/U, or at i = 0.
      {"pointer dau", [=](const Case& c) { return is_pointer(c) && (c.leaf.d || c.leaf.a || c.leaf.u); }},
      {"pointer at i=0", [=](const Case& c) { return is_pointer(c) && c.leaf_level == 0; }},
      // Step 5, "Addressing and Memory Protection" and "Memory Privilege in
      // sstatus": U-mode needs U = 1; S-mode on U = 1 needs SUM and never
      // fetches.
      {"u-mode on s page", [=](const Case& c) { return !is_pointer(c) && c.user_mode && !c.leaf.u; }},
      {"s-mode on u page", [=](const Case& c) {
         return !is_pointer(c) && !c.user_mode && c.leaf.u && (c.access == 'f' || !c.sum);
       }},
      {"load", [=](const Case& c) { return !is_pointer(c) && c.access == 'l' && !(c.leaf.r || (c.mxr && c.leaf.x)); }},
      {"store", [=](const Case& c) { return !is_pointer(c) && c.access == 's' && !c.leaf.w; }},
      {"fetch", [=](const Case& c) { return !is_pointer(c) && c.access == 'f' && !c.leaf.x; }},
      // Step 6.
      {"misaligned", [=](const Case& c) { return !is_pointer(c) && c.misaligned; }},
      // Step 7 under Svade.
      {"svade a", [=](const Case& c) { return !is_pointer(c) && !c.svadu && !c.leaf.a; }},
      {"svade d", [=](const Case& c) { return !is_pointer(c) && !c.svadu && c.access == 's' && !c.leaf.d; }},
  };
}

Expected Expect(const Case& c) {
  static const auto rows = PageFaultRows();
  for (const auto& [name, fires] : rows) {
    if (fires(c)) return {Kind::kPageFault};
  }
  // A clean pointer above level 0: its table lies outside memory.
  if (!c.leaf.r && !c.leaf.x) return {Kind::kAccessFault};
  Expected e;
  // Step 7 under Svadu: A is set, and D on a store.
  if (c.svadu) {
    e.sets_a = !c.leaf.a;
    e.sets_d = c.access == 's' && !c.leaf.d;
  }
  return e;
}

// ---------------------------------------------------------------------------
// The harness: hand-built tables in a small PhysMem.

constexpr uint64_t kMemBase = 0x10000;
constexpr uint64_t kMemSize = 0x10000;

void PutRaw(PhysMem& mem, uint64_t addr, uint64_t raw, unsigned bytes) {
  std::memcpy(mem.Writable(Oa(addr)), &raw, bytes);  // little-endian host, as the tables are
}
uint64_t GetRaw(const PhysMem& mem, uint64_t addr, unsigned bytes) {
  uint64_t raw = 0;
  std::memcpy(&raw, mem.Readable(Oa(addr)), bytes);
  return raw;
}

rv::Access AccessOf(char c) {
  return c == 'l' ? rv::Access::kLoad : c == 's' ? rv::Access::kStore : rv::Access::kFetch;
}
unsigned PageFaultCode(char c) { return c == 'l' ? 13 : c == 's' ? 15 : 12; }  // scause table
unsigned AccessFaultCode(char c) { return c == 'l' ? 5 : c == 's' ? 7 : 1; }

struct EnumStats {
  uint64_t combos = 0;
  uint64_t ok = 0, page_faults = 0, access_faults = 0;
};

template <typename F>
void EnumerateFormat(int levels, int vpn_bits, EnumStats& st) {
  const F f = golden::Make<F>();
  const unsigned pte_bytes = vpn_bits == 10 ? 4 : 8;
  // A leaf OA outside memory and aligned for every page size: 2^33 fits
  // Sv32's 34-bit PA, 2^50 the others' 56-bit PA.
  const uint64_t leaf_oa = pte_bytes == 4 ? uint64_t{1} << 33 : uint64_t{1} << 50;
  const unsigned va_bits = 12 + vpn_bits * levels;
  std::vector<std::pair<uint64_t, bool>> vas;  // (va, va_ok)
  // Every VPN field and the offset nonzero, so the OA composition shows.
  const uint64_t pattern = 0x5a5a5a5a5a5a5a5aull & ((uint64_t{1} << va_bits) - 1);
  vas.push_back({pattern & ~(uint64_t{1} << (va_bits - 1)), true});
  if (pte_bytes == 8) {
    const uint64_t high = pattern | ~((uint64_t{1} << (va_bits - 1)) - 1);
    vas.push_back({high, true});
    vas.push_back({high ^ (uint64_t{1} << 63), false});
  } else {
    vas.push_back({pattern | 0x80000000u, true});
  }
  PhysMem mem(Oa(kMemBase), kMemSize);
  const uint64_t root = kMemBase;
  auto table_of = [&](int level) { return kMemBase + uint64_t(levels - 1 - level) * 0x1000; };
  auto index_of = [&](uint64_t va, int level) {
    return (va >> (12 + vpn_bits * level)) & ((uint64_t{1} << vpn_bits) - 1);
  };
  for (const auto& [va, va_ok] : vas) {
    for (int leaf_level = 0; leaf_level < levels; ++leaf_level) {
      for (int mis = 0; mis < (leaf_level > 0 ? 2 : 1); ++mis) {
        const bool has_parent = leaf_level < levels - 1;
        mem.Fill(Oa(kMemBase), kMemSize, 0);
        // Clean pointers from the root down to two levels above the leaf.
        for (int l = levels - 1; l > leaf_level + 1; --l) {
          PutRaw(mem, table_of(l) + index_of(va, l) * pte_bytes, ((table_of(l - 1) >> 12) << 10) | 1, pte_bytes);
        }
        const uint64_t parent_addr = has_parent ? table_of(leaf_level + 1) + index_of(va, leaf_level + 1) * pte_bytes : 0;
        const uint64_t leaf_addr = table_of(leaf_level) + index_of(va, leaf_level) * pte_bytes;
        const uint64_t ppn = (leaf_oa >> 12) | (mis ? 1 : 0);
        for (unsigned parent_dau = 0; parent_dau < (has_parent ? 8u : 1u); ++parent_dau) {
          // D (bit 7), A (bit 6), U (bit 4) of the parent, from three bits.
          const unsigned pbyte = 1 | ((parent_dau & 1) ? 0x80 : 0) | ((parent_dau & 2) ? 0x40 : 0) |
                                 ((parent_dau & 4) ? 0x10 : 0);
          const uint64_t parent_raw = ((table_of(leaf_level) >> 12) << 10) | pbyte;
          for (unsigned byte = 0; byte < 256; ++byte) {
            const uint64_t leaf_raw = (ppn << 10) | byte;
            for (int m = 0; m < 16; ++m) {
              for (char acc : {'l', 's', 'f'}) {
                Case c{levels, vpn_bits, leaf_level, mis != 0, PteBits::FromByte(byte), PteBits::FromByte(pbyte),
                       (m & 1) != 0, (m & 2) != 0, (m & 4) != 0, (m & 8) != 0, acc, va_ok};
                if (has_parent) PutRaw(mem, parent_addr, parent_raw, pte_bytes);
                PutRaw(mem, leaf_addr, leaf_raw, pte_bytes);
                const rv::Mode mode{c.user_mode ? rv::Priv::kUser : rv::Priv::kSupervisor, c.sum, c.mxr,
                                    c.svadu ? rv::AdPolicy::kSvadu : rv::AdPolicy::kSvade};
                const rv::Result r = rv::Walk(f, &mem, Oa(root), Va(va), AccessOf(acc), mode);
                const Expected e = Expect(c);
                const std::string where = absl::StrFormat(
                    "%s va=%#x leaf i=%d%s pte=%#x parent=%#x %s sum=%d mxr=%d %s access=%c", F::kName, va,
                    leaf_level, mis ? " misaligned" : "", leaf_raw, has_parent ? parent_raw : 0,
                    c.user_mode ? "U" : "S", c.sum, c.mxr, c.svadu ? "svadu" : "svade", acc);
                ++st.combos;
                switch (e.kind) {
                  case Kind::kOk: {
                    ++st.ok;
                    ASSERT_TRUE(r.ok) << where << " got " << rv::CauseName(r.fault.cause) << " "
                                      << rv::ReasonName(r.fault.reason);
                    // Step 8: the superpage's low VPNs and the offset pass
                    // through to the PA.
                    const unsigned size_lg2 = 12 + vpn_bits * leaf_level;
                    ASSERT_EQ(r.size_lg2, size_lg2) << where;
                    ASSERT_EQ(r.oa.value(), leaf_oa + (va & ((uint64_t{1} << size_lg2) - 1))) << where;
                    break;
                  }
                  case Kind::kPageFault:
                    ++st.page_faults;
                    ASSERT_FALSE(r.ok) << where;
                    ASSERT_EQ(static_cast<unsigned>(r.fault.cause), PageFaultCode(acc))
                        << where << " reason " << rv::ReasonName(r.fault.reason);
                    ASSERT_EQ(r.fault.stval, va) << where;
                    break;
                  case Kind::kAccessFault:
                    ++st.access_faults;
                    ASSERT_FALSE(r.ok) << where;
                    ASSERT_EQ(static_cast<unsigned>(r.fault.cause), AccessFaultCode(acc))
                        << where << " reason " << rv::ReasonName(r.fault.reason);
                    ASSERT_EQ(r.fault.stval, va) << where;
                    break;
                }
                const uint64_t want_leaf = leaf_raw | (e.sets_a ? 0x40 : 0) | (e.sets_d ? 0x80 : 0);
                ASSERT_EQ(GetRaw(mem, leaf_addr, pte_bytes), want_leaf) << where << " (A/D update)";
                if (has_parent) {
                  ASSERT_EQ(GetRaw(mem, parent_addr, pte_bytes), parent_raw) << where << " (pointer written)";
                }
              }
            }
          }
        }
      }
    }
  }
}

template <typename F>
void RunEnumeration(int levels, int vpn_bits) {
  EnumStats st;
  EnumerateFormat<F>(levels, vpn_bits, st);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const std::string name(F::kName);
  ::testing::Test::RecordProperty(name + "_combinations", std::to_string(st.combos));
  std::printf("%s: %llu combinations checked (%llu translate, %llu page faults, %llu access faults)\n", name.c_str(),
              static_cast<unsigned long long>(st.combos), static_cast<unsigned long long>(st.ok),
              static_cast<unsigned long long>(st.page_faults), static_cast<unsigned long long>(st.access_faults));
  EXPECT_GT(st.ok, 0u);
  EXPECT_GT(st.page_faults, 0u);
  EXPECT_GT(st.access_faults, 0u);
}

TEST(RiscvAccessEnumeration, Sv32) { RunEnumeration<RiscvSv32>(2, 10); }
TEST(RiscvAccessEnumeration, Sv39) { RunEnumeration<RiscvSv39>(3, 9); }
TEST(RiscvAccessEnumeration, Sv48) { RunEnumeration<RiscvSv48>(4, 9); }
TEST(RiscvAccessEnumeration, Sv57) { RunEnumeration<RiscvSv57>(5, 9); }

// ---------------------------------------------------------------------------
// Hand-picked cases that name the rule they pin.

class RiscvAccess : public golden::Table64Test {
 protected:
  // Sv39: root at 0x1000, level-1 table at 0x2000, level-0 table at 0x3000;
  // VA 0x40201234 = VPN[2] 1, VPN[1] 1, VPN[0] 1.
  void BuildPage(uint64_t leaf_low_byte) {
    Put(0x1000 + 1 * 8, (0x2ull << 10) | 1);
    Put(0x2000 + 1 * 8, (0x3ull << 10) | 1);
    Put(0x3000 + 1 * 8, (0x80ull << 10) | leaf_low_byte);
  }
  static constexpr uint64_t kVa = 0x40201234;
  static constexpr uint64_t kLeafAddr = 0x3008;
  const RiscvSv39 f_ = golden::Make<RiscvSv39>();
};

// "Memory Privilege in sstatus": with SUM = 1 S-mode may load and store a
// U page but still may not execute from it.
TEST_F(RiscvAccess, SumNeverAllowsSupervisorFetchFromUserPage) {
  BuildPage(0xff);  // V R W X U G A D
  const rv::Mode s_sum{rv::Priv::kSupervisor, /*sum=*/true, false, rv::AdPolicy::kSvade};
  EXPECT_TRUE(rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kLoad, s_sum).ok);
  EXPECT_TRUE(rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kStore, s_sum).ok);
  const rv::Result r = rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kFetch, s_sum);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.cause, rv::Cause::kInstructionPageFault);
  EXPECT_EQ(r.fault.reason, rv::Reason::kUserBit);
}

// Step 2: a PTE outside memory (PMA/PMP) is an access fault, causes 1/5/7.
TEST_F(RiscvAccess, RootOutsideMemoryIsAccessFault) {
  const rv::Result r = rv::Walk(f_, &mem_, Oa(0x40000000), Va(kVa), rv::Access::kStore, {});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.cause, rv::Cause::kStoreAccessFault);
  EXPECT_EQ(r.fault.stval, kVa);
  EXPECT_EQ(r.fault.level, 2);
}

// A/D protocol: when the leaf changes between the read and the
// compare-and-swap, the walk restarts from the root and uses what it finds
// then; an entry cleared meanwhile is never written back.
class ClearOnCas : public MemObserver {
 public:
  ClearOnCas(PhysMem* mem, uint64_t addr, uint64_t replacement) : mem_(mem), addr_(addr), repl_(replacement) {}
  void OnAccess(Oa addr, unsigned, MemAccess kind) override {
    if (kind != MemAccess::kCompareExchange || addr.value() != addr_ || fired_) return;
    fired_ = true;
    std::memcpy(mem_->Writable(addr), &repl_, sizeof(repl_));
  }

 private:
  PhysMem* mem_;
  uint64_t addr_, repl_;
  bool fired_ = false;
};

TEST_F(RiscvAccess, SvaduRestartsAndNeverResurrectsAClearedLeaf) {
  BuildPage(0x0f);  // V R W X, A = D = 0
  ClearOnCas obs(&mem_, kLeafAddr, 0);
  mem_.set_observer(&obs);
  const rv::Mode m{rv::Priv::kSupervisor, false, false, rv::AdPolicy::kSvadu};
  const rv::Result r = rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kStore, m);
  mem_.set_observer(nullptr);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_EQ(r.fault.reason, rv::Reason::kNotValid);
  EXPECT_EQ(Get(kLeafAddr), 0u) << "the cleared leaf must stay cleared";
}

TEST_F(RiscvAccess, SvaduRestartUsesTheNewLeaf) {
  BuildPage(0x0f);
  const uint64_t moved = (0x90ull << 10) | 0x0f;  // same permissions, another page
  ClearOnCas obs(&mem_, kLeafAddr, moved);
  mem_.set_observer(&obs);
  const rv::Mode m{rv::Priv::kSupervisor, false, false, rv::AdPolicy::kSvadu};
  const rv::Result r = rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kLoad, m);
  mem_.set_observer(nullptr);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_EQ(r.oa.value(), 0x90234u);
  EXPECT_EQ(Get(kLeafAddr), moved | 0x40) << "A set on the new value only";
}

// The mode's default A/D policy follows the format's svadu knob.
TEST_F(RiscvAccess, DefaultAdPolicyFollowsTheFormatKnob) {
  BuildPage(0x0f);
  const auto svade = golden::Make<RiscvSv39>({"svadu=0"});
  const rv::Result r = rv::Walk(svade, &mem_, Oa(0x1000), Va(kVa), rv::Access::kLoad, {});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.fault.reason, rv::Reason::kAccessedClear);
  EXPECT_TRUE(rv::Walk(f_, &mem_, Oa(0x1000), Va(kVa), rv::Access::kLoad, {}).ok);
  EXPECT_EQ(Get(kLeafAddr), 0x0full | 0x40 | (0x80ull << 10));
}

// ---------------------------------------------------------------------------
// The default mode against the generic walker, on random trees built by
// Space. The generic walker has no SUM: it lets a supervisor access any
// user page. So S-mode loads and stores are compared with SUM = 1, and an
// S-mode fetch from a U page is the one expected difference (the hardware
// walk faults, the generic one translates).

template <typename F>
void CompareWithGeneric(uint64_t seed) {
  const F f = golden::Make<F>();
  constexpr uint64_t kBase = 0x1000000;
  PhysMem mem(Oa(kBase), 0x1000000);
  TableAllocator alloc(&mem, OaRange{Oa(kBase), Oa(kBase + 0x1000000 - 1)});
  FrameTable frames;
  Space<F> space(f, SpaceEnv{&mem, &alloc, &frames, nullptr, 1});
  ASSERT_TRUE(space.Init().ok());
  std::mt19937_64 rng(seed);
  const unsigned va_bits = f.VaBits();
  std::vector<uint64_t> starts;
  for (int n = 0; n < 60; ++n) {
    // Sizes from one page up to a few superpages, aligned to their size so
    // Space can pick large leaves.
    const unsigned lg2 = 12 + static_cast<unsigned>(rng() % (f.ItemLg2(Level(1)) - 12 + 3));
    const uint64_t low = (rng() & LowMask(va_bits)) & ~LowMask(lg2);
    const uint64_t oa = (rng() & LowMask(f.OaBits() - 1)) & ~LowMask(lg2);
    const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(rng() & 0x7f));
    const Va first = CanonicalVa(f, low);
    if (space.Map(VaRange{first, Va(first.value() + (uint64_t{1} << lg2) - 1)}, Oa(oa), a).ok()) {
      starts.push_back(first.value());
    }
  }
  ASSERT_GT(starts.size(), 10u);
  uint64_t compared = 0, fetch_differences = 0, translated = 0;
  for (int n = 0; n < 4000; ++n) {
    const uint64_t va = (n % 2 == 0) ? starts[rng() % starts.size()] + (rng() & 0x3fffff & LowMask(12 + 10))
                                     : CanonicalVa(f, rng()).value();
    for (bool user : {false, true}) {
      for (AccessType t : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
        const rv::Access acc = t == AccessType::kRead ? rv::Access::kLoad
                               : t == AccessType::kWrite ? rv::Access::kStore
                                                         : rv::Access::kFetch;
        const rv::Mode mode{user ? rv::Priv::kUser : rv::Priv::kSupervisor, /*sum=*/true, false,
                            rv::AdPolicy::kFromFormat};
        // Generic first without A/D updates, then the hardware walk (which
        // sets A/D, as generic would have).
        const WalkResult g = Translate(f, &mem, space.root(), Va(va), Access{t, user}, MmuOptions{false});
        const rv::Result h = rv::Walk(f, &mem, space.root(), Va(va), acc, mode);
        ++compared;
        if (!user && t == AccessType::kExec && g.ok && g.t.attrs.Has(Attr::kUser)) {
          ++fetch_differences;
          EXPECT_FALSE(h.ok) << "S-mode fetch from a U page";
          continue;
        }
        ASSERT_EQ(h.ok, g.ok) << F::kName << " va " << std::hex << va << " " << AccessTypeName(t) << " user " << user;
        if (!g.ok) continue;
        ++translated;
        EXPECT_EQ(h.oa, g.t.oa);
        EXPECT_EQ(h.size_lg2, g.t.size_lg2);
        EXPECT_EQ(h.level, g.t.level.value());
      }
    }
  }
  EXPECT_GT(translated, compared / 20) << "too few translations to compare";
  std::printf("%s: %llu walks compared with generic Translate, %llu translated (%llu S-fetch-from-U differences)\n",
              std::string(F::kName).c_str(), static_cast<unsigned long long>(compared),
              static_cast<unsigned long long>(translated),
              static_cast<unsigned long long>(fetch_differences));
  space.Destroy();
}

TEST(RiscvAccessVsGeneric, Sv32) { CompareWithGeneric<RiscvSv32>(32); }
TEST(RiscvAccessVsGeneric, Sv39) { CompareWithGeneric<RiscvSv39>(39); }
TEST(RiscvAccessVsGeneric, Sv48) { CompareWithGeneric<RiscvSv48>(48); }
TEST(RiscvAccessVsGeneric, Sv57) { CompareWithGeneric<RiscvSv57>(57); }

}  // namespace
}  // namespace ptsim
