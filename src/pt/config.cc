#include "src/pt/config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/base/strings.h"

namespace ptsim {

FormatConfig FormatConfig::Defaults(absl::Span<const ConfigKnob> knobs) {
  FormatConfig c;
  for (size_t i = 0; i < knobs.size(); ++i) c.Set(static_cast<int>(i), knobs[i].def);
  return c;
}

absl::Status ApplyConfigSetting(absl::Span<const ConfigKnob> knobs, std::string_view setting,
                                FormatConfig* cfg) {
  const size_t eq = setting.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("config '%s' is not KEY=VALUE", setting));
  }
  const std::string_view key = setting.substr(0, eq);
  const std::string_view text = setting.substr(eq + 1);
  for (size_t i = 0; i < knobs.size(); ++i) {
    if (knobs[i].name != key) continue;
    uint64_t v = 0;
    if (!absl::SimpleAtoi(Sv(text), &v) && !absl::SimpleHexAtoi(Sv(text), &v)) {
      return absl::InvalidArgumentError(absl::StrFormat("config %s: '%s' is not a number", key, text));
    }
    if (v < knobs[i].min || v > knobs[i].max) {
      return absl::OutOfRangeError(absl::StrFormat("config %s=%d is outside [%d, %d]", key, v,
                                                   knobs[i].min, knobs[i].max));
    }
    cfg->Set(static_cast<int>(i), v);
    return absl::OkStatus();
  }
  std::string known = absl::StrJoin(knobs, ", ", [](std::string* out, const ConfigKnob& k) {
    absl::StrAppend(out, Sv(k.name));
  });
  return absl::InvalidArgumentError(absl::StrFormat("unknown config key '%s' (this format has: %s)",
                                                    key, known.empty() ? "none" : known));
}

std::string ConfigToString(absl::Span<const ConfigKnob> knobs, const FormatConfig& cfg) {
  std::string s;
  for (size_t i = 0; i < knobs.size(); ++i) {
    absl::StrAppend(&s, i ? " " : "", Sv(knobs[i].name), "=", cfg.Get(static_cast<int>(i)));
  }
  return s;
}

}  // namespace ptsim
