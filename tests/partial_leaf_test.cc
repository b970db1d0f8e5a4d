// The declared partial-leaf policy: a format that refuses to split leaves
// gets FailedPrecondition from unmap and protect, with nothing changed, and
// the reference model predicts it. No registered format refuses yet, so the
// test declares one on top of the documented ExampleFormat.
#include <gtest/gtest.h>

#include "src/any/any_format_impl.h"
#include "src/harness/executor.h"
#include "src/model/ref_model.h"

namespace ptsim {
namespace {

class RefusingExample : public ExampleFormat {
 public:
  using ExampleFormat::ExampleFormat;
  static constexpr std::string_view kName = "refusing_example";
  PartialLeaf PartialLeafPolicy() const { return PartialLeaf::kRefuse; }
};
static_assert(PageTableFormat<RefusingExample>);

constexpr uint64_t k2M = 0x200000;

class PartialLeafTest : public ::testing::Test {
 protected:
  PartialLeafTest()
      : f_(FormatConfig::Defaults(RefusingExample::kKnobs)),
        info_(MakeInfo(f_)),
        space_(f_, SpaceEnv{&arena_.mem(), &arena_.alloc(), &arena_.frames(), nullptr, 1}),
        model_(info_, [this](LeafAttrs a) { return f_.Canonical(a); },
               [this](Va va) { return IsCanonical(f_, va); }) {
    EXPECT_TRUE(space_.Init().ok());
  }
  ~PartialLeafTest() override {
    space_.Destroy();
    EXPECT_EQ(arena_.alloc().stats().live, 0u) << "leaked tables";
  }

  void ExpectBoth(absl::StatusCode code, absl::Status got, absl::Status want) {
    EXPECT_EQ(got.code(), code) << got;
    EXPECT_EQ(want.code(), code) << want;
  }

  Arena arena_;
  RefusingExample f_;
  FormatInfo info_;
  Space<RefusingExample> space_;
  RefModel model_;
};

TEST_F(PartialLeafTest, DeclaredPolicyReachesTheFormatInfo) {
  EXPECT_EQ(info_.partial_leaf, PartialLeaf::kRefuse);
  EXPECT_EQ(PartialLeafPolicyOf(ExampleFormat(FormatConfig::Defaults(ExampleFormat::kKnobs))), PartialLeaf::kSplit);
}

TEST_F(PartialLeafTest, UnmapAndProtectOfPartOfALeafAreRefusedAndChangeNothing) {
  const VaRange leaf{Va(k2M), Va(2 * k2M - 1)};
  ExpectBoth(absl::StatusCode::kOk, space_.Map(leaf, Oa(k2M), LeafAttrs::Rw()), model_.Map(leaf, Oa(k2M), LeafAttrs::Rw(), 0));
  ASSERT_EQ(space_.leaves(), 1u);
  const VaRange part{Va(k2M + 0x1000), Va(k2M + 0x1fff)};
  ExpectBoth(absl::StatusCode::kFailedPrecondition, space_.Unmap(part), model_.Unmap(part));
  ExpectBoth(absl::StatusCode::kFailedPrecondition, space_.Protect(part, LeafAttrs::Rw()),
             model_.Protect(part, LeafAttrs::Rw()));
  EXPECT_EQ(space_.leaves(), 1u);
  EXPECT_EQ(model_.leaves().size(), 1u);
  ExpectBoth(absl::StatusCode::kOk, space_.Unmap(leaf), model_.Unmap(leaf));
  EXPECT_EQ(space_.leaves(), 0u);
}

}  // namespace
}  // namespace ptsim
