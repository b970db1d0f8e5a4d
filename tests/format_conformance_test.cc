// Conformance of every registered format, typed over the registry: adding a
// format to src/formats/all_formats.h adds it here with no other edit.
// Checked for the default configuration, for each knob at its minimum
// and maximum, and for all knobs at their minimum and all at their maximum
// (knobs that only matter together, such as ARM's lpa with 52-bit sizes). Round trips cannot catch a symmetric misreading of the
// manual; the golden vectors in tests/formats/ do that.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/formats/all_formats.h"
#include "src/pt/geometry.h"

namespace ptsim {
namespace {

template <typename L>
struct ToTypes;
template <PageTableFormat... Fs>
struct ToTypes<FormatList<Fs...>> {
  using type = ::testing::Types<Fs...>;
};

template <typename F>
std::vector<FormatConfig> ConfigsOf() {
  const std::span<const ConfigKnob> knobs(F::kKnobs);
  std::vector<FormatConfig> out = {FormatConfig::Defaults(knobs)};
  for (size_t i = 0; i < knobs.size(); ++i) {
    for (uint64_t v : {knobs[i].min, knobs[i].max}) {
      FormatConfig c = FormatConfig::Defaults(knobs);
      c.Set(static_cast<int>(i), v);
      out.push_back(c);
    }
  }
  FormatConfig all_min = FormatConfig::Defaults(knobs);
  FormatConfig all_max = all_min;
  for (size_t i = 0; i < knobs.size(); ++i) {
    all_min.Set(static_cast<int>(i), knobs[i].min);
    all_max.Set(static_cast<int>(i), knobs[i].max);
  }
  out.push_back(all_min);
  out.push_back(all_max);
  return out;
}

template <typename F>
std::string Describe(const FormatConfig& c) {
  return std::string(F::kName) + " " + ConfigToString(F::kKnobs, c);
}

// Output addresses worth trying for a leaf of 2^item bytes holding
// `oa_bits` bits: the lowest, the highest, and alternating patterns.
std::vector<uint64_t> OasFor(unsigned item, unsigned oa_bits) {
  const uint64_t top = AlignDown(LowMask(oa_bits), item);
  return {0, Lg2ToSize(item), top, AlignDown(0x5555555555555555ull & LowMask(oa_bits), item),
          AlignDown(0xaaaaaaaaaaaaaaaaull & LowMask(oa_bits), item)};
}

template <typename F>
class FormatConformance : public ::testing::Test {};
TYPED_TEST_SUITE(FormatConformance, ToTypes<AllFormats>::type);

TYPED_TEST(FormatConformance, LevelsTileTheVirtualAddressSpace) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    EXPECT_TRUE(f.CanLeaf(Level(0))) << "level 0 holds leaves by definition";
    EXPECT_FALSE(f.CanTable(Level(0)));
    for (Level l(1); l <= f.TopLevel(); l = l.Above()) {
      EXPECT_EQ(f.ItemLg2(l), f.ItemLg2(l.Below()) + f.IndexLg2(l.Below())) << "level " << l.value();
      EXPECT_TRUE(f.CanTable(l)) << "a level above 0 that cannot point to a table is unreachable";
    }
    EXPECT_EQ(CoveredVaBits(f), f.VaBits());
    EXPECT_GE(TableSizeLg2(f, Level(0)), 2u);
    EXPECT_LE(f.OaBits(), 64u);
  }
}

TYPED_TEST(FormatConformance, EmptyEntriesAreEmptyAtEveryLevel) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    for (Level l(0); l <= f.TopLevel(); l = l.Above()) EXPECT_EQ(f.Classify(0, l), EntryKind::kEmpty);
  }
}

TYPED_TEST(FormatConformance, LeavesRoundTripAtEveryLevelAndBoundaryAddress) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    for (Level l(0); l <= f.TopLevel(); l = l.Above()) {
      if (!f.CanLeaf(l)) continue;
      const unsigned item = f.ItemLg2(l);
      for (uint64_t oa : OasFor(item, LeafOaBits(f, l))) {
        for (int bits = 0; bits < 128; ++bits) {
          const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
          const typename F::Raw raw = f.EncodeLeaf(l, Oa(oa), a);
          ASSERT_EQ(f.Classify(raw, l), EntryKind::kLeaf)
              << "level " << l.value() << " oa " << std::hex << oa << " raw " << raw << " attrs " << AttrsToString(a);
          EXPECT_EQ(f.LeafOa(raw, l), Oa(oa)) << "level " << l.value() << " raw " << std::hex << raw;
          EXPECT_EQ(f.DecodeAttrs(raw, l), f.Canonical(a))
              << "level " << l.value() << " asked " << AttrsToString(a) << " got "
              << AttrsToString(f.DecodeAttrs(raw, l));
          EXPECT_EQ(f.Canonical(f.Canonical(a)), f.Canonical(a));
          // Hardware marking keeps the mapping and is idempotent.
          const auto marked = f.MarkAccessed(raw, l, true);
          EXPECT_EQ(f.Classify(marked, l), EntryKind::kLeaf);
          EXPECT_EQ(f.LeafOa(marked, l), Oa(oa));
          EXPECT_EQ(f.DecodeAttrs(marked, l).Permissions(), f.Canonical(a).Permissions());
          EXPECT_EQ(f.MarkAccessed(marked, l, true), marked);
        }
      }
    }
  }
}

// Replicated leaves (pt/geometry.h): each size lies strictly between the
// level's entry and the level above's, fits in one table, and splits into
// a leaf of its own level, so ops can rewrite a group in place.
TYPED_TEST(FormatConformance, ReplicatedSizesSitBetweenLevelsAndSplitInPlace) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    for (Level l(0); l <= f.TopLevel(); l = l.Above()) {
      const unsigned item = f.ItemLg2(l);
      for (unsigned k = 0; k < 64; ++k) {
        if (((ReplicatedSizesLg2(f, l) >> k) & 1) == 0) continue;
        EXPECT_GT(k, item) << "level " << l.value();
        EXPECT_LE(k - item, f.IndexLg2(l)) << "a 2^" << k << " group does not fit a level-" << l.value() << " table";
        if (l < f.TopLevel()) {
          EXPECT_LT(k, f.ItemLg2(l.Above())) << "level " << l.value();
        }
        EXPECT_EQ(LevelOfLeafSize(f, k), l);
        const unsigned piece = SmallerLeafLg2(f, k);
        EXPECT_TRUE((LeafSizesLg2(f, l) >> piece) & 1) << "2^" << k << " splits into 2^" << piece << ", not at level "
                                                       << l.value();
      }
    }
  }
}

// Every entry of a replicated leaf decodes as the whole leaf, re-encodes
// to itself (with its own accessed/dirty bits, also after hardware marked
// it), and one-entry leaves keep their entry's size.
TYPED_TEST(FormatConformance, ReplicatedLeavesRoundTripEntryByEntry) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    for (Level l(0); l <= f.TopLevel(); l = l.Above()) {
      const unsigned item = f.ItemLg2(l);
      if (f.CanLeaf(l)) {
        EXPECT_EQ(LeafSizeLg2(f, f.EncodeLeaf(l, Oa(0), LeafAttrs::Rw()), l), item);
      }
      for (unsigned k = 0; k < 64; ++k) {
        if (((ReplicatedSizesLg2(f, l) >> k) & 1) == 0) continue;
        const uint64_t n = uint64_t{1} << (k - item);
        for (uint64_t oa : OasFor(k, LeafOaBits(f, l))) {
          // A leaf as large as the output space (AMD 2^52) has one place.
          if (((oa + LowMask(k)) >> LeafOaBits(f, l)) != 0) continue;
          for (int bits = 0; bits < 128; ++bits) {
            const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
            for (uint64_t i : {uint64_t{0}, uint64_t{1}, n - 1}) {
              const typename F::Raw raw = EncodeLeafEntry(f, l, k, Oa(oa), a, i);
              ASSERT_EQ(f.Classify(raw, l), EntryKind::kLeaf)
                  << "level " << l.value() << " 2^" << k << " entry " << i << " raw " << std::hex << raw;
              EXPECT_EQ(LeafSizeLg2(f, raw, l), k) << "raw " << std::hex << raw;
              EXPECT_EQ(f.LeafOa(raw, l), Oa(oa)) << "raw " << std::hex << raw;
              EXPECT_EQ(f.DecodeAttrs(raw, l), f.Canonical(a)) << "raw " << std::hex << raw;
              EXPECT_EQ(EncodeLeafEntry(f, l, k, Oa(oa), f.DecodeAttrs(raw, l), i), raw);
              const auto marked = f.MarkAccessed(raw, l, true);
              EXPECT_EQ(LeafSizeLg2(f, marked, l), k);
              EXPECT_EQ(f.LeafOa(marked, l), Oa(oa));
              EXPECT_EQ(EncodeLeafEntry(f, l, k, Oa(oa), f.DecodeAttrs(marked, l), i), marked);
            }
          }
        }
      }
    }
  }
}

TYPED_TEST(FormatConformance, TablesRoundTripAndRestrictNothing) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    for (Level l(1); l <= f.TopLevel(); l = l.Above()) {
      const unsigned align = std::max(TableSizeLg2(f, l.Below()), 5u);
      for (uint64_t oa : {uint64_t{0x1000000}, AlignDown(0xffffffffull, align), Lg2ToSize(align)}) {
        const typename F::Raw raw = f.EncodeTable(l, Oa(oa));
        ASSERT_EQ(f.Classify(raw, l), EntryKind::kTable) << "level " << l.value() << " raw " << std::hex << raw;
        EXPECT_EQ(f.TableOa(raw, l), Oa(oa));
        EXPECT_EQ(TablePermsOf(f, raw, l), TablePerms{}) << "ops build tables that allow everything below";
      }
    }
  }
}

// Table entries name the level they point to (pt/geometry.h): one level
// down for EncodeTable; for a format with level skipping, any lower level,
// round-tripping the table's address, allowing everything below, and
// skipping exactly the VA bits of the levels in between.
TYPED_TEST(FormatConformance, TableEntriesNameTheLevelTheyPointTo) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    for (Level l(1); l <= f.TopLevel(); l = l.Above()) {
      EXPECT_EQ(NextTableLevel(f, f.EncodeTable(l, Oa(0x1000000)), l), l.Below());
      EXPECT_EQ(SkippedVaMask(f, l, l.Below()), 0u);
      if constexpr (HasLevelSkipping<F>()) {
        for (Level next(0); next < l.Below(); next = next.Above()) {
          const unsigned align = std::max(TableSizeLg2(f, next), 5u);
          for (uint64_t oa : {uint64_t{0x1000000}, AlignDown(0xffffffffull, align)}) {
            const typename F::Raw raw = EncodeTableTo(f, l, next, Oa(oa));
            ASSERT_EQ(f.Classify(raw, l), EntryKind::kTable) << "level " << l.value() << " -> " << next.value();
            EXPECT_EQ(NextTableLevel(f, raw, l), next);
            EXPECT_EQ(f.TableOa(raw, l), Oa(oa));
            EXPECT_EQ(TablePermsOf(f, raw, l), TablePerms{});
          }
          const uint64_t skipped = SkippedVaMask(f, l, next);
          EXPECT_EQ(skipped, LowMask(f.ItemLg2(l)) & ~LowMask(f.ItemLg2(next.Above())));
          // The fault level of each skipped level's lowest index bit.
          for (Level k = next.Above(); k < l; k = k.Above()) {
            EXPECT_EQ(SkipFaultLevel(f, Va(uint64_t{1} << f.ItemLg2(k)), l, next), k);
          }
        }
      } else {
        EXPECT_FALSE(BuildsSkips(f));
      }
    }
  }
}

TYPED_TEST(FormatConformance, CanonicalAddressesAtTheEdgesOfTheSpace) {
  using F = TypeParam;
  for (const FormatConfig& c : ConfigsOf<F>()) {
    const F f(c);
    SCOPED_TRACE(Describe<F>(c));
    const unsigned bits = f.VaBits();
    const Va lowest = CanonicalVa(f, 0);
    const Va highest = CanonicalVa(f, LowMask(bits));
    EXPECT_TRUE(IsCanonical(f, lowest));
    EXPECT_TRUE(IsCanonical(f, highest));
    EXPECT_EQ(IndexOf(f, highest, f.TopLevel()), LowMask(f.IndexLg2(f.TopLevel())));
    if (bits < 64) {
      // One bit above the translated ones breaks canonicality unless it is
      // exactly what the extension demands.
      const Va odd(lowest.value() ^ (uint64_t{1} << 63));
      EXPECT_FALSE(IsCanonical(f, odd));
    }
    if (f.VaExt() == VaExtension::kSign) {
      EXPECT_FALSE(IsValidRange(f, VaRange{CanonicalVa(f, LowMask(bits - 1)), CanonicalVa(f, LowMask(bits - 1) + 1)}))
          << "a range may not cross the hole between the halves";
    }
  }
}

// The typed suite above takes its types from the registry list itself; this
// keeps it so: a hand-kept ::testing::Types<...> would miss the next format
// and fail here (tests/registry_coverage_test.cc checks the fuzzers and the
// CLI the same way).
TEST(Registry, ConformanceSuiteCoversExactlyTheRegisteredFormats) {
  std::multiset<std::string> suite_types;
  const ::testing::UnitTest& ut = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < ut.total_test_suite_count(); ++i) {
    const ::testing::TestSuite* s = ut.GetTestSuite(i);
    if (std::string_view(s->name()).starts_with("FormatConformance/") && s->type_param() != nullptr) {
      suite_types.insert(s->type_param());
    }
  }
  std::multiset<std::string> registered;
  AllFormats::ForEach([&]<typename F>() { registered.insert(::testing::internal::GetTypeName<F>()); });
  EXPECT_EQ(suite_types.size(), AllFormats::kSize);
  EXPECT_EQ(suite_types, registered);
}

TEST(Registry, IdsAreStableNameHashes) {
  // Corpora depend on these values: changing one orphans every seed.
  EXPECT_EQ(FormatIdOf("x86_64_4level"), FormatIdOf("x86_64_4level"));
  EXPECT_NE(FormatIdOf("x86_64_4level"), FormatIdOf("x86_64_5level"));
  EXPECT_EQ(FormatIdOf(""), Fnv1a32("ptsim/format/"));
}

}  // namespace
}  // namespace ptsim
