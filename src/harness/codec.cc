#include "src/harness/codec.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace ptsim {

void PutLe(std::vector<uint8_t>* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

absl::Status TextLine::Error(absl::string_view what) const {
  return absl::InvalidArgumentError(absl::StrFormat("line %d: %s: '%s'", number, what, text));
}

std::vector<TextLine> TextLines(absl::string_view text) {
  std::vector<TextLine> out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (!words.empty()) out.push_back({number, line, std::move(words)});
  }
  return out;
}

bool ParseU64(absl::string_view t, uint64_t* v) {
  if (absl::StartsWith(t, "0x") || absl::StartsWith(t, "0X")) return absl::SimpleHexAtoi(t.substr(2), v);
  return absl::SimpleAtoi(t, v);
}

const FormatEntry& ReadFormatHeader(ByteReader& r, FormatConfig* cfg) {
  uint64_t id = 0;
  r.Le(4, &id);  // short input: id 0 picks some format, which is fine
  const FormatEntry& e = FormatById(static_cast<uint32_t>(id));
  *cfg = FormatConfig::Defaults(e.knobs);
  for (size_t i = 0; i < e.knobs.size(); ++i) {
    uint8_t b;
    if (!r.U8(&b)) break;
    const ConfigKnob& k = e.knobs[i];
    cfg->Set(static_cast<int>(i), k.min + b % (k.max - k.min + 1));
  }
  return e;
}

void WriteFormatHeader(const FormatEntry& e, const FormatConfig& cfg, std::vector<uint8_t>* out) {
  PutLe(out, e.id, 4);
  for (size_t i = 0; i < e.knobs.size(); ++i) {
    out->push_back(static_cast<uint8_t>(cfg.Get(static_cast<int>(i)) - e.knobs[i].min));
  }
}

namespace {
// A mode knob takes one byte in a binary program, or four when its range is
// wider than a byte (PKRU, DACR).
int ModeKnobBytes(const ConfigKnob& k) { return k.max - k.min < 256 ? 1 : 4; }
}  // namespace

FormatConfig ReadMode(ByteReader& r, const FormatEntry& e) {
  FormatConfig mode = FormatConfig::Defaults(e.mode_knobs);
  for (size_t i = 0; i < e.mode_knobs.size(); ++i) {
    const ConfigKnob& k = e.mode_knobs[i];
    uint64_t v = 0;
    if (!r.Le(ModeKnobBytes(k), &v)) break;
    mode.Set(static_cast<int>(i), k.min + v % (k.max - k.min + 1));
  }
  return mode;
}

absl::Status WriteMode(const FormatEntry& e, const FormatConfig& mode, std::vector<uint8_t>* out) {
  for (size_t i = 0; i < e.mode_knobs.size(); ++i) {
    const ConfigKnob& k = e.mode_knobs[i];
    const uint64_t v = mode.Get(static_cast<int>(i));
    if (v < k.min || v > k.max) {
      return absl::InvalidArgumentError(absl::StrFormat("mode %s=%d is outside %d..%d", k.name, v, k.min, k.max));
    }
    PutLe(out, v - k.min, ModeKnobBytes(k));
  }
  return absl::OkStatus();
}

std::string ModeLine(const FormatEntry& e, const FormatConfig& mode) {
  const std::string diff = SettingsDiff(e.mode_knobs, mode);
  return absl::StrCat("mode", diff.empty() ? "" : " ", diff, diff.empty() ? "  # the default mode" : "", "\n");
}

absl::Status ParseModeLine(const TextLine& t, const FormatEntry& e, std::optional<FormatConfig>* mode) {
  if (*mode) return t.Error("a second 'mode' line");
  *mode = FormatConfig::Defaults(e.mode_knobs);
  for (size_t i = 1; i < t.words.size(); ++i) {
    if (auto st = ApplySettingList("mode", e.mode_knobs, StdSv(t.words[i]), &**mode); !st.ok()) {
      return t.Error(std::string(st.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseHeaderLine(const TextLine& t, const FormatEntry** e, std::string* format,
                                     FormatConfig* config) {
  const std::vector<absl::string_view>& w = t.words;
  if (w[0] == "format") {
    if (w.size() != 2) return t.Error("expected 'format NAME'");
    if (*e != nullptr) return t.Error("format given twice");
    *e = FindFormat(StdSv(w[1]));
    if (*e == nullptr) return t.Error(absl::StrCat("unknown format (known: ", KnownFormatNames(), ")"));
    *format = std::string(w[1]);
    *config = FormatConfig::Defaults((*e)->knobs);
    return true;
  }
  if (*e == nullptr) return t.Error("the first statement must be 'format NAME'");
  if (w[0] != "config") return false;
  for (size_t i = 1; i < w.size(); ++i) {
    if (auto st = ApplyConfigSetting((*e)->knobs, StdSv(w[i]), config); !st.ok()) {
      return t.Error(std::string(st.message()));
    }
  }
  return true;
}

}  // namespace ptsim
