#include <gtest/gtest.h>

#include "src/base/addr.h"
#include "src/base/bits.h"
#include "src/formats/all_formats.h"
#include "src/mmu/mmu.h"

namespace ptsim {
namespace {

TEST(Log2, LowMaskIsSafeAtFullWidth) {
  EXPECT_EQ(LowMask(0), 0u);
  EXPECT_EQ(LowMask(12), 0xfffu);
  EXPECT_EQ(LowMask(64), ~uint64_t{0});
}

TEST(Log2, SignExtendCopiesTheTopTranslatedBit) {
  EXPECT_EQ(SignExtend(0x800000000000ull, 48), 0xffff800000000000ull);
  EXPECT_EQ(SignExtend(0x7fffffffffffull, 48), 0x7fffffffffffull);
}

TEST(Bits, FieldGetSetRoundTrips) {
  using F = Field<51, 12>;
  uint64_t raw = F::Set(uint64_t{0xfff}, 0x12345);
  EXPECT_EQ(raw, 0x12345fffull);
  EXPECT_EQ(F::Get(raw), 0x12345u);
  EXPECT_TRUE(Bit<63>::Test(Bit<63>::Put(uint64_t{0}, true)));
}

}  // namespace
}  // namespace ptsim
