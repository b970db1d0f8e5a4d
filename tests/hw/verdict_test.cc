// Each family's verdict in neutral terms (HwRules<F>::Verdict, what the
// executor predicts an access in a CPU mode does) against its Rules walking
// the bits the format encoded: for every registered format, with its
// boolean configuration knobs each flipped in turn, every combination of
// the seven neutral attributes, every access type and a spread of modes
// (each knob at its minimum, maximum and default, and random mixes), one
// page is mapped, its accessed/dirty state read back, and the two must
// agree: both allow and translate, or both refuse with the same fault kind
// at the leaf's level.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/any/any_format.h"
#include "src/harness/executor.h"

namespace ptsim {
namespace {

// Modes to try: the default, each knob alone at its minimum and maximum
// (and for 32-bit masks a few values that hit key 0 / domain 0), then
// random mixes.
std::vector<FormatConfig> ModesToTry(std::span<const ConfigKnob> knobs, uint64_t seed) {
  const FormatConfig def = FormatConfig::Defaults(knobs);
  std::vector<FormatConfig> modes = {def};
  for (size_t i = 0; i < knobs.size(); ++i) {
    const ConfigKnob& k = knobs[i];
    std::vector<uint64_t> values = {k.min, k.max};
    if (k.max - k.min > 255) values.insert(values.end(), {1, 2, 3, 0x55555555, 0xfffffffc});
    for (uint64_t v : values) {
      FormatConfig m = def;
      m.Set(static_cast<int>(i), v);
      modes.push_back(m);
    }
  }
  std::mt19937_64 rng(seed);
  for (int n = 0; n < 48 && !knobs.empty(); ++n) {
    FormatConfig m = def;
    for (size_t i = 0; i < knobs.size(); ++i) {
      const ConfigKnob& k = knobs[i];
      const uint64_t span = k.max - k.min + 1;
      // Wide masks: mostly small values, so key 0 / domain 0 vary.
      const uint64_t r = k.max - k.min > 255 ? rng() % 16 : rng() % span;
      m.Set(static_cast<int>(i), k.min + r);
    }
    modes.push_back(m);
  }
  return modes;
}

// Configurations to try: the default, and each knob of at most two values
// flipped alone (HA, NXE, Svadu, ...: the ones that change what a leaf
// means to the rules).
std::vector<FormatConfig> ConfigsToTry(const FormatEntry& e) {
  const FormatConfig def = FormatConfig::Defaults(e.knobs);
  std::vector<FormatConfig> configs = {def};
  for (size_t i = 0; i < e.knobs.size(); ++i) {
    const ConfigKnob& k = e.knobs[i];
    if (k.max - k.min != 1) continue;
    FormatConfig c = def;
    c.Set(static_cast<int>(i), k.def == k.min ? k.max : k.min);
    configs.push_back(c);
  }
  return configs;
}

struct Tally {
  uint64_t cases = 0, allowed = 0, permission = 0, accessed_dirty = 0;
};

void CheckFormat(const FormatEntry& e, const FormatConfig& cfg, Tally* tally) {
  const std::unique_ptr<AnyFormat> f = e.make(cfg);
  const FormatInfo& info = f->Info();
  Arena arena;
  const SpaceEnv env{.mem = &arena.mem(), .alloc = &arena.alloc(), .frames = &arena.frames()};
  const std::vector<FormatConfig> modes = ModesToTry(info.mode_knobs, info.id);
  const unsigned page = info.min_page_lg2;
  const Va va = f->CanonicalVa(uint64_t{7} << page);
  const VaRange range{va, va + LowMask(page)};
  const Oa oa(uint64_t{0x3} << page);
  for (unsigned bits = 0; bits < (1u << kNumAttrs); ++bits) {
    const LeafAttrs want = f->Canonical(LeafAttrs::FromBits(static_cast<uint8_t>(bits)));
    arena.Reset();
    std::unique_ptr<AnySpace> s = f->NewSpace(env);
    ASSERT_TRUE(s->Init().ok());
    if (!s->Map(range, oa, want, 0).ok()) continue;
    // The leaf as the format decodes it (accessed/dirty included).
    const WalkResult n = f->Translate(&arena.mem(), s->root(), va, Access{},
                                      MmuOptions{.update_ad = false, .check_permissions = false}, nullptr);
    ASSERT_TRUE(n.ok) << info.name;
    for (AccessType t : {AccessType::kRead, AccessType::kWrite, AccessType::kExec}) {
      if (t == AccessType::kExec && !info.has_exec) continue;
      for (const FormatConfig& mode : modes) {
        const std::optional<FaultKind> verdict = f->HwVerdict(n.t.attrs, t, mode);
        const HwWalkResult h = f->HwTranslate(&arena.mem(), s->root(), va, t, mode, nullptr, /*write_back=*/false);
        const std::string where = absl::StrFormat(
            "%s config %s attrs %s (decoded %s) %s mode %s: rules say %s%s", info.name, ConfigToString(info.knobs, cfg),
            AttrsToString(want), AttrsToString(n.t.attrs), AccessTypeName(t), SettingsDiff(info.mode_knobs, mode),
            h.ok ? "ok" : FaultKindName(h.fault.kind), h.ok ? "" : " (" + h.detail + ")");
        ++tally->cases;
        if (!verdict) {
          ++tally->allowed;
          EXPECT_TRUE(h.ok) << where;
          if (h.ok) {
            EXPECT_EQ(h.t.oa, n.t.oa) << where;
          }
        } else {
          *verdict == FaultKind::kPermission ? ++tally->permission : ++tally->accessed_dirty;
          EXPECT_FALSE(h.ok) << where << "; verdict " << FaultKindName(*verdict);
          EXPECT_EQ(h.fault.kind, *verdict) << where;
          EXPECT_EQ(h.fault.level, n.t.level) << where;
        }
        if (::testing::Test::HasFailure()) return;  // one report per format is enough
      }
    }
    s->Destroy();
  }
}

class VerdictTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VerdictTest, TheManualsVerdictOnNeutralAttributesIsWhatTheRulesDo) {
  const FormatEntry* e = FindFormat(GetParam());
  ASSERT_NE(e, nullptr);
  Tally t;
  for (const FormatConfig& cfg : ConfigsToTry(*e)) {
    CheckFormat(*e, cfg, &t);
    if (HasFailure()) return;
  }
  // Every family both allows and refuses something.
  EXPECT_GT(t.allowed, 0u);
  EXPECT_GT(t.permission, 0u);
  RecordProperty("cases", static_cast<int>(t.cases));
}

std::vector<std::string> Names() {
  std::vector<std::string> v;
  for (const FormatEntry& e : Registry()) v.emplace_back(e.name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(All, VerdictTest, ::testing::ValuesIn(Names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace ptsim
