#include "src/pt/config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"

namespace ptsim {

FormatConfig FormatConfig::Defaults(absl::Span<const ConfigKnob> knobs) {
  FormatConfig c;
  for (size_t i = 0; i < knobs.size(); ++i) c.Set(static_cast<int>(i), knobs[i].def);
  return c;
}

absl::Status ApplySetting(std::string_view what, absl::Span<const ConfigKnob> knobs, std::string_view setting,
                          FormatConfig* cfg) {
  const size_t eq = setting.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("%s '%s' is not KEY=VALUE", what, setting));
  }
  const std::string_view key = setting.substr(0, eq);
  const std::string_view text = setting.substr(eq + 1);
  for (size_t i = 0; i < knobs.size(); ++i) {
    if (knobs[i].name != key) continue;
    // The base is stated: 0x... is hex, anything else decimal, so "10" is
    // never read as 16 and "2a" is refused rather than taken as 42.
    uint64_t v = 0;
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const std::string_view digits = hex ? text.substr(2) : text;
    const bool digits_only =
        !digits.empty() && digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") == std::string_view::npos;
    if (!digits_only || !(hex ? absl::SimpleHexAtoi(Sv(digits), &v) : absl::SimpleAtoi(Sv(digits), &v))) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s %s: '%s' is not a number (decimal, or hex with 0x)", what, key, text));
    }
    if (v < knobs[i].min || v > knobs[i].max) {
      return absl::OutOfRangeError(absl::StrFormat("%s %s=%d is outside [%d, %d]", what, key, v, knobs[i].min,
                                                   knobs[i].max));
    }
    cfg->Set(static_cast<int>(i), v);
    return absl::OkStatus();
  }
  std::string known = absl::StrJoin(knobs, ", ", [](std::string* out, const ConfigKnob& k) {
    absl::StrAppend(out, Sv(k.name));
  });
  return absl::InvalidArgumentError(absl::StrFormat("unknown %s key '%s' (this format has: %s)", what, key,
                                                    known.empty() ? "none" : known));
}

absl::Status ApplySettingList(std::string_view what, absl::Span<const ConfigKnob> knobs, std::string_view list,
                              FormatConfig* cfg) {
  for (absl::string_view item : absl::StrSplit(Sv(list), absl::ByAnyChar(", "), absl::SkipEmpty())) {
    if (auto st = ApplySetting(what, knobs, std::string_view(item.data(), item.size()), cfg); !st.ok()) return st;
  }
  return absl::OkStatus();
}

namespace {
// "name=value": a knob wider than a byte is a mask (PKRU, DACR) and reads
// best in hex.
std::string Setting(const ConfigKnob& k, uint64_t v) {
  return k.max - k.min > 255 ? absl::StrFormat("%s=%#x", Sv(k.name), v) : absl::StrCat(Sv(k.name), "=", v);
}
}  // namespace

std::string SettingsDiff(absl::Span<const ConfigKnob> knobs, const FormatConfig& cfg) {
  std::string s;
  for (size_t i = 0; i < knobs.size(); ++i) {
    const uint64_t v = cfg.Get(static_cast<int>(i));
    if (v == knobs[i].def) continue;
    absl::StrAppend(&s, s.empty() ? "" : ",", Setting(knobs[i], v));
  }
  return s;
}

std::string ConfigToString(absl::Span<const ConfigKnob> knobs, const FormatConfig& cfg) {
  std::string s;
  for (size_t i = 0; i < knobs.size(); ++i) {
    absl::StrAppend(&s, i ? " " : "", Setting(knobs[i], cfg.Get(static_cast<int>(i))));
  }
  return s;
}

}  // namespace ptsim
