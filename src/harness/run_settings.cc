#include "src/harness/run_settings.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace ptsim {
namespace {
// Index = the binary field; names as hw::BugName (src/hw/invalidate.h)
// spells them, which tlb_runner.cc checks.
constexpr std::string_view kInvalidatorBugNames[kInvalidatorBugCount] = {"none", "leaf_only", "forget_global",
                                                                         "wrong_asid"};
}  // namespace

std::string_view InvalidatorBugName(uint8_t bug) {
  return bug < kInvalidatorBugCount ? kInvalidatorBugNames[bug] : "?";
}

std::optional<uint8_t> InvalidatorBugFromName(std::string_view name) {
  for (uint8_t b = 0; b < kInvalidatorBugCount; ++b) {
    if (kInvalidatorBugNames[b] == name) return b;
  }
  return std::nullopt;
}

uint8_t RunSettingsBits(const RunSettings& r) {
  return static_cast<uint8_t>((r.tlb ? 1 : 0) | (r.noncoherent ? 2 : 0) | r.invalidator_bug << kInvalidatorBugShift);
}

RunSettings RunSettingsFromBits(uint8_t bits) {
  RunSettings r;
  r.tlb = (bits & 1) != 0;
  r.noncoherent = (bits & 2) != 0;
  r.invalidator_bug = r.tlb ? static_cast<uint8_t>((bits & kInvalidatorBugMask) >> kInvalidatorBugShift) : 0;
  return r;
}

std::string CachesLine(const RunSettings& r) {
  if (!r.Any()) return "";
  std::string s = absl::StrCat("caches", r.tlb ? " tlb" : "", r.noncoherent ? " noncoherent" : "");
  if (r.invalidator_bug != 0) absl::StrAppend(&s, " bug=", Sv(InvalidatorBugName(r.invalidator_bug)));
  return s + "\n";
}

absl::Status ParseCachesLine(const TextLine& t, RunSettings* r) {
  const std::vector<absl::string_view>& w = t.words;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "tlb") {
      r->tlb = true;
    } else if (w[i] == "noncoherent") {
      r->noncoherent = true;
    } else if (absl::StartsWith(w[i], "bug=") && InvalidatorBugFromName(StdSv(w[i].substr(4)))) {
      r->invalidator_bug = *InvalidatorBugFromName(StdSv(w[i].substr(4)));
    } else {
      return t.Error(absl::StrCat("bad word '", w[i],
                                  "' (caches tlb noncoherent [bug=none|leaf_only|forget_global|wrong_asid])"));
    }
  }
  if (!r->Any()) return t.Error("expected tlb and/or noncoherent");
  if (r->invalidator_bug != 0 && !r->tlb) return t.Error("an invalidator bug needs the TLB: 'caches tlb ...'");
  return absl::OkStatus();
}

}  // namespace ptsim
