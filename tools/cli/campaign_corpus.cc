// ptsim campaign: after fuzzing, each target's working corpus is merged and
// minimised into the persistent corpus (build/fuzz-work/T/corpus), so that
// it keeps what adds coverage and does not grow without bound from run to
// run. libFuzzer: -merge=1 into an empty directory. AFL++: afl-cmin over the
// corpus and this run's queue when it is installed, else the queue entries
// are copied in under names made of their content hash (no duplicates).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/cli/campaign.h"
#include "tools/cli/campaign_process.h"

namespace ptsim::cli::campaign {
namespace {

namespace fs = std::filesystem;

// FNV-1a over the bytes: a stable name for a unit, the same in every run.
std::string ContentName(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  uint64_t h = 0xcbf29ce484222325ull;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) {
    h = (h ^ static_cast<uint8_t>(*it)) * 0x100000001b3ull;
  }
  return absl::StrFormat("unit-%016x", h);
}

bool OnPath(const std::string& tool) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':')) {
    const std::string p = absl::StrCat(dir.empty() ? "." : dir, "/", tool);
    if (::access(p.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Replaces `corpus` by `next` when the merge left something in it.
bool Swap(const fs::path& corpus, const fs::path& next) {
  std::error_code ec;
  if (CountFiles(next.string()) == 0) return false;
  const fs::path old = corpus.string() + ".old";
  fs::remove_all(old, ec);
  fs::rename(corpus, old, ec);
  if (ec) return false;
  fs::rename(next, corpus, ec);
  if (ec) {
    fs::rename(old, corpus, ec);
    return false;
  }
  fs::remove_all(old, ec);
  return true;
}

std::vector<fs::path> AflQueue(const TargetRun& t) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& inst : fs::directory_iterator(t.afl_out, ec)) {
    std::error_code e2;
    for (const fs::directory_entry& e : fs::directory_iterator(inst.path() / "queue", e2)) {
      if (e.path().filename().string().starts_with("id:") && e.is_regular_file(e2)) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void MergeCorpus(const Options& o, TargetRun& t) {
  const fs::path corpus = fs::path(t.work) / "corpus";
  const fs::path next = fs::path(t.work) / "corpus.next";
  const std::string log = absl::StrCat(t.work, "/merge.log");
  std::error_code ec;
  fs::remove_all(next, ec);
  fs::create_directories(next, ec);
  const double start = Now();
  // A merge replays every unit once; give it the fuzzing share, within reason.
  const double timeout = std::clamp(t.deadline - t.started, 30.0, 300.0);
  bool timed_out = false;

  std::vector<std::string> cmd;
  std::vector<std::string> env;
  if (o.engine == Engine::kLibFuzzer) {
    t.corpus_before_merge = CountFiles(corpus.string());
    cmd = {t.binary, "-merge=1", "-timeout=10", absl::StrCat("-artifact_prefix=", t.work, "/merge-"), next.string(),
           corpus.string()};
  } else {
    fs::path in = fs::path(t.work) / "cmin.in";
    fs::remove_all(in, ec);
    fs::create_directories(in, ec);
    std::vector<fs::path> units;
    for (const fs::directory_entry& e : fs::directory_iterator(corpus, ec)) units.push_back(e.path());
    for (const fs::path& q : AflQueue(t)) units.push_back(q);
    for (const fs::path& u : units) fs::copy_file(u, in / ContentName(u), fs::copy_options::skip_existing, ec);
    t.corpus_before_merge = CountFiles(in.string());
    if (!OnPath("afl-cmin")) {
      fs::remove_all(next, ec);
      const bool ok = Swap(corpus, in);
      t.merge_note = ok ? "afl-cmin not installed: queue copied in, duplicates dropped" : "corpus kept (copy failed)";
      t.stats.corpus = CountFiles(corpus.string());
      t.merge_seconds = Now() - start;
      return;
    }
    cmd = {"afl-cmin", "-i", in.string(), "-o", next.string(), "-t", absl::StrCat(o.afl_timeout_ms), "--", t.binary};
    env = {"AFL_SKIP_CPUFREQ=1", "AFL_NO_AFFINITY=1"};
    fs::remove_all(next, ec);  // afl-cmin wants to create it
  }
  std::ofstream(log, std::ios::trunc) << ShellJoin(cmd) << "\n\n";
  auto rc = RunWithTimeout(cmd, log, timeout, o.grace_seconds, &timed_out, env);
  if (rc.ok() && *rc == 0 && !timed_out && Swap(corpus, next)) {
    t.merge_note = absl::StrFormat("%s: %d -> %d units", o.engine == Engine::kAfl ? "afl-cmin" : "-merge=1",
                                   *t.corpus_before_merge, CountFiles(corpus.string()));
  } else if (o.engine == Engine::kAfl && Swap(corpus, fs::path(t.work) / "cmin.in")) {
    t.merge_note = absl::StrFormat("afl-cmin failed (see %s): queue copied in, duplicates dropped", log);
    Warn(absl::StrCat(t.name, ": ", t.merge_note));
  } else {
    t.merge_note = absl::StrFormat("merge %s (see %s); corpus kept as it was",
                                   !rc.ok() ? std::string(rc.status().message())
                                   : timed_out ? absl::StrFormat("timed out after %.0fs", timeout)
                                               : absl::StrFormat("failed with exit %d", *rc),
                                   log);
    Warn(absl::StrCat(t.name, ": ", t.merge_note));
  }
  fs::remove_all(next, ec);
  fs::remove_all(fs::path(t.work) / "cmin.in", ec);
  t.stats.corpus = CountFiles(corpus.string());
  t.merge_seconds = Now() - start;
}

}  // namespace ptsim::cli::campaign
