// ptsim campaign: what each fuzzer has done so far, read from its own
// output (libFuzzer's status lines and final stats; AFL++'s fuzzer_stats,
// plot_data and log), and the finding files this run left.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/base/strings.h"
#include "tools/cli/campaign.h"

namespace ptsim::cli::campaign {
namespace {

namespace fs = std::filesystem;

// The last `bytes` of a file (status lines are at the end of a long log).
std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > static_cast<std::streamoff>(bytes) ? size - static_cast<std::streamoff>(bytes) : 0;
  in.seekg(from);
  std::string s(static_cast<size_t>(size - from), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

// The number right after `key` in `line` ("cov: 12" with key "cov:"), the
// digits before any '/', '.' or space.
std::optional<uint64_t> NumberAfter(std::string_view line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = StdSv(absl::StripLeadingAsciiWhitespace(Sv(line.substr(at + key.size()))));
  const size_t end = rest.find_first_not_of("0123456789");
  uint64_t v = 0;
  if (!absl::SimpleAtoi(Sv(rest.substr(0, end)), &v)) return std::nullopt;
  return v;
}

// The first whitespace-separated word of `s`.
std::string_view FirstWord(std::string_view s) {
  s = StdSv(absl::StripLeadingAsciiWhitespace(Sv(s)));
  return s.substr(0, s.find_first_of(" \t"));
}

// libFuzzer status lines:
//   normal mode: "#4096  pulse  cov: 12 ft: 14 corp: 5/40b lim: 4 exec/s: 2048 rss: 31Mb"
//   fork mode:   "#155964: cov: 162 ft: 317 corp: 102 exec/s 31182 oom/timeout/crash: 0/0/0 time: 5s"
// and at the end "stat::number_of_executed_units: N", "stat::average_exec_per_sec: N".
Stats LibFuzzerStats(const std::string& log, bool final) {
  Stats s;
  const std::string tail = Tail(log, 65536);
  std::string_view status;
  for (absl::string_view piece : absl::StrSplit(tail, '\n')) {
    const std::string_view line = StdSv(piece);
    if (line.size() > 1 && line[0] == '#' && absl::ascii_isdigit(line[1])) status = line;
    if (final && line.starts_with("stat::number_of_executed_units:")) s.execs = NumberAfter(line, ":");
    if (final && line.starts_with("stat::average_exec_per_sec:")) s.exec_per_sec = NumberAfter(line, ":");
  }
  if (!status.empty()) {
    if (!s.execs) s.execs = NumberAfter(status, "#");
    s.cov = NumberAfter(status, "cov:");
    s.ft = NumberAfter(status, "ft:");
    s.corpus = NumberAfter(status, "corp:");
    // Fork mode's "exec/s 31182" has no colon.
    if (!s.exec_per_sec || *s.exec_per_sec == 0) {
      s.exec_per_sec = NumberAfter(status, status.find("exec/s:") != std::string_view::npos ? "exec/s:" : "exec/s");
    }
    if (const size_t at = status.find("oom/timeout/crash:"); at != std::string_view::npos) {
      uint64_t total = 0;
      for (absl::string_view n : absl::StrSplit(Sv(FirstWord(status.substr(at + 18))), '/')) {
        uint64_t v = 0;
        if (absl::SimpleAtoi(n, &v)) total += v;
      }
      s.crashes = total;
    }
  }
  return s;
}

// The "key   : value" lines of AFL++'s fuzzer_stats.
std::vector<std::pair<std::string, std::string>> ReadKeyValues(const fs::path& file) {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out.emplace_back(std::string(absl::StripAsciiWhitespace(absl::string_view(line).substr(0, colon))),
                     std::string(absl::StripAsciiWhitespace(absl::string_view(line).substr(colon + 1))));
  }
  return out;
}

void Add(std::optional<uint64_t>& into, std::optional<uint64_t> v) {
  if (v) into = into.value_or(0) + *v;
}
void Max(std::optional<uint64_t>& into, std::optional<uint64_t> v) {
  if (v) into = std::max(into.value_or(0), *v);
}

std::optional<uint64_t> Number(absl::string_view s) {
  double d = 0;  // execs_per_sec is fractional, and "inf" before the first refresh
  if (!absl::SimpleAtod(s, &d) || !(d >= 0 && d < 1e19)) return std::nullopt;
  return static_cast<uint64_t>(d);
}

// One AFL++ instance. Under AFL_NO_UI (AFL++ 4.04c) fuzzer_stats is
// written at the start and then about once a minute, and plot_data only
// when something changed, so while it runs the newest log line
// "Fuzzing test case #N (T total, C crashes saved, ... exec_us=U, ...)" gives
// the live corpus and crash counts and exec/s as 1e6 / U (the speed of the
// input being fuzzed); it is printed each time AFL++ picks the next queue
// entry, every few seconds. Once afl-fuzz has exited, its files are final.
Stats AflInstanceStats(const fs::path& dir, const std::string& log, bool final) {
  Stats live;
  std::optional<uint64_t> exec_us;
  const std::string tail = Tail(log, 16384);
  if (const size_t at = tail.rfind("Fuzzing test case #"); at != std::string::npos) {
    const std::string_view line = std::string_view(tail).substr(at, tail.find('\n', at) - at);
    live.corpus = NumberAfter(line, "(");
    live.crashes = NumberAfter(line, "total,");
    exec_us = NumberAfter(line, "exec_us=");
  }
  Stats plot;
  std::ifstream plot_file(dir / "plot_data");
  std::string header, row, line;
  std::getline(plot_file, header);
  while (std::getline(plot_file, line)) {
    if (!line.empty() && line[0] != '#') row = line;
  }
  if (header.starts_with("#") && !row.empty()) {
    const std::vector<std::string> names = absl::StrSplit(header.substr(1), ',');
    const std::vector<std::string> values = absl::StrSplit(row, ',');
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
      const absl::string_view n = absl::StripAsciiWhitespace(names[i]);
      const auto v = Number(absl::StripAsciiWhitespace(values[i]));
      if (n == "total_execs") plot.execs = v;
      if (n == "execs_per_sec") plot.exec_per_sec = v;
      if (n == "edges_found") plot.cov = v;
      if (n == "corpus_count") plot.corpus = v;
      if (n == "saved_crashes") plot.crashes = v;
    }
  }
  Stats f;
  for (const auto& [k, v] : ReadKeyValues(dir / "fuzzer_stats")) {
    if (k == "execs_done") f.execs = Number(v);
    if (k == "execs_per_sec") f.exec_per_sec = Number(v);
    if (k == "edges_found") f.cov = Number(v);
    if (k == "corpus_count") f.corpus = Number(v);
    if (k == "saved_crashes") f.crashes = Number(v);
  }
  // The newer of the two files: the one with more executions.
  Stats s = f.execs && *f.execs >= plot.execs.value_or(0) ? f : plot;
  if (final) return s;
  Max(s.corpus, live.corpus);
  Max(s.crashes, live.crashes);
  // The startup fuzzer_stats divides the calibration runs by almost no time
  // (millions of exec/s): while running, only the log's speed counts.
  s.exec_per_sec = exec_us && *exec_us > 0 ? std::optional<uint64_t>(1000000 / *exec_us) : std::nullopt;
  return s;
}

std::vector<fs::path> AflInstanceDirs(const TargetRun& t) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(t.afl_out, ec)) {
    if (e.is_directory(ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
  return n;
}

Stats ReadStats(const Options& o, const TargetRun& t, bool final) {
  Stats s;
  if (o.engine == Engine::kLibFuzzer) {
    if (!t.procs.empty()) s = LibFuzzerStats(t.procs[0].log, final);
    if (final) s.corpus = CountFiles(absl::StrCat(t.work, "/corpus"));
  } else {
    // Instances add up their executions and crashes; they share one corpus.
    for (const fs::path& dir : AflInstanceDirs(t)) {
      const std::string name = dir.filename().string();
      std::string log = t.procs.empty() ? "" : t.procs[0].log;
      for (const Proc& p : t.procs) {
        if (p.log.ends_with("-" + name + ".log")) log = p.log;
      }
      const Stats one = AflInstanceStats(dir, log, final);
      Add(s.execs, one.execs);
      Add(s.exec_per_sec, one.exec_per_sec);
      Add(s.crashes, one.crashes);
      Max(s.cov, one.cov);
      Max(s.corpus, one.corpus);
    }
  }
  // libFuzzer reports 0 exec/s for runs under a second and in fork mode;
  // AFL++'s final execs_per_sec is a recent average, not the run's.
  const double secs = t.ended - t.started;
  const bool from_time = o.engine == Engine::kAfl || !s.exec_per_sec || *s.exec_per_sec == 0;
  if (final && from_time && s.execs && secs >= 1) {
    s.exec_per_sec = static_cast<uint64_t>(static_cast<double>(*s.execs) / secs);
  }
  return s;
}

std::vector<std::string> CollectArtifacts(const Options& o, const TargetRun& t) {
  std::error_code ec;
  const auto since = fs::last_write_time(fs::path(t.work) / ".run-start", ec);
  if (ec) return {};
  std::vector<std::pair<fs::file_time_type, std::string>> found;
  auto scan = [&](const fs::path& dir, bool afl) {
    std::error_code e2;
    for (auto it = fs::directory_iterator(dir, e2); !e2 && it != fs::directory_iterator(); it.increment(e2)) {
      const std::string name = it->path().filename().string();
      const bool wanted = afl ? name.starts_with("id:")
                              : (name.starts_with("crash-") || name.starts_with("leak-") ||
                                 name.starts_with("timeout-") || name.starts_with("oom-"));
      if (!wanted || !it->is_regular_file(e2)) continue;
      const auto when = it->last_write_time(e2);
      if (when >= since) found.emplace_back(when, it->path().string());
    }
  };
  if (o.engine == Engine::kLibFuzzer) {
    scan(fs::path(t.work) / "artifacts", false);
  } else if (!t.afl_out.empty()) {
    // Hangs count too: they are what libFuzzer calls timeouts.
    for (const fs::path& dir : AflInstanceDirs(t)) {
      scan(dir / "crashes", true);
      scan(dir / "hangs", true);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [when, path] : found) out.push_back(std::move(path));
  return out;
}

}  // namespace ptsim::cli::campaign
