// log2 helpers that are safe at full width (lg2 == 64 is a legal "whole space").
#ifndef PTSIM_BASE_LOG2_H_
#define PTSIM_BASE_LOG2_H_

#include <bit>
#include <cstdint>

namespace ptsim {

// Mask of the low `lg2` bits; lg2 >= 64 gives all ones.
constexpr uint64_t LowMask(unsigned lg2) { return lg2 >= 64 ? ~uint64_t{0} : (uint64_t{1} << lg2) - 1; }
constexpr uint64_t AlignDown(uint64_t v, unsigned lg2) { return v & ~LowMask(lg2); }
constexpr bool IsAligned(uint64_t v, unsigned lg2) { return (v & LowMask(lg2)) == 0; }
// 2^lg2, only for lg2 < 64.
constexpr uint64_t Lg2ToSize(unsigned lg2) { return uint64_t{1} << lg2; }
// Last address of the 2^lg2 block that holds v.
constexpr uint64_t BlockLast(uint64_t v, unsigned lg2) { return v | LowMask(lg2); }
// Number of trailing zero bits; 64 for zero.
constexpr unsigned Ctz(uint64_t v) { return static_cast<unsigned>(std::countr_zero(v)); }
// Floor log2 of a non-zero value.
constexpr unsigned FloorLog2(uint64_t v) { return 63u - static_cast<unsigned>(std::countl_zero(v)); }
// Sign-extend the low `bits` bits of v to 64 bits.
constexpr uint64_t SignExtend(uint64_t v, unsigned bits) {
  if (bits >= 64) return v;
  const uint64_t sign = uint64_t{1} << (bits - 1);
  v &= LowMask(bits);
  return (v ^ sign) - sign;
}

}  // namespace ptsim

#endif  // PTSIM_BASE_LOG2_H_
