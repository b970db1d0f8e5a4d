// Runtime configuration of a format: a short list of named integer knobs
// that each format declares in its own header (CR4.PSE, the ARM input
// address size, TTBR0 or TTBR1, ...). Knobs are data, so the CLI, the program
// encoding and the tests handle every format's configuration the same way.
#ifndef PTSIM_PT_CONFIG_H_
#define PTSIM_PT_CONFIG_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ptsim {

// A named integer setting. Formats declare their configuration with these,
// and the hardware rules their CPU mode (src/hw/family.h).
struct ConfigKnob {
  std::string_view name;
  uint64_t min;
  uint64_t max;  // format knobs: max - min < 256, a knob is one byte in a binary program
  uint64_t def;
  std::string_view help;
};

inline constexpr int kMaxKnobs = 12;

class FormatConfig {
 public:
  FormatConfig() = default;
  // Every knob at its default.
  static FormatConfig Defaults(absl::Span<const ConfigKnob> knobs);

  uint64_t Get(int i) const { return values_[i]; }
  void Set(int i, uint64_t v) { values_[i] = v; }
  bool operator==(const FormatConfig&) const = default;

 private:
  std::array<uint64_t, kMaxKnobs> values_{};
};

// Applies one "name=value" to `cfg`, checking the name and the range.
// Errors name the setting as `what` ("config", "mode").
absl::Status ApplySetting(std::string_view what, absl::Span<const ConfigKnob> knobs, std::string_view setting,
                          FormatConfig* cfg);
inline absl::Status ApplyConfigSetting(absl::Span<const ConfigKnob> knobs, std::string_view setting,
                                       FormatConfig* cfg) {
  return ApplySetting("config", knobs, setting, cfg);
}
// Applies "name=value[,name=value...]" (commas or spaces between settings).
absl::Status ApplySettingList(std::string_view what, absl::Span<const ConfigKnob> knobs, std::string_view list,
                              FormatConfig* cfg);
// "name=value name=value ..." for every knob, in declaration order.
std::string ConfigToString(absl::Span<const ConfigKnob> knobs, const FormatConfig& cfg);
// "name=value,name=value" for the knobs that differ from their defaults
// (empty when none do): what a command line needs to say.
std::string SettingsDiff(absl::Span<const ConfigKnob> knobs, const FormatConfig& cfg);

}  // namespace ptsim

#endif  // PTSIM_PT_CONFIG_H_
