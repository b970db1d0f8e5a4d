// Level: 0 is the table that holds only leaves; the top level has the highest
// number. Architecture names (PML4, PGD, L0, VPN[2]) appear only in format
// headers and printed output.
#ifndef PTSIM_PT_LEVEL_H_
#define PTSIM_PT_LEVEL_H_

#include <compare>
#include <cstdint>

namespace ptsim {

class Level {
 public:
  constexpr Level() = default;
  constexpr explicit Level(int v) : v_(static_cast<int8_t>(v)) {}
  constexpr int value() const { return v_; }
  constexpr Level Below() const { return Level(v_ - 1); }
  constexpr Level Above() const { return Level(v_ + 1); }
  constexpr bool IsBottom() const { return v_ == 0; }
  constexpr auto operator<=>(const Level&) const = default;

 private:
  int8_t v_ = 0;
};

inline constexpr int kMaxLevels = 8;

}  // namespace ptsim

#endif  // PTSIM_PT_LEVEL_H_
