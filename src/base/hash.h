// Stable hashes: format IDs and trace hashes must be the same on every
// machine and every build, so no std::hash.
#ifndef PTSIM_BASE_HASH_H_
#define PTSIM_BASE_HASH_H_

#include <cstdint>
#include <string_view>

namespace ptsim {

// FNV-1a, 32-bit.
constexpr uint32_t Fnv1a32(std::string_view s, uint32_t h = 2166136261u) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// FNV-1a, 64-bit, over words (for trace hashes).
class Fnv1a64 {
 public:
  constexpr void Add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (v >> (8 * i)) & 0xff;
      h_ *= 1099511628211ull;
    }
  }
  constexpr uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 14695981039346656037ull;
};

}  // namespace ptsim

#endif  // PTSIM_BASE_HASH_H_
