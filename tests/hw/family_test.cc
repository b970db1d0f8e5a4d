// Every registered format through the registry's architecture walk
// (AnyFormat::HwTranslate, src/hw/family.h), against the neutral walk of the
// same random trees: the two rule sets may disagree on permissions (that is
// what the architecture's rules are for), never on the structure. Where both
// translate, the output address, the leaf size and level agree; a fault the
// neutral rules call not-present or non-canonical is the same fault, at the
// same level, under the architecture's; and no family reports a reserved
// encoding or an unreadable table in trees built by the operations.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "src/any/any_format.h"
#include "src/formats/all_formats.h"
#include "src/hw/all_families.h"
#include "src/harness/executor.h"

namespace ptsim {
namespace {

struct Counts {
  uint64_t walks = 0, both_ok = 0, faults_compared = 0, permission_differs = 0;
};

Counts CompareOnRandomTree(const AnyFormat& f, uint64_t seed, const FormatConfig& mode) {
  const FormatInfo& info = f.Info();
  Arena arena;
  const SpaceEnv env{.mem = &arena.mem(), .alloc = &arena.alloc(), .frames = &arena.frames()};
  std::unique_ptr<AnySpace> s = f.NewSpace(env);
  EXPECT_TRUE(s->Init().ok());
  std::mt19937_64 rng(seed);
  const unsigned page = info.min_page_lg2;
  const unsigned span_lg2 = std::min(info.va_bits, page + 12);
  auto random_va = [&] { return f.CanonicalVa(rng() & LowMask(span_lg2) & ~LowMask(page)); };
  for (int i = 0; i < 24; ++i) {
    const Va first = random_va();
    const uint64_t pages = 1 + rng() % 600;
    const uint64_t last = first.value() + (pages << page) - 1;
    if (!f.IsValidRange(VaRange{first, Va(last)})) continue;
    const LeafAttrs a = LeafAttrs::Of(true, rng() & 1, (rng() & 2) != 0, (rng() & 4) != 0, false, (rng() & 8) != 0,
                                      false);
    (void)s->Map(VaRange{first, Va(last)}, Oa((rng() & LowMask(info.oa_bits - 1)) & ~LowMask(page)), f.Canonical(a),
                 0);
  }
  Counts c;
  for (int i = 0; i < 2000; ++i) {
    const Va va = (i % 16 == 15) ? Va(rng()) : Va(random_va().value() | (rng() & LowMask(page)));
    for (AccessType t : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
      if (t == AccessType::kExec && !info.has_exec) continue;
      ++c.walks;
      const WalkResult n =
          f.Translate(&arena.mem(), s->root(), va, Access{t, false}, MmuOptions{.update_ad = false}, nullptr);
      const HwWalkResult h = f.HwTranslate(&arena.mem(), s->root(), va, t, mode, nullptr, /*write_back=*/false);
      const std::string where = absl::StrFormat("%s seed %d va %#x %s: %s", info.name, seed, va.value(),
                                                AccessTypeName(t), h.detail);
      EXPECT_NE(h.fault.kind, FaultKind::kReserved) << where;
      EXPECT_NE(h.fault.kind, FaultKind::kOutsideMemory) << where;
      if (n.ok && h.ok) {
        ++c.both_ok;
        EXPECT_EQ(h.t.oa, n.t.oa) << where;
        EXPECT_EQ(h.t.size_lg2, n.t.size_lg2) << where;
        EXPECT_EQ(h.t.level, n.t.level) << where;
        continue;
      }
      if (!n.ok && (n.fault.kind == FaultKind::kNotPresent || n.fault.kind == FaultKind::kNonCanonical)) {
        ++c.faults_compared;
        EXPECT_FALSE(h.ok) << where;
        EXPECT_EQ(h.fault.kind, n.fault.kind) << where;
        EXPECT_EQ(h.fault.level, n.fault.level) << where;
        EXPECT_FALSE(h.detail.empty()) << where;
        continue;
      }
      ++c.permission_differs;
    }
  }
  s->Destroy();
  return c;
}

class FamilyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyTest, ArchitectureRulesAgreeWithTheNeutralOnStructure) {
  auto f = MakeFormat(GetParam(), {});
  ASSERT_TRUE(f.ok()) << f.status();
  const FormatInfo& info = (*f)->Info();
  Counts total;
  for (bool user : {false, true}) {
    FormatConfig mode = FormatConfig::Defaults(info.mode_knobs);
    if (user && info.user_mode.empty()) continue;
    if (user) {
      ASSERT_TRUE(ApplySettingList("mode", info.mode_knobs, info.user_mode, &mode).ok());
    }
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const Counts c = CompareOnRandomTree(**f, seed, mode);
      total.walks += c.walks;
      total.both_ok += c.both_ok;
      total.faults_compared += c.faults_compared;
      total.permission_differs += c.permission_differs;
    }
  }
  // The trees are dense enough that every kind of comparison happens.
  EXPECT_GT(total.both_ok, 100u);
  EXPECT_GT(total.faults_compared, 100u);
  RecordProperty("walks", static_cast<int>(total.walks));
}

TEST_P(FamilyTest, ModeKnobDefaultsAreInRangeAndTheUserSettingApplies) {
  auto f = MakeFormat(GetParam(), {});
  ASSERT_TRUE(f.ok()) << f.status();
  const FormatInfo& info = (*f)->Info();
  ASSERT_LE(info.mode_knobs.size(), static_cast<size_t>(kMaxKnobs));
  for (const ConfigKnob& k : info.mode_knobs) {
    EXPECT_LE(k.min, k.def) << k.name;
    EXPECT_LE(k.def, k.max) << k.name;
  }
  FormatConfig mode = FormatConfig::Defaults(info.mode_knobs);
  EXPECT_TRUE(ApplySettingList("mode", info.mode_knobs, info.user_mode, &mode).ok()) << info.user_mode;
  EXPECT_EQ(info.user_mode.empty(), info.mode_knobs.empty()) << "a family with a mode names its user setting";
  EXPECT_FALSE(ApplySettingList("mode", info.mode_knobs, "no_such_knob=1", &mode).ok());
}

// What a family declares it has, it has: an invalidator when it says so (and
// none when it says not), a QEMU machine the oracle can build.
TEST(FamilyPieces, EveryDeclaredPieceExists) {
  int with_invalidator = 0, with_qemu = 0;
  AllFormats::ForEach([&]<typename F>() {
    using H = HwRules<F>;
    hw::Tlb tlb(hw::TlbConfig{.leaf_capacity = 4, .walk_capacity_per_level = 1, .pcid = H::kTaggedTlb});
    const auto inv = H::MakeInvalidator(&tlb, 0, 12, hw::InvalidatorOptions{});
    EXPECT_EQ(inv != nullptr, H::kHasInvalidator) << F::kName;
    with_invalidator += H::kHasInvalidator;
    with_qemu += H::kQemu.machine != QemuMachine::kNone;
    auto f = MakeFormat(F::kName, {});
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Info().has_invalidator, H::kHasInvalidator) << F::kName;
    EXPECT_EQ((*f)->Info().qemu.machine, H::kQemu.machine) << F::kName;
  });
  // Today's families: x86 (4), ARMv8 stage 1 (3), RISC-V (4), VT-d (3), AMD.
  EXPECT_EQ(with_invalidator, 15);
  // x86 (4), RISC-V (4), ARMv8 stage 1 (3), ARMv7.
  EXPECT_EQ(with_qemu, 12);
}

std::vector<std::string> Names() {
  std::vector<std::string> v;
  for (const FormatEntry& e : Registry()) v.emplace_back(e.name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Registry, FamilyTest, ::testing::ValuesIn(Names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace ptsim
