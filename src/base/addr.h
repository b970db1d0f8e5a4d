// Strong address types. A virtual (input) address and an output address are
// different things; mixing them up is the classic page-table bug, so the types
// refuse to convert implicitly. Conversions are named calls.
#ifndef PTSIM_BASE_ADDR_H_
#define PTSIM_BASE_ADDR_H_

#include <compare>
#include <cstdint>

#include "src/base/log2.h"

namespace ptsim {

template <typename Tag>
class Addr {
 public:
  constexpr Addr() = default;
  constexpr explicit Addr(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  constexpr Addr AlignDown(unsigned lg2) const { return Addr(ptsim::AlignDown(value_, lg2)); }
  constexpr bool IsAligned(unsigned lg2) const { return ptsim::IsAligned(value_, lg2); }
  // Offset inside a 2^lg2 block.
  constexpr uint64_t Mod(unsigned lg2) const { return value_ & LowMask(lg2); }

  // Wrapping arithmetic on purpose: inclusive ranges reach the top of the
  // 64-bit space, so callers reason about wrap explicitly.
  constexpr Addr operator+(uint64_t delta) const { return Addr(value_ + delta); }
  constexpr Addr operator-(uint64_t delta) const { return Addr(value_ - delta); }
  constexpr uint64_t operator-(Addr other) const { return value_ - other.value_; }

  constexpr auto operator<=>(const Addr&) const = default;

 private:
  uint64_t value_ = 0;
};

struct VaTag {};
struct OaTag {};
using Va = Addr<VaTag>;  // input address of a translation
using Oa = Addr<OaTag>;  // output address (physical, or IPA for stage 2)

// Inclusive range [first, last]: the top of a 64-bit space is representable.
template <typename A>
struct Range {
  A first;
  A last;

  constexpr bool Contains(A a) const { return first <= a && a <= last; }
  constexpr bool Overlaps(const Range& o) const { return first <= o.last && o.first <= last; }
  // Number of bytes minus one, so a full 2^64 range does not overflow.
  constexpr uint64_t SizeMinusOne() const { return last - first; }
};
using VaRange = Range<Va>;
using OaRange = Range<Oa>;

}  // namespace ptsim

#endif  // PTSIM_BASE_ADDR_H_
