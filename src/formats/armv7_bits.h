// The bit positions of ARMv7 short descriptors (Arm ARM DDI 0406 B3.5.1,
// "Short-descriptor translation table format descriptors"), declared once:
// the format (armv7_short.h) encodes and decodes with them, and the
// architecture's rules (src/hw/armv7.h) read them.
#ifndef PTSIM_FORMATS_ARMV7_BITS_H_
#define PTSIM_FORMATS_ARMV7_BITS_H_

#include <cstdint>

#include "src/base/bits.h"

namespace ptsim::fmt::armv7_desc {

// Bits[1:0]. First level: 00 fault, 01 page table, 10 section or
// supersection, 11 section or supersection with PXN. Second level: 00
// fault, 01 large page, 1x small page (bit 0 is then XN).
using Type = Field<1, 0>;
inline constexpr uint64_t kL1Fault = 0b00;
inline constexpr uint64_t kL1PageTable = 0b01;
inline constexpr uint64_t kL1Section = 0b10;
inline constexpr uint64_t kL1SectionPxn = 0b11;
inline constexpr uint64_t kL2Fault = 0b00;
inline constexpr uint64_t kL2Large = 0b01;
inline constexpr uint64_t kL2Small = 0b10;
using Bb = Bit<2>;
using Cc = Bit<3>;
// First level.
using PxnTable = Bit<2>;
using XnSection = Bit<4>;
using Domain = Field<8, 5>;  // PA[39:36] in a supersection
using SectionAp10 = Field<11, 10>;
using SectionTex = Field<14, 12>;
using SectionAp2 = Bit<15>;
using SectionS = Bit<16>;
using SectionNg = Bit<17>;
using Super = Bit<18>;
using SuperPa35 = Field<23, 20>;  // PA[35:32]
using L2Base = Field<31, 10>;
// Second level.
using SmallXn = Bit<0>;
using PageAp10 = Field<5, 4>;
using SmallTex = Field<8, 6>;
using PageAp2 = Bit<9>;
using PageS = Bit<10>;
using PageNg = Bit<11>;
using LargeTex = Field<14, 12>;
using LargeXn = Bit<15>;

// AP[2:0] of a first-level section or second-level page, as one 3-bit value.
inline uint64_t ApOf(uint64_t raw, bool second_level) {
  if (second_level) return PageAp10::Get(raw) | PageAp2::Get(raw) << 2;
  return SectionAp10::Get(raw) | SectionAp2::Get(raw) << 2;
}

}  // namespace ptsim::fmt::armv7_desc

#endif  // PTSIM_FORMATS_ARMV7_BITS_H_
