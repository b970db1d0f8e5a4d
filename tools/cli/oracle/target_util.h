// What the QEMU oracle's machine targets (tools/cli/oracle/*_target.cc)
// share: guest RAM sizes, reading a format knob, parsing QEMU's hex, and one
// factory per machine, called by MakeTarget (targets.cc) with the variant the
// format's family names (HwRules<F>::kQemu in src/hw/*_mode.h).
#ifndef PTSIM_TOOLS_CLI_ORACLE_TARGET_UTIL_H_
#define PTSIM_TOOLS_CLI_ORACLE_TARGET_UTIL_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "tools/cli/oracle/targets.h"

namespace ptsim::oracle {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
// Guest RAM: big enough for the table window plus room below it.
inline constexpr uint64_t kRamSize = 64 * kMiB;

inline uint64_t Knob(const AnyFormat& f, std::string_view name) {
  const auto knobs = f.Info().knobs;
  for (size_t i = 0; i < knobs.size(); ++i) {
    if (knobs[i].name == name) return f.Config().Get(static_cast<int>(i));
  }
  return 0;
}

inline absl::StatusOr<uint64_t> ParseHex(absl::string_view s) {
  s = absl::StripPrefix(s, "0x");
  uint64_t v = 0;
  if (s.empty() || !absl::SimpleHexAtoi(s, &v)) return absl::DataLossError(absl::StrFormat("not a hex number: '%s'", s));
  return v;
}

inline uint8_t Bit(Attr a) { return static_cast<uint8_t>(1u << static_cast<int>(a)); }

// x86: 0 32-bit, 1 PAE, 2 4-level, 3 5-level paging.
std::unique_ptr<Target> MakeX86Target(int paging);
// RISC-V: satp.MODE (1 Sv32, 8 Sv39, 9 Sv48, 10 Sv57).
std::unique_ptr<Target> MakeRiscvTarget(int satp_mode);
// ARMv8 stage 1: the granule in KiB (4, 16, 64).
std::unique_ptr<Target> MakeArmV8Target(int granule_kib);
std::unique_ptr<Target> MakeArmV7Target();

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_TARGET_UTIL_H_
