// ptsim campaign: before a target runs, its working corpus is refreshed from
// the compiled seeds; then its fuzzer (libFuzzer, or one or more AFL++
// instances) is started with the target's side files (fuzz/T.options,
// fuzz/T.dict) applied.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/strings.h"
#include "tools/cli/campaign.h"
#include "tools/cli/campaign_process.h"

namespace ptsim::cli::campaign {
namespace {

namespace fs = std::filesystem;

// Flags the campaign itself controls; an options file must not change them.
bool IsReservedFlag(std::string_view key) {
  static constexpr std::string_view kReserved[] = {
      "max_total_time", "artifact_prefix", "exact_artifact_path", "print_final_stats", "fork",
      "jobs",           "workers",         "merge",               "minimize_crash",    "ignore_crashes",
      "ignore_timeouts", "ignore_ooms"};
  return std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved);
}

bool NonEmptyFile(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && fs::file_size(p, ec) > 0;
}

struct SideFiles {
  std::vector<std::string> flags;  // libFuzzer -key=value
  std::string dict;
};

// The [libfuzzer] section of side_dir/T.options (key = value, whole-line
// comments, as ClusterFuzz's configparser reads these files), and the
// dictionary it names or side_dir/T.dict.
SideFiles ReadSideFiles(const Options& o, const std::string& target) {
  SideFiles s;
  const std::string file = absl::StrCat(o.side_dir, "/", target, ".options");
  std::ifstream in(file);
  std::string section, line;
  while (in && std::getline(in, line)) {
    const std::string_view l = StdSv(absl::StripAsciiWhitespace(line));
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l.front() == '[' && l.back() == ']') {
      section = std::string(l.substr(1, l.size() - 2));
      continue;
    }
    if (section != "libfuzzer") continue;
    const size_t eq = l.find_first_of("=:");
    const std::string key(absl::StripAsciiWhitespace(Sv(l.substr(0, eq))));
    if (eq == std::string_view::npos || key.empty() ||
        !std::all_of(key.begin(), key.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_'; })) {
      Warn(absl::StrFormat("%s: ignoring line: %s", file, l));
      continue;
    }
    std::string value(absl::StripAsciiWhitespace(Sv(l.substr(eq + 1))));
    if (IsReservedFlag(key)) {
      Warn(absl::StrFormat("%s: '%s' is controlled by ptsim campaign; ignored", file, key));
    } else if (key == "dict") {
      // Relative dictionary paths are relative to the options file, as in ClusterFuzz.
      s.dict = value.starts_with("/") ? value : absl::StrCat(o.side_dir, "/", value);
    } else {
      s.flags.push_back(absl::StrCat("-", key, "=", value));
    }
  }
  const std::string dict = absl::StrCat(o.side_dir, "/", target, ".dict");
  if (s.dict.empty() && NonEmptyFile(dict)) s.dict = dict;
  if (!s.dict.empty() && !NonEmptyFile(s.dict)) {
    // libFuzzer refuses to start with a missing or empty dictionary.
    Warn(absl::StrFormat("%s: dictionary %s is missing or empty; not using it", target, s.dict));
    s.dict.clear();
  }
  return s;
}

}  // namespace

void PrepareTarget(const Options& o, TargetRun& t) {
  std::error_code ec;
  const fs::path corpus = fs::path(t.work) / "corpus";
  fs::create_directories(corpus, ec);
  fs::create_directories(fs::path(t.work) / "artifacts", ec);
  // afl-fuzz creates its output directory but not the parents.
  if (o.engine == Engine::kAfl) fs::create_directories(fs::path(t.work) / "afl", ec);
  // The compiled seeds are copied in at every run, flattened (regressions/x.bin
  // becomes regressions__x.bin): both engines want one flat input directory.
  const fs::path seeds = fs::path(o.seeds_dir) / t.name;
  int copied = 0;
  if (fs::is_directory(seeds, ec)) {
    for (auto it = fs::recursive_directory_iterator(seeds, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file() || it->path().extension() != ".bin") continue;
      std::string flat;
      for (char c : fs::relative(it->path(), seeds).string()) flat += c == '/' ? std::string("__") : std::string(1, c);
      fs::copy_file(it->path(), corpus / flat, fs::copy_options::overwrite_existing, ec);
      ++copied;
    }
  }
  if (copied == 0) Warn(absl::StrFormat("%s: no compiled seeds in %s; starting from the working corpus", t.name,
                                        seeds.string()));
  if (o.engine == Engine::kAfl) {
    bool any = false;
    for (const fs::directory_entry& e : fs::directory_iterator(corpus, ec)) any = any || e.file_size(ec) > 0;
    // afl-fuzz refuses an empty input directory; one byte is a valid (empty) program.
    if (!any) std::ofstream(corpus / "afl-empty-seed", std::ios::binary).put('\0');
  }
  // Findings are files newer than this marker, so crash files of earlier
  // runs are not counted again.
  std::ofstream(fs::path(t.work) / ".run-start").put('\n');
}

std::string LaunchTarget(const Options& o, TargetRun& t, double seconds, const std::string& run_id) {
  const SideFiles side = ReadSideFiles(o, t.name);
  const std::string corpus = absl::StrCat(t.work, "/corpus");
  // libFuzzer's clock has whole seconds; ptsim's own deadline is exact.
  const int whole = std::max(1, static_cast<int>(std::ceil(seconds)));
  std::vector<std::vector<std::string>> cmds;
  std::vector<std::string> logs;
  std::vector<std::string> env;
  if (o.engine == Engine::kLibFuzzer) {
    // A 10 s per-input timeout (libFuzzer's default is 1200 s) makes a hang
    // a finding instead of silently eating the budget; the options file may
    // change it. Flags the campaign controls come last: the last one wins.
    std::vector<std::string> cmd = {t.binary, "-timeout=10"};
    cmd.insert(cmd.end(), side.flags.begin(), side.flags.end());
    if (!side.dict.empty()) cmd.push_back("-dict=" + side.dict);
    cmd.push_back(absl::StrCat("-artifact_prefix=", t.work, "/artifacts/"));
    cmd.push_back("-print_final_stats=1");
    cmd.push_back(absl::StrCat("-max_total_time=", whole));
    if (o.workers > 1 || o.keep_going) cmd.push_back(absl::StrCat("-fork=", o.workers));
    if (o.keep_going) {
      for (const char* f : {"-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"}) cmd.push_back(f);
    }
    cmd.push_back(corpus);
    cmds.push_back(std::move(cmd));
    logs.push_back(absl::StrCat(t.work, "/libfuzzer.log"));
    // Leak detection matters (a leaked table is a bug here); only where the
    // user has not chosen.
    if (std::getenv("ASAN_OPTIONS") == nullptr) env.push_back("ASAN_OPTIONS=detect_leaks=1");
    if (std::getenv("UBSAN_OPTIONS") == nullptr) env.push_back("UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1");
  } else {
    // A fresh output directory per run, so its statistics are this run's and
    // earlier crash files stay where they were reported.
    t.afl_out = absl::StrCat(t.work, "/afl/", run_id);
    for (int w = 0; w < o.workers; ++w) {
      std::vector<std::string> cmd = {"afl-fuzz", "-V", absl::StrCat(whole), "-t", absl::StrCat(o.afl_timeout_ms),
                                      "-i", corpus, "-o", t.afl_out};
      if (o.workers > 1) {
        cmd.push_back(w == 0 ? "-M" : "-S");
        cmd.push_back(w == 0 ? std::string("main") : absl::StrCat("sec", w));
      }
      if (!side.dict.empty()) cmd.insert(cmd.end(), {"-x", side.dict});
      cmd.insert(cmd.end(), {"--", t.binary});
      cmds.push_back(std::move(cmd));
      logs.push_back(w == 0 ? absl::StrCat(t.work, "/afl.log") : absl::StrCat(t.work, "/afl-sec", w, ".log"));
    }
    env = {"AFL_SKIP_CPUFREQ=1", "AFL_NO_AFFINITY=1", "AFL_NO_UI=1", "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1"};
  }
  t.procs.clear();
  for (size_t i = 0; i < cmds.size(); ++i) {
    // The log starts with the command line, then the fuzzer's output.
    std::ofstream(logs[i], std::ios::trunc) << ShellJoin(cmds[i]) << "\n\n";
    auto pid = Spawn(cmds[i], logs[i], env);
    if (!pid.ok()) {
      for (Proc& p : t.procs) SignalGroup(p.pid, SIGKILL);
      return std::string(pid.status().message());
    }
    t.procs.push_back({*pid, logs[i], std::nullopt});
    Say(absl::StrFormat("started %s (%ds): %s", t.name, whole, ShellJoin(cmds[i])));
  }
  return "";
}

}  // namespace ptsim::cli::campaign
