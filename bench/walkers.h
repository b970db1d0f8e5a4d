// The two walkers the translate benchmarks compare, and the fixture they
// walk. Shared by ptsim_bench (timings) and walk_count (instruction counts
// under callgrind), so both measure exactly the same loop.
//
//   generic       ptsim::Translate<fmt::X86_64L4> (src/mmu/mmu.h): one loop
//                 over levels, every decision asked of the format.
//   hand-written  HandX86_64L4 below: four explicit steps PML4 -> PDPT -> PD
//                 -> PT with the shifts and masks written out, as a
//                 per-architecture walker would be.
//
// Fairness: both read the same 8-byte entries of the same PhysMem with an
// acquire std::atomic_ref load, notify the MemObserver like EntryPtr does,
// bounds-check every table against memory like the generic walk does, apply
// the same reserved-bit, PS, alignment and R/W, U/S, XD rules for the same
// runtime configuration (MAXPHYADDR, NXE, 1-GiB pages are knobs read from
// the same FormatConfig), set A/D with the same compare-and-swap and
// restart rule, and return the same WalkResult (the effective attributes
// included), so DoNotOptimize costs the same. CheckWalkersAgree() (called
// before any measurement) aborts if the two ever differ.
//
// Deliberate differences, each what a hand-written walker would naturally
// do and each a possible source of a measured difference:
//   * the reserved-bit mask (address bits above MAXPHYADDR, and XD when NXE
//     is off) is computed once in the constructor; fmt::X86_64 recomputes
//     it from oa_bits_ and nxe_ in every Classify();
//   * permissions accumulate as two words (AND of R/W and U/S, OR of XD)
//     instead of a TablePerms of three bools rebuilt per level;
//   * there is no PTSIM_CHECK that a level-0 entry is not a table: the
//     four steps make that impossible by construction;
//   * the leaf's attributes are decoded once; the generic walk decodes them
//     twice (for the permission check and for the result);
//   * the leaf step is [[gnu::always_inline]]; ptsim::Translate carries no
//     inlining hint and GCC 12 -O3 calls it out of line. Both loops below
//     are otherwise identical.
#ifndef PTSIM_BENCH_WALKERS_H_
#define PTSIM_BENCH_WALKERS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/base/log2.h"
#include "src/formats/x86_64.h"
#include "src/harness/executor.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"

namespace ptsim::bench {

class HandX86_64L4 {
 public:
  // The three knobs of fmt::X86_64L4, in its order.
  explicit HandX86_64L4(const FormatConfig& cfg)
      : rsvd_((kAddrMask & ~LowMask(static_cast<unsigned>(cfg.Get(0)))) | (cfg.Get(1) != 0 ? 0 : kXd)),
        nxe_(cfg.Get(1) != 0),
        gb_pages_(cfg.Get(2) != 0) {}

  // Same contract as ptsim::Translate(f, mem, root, va, acc, {update_ad}).
  WalkResult Walk(PhysMem* mem, Oa root, Va va, Access acc, bool update_ad) const {
    WalkResult res;
    const uint64_t v = va.value();
    // Bits 63:47 must all equal bit 47.
    if (static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) != v) {
      return Fail(res, FaultKind::kNonCanonical, 3);
    }
  restart:
    uint64_t all_and = ~uint64_t{0};  // R/W, U/S: every entry must allow
    uint64_t any_or = 0;              // XD: any entry may forbid

    // Step 1: PML4E (level 3), VA bits 47:39. PS is reserved here.
    if (!mem->Contains(root, kTableBytes)) return Fail(res, FaultKind::kOutsideMemory, 3);
    Oa ea = root + (((v >> 39) & 511) << 3);
    uint64_t e = Load(mem, ea);
    if ((e & kP) == 0) return Fail(res, FaultKind::kNotPresent, 3);
    if ((e & (rsvd_ | kPs)) != 0) return Fail(res, FaultKind::kReserved, 3);
    if (update_ad && (e & kA) == 0 && !Cas(mem, ea, e, e | kA)) {
      ++res.restarts;
      goto restart;
    }
    all_and &= e;
    any_or |= e;

    // Step 2: PDPTE (level 2), VA bits 38:30. PS=1 maps 1 GiB if enabled.
    {
      const Oa pdpt(e & kAddrMask);
      if (!mem->Contains(pdpt, kTableBytes)) return Fail(res, FaultKind::kOutsideMemory, 2);
      ea = pdpt + (((v >> 30) & 511) << 3);
    }
    e = Load(mem, ea);
    if ((e & kP) == 0) return Fail(res, FaultKind::kNotPresent, 2);
    if ((e & rsvd_) != 0) return Fail(res, FaultKind::kReserved, 2);
    if ((e & kPs) != 0) {
      if (!gb_pages_ || (e & LowMask(30) & ~LowMask(13)) != 0) return Fail(res, FaultKind::kReserved, 2);
      if (!Leaf(mem, ea, e, all_and, any_or, 30, 2, v, acc, update_ad, res)) {
        ++res.restarts;
        goto restart;
      }
      return res;
    }
    if (update_ad && (e & kA) == 0 && !Cas(mem, ea, e, e | kA)) {
      ++res.restarts;
      goto restart;
    }
    all_and &= e;
    any_or |= e;

    // Step 3: PDE (level 1), VA bits 29:21. PS=1 maps 2 MiB.
    {
      const Oa pd(e & kAddrMask);
      if (!mem->Contains(pd, kTableBytes)) return Fail(res, FaultKind::kOutsideMemory, 1);
      ea = pd + (((v >> 21) & 511) << 3);
    }
    e = Load(mem, ea);
    if ((e & kP) == 0) return Fail(res, FaultKind::kNotPresent, 1);
    if ((e & rsvd_) != 0) return Fail(res, FaultKind::kReserved, 1);
    if ((e & kPs) != 0) {
      if ((e & LowMask(21) & ~LowMask(13)) != 0) return Fail(res, FaultKind::kReserved, 1);
      if (!Leaf(mem, ea, e, all_and, any_or, 21, 1, v, acc, update_ad, res)) {
        ++res.restarts;
        goto restart;
      }
      return res;
    }
    if (update_ad && (e & kA) == 0 && !Cas(mem, ea, e, e | kA)) {
      ++res.restarts;
      goto restart;
    }
    all_and &= e;
    any_or |= e;

    // Step 4: PTE (level 0), VA bits 20:12. Bit 7 is PAT here, not PS.
    {
      const Oa pt(e & kAddrMask);
      if (!mem->Contains(pt, kTableBytes)) return Fail(res, FaultKind::kOutsideMemory, 0);
      ea = pt + (((v >> 12) & 511) << 3);
    }
    e = Load(mem, ea);
    if ((e & kP) == 0) return Fail(res, FaultKind::kNotPresent, 0);
    if ((e & rsvd_) != 0) return Fail(res, FaultKind::kReserved, 0);
    if (!Leaf(mem, ea, e, all_and, any_or, 12, 0, v, acc, update_ad, res)) {
      ++res.restarts;
      goto restart;
    }
    return res;
  }

 private:
  static constexpr uint64_t kP = 1ull << 0;
  static constexpr uint64_t kRw = 1ull << 1;
  static constexpr uint64_t kUs = 1ull << 2;
  static constexpr uint64_t kA = 1ull << 5;
  static constexpr uint64_t kD = 1ull << 6;
  static constexpr uint64_t kPs = 1ull << 7;
  static constexpr uint64_t kG = 1ull << 8;
  static constexpr uint64_t kXd = 1ull << 63;
  static constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;  // bits 51:12
  static constexpr uint64_t kTableBytes = 4096;

  static WalkResult& Fail(WalkResult& res, FaultKind kind, int level) {
    res.fault = {kind, Level(level)};
    return res;
  }

  // What EntryPtr<F>::Load(acquire) does.
  static uint64_t Load(PhysMem* mem, Oa addr) {
    if (MemObserver* o = mem->observer()) o->OnAccess(addr, sizeof(uint64_t), MemAccess::kLoad);
    // The chunk may be the shared zero chunk, which is never written.
    auto* p = const_cast<uint64_t*>(reinterpret_cast<const uint64_t*>(mem->Readable(addr)));
    return std::atomic_ref<uint64_t>(*p).load(std::memory_order_acquire);
  }

  // What EntryPtr<F>::CompareExchange(acq_rel) does.
  static bool Cas(PhysMem* mem, Oa addr, uint64_t expected, uint64_t desired) {
    if (MemObserver* o = mem->observer()) o->OnAccess(addr, sizeof(uint64_t), MemAccess::kCompareExchange);
    auto* p = reinterpret_cast<uint64_t*>(mem->Writable(addr));
    return std::atomic_ref<uint64_t>(*p).compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
  }

  // The leaf step of the three leaf levels. Returns false when the A/D
  // compare-and-swap failed and the walk must restart. Forced inline so each
  // level gets its own copy with lg2 and level constant, as a hand-written
  // walker has; left to itself GCC 12 kept one copy out of line, which cost
  // 60 instructions per 4 KiB translation.
  [[gnu::always_inline]] bool Leaf(PhysMem* mem, Oa ea, uint64_t e, uint64_t all_and, uint64_t any_or,
                                   unsigned lg2, int level, uint64_t v, Access acc, bool update_ad,
                                   WalkResult& res) const {
    all_and &= e;
    any_or |= e;
    const bool w = (all_and & kRw) != 0;
    const bool u = (all_and & kUs) != 0;
    const bool x = !(nxe_ && (any_or & kXd) != 0);
    const bool write = acc.type == AccessType::kWrite;
    if ((acc.user && !u) || (write && !w) || (acc.type == AccessType::kExec && !x)) {
      Fail(res, FaultKind::kPermission, level);
      return true;
    }
    if (update_ad) {
      const uint64_t marked = e | kA | (write ? kD : 0);
      if (marked != e && !Cas(mem, ea, e, marked)) return false;
      e = marked;
    }
    // LeafAttrs bit order: read, write, exec, user, global, accessed, dirty.
    const uint8_t attrs = static_cast<uint8_t>(1u | (unsigned{w} << 1) | (unsigned{x} << 2) | (unsigned{u} << 3) |
                                               (((e & kG) != 0) << 4) | (((e & kA) != 0) << 5) |
                                               (((e & kD) != 0) << 6));
    res.ok = true;
    res.t = {Oa((e & kAddrMask & ~LowMask(lg2)) | (v & LowMask(lg2))), lg2, Level(level),
             LeafAttrs::FromBits(attrs), e};
    return true;
  }

  uint64_t rsvd_;  // reserved bits at every level: address bits >= MAXPHYADDR, XD without NXE
  bool nxe_;
  bool gb_pages_;
};

// An x86-64 4-level space in its own Arena, with `bytes` mapped at kVa ->
// kOa in leaves of 2^leaf_lg2, and kNumVas seeded random VAs inside it.
struct TranslateFixture {
  // Kernel half (sign-extended), not 1 GiB aligned so the range spans two
  // PDPT entries; the OA is 2 MiB but not 1 GiB aligned, and differs from
  // the VA's low bits.
  static constexpr uint64_t kVa = 0xffff9a3bb8000000ull;
  static constexpr uint64_t kOa = 0x0000000304600000ull;
  static constexpr size_t kNumVas = size_t{1} << 16;
  static constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull;

  explicit TranslateFixture(unsigned leaf_lg2);

  unsigned leaf_lg2;
  uint64_t bytes;
  std::unique_ptr<Arena> arena;
  fmt::X86_64L4 f;
  HandX86_64L4 hand;
  Space<fmt::X86_64L4> space;
  Oa root;
  std::vector<Va> vas;

  PhysMem* mem() { return &arena->mem(); }
};

// Maps 256 MiB in 4 KiB leaves or 1 GiB in 2 MiB leaves.
inline uint64_t FixtureBytes(unsigned leaf_lg2) { return leaf_lg2 == 12 ? uint64_t{256} << 20 : uint64_t{1} << 30; }

// The measured loops, shared by ptsim_bench and walk_count: one pass over
// the VAs, each result passed through `sink` (benchmark::DoNotOptimize).
template <bool kUpdateAd, typename Sink>
inline void WalkAllGeneric(TranslateFixture& fx, Sink&& sink) {
  const fmt::X86_64L4& f = fx.f;
  PhysMem* mem = fx.mem();
  const Oa root = fx.root;
  for (const Va va : fx.vas) {
    WalkResult r = Translate(f, mem, root, va, Access{AccessType::kRead, false}, MmuOptions{.update_ad = kUpdateAd});
    sink(r);
  }
}

template <bool kUpdateAd, typename Sink>
inline void WalkAllHand(TranslateFixture& fx, Sink&& sink) {
  const HandX86_64L4& hand = fx.hand;
  PhysMem* mem = fx.mem();
  const Oa root = fx.root;
  for (const Va va : fx.vas) {
    WalkResult r = hand.Walk(mem, root, va, Access{AccessType::kRead, false}, kUpdateAd);
    sink(r);
  }
}

// Aborts with a message unless the walkers agree, without A/D updates, on
// every VA of the fixture (read access), on a sample of VAs for every
// access type, and on VAs that fault (unmapped, non-canonical).
void CheckWalkersAgree(TranslateFixture& fx);
// Aborts unless, on two identical fresh fixtures, the hand-written walker
// with A/D updates on one and the generic one on the other give the same
// results and leave byte-identical tables. Then walks `fx` (read, A/D on)
// once with each walker so its A bits are set: the steady state measured.
void CheckAdAgreeAndWarm(TranslateFixture& fx);
// Aborts unless the walkers agree on `trials` random tables: random entry
// bits (present or not, reserved bits, PS, misaligned large pages, table
// pointers in or out of memory), random configurations (MAXPHYADDR, NXE,
// 1-GiB pages), access types and A/D on or off.
void CheckRandomEntries(int trials);

std::string Describe(const WalkResult& r);
bool SameResult(const WalkResult& a, const WalkResult& b);

}  // namespace ptsim::bench

#endif  // PTSIM_BENCH_WALKERS_H_
