#include "tools/cli/oracle/qmp.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"

namespace ptsim::oracle {

using nlohmann::json;

absl::StatusOr<std::string> Qmp::ReadReply() {
  for (;;) {
    const size_t nl = buf_.find('\n');
    if (nl == std::string::npos) {
      if (auto st = conn_.RecvSome(&buf_); !st.ok()) return st;
      continue;
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return absl::DataLossError(absl::StrFormat("QMP sent non-JSON: %s", line));
    if (j.contains("event")) continue;
    return line;
  }
}

absl::Status Qmp::Handshake() {
  auto greeting = ReadReply();
  if (!greeting.ok()) return greeting.status();
  if (greeting->find("\"QMP\"") == std::string::npos) {
    return absl::UnavailableError(absl::StrFormat("not a QMP greeting: %s", *greeting));
  }
  if (auto st = conn_.SendAll("{\"execute\": \"qmp_capabilities\"}\n"); !st.ok()) return st;
  auto r = ReadReply();
  if (!r.ok()) return r.status();
  if (r->find("\"return\"") == std::string::npos) return absl::UnavailableError(absl::StrFormat("QMP refused: %s", *r));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Qmp::Hmp(const std::vector<std::string>& commands) {
  std::string out;
  for (const std::string& c : commands) {
    const json req = {{"execute", "human-monitor-command"}, {"arguments", {{"command-line", c}}}};
    out += req.dump() + "\n";
  }
  if (auto st = conn_.SendAll(out); !st.ok()) return st;
  std::vector<std::string> texts;
  texts.reserve(commands.size());
  for (const std::string& c : commands) {
    auto line = ReadReply();
    if (!line.ok()) {
      return absl::Status(line.status().code(), absl::StrFormat("QMP, HMP '%s': %s", c, line.status().message()));
    }
    const json j = json::parse(*line, nullptr, false);
    if (!j.contains("return") || !j["return"].is_string()) {
      return absl::UnavailableError(absl::StrFormat("QMP, HMP '%s' failed: %s", c, *line));
    }
    texts.push_back(j["return"].get<std::string>());
  }
  return texts;
}

absl::StatusOr<std::string> Qmp::Hmp(const std::string& command) {
  auto r = Hmp(std::vector<std::string>{command});
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

}  // namespace ptsim::oracle
