// Fixture construction and the checks that make the walker comparison
// meaningful: a benchmark of a walker that disagrees with the generic one
// measures nothing, so every check aborts with the first disagreement.
#include "bench/walkers.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_format.h"

namespace ptsim::bench {
namespace {

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "ptsim bench: walker check failed: %s\n", msg.c_str());
  std::abort();
}

FormatConfig DefaultConfig() { return FormatConfig::Defaults(fmt::X86_64L4::kKnobs); }

const char* AccessText(Access a) {
  static const char* kNames[2][3] = {{"read", "write", "exec"}, {"user-read", "user-write", "user-exec"}};
  return kNames[a.user ? 1 : 0][static_cast<int>(a.type)];
}

void Compare(const fmt::X86_64L4& f, const HandX86_64L4& hand, PhysMem* mem, Oa root, Va va, Access acc) {
  const WalkResult g = Translate(f, mem, root, va, acc, MmuOptions{.update_ad = false});
  const WalkResult h = hand.Walk(mem, root, va, acc, false);
  if (!SameResult(g, h)) {
    Die(absl::StrFormat("va %#x %s: generic %s, hand-written %s", va.value(), AccessText(acc), Describe(g),
                        Describe(h)));
  }
}

// Byte comparison of every live table of two arenas built the same way.
void CompareTables(Arena& a, Arena& b, const char* what) {
  const std::vector<Oa> ta = a.alloc().LiveTables();
  const std::vector<Oa> tb = b.alloc().LiveTables();
  if (ta != tb) Die(absl::StrFormat("%s: the two arenas hold different tables", what));
  std::vector<uint8_t> ba(4096), bb(4096);
  for (const Oa t : ta) {
    a.mem().Read(t, absl::MakeSpan(ba));
    b.mem().Read(t, absl::MakeSpan(bb));
    if (ba != bb) Die(absl::StrFormat("%s: table %#x differs after the walks", what, t.value()));
  }
}

}  // namespace

std::string Describe(const WalkResult& r) {
  if (!r.ok) {
    return absl::StrFormat("fault %s at level %d (restarts %d)", FaultKindName(r.fault.kind), r.fault.level.value(),
                           r.restarts);
  }
  return absl::StrFormat("oa %#x size 2^%d level %d attrs %s (restarts %d)", r.t.oa.value(), r.t.size_lg2,
                         r.t.level.value(), AttrsToString(r.t.attrs), r.restarts);
}

bool SameResult(const WalkResult& a, const WalkResult& b) {
  if (a.ok != b.ok || a.restarts != b.restarts) return false;
  if (!a.ok) return a.fault == b.fault;
  return a.t.oa == b.t.oa && a.t.size_lg2 == b.t.size_lg2 && a.t.level == b.t.level && a.t.attrs == b.t.attrs;
}

TranslateFixture::TranslateFixture(unsigned leaf_lg2_in)
    : leaf_lg2(leaf_lg2_in),
      bytes(FixtureBytes(leaf_lg2_in)),
      arena(std::make_unique<Arena>()),
      f(DefaultConfig()),
      hand(DefaultConfig()),
      space(f, SpaceEnv{&arena->mem(), &arena->alloc(), &arena->frames(), nullptr, 1}) {
  if (!space.Init().ok()) Die("cannot allocate the root table");
  root = space.root();
  const VaRange r{Va(kVa), Va(kVa + bytes - 1)};
  if (absl::Status st = space.Map(r, Oa(kOa), LeafAttrs::Rw(), leaf_lg2); !st.ok()) {
    Die(absl::StrFormat("map of the fixture failed: %s", st.ToString()));
  }
  if (space.leaves() != bytes >> leaf_lg2) {
    Die(absl::StrFormat("fixture has %d leaves, expected %d", space.leaves(), bytes >> leaf_lg2));
  }
  std::mt19937_64 rng(kSeed);
  vas.reserve(kNumVas);
  for (size_t i = 0; i < kNumVas; ++i) vas.push_back(Va(kVa + (rng() & (bytes - 1))));
}

void CheckWalkersAgree(TranslateFixture& fx) {
  PhysMem* mem = fx.mem();
  for (const Va va : fx.vas) {
    Compare(fx.f, fx.hand, mem, fx.root, va, Access{AccessType::kRead, false});
    // The benchmark's own VAs must translate, or it measures fault paths.
    const WalkResult g = Translate(fx.f, mem, fx.root, va, Access{}, MmuOptions{.update_ad = false});
    if (!g.ok || g.t.oa.value() != TranslateFixture::kOa + (va.value() - TranslateFixture::kVa) ||
        g.t.size_lg2 != fx.leaf_lg2) {
      Die(absl::StrFormat("fixture va %#x translates to %s", va.value(), Describe(g)));
    }
  }
  for (size_t i = 0; i < 1024; ++i) {
    for (const bool user : {false, true}) {
      for (const AccessType t : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
        Compare(fx.f, fx.hand, mem, fx.root, fx.vas[i], Access{t, user});
      }
    }
  }
  const uint64_t end = TranslateFixture::kVa + fx.bytes;
  for (const uint64_t va : {end, end + (uint64_t{1} << 21), end + (uint64_t{1} << 30), end + (uint64_t{1} << 39),
                            TranslateFixture::kVa - 4096, uint64_t{0}, uint64_t{0x00007ffffffff000},
                            uint64_t{0x0000800000000000}, uint64_t{0xfff0000000000000}}) {
    Compare(fx.f, fx.hand, mem, fx.root, Va(va), Access{});
  }
}

void CheckAdAgreeAndWarm(TranslateFixture& fx) {
  TranslateFixture a(fx.leaf_lg2);
  TranslateFixture b(fx.leaf_lg2);
  // First touch sets A (and D on writes) with compare-and-swap; the second
  // pass finds them set. Reads everywhere, then writes on a sample.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < a.vas.size(); ++i) {
      const Access acc{i % 8 == 0 && pass == 1 ? AccessType::kWrite : AccessType::kRead, false};
      const WalkResult h = a.hand.Walk(a.mem(), a.root, a.vas[i], acc, true);
      const WalkResult g = Translate(b.f, b.mem(), b.root, b.vas[i], acc, MmuOptions{.update_ad = true});
      if (!SameResult(g, h)) {
        Die(absl::StrFormat("A/D pass %d va %#x: generic %s, hand-written %s", pass, a.vas[i].value(),
                            Describe(g), Describe(h)));
      }
    }
  }
  CompareTables(*a.arena, *b.arena, "A/D updates");
  // Warm `fx`: read walks with A/D on leave every entry on the way accessed.
  WalkAllHand<true>(fx, [](const WalkResult&) {});
  WalkAllGeneric<true>(fx, [](const WalkResult&) {});
  for (const Va va : fx.vas) {
    const WalkResult g = Translate(fx.f, fx.mem(), fx.root, va, Access{}, MmuOptions{.update_ad = true});
    const WalkResult h = fx.hand.Walk(fx.mem(), fx.root, va, Access{}, true);
    if (!SameResult(g, h) || !g.t.attrs.Has(Attr::kAccessed)) {
      Die(absl::StrFormat("warm va %#x: generic %s, hand-written %s", va.value(), Describe(g), Describe(h)));
    }
  }
}

void CheckRandomEntries(int trials) {
  // Eight table slots in a small memory; entries point at them, or anywhere.
  constexpr uint64_t kBase = 0x100000;
  constexpr uint64_t kSize = 0x8000;
  PhysMem mem_h(Oa(kBase), kSize);
  PhysMem mem_g(Oa(kBase), kSize);
  std::mt19937_64 rng(TranslateFixture::kSeed ^ 0xabcdef);
  auto chance = [&](int num, int den) { return static_cast<int>(rng() % static_cast<uint64_t>(den)) < num; };
  constexpr unsigned kPhysBits[] = {36, 40, 46, 52};
  for (int trial = 0; trial < trials; ++trial) {
    mem_h.Reset();
    mem_g.Reset();
    FormatConfig cfg = DefaultConfig();
    cfg.Set(0, kPhysBits[rng() % 4]);
    cfg.Set(1, chance(3, 4) ? 1 : 0);
    cfg.Set(2, chance(3, 4) ? 1 : 0);
    const fmt::X86_64L4 f(cfg);
    const HandX86_64L4 hand(cfg);
    const uint64_t phys_mask = LowMask(static_cast<unsigned>(cfg.Get(0)));

    uint64_t va = chance(15, 16) ? SignExtend(rng(), 48) : rng();
    if (chance(1, 4)) va &= ~LowMask(12);
    // The root at slot 0; each entry on the path points at a random slot.
    Oa table(kBase);
    for (int level = 3; level >= 0; --level) {
      uint64_t raw = rng();
      if (chance(3, 4)) raw &= ~(uint64_t{0x7ff} << 52);                   // ignored/XD bits mostly clear
      if (chance(7, 8)) raw &= ~(0x000ffffffffff000ull & ~phys_mask);      // mostly no reserved address bits
      if (chance(15, 16)) raw |= 1;                                         // mostly present
      if (chance(3, 4)) raw &= ~uint64_t{1 << 7};                           // mostly a table
      if (chance(7, 8)) {
        // Point at a slot (possibly a slot already on the path).
        raw = (raw & ~0x000ffffffffff000ull) | (kBase + (rng() % 8) * 4096);
      }
      if (((raw >> 7) & 1) != 0 && chance(3, 4)) raw &= ~(LowMask(level == 2 ? 30 : 21) & ~LowMask(13));  // aligned
      const uint64_t index = (va >> (12 + 9 * level)) & 511;
      const Oa at = table + index * 8;
      if (!mem_h.Contains(at, 8)) break;
      // Do not overwrite an entry an earlier level wrote (a loop on the path).
      uint64_t old = 0;
      mem_h.Read(at, absl::MakeSpan(reinterpret_cast<uint8_t*>(&old), 8));
      if (old == 0) {
        const auto bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&raw), 8);
        if (!mem_h.Write(at, bytes).ok() || !mem_g.Write(at, bytes).ok()) Die("scratch write failed");
      } else {
        raw = old;
      }
      table = Oa(raw & 0x000ffffffffff000ull);
    }
    const Access acc{static_cast<AccessType>(rng() % 3), chance(1, 2)};
    const bool ad = chance(1, 2);
    const WalkResult h = hand.Walk(&mem_h, Oa(kBase), Va(va), acc, ad);
    const WalkResult g = Translate(f, &mem_g, Oa(kBase), Va(va), acc, MmuOptions{.update_ad = ad});
    if (!SameResult(g, h)) {
      Die(absl::StrFormat("random trial %d (%s) va %#x %s ad=%d: generic %s, hand-written %s", trial,
                          ConfigToString(fmt::X86_64L4::kKnobs, cfg), va, AccessText(acc), ad, Describe(g),
                          Describe(h)));
    }
    std::vector<uint8_t> bh(kSize), bg(kSize);
    mem_h.Read(Oa(kBase), absl::MakeSpan(bh));
    mem_g.Read(Oa(kBase), absl::MakeSpan(bg));
    if (bh != bg) Die(absl::StrFormat("random trial %d va %#x: memory differs after the walks", trial, va));
  }
}

}  // namespace ptsim::bench
