// ptsim campaign: the campaign itself. Targets run --jobs at a time, each
// for the same share of the budget: N / ceil(targets / jobs) seconds. A
// target's deadline is where its share ends; the fuzzer is told to stop
// there itself (-max_total_time, -V), and one second later ptsim sends it
// SIGTERM, then SIGKILL after the grace period, so that the fuzzing ends
// within the budget whatever the fuzzer does. Then each corpus is merged
// and each finding replayed and grouped, timed apart from the fuzzing.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <csignal>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/campaign.h"
#include "tools/cli/campaign_process.h"

namespace ptsim::cli::campaign {
namespace {

// After its deadline a fuzzer has this long to stop on its own (libFuzzer
// reads its clock between inputs and in whole seconds) before SIGTERM.
constexpr double kTermSlack = 1.0;

std::string RunId() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

// The last lines of a log, without terminal escapes (AFL++ colours its
// output), indented: what a failed fuzzer said.
void ShowLogTail(const std::string& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    std::string clean;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\033') {
        while (i + 1 < line.size() && !std::isalpha(static_cast<unsigned char>(line[i + 1]))) ++i;
        ++i;
        continue;
      }
      clean += line[i];
    }
    lines.push_back(std::move(clean));
  }
  const size_t from = lines.size() > 25 ? lines.size() - 25 : 0;
  for (size_t i = from; i < lines.size(); ++i) std::fprintf(stderr, "    %s\n", lines[i].c_str());
}

void SignalAll(TargetRun& t, int sig) {
  for (Proc& p : t.procs) {
    if (!p.exit_code) SignalGroup(p.pid, sig);
  }
}

// Records a target whose processes have all ended.
void Finish(const Options& o, TargetRun& t, double now, bool interrupted) {
  t.ended = now;
  t.stats = ReadStats(o, t, true);
  t.artifacts = CollectArtifacts(o, t);
  bool failed = false;
  for (const Proc& p : t.procs) failed = failed || p.exit_code.value_or(0) != 0;
  if (!t.artifacts.empty()) {
    t.status = Status::kFinding;
  } else if (interrupted) {
    t.status = Status::kInterrupted;
  } else if (t.kill_sent) {
    t.status = Status::kOverran;
  } else if (failed && !t.term_sent) {
    t.status = Status::kError;  // a fuzzer stopped at its deadline exits non-zero (libFuzzer: 72)
  } else {
    t.status = Status::kOk;
  }
  // A fuzzer stopped by ptsim's SIGTERM exits non-zero (libFuzzer: 72); say so instead.
  const std::string how = t.term_sent && !t.kill_sent && !interrupted ? "stopped at its deadline"
                                                                       : absl::StrFormat("exit %d", t.ExitCode());
  Say(absl::StrFormat("finished %s: %s (%s, %.1fs, %s execs, %d findings)", t.name, StatusName(t.status), how,
                      t.ended - t.started, t.stats.execs ? absl::StrCat(*t.stats.execs) : "?", t.artifacts.size()));
  if (t.status == Status::kError || t.status == Status::kOverran) {
    Say(absl::StrFormat("error: %s failed without leaving a finding; last lines of %s:", t.name, t.procs[0].log));
    ShowLogTail(t.procs[0].log);
  }
}

}  // namespace

Result RunCampaign(const Options& o, std::vector<TargetRun> runs) {
  Result r;
  r.jobs = std::min<int>(o.jobs, static_cast<int>(runs.size()));
  const int rounds = (static_cast<int>(runs.size()) + r.jobs - 1) / r.jobs;
  r.share = o.seconds / rounds;
  if (r.share < 1) {
    Warn(absl::StrFormat("--seconds %g is less than one second per round; using 1s per target", o.seconds));
    r.share = 1;
  }
  CatchInterrupts();
  const std::string run_id = RunId();
  std::fprintf(stderr, "\n==> fuzzing [%s]: %zu target(s), %.0fs each, %d at a time\n", EngineName(o.engine),
               runs.size(), r.share, r.jobs);
  Progress progress(o);
  const double t0 = Now();
  size_t next = 0;
  bool stopping = false;  // after a finding without --keep-going: start nothing new
  double last_progress = -1;
  for (;;) {
    double now = Now() - t0;
    if (Interrupted() && !r.interrupted) {
      r.interrupted = true;
      Warn("interrupted; stopping fuzzers");
      for (TargetRun& t : runs) {
        if (t.status != Status::kRunning || t.term_sent) continue;
        SignalAll(t, SIGTERM);
        t.term_sent = true;
        t.term_time = now;
      }
    }
    int running = 0;
    for (const TargetRun& t : runs) running += t.status == Status::kRunning;
    while (!r.interrupted && !stopping && next < runs.size() && running < r.jobs) {
      TargetRun& t = runs[next++];
      PrepareTarget(o, t);
      now = Now() - t0;
      t.started = now;
      // A round that started late (its predecessor took its TERM slack)
      // gives up the lateness: the last round still ends with the budget.
      t.deadline = std::max(now + 1, std::min(now + r.share, rounds * r.share));
      if (const std::string err = LaunchTarget(o, t, t.deadline - now, run_id); !err.empty()) {
        Say("error: " + err);
        t.status = Status::kError;
        t.ended = now;
        continue;
      }
      t.status = Status::kRunning;
      ++running;
    }
    if (r.interrupted || stopping) {
      for (; next < runs.size(); ++next) runs[next].status = Status::kSkipped;
    }
    for (TargetRun& t : runs) {
      if (t.status != Status::kRunning) continue;
      bool all_done = true;
      for (Proc& p : t.procs) {
        if (!p.exit_code) p.exit_code = TryReap(p.pid);
        all_done = all_done && p.exit_code.has_value();
      }
      if (all_done) {
        Finish(o, t, now, r.interrupted);
        stopping = stopping || (t.status == Status::kFinding && !o.keep_going);
        --running;
      } else if (!t.term_sent && now >= t.deadline + kTermSlack) {
        SignalAll(t, SIGTERM);
        t.term_sent = true;
        t.term_time = now;
      } else if (t.term_sent && !t.kill_sent && now >= t.term_time + o.grace_seconds) {
        Warn(absl::StrFormat("%s did not stop %.0fs after SIGTERM; killing it", t.name, o.grace_seconds));
        SignalAll(t, SIGKILL);
        t.kill_sent = true;
      }
    }
    if (running == 0 && next >= runs.size()) break;
    if (now - last_progress >= 1) {
      progress.Update(o, runs, now);
      last_progress = now;
    }
    SleepSeconds(0.1);
  }
  progress.Clear();
  r.fuzz_seconds = Now() - t0;

  if (!o.no_merge && !r.interrupted) {
    const double start = Now();
    for (TargetRun& t : runs) {
      if (t.status == Status::kOk || t.status == Status::kFinding) MergeCorpus(o, t);
    }
    r.merge_seconds = Now() - start;
  }
  const double start = Now();
  r.groups = GroupFindings(o, runs);
  r.classify_seconds = Now() - start;
  r.runs = std::move(runs);
  return r;
}

}  // namespace ptsim::cli::campaign
