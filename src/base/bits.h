// Typed bitfields for byte-exact layouts. Formats name their fields once
// (`using Nx = Bit<63>; using Addr = Field<51, 12>;`) and never write masks by
// hand; the masks live here only.
#ifndef PTSIM_BASE_BITS_H_
#define PTSIM_BASE_BITS_H_

#include <cstdint>

#include "src/base/log2.h"

namespace ptsim {

// Bits [Hi:Lo] of a raw word, extracted right-aligned.
template <unsigned Hi, unsigned Lo>
struct Field {
  static_assert(Hi >= Lo && Hi < 64, "field out of range");
  static constexpr unsigned kLo = Lo;
  static constexpr unsigned kWidth = Hi - Lo + 1;
  static constexpr uint64_t kMask = LowMask(kWidth) << Lo;

  template <typename Raw>
  static constexpr uint64_t Get(Raw raw) {
    return (static_cast<uint64_t>(raw) & kMask) >> Lo;
  }
  template <typename Raw>
  static constexpr Raw Set(Raw raw, uint64_t v) {
    return static_cast<Raw>((static_cast<uint64_t>(raw) & ~kMask) | ((v << Lo) & kMask));
  }
  // The field's bits left in place (for address fields that are already
  // positioned, e.g. OA[51:12] stored at bits 51:12).
  template <typename Raw>
  static constexpr uint64_t InPlace(Raw raw) {
    return static_cast<uint64_t>(raw) & kMask;
  }
  template <typename Raw>
  static constexpr bool Fits(uint64_t v) {
    return (v & ~LowMask(kWidth)) == 0;
  }
};

template <unsigned N>
struct Bit : Field<N, N> {
  template <typename Raw>
  static constexpr bool Test(Raw raw) {
    return (static_cast<uint64_t>(raw) >> N) & 1;
  }
  template <typename Raw>
  static constexpr Raw Put(Raw raw, bool on) {
    return Field<N, N>::Set(raw, on ? 1 : 0);
  }
};

}  // namespace ptsim

#endif  // PTSIM_BASE_BITS_H_
