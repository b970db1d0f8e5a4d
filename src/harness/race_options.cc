#include "src/harness/race_options.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"

namespace ptsim {

absl::Status ParseInjectList(std::string_view list, uint32_t* bugs) {
  for (absl::string_view name : absl::StrSplit(Sv(list), ',', absl::SkipEmpty())) {
    const BugInfo* b = FindBug(StdSv(name));
    if (b == nullptr) {
      std::vector<std::string> known;
      for (const BugInfo& k : KnownBugs()) known.emplace_back(k.name);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown bug '", name, "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
    *bugs |= 1u << static_cast<int>(b->bug);
  }
  return absl::OkStatus();
}

namespace {

absl::Status Apply(std::string_view key, std::string_view value, RaceCliOptions* out) {
  if (key == "inject") return ParseInjectList(value, &out->run.bugs);
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
    out->decode.allow_unsafe = value != "0";
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRaceCliOptions(const std::vector<std::string>& args, RaceCliOptions* out) {
  for (const auto& [env, key] : {std::pair{"PTSIM_INJECT", "inject"}, std::pair{"PTSIM_FREE", "free"},
                                 std::pair{"PTSIM_SHOOTDOWN", "shootdown"}, std::pair{"PTSIM_ALLOW_UNSAFE", "allow-unsafe"}}) {
    if (const char* v = std::getenv(env); v != nullptr && *v != '\0') {
      if (absl::Status st = Apply(key, v, out); !st.ok()) return st;
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
