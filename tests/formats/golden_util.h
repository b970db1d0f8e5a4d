// What every golden test needs: a format built from knob settings, attrs
// from letters, and raw table memory for hand-built walks.
#ifndef PTSIM_TESTS_FORMATS_GOLDEN_UTIL_H_
#define PTSIM_TESTS_FORMATS_GOLDEN_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "src/mem/phys_mem.h"
#include "src/pt/attrs.h"
#include "src/pt/config.h"

namespace ptsim::golden {

// F configured with its defaults and then `settings` ("knob=value").
template <typename F>
F Make(std::initializer_list<std::string_view> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
  for (std::string_view s : settings) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
  return F(cfg);
}

inline LeafAttrs Attrs(std::string_view letters) {
  LeafAttrs a;
  EXPECT_TRUE(AttrsFromString(letters, &a)) << letters;
  return a;
}

// 1 MiB of simulated memory at OA 0, written and read as 64-bit entries.
class Table64Test : public ::testing::Test {
 protected:
  void Put(uint64_t addr, uint64_t raw) {
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(mem_.Writable(Oa(addr)))).store(raw);
  }
  uint64_t Get(uint64_t addr) { return *reinterpret_cast<const uint64_t*>(mem_.Readable(Oa(addr))); }
  PhysMem mem_{Oa(0), 1 << 20};
};

}  // namespace ptsim::golden

#endif  // PTSIM_TESTS_FORMATS_GOLDEN_UTIL_H_
