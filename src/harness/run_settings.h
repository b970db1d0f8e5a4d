// How a program runs besides its operations: the caches attached to the
// walker and an invalidator bug planted in the architecture's TLB
// maintenance (src/hw/invalidate.h). Ops programs and race programs carry
// the same settings, in the same text line and the same byte.
//
// Text: `caches tlb noncoherent [bug=leaf_only|forget_global|wrong_asid]`
// (either word alone attaches only that one).
// Binary: one byte, bit 0 TLB, bit 1 non-coherent walker view, bits 3:2
// the invalidator bug (read only with the TLB); the other bits are the
// caller's.
#ifndef PTSIM_HARNESS_RUN_SETTINGS_H_
#define PTSIM_HARNESS_RUN_SETTINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/harness/codec.h"

namespace ptsim {

// The default (nothing attached) is how ops_fuzzer and diff_fuzzer run
// every program.
struct RunSettings {
  // The TLB and paging-structure caches of src/hw/tlb.h, kept by the
  // architecture's invalidator (src/hw/invalidate.h).
  bool tlb = false;
  // A non-coherent walker's device view (src/hw/noncoherent.h).
  bool noncoherent = false;
  // hw::Bug planted in the invalidator: 0 none, 1 leaf_only,
  // 2 forget_global, 3 wrong_asid. Only with the TLB.
  uint8_t invalidator_bug = 0;
  bool Any() const { return tlb || noncoherent; }
  bool operator==(const RunSettings&) const = default;
};

// "none", "leaf_only", ... and back (nullopt for an unknown name).
std::string_view InvalidatorBugName(uint8_t bug);
std::optional<uint8_t> InvalidatorBugFromName(std::string_view name);
inline constexpr uint8_t kInvalidatorBugCount = 4;

// The settings byte's bits 3:0, and back (bits 7:4 ignored).
inline constexpr uint8_t kInvalidatorBugShift = 2;
inline constexpr uint8_t kInvalidatorBugMask = 3 << kInvalidatorBugShift;  // bits 3:2
uint8_t RunSettingsBits(const RunSettings& r);
RunSettings RunSettingsFromBits(uint8_t bits);

// "caches tlb bug=leaf_only\n", or "" when nothing is attached.
std::string CachesLine(const RunSettings& r);
// Reads a `caches` line into *r.
absl::Status ParseCachesLine(const TextLine& t, RunSettings* r);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RUN_SETTINGS_H_
