// ptsim campaign: what it prints. While fuzzing, one progress line per
// running target on stderr (rewritten in place on a terminal, a plain line
// every ~10 s otherwise). At the end, the table and the findings on stdout,
// or with --json a JSON document on stdout and the findings on stderr.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/campaign.h"
#include "tools/cli/common.h"

namespace ptsim::cli::campaign {
namespace {

Progress* g_progress = nullptr;  // cleared before any other stderr line

// 1234567 -> 1.2M, for the narrow progress line.
std::string Human(std::optional<uint64_t> v) {
  if (!v) return "-";
  const uint64_t n = *v;
  if (n >= 1000000000) return absl::StrFormat("%d.%dG", n / 1000000000, n % 1000000000 / 100000000);
  if (n >= 1000000) return absl::StrFormat("%d.%dM", n / 1000000, n % 1000000 / 100000);
  if (n >= 10000) return absl::StrFormat("%dk", n / 1000);
  return absl::StrCat(n);
}

std::string Cell(std::optional<uint64_t> v) { return v ? absl::StrCat(*v) : "-"; }
Json Num(std::optional<uint64_t> v) { return v ? Json(*v) : Json(nullptr); }

int TerminalWidth() {
  winsize w{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 20) return w.ws_col;
  return 120;
}

// "==> title", bold on a terminal unless NO_COLOR is set.
void Header(std::FILE* f, const std::string& title) {
  const bool bold = ::isatty(::fileno(f)) && std::getenv("NO_COLOR") == nullptr;
  std::fprintf(f, "\n%s==> %s%s\n", bold ? "\033[1m" : "", title.c_str(), bold ? "\033[0m" : "");
}

}  // namespace

Progress::Progress(const Options& o) : tty_(Tty()) { g_progress = this; }

bool Progress::Tty() { return ::isatty(STDERR_FILENO) != 0; }

void Progress::Clear() {
  // Up and erase each line drawn, back to where the block started.
  for (; lines_ > 0; --lines_) std::fputs("\033[1A\r\033[K", stderr);
  std::fflush(stderr);
}

void Progress::Update(const Options& o, const std::vector<TargetRun>& runs, double now) {
  if (!tty_ && now - last_print_ < 10) return;
  last_print_ = now;
  std::vector<std::string> lines;
  size_t done = 0;
  for (const TargetRun& t : runs) {
    if (t.status != Status::kRunning && t.status != Status::kPending) ++done;
    if (t.status != Status::kRunning) continue;
    const Stats s = ReadStats(o, t, false);
    const size_t files = CollectArtifacts(o, t).size();
    const uint64_t findings = std::max<uint64_t>(files, s.crashes.value_or(0));
    lines.push_back(absl::StrFormat("  %-16s %4.0fs left  #%-6s %6s exec/s  corp %-6s cov %-6s findings %d",
                                    t.name, std::max(0.0, t.deadline - now), Human(s.execs), Human(s.exec_per_sec),
                                    Human(s.corpus), Human(s.cov), findings));
  }
  lines.push_back(absl::StrFormat("  [%s] %d/%d targets done", EngineName(o.engine), done, runs.size()));
  if (tty_) {
    Clear();
    const size_t width = static_cast<size_t>(TerminalWidth() - 1);
    for (const std::string& l : lines) std::fprintf(stderr, "%s\033[K\n", l.substr(0, width).c_str());
    lines_ = static_cast<int>(lines.size());
  } else {
    for (const std::string& l : lines) std::fprintf(stderr, "%s\n", l.c_str());
  }
  std::fflush(stderr);
}

void Say(const std::string& msg) {
  if (g_progress != nullptr) g_progress->Clear();
  std::fflush(stdout);
  std::fprintf(stderr, "ptsim: %s\n", msg.c_str());
}

void Warn(const std::string& msg) { Say("warning: " + msg); }

void PrintSummary(const Options& o, const Result& r) {
  if (g_progress != nullptr) g_progress->Clear();
  absl::flat_hash_map<std::string, const FindingGroup*> group_of;
  for (const FindingGroup& g : r.groups) {
    for (const std::string& f : g.files) group_of[f] = &g;
  }
  const std::string merge = r.interrupted ? "no corpus merge (interrupted)"
                            : o.no_merge  ? "no corpus merge (--no-merge)"
                                          : absl::StrFormat("corpus merge %.1fs", r.merge_seconds);
  const std::string timing = absl::StrFormat(
      "fuzzing %.1fs of a %.0fs budget%s; %s; replaying findings %.1fs", r.fuzz_seconds, o.seconds,
      o.build_seconds >= 0 ? absl::StrFormat(" (build %.0fs before it)", o.build_seconds) : "", merge,
      r.classify_seconds);
  if (o.json) {
    Json j;
    j["engine"] = EngineName(o.engine);
    j["budget_seconds"] = o.seconds;
    j["seconds_per_target"] = r.share;
    j["jobs"] = r.jobs;
    j["workers"] = o.workers;
    j["keep_going"] = o.keep_going;
    j["fuzz_seconds"] = r.fuzz_seconds;
    j["build_seconds"] = o.build_seconds >= 0 ? Json(o.build_seconds) : Json(nullptr);
    j["merge_seconds"] = r.merge_seconds;
    j["classify_seconds"] = r.classify_seconds;
    j["fuzz_dir"] = o.fuzz_dir;
    j["work_dir"] = o.work_dir;
    j["targets"] = Json::array();
    for (const TargetRun& t : r.runs) {
      Json a = Json::array();
      for (const std::string& f : t.artifacts) {
        const FindingGroup* g = group_of.contains(f) ? group_of[f] : nullptr;
        a.push_back({{"path", f}, {"signature", g != nullptr ? Json(g->signature) : Json(nullptr)}});
      }
      j["targets"].push_back({{"name", t.name},
                              {"status", StatusName(t.status)},
                              {"exit_code", t.ExitCode() >= 0 ? Json(t.ExitCode()) : Json(nullptr)},
                              {"seconds", t.ended > t.started ? Json(t.ended - t.started) : Json(nullptr)},
                              {"executions", Num(t.stats.execs)},
                              {"exec_per_sec", Num(t.stats.exec_per_sec)},
                              {"coverage", Num(t.stats.cov)},
                              {"features", Num(t.stats.ft)},
                              {"corpus", Num(t.stats.corpus)},
                              {"corpus_before_merge", Num(t.corpus_before_merge)},
                              {"merge", t.merge_note},
                              {"findings", t.artifacts.size()},
                              {"log", t.procs.empty() ? Json(nullptr) : Json(t.procs[0].log)},
                              {"artifacts", a}});
    }
    j["findings"] = r.FindingFiles();
    j["finding_groups"] = Json::array();
    for (const FindingGroup& g : r.groups) {
      j["finding_groups"].push_back({{"signature", g.signature},
                                     {"target", g.target},
                                     {"count", g.files.size()},
                                     {"first_file", g.first_file},
                                     {"repro", g.repro},
                                     {"replay", g.replay},
                                     {"reproduced", g.reproduced},
                                     {"files", g.files}});
    }
    j["interrupted"] = r.interrupted;
    j["exit_code"] = r.ExitCode();
    PrintJson(j);
    std::fprintf(stderr, "ptsim: %s\n", timing.c_str());
  } else {
    Header(stdout, absl::StrFormat("summary [%s, %.0fs per target, %d at a time]", EngineName(o.engine), r.share,
                                   r.jobs));
    const char* fmt = "%-20s %-11s %7s %12s %9s %7s %7s %7s %8s\n";
    std::printf(fmt, "target", "status", "seconds", "executions", "exec/s", "cov", "ft", "corpus", "findings");
    for (const TargetRun& t : r.runs) {
      std::printf(fmt, t.name.c_str(), StatusName(t.status),
                  t.ended > t.started ? absl::StrFormat("%.1f", t.ended - t.started).c_str() : "-",
                  Cell(t.stats.execs).c_str(), Cell(t.stats.exec_per_sec).c_str(), Cell(t.stats.cov).c_str(),
                  Cell(t.stats.ft).c_str(), Cell(t.stats.corpus).c_str(), absl::StrCat(t.artifacts.size()).c_str());
    }
    std::printf("%s\n", timing.c_str());
    for (const TargetRun& t : r.runs) {
      if (!t.merge_note.empty()) std::printf("corpus %s: %s\n", t.name.c_str(), t.merge_note.c_str());
    }
  }
  // Findings are listed in both modes (on stderr under --json): this is
  // what a human acts on.
  std::FILE* f = o.json ? stderr : stdout;
  if (!r.groups.empty()) {
    Header(f, absl::StrFormat("findings: %d file(s), %d distinct signature(s)", r.FindingFiles(), r.groups.size()));
    for (size_t i = 0; i < r.groups.size(); ++i) {
      const FindingGroup& g = r.groups[i];
      std::fprintf(f, "  [%zu] %s: %s  (%zu file%s%s)\n", i + 1, g.target.c_str(), g.signature.c_str(),
                   g.files.size(), g.files.size() == 1 ? "" : "s", g.reproduced ? "" : ", not reproduced by a replay");
      std::fprintf(f, "      first: %s\n      %s\n      %s\n", g.first_file.c_str(), g.repro.c_str(),
                   g.replay.c_str());
    }
  }
  for (const TargetRun& t : r.runs) {
    if (t.status != Status::kError && t.status != Status::kOverran) continue;
    std::fprintf(stderr, "ptsim: error: %s %s without a finding; see %s\n", t.name.c_str(),
                 t.status == Status::kOverran ? "did not stop when told to" : "failed",
                 t.procs.empty() ? t.work.c_str() : t.procs[0].log.c_str());
  }
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace ptsim::cli::campaign
