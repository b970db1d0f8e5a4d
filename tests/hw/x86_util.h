// What the x86 hardware-walk tests share: the x86 formats reached through
// the registry by name (tests/lint/format_names_lint.sh: no concrete format
// type is named outside src/formats/), built from knob settings, and raw
// entry access to simulated memory.
#ifndef PTSIM_TESTS_HW_X86_UTIL_H_
#define PTSIM_TESTS_HW_X86_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string_view>

#include "src/formats/all_formats.h"
#include "src/hw/x86.h"
#include "tests/formats/golden_util.h"

namespace ptsim::x86test {

// Calls fn.template operator()<F>() for the registered x86 format named
// `name`; fails the test if there is none.
template <typename Fn>
void WithX86Format(std::string_view name, Fn&& fn) {
  bool found = false;
  AllFormats::WithName(name, [&]<typename F>() {
    if constexpr (hw::x86::X86Format<F>) {
      found = true;
      fn.template operator()<F>();
    }
  });
  ASSERT_TRUE(found) << name << " is not a registered x86 format";
}

inline constexpr std::string_view kX86Names[] = {"x86_32", "x86_pae", "x86_64_4level", "x86_64_5level"};

// Raw entries of `bytes` (4 or 8) at `addr`.
inline void PutRaw(PhysMem* mem, uint64_t addr, uint64_t raw, unsigned bytes) {
  if (bytes == 4) {
    std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(mem->Writable(Oa(addr))))
        .store(static_cast<uint32_t>(raw), std::memory_order_relaxed);
  } else {
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(mem->Writable(Oa(addr))))
        .store(raw, std::memory_order_relaxed);
  }
}
inline uint64_t GetRaw(PhysMem* mem, uint64_t addr, unsigned bytes) {
  if (bytes == 4) return *reinterpret_cast<const uint32_t*>(mem->Readable(Oa(addr)));
  return *reinterpret_cast<const uint64_t*>(mem->Readable(Oa(addr)));
}

}  // namespace ptsim::x86test

#endif  // PTSIM_TESTS_HW_X86_UTIL_H_
