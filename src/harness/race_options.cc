#include "src/harness/race_options.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace ptsim {
namespace {

absl::Status Apply(std::string_view key, std::string_view value, RaceSettingFlags* out) {
  if (key == "inject") {
    uint32_t bugs = 0;
    if (absl::Status st = ParseInjectList(value, &bugs); !st.ok()) return st;
    out->bugs = bugs;
    return absl::OkStatus();
  }
  if (key == "free") {
    out->free = FreeSchemeFromName(value);
    if (!out->free) return absl::InvalidArgumentError(absl::StrCat("--free=", Sv(value), ": expected ipi, rcu or immediate"));
    return absl::OkStatus();
  }
  if (key == "shootdown") {
    out->shootdown = ShootdownStyleFromName(value);
    if (!out->shootdown) return absl::InvalidArgumentError(absl::StrCat("--shootdown=", Sv(value), ": expected ipi or broadcast"));
    return absl::OkStatus();
  }
  if (key == "allow-unsafe") {
    out->allow_unsafe = value != "0";
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRaceSettingFlags(const std::vector<std::string>& args, bool read_env, RaceSettingFlags* out) {
  if (read_env) {
    for (const auto& [env, key] : {std::pair{"PTSIM_INJECT", "inject"}, std::pair{"PTSIM_FREE", "free"},
                                   std::pair{"PTSIM_SHOOTDOWN", "shootdown"},
                                   std::pair{"PTSIM_ALLOW_UNSAFE", "allow-unsafe"}}) {
      if (const char* v = std::getenv(env); v != nullptr && *v != '\0') {
        if (absl::Status st = Apply(key, v, out); !st.ok()) return st;
      }
    }
  }
  for (const std::string& a : args) {
    if (!absl::StartsWith(a, "--")) continue;
    const std::string_view body = std::string_view(a).substr(2);
    const size_t eq = body.find('=');
    const std::string_view key = body.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "1" : body.substr(eq + 1);
    if (key == "inject" || key == "free" || key == "shootdown" || key == "allow-unsafe") {
      if (absl::Status st = Apply(key, value, out); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace ptsim
