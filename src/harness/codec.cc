#include "src/harness/codec.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace ptsim {

void PutLe(std::vector<uint8_t>* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
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

}  // namespace ptsim
