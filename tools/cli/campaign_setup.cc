// ptsim campaign: the options' defaults and checks, the environment
// settings, target discovery, and the small vocabulary (status and engine
// names, the exit code) the other campaign files share.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "tools/cli/campaign.h"
#include "tools/cli/common.h"
#include "tools/cli/printed_commands.h"

#ifndef PTSIM_CLI_SOURCE_DIR
#error "PTSIM_CLI_SOURCE_DIR must be defined by the build"
#endif

namespace ptsim::cli::campaign {
namespace {

namespace fs = std::filesystem;

}  // namespace

const char* EngineName(Engine e) { return e == Engine::kAfl ? "afl" : "libfuzzer"; }

const char* StatusName(Status s) {
  switch (s) {
    case Status::kPending: return "pending";
    case Status::kRunning: return "running";
    case Status::kOk: return "ok";
    case Status::kFinding: return "finding";
    case Status::kError: return "error";
    case Status::kOverran: return "overran";
    case Status::kSkipped: return "skipped";
    case Status::kInterrupted: return "interrupted";
  }
  return "?";
}

int TargetRun::ExitCode() const {
  return !procs.empty() && procs[0].exit_code ? *procs[0].exit_code : -1;
}

size_t Result::FindingFiles() const {
  size_t n = 0;
  for (const TargetRun& t : runs) n += t.artifacts.size();
  return n;
}

// Interrupted first (the user asked to stop; what was found is still
// listed), then findings, then fuzzers that failed without one.
int Result::ExitCode() const {
  if (interrupted) return kExitInterrupted;
  if (FindingFiles() > 0) return kExitFinding;
  for (const TargetRun& t : runs) {
    if (t.status == Status::kError || t.status == Status::kOverran) return kExitFailure;
  }
  return kExitOk;
}

std::string ResolveOptions(Options& o) {
  // ptsim lives in <build>/<preset>/tools/: its fuzz targets and compiled
  // seeds are beside it, the state of every campaign in <build>/fuzz-work.
  const fs::path preset_dir = fs::path(SelfPath()).parent_path().parent_path();
  if (o.fuzz_dir.empty()) o.fuzz_dir = (preset_dir / "fuzz").string();
  if (o.seeds_dir.empty()) o.seeds_dir = (preset_dir / "corpus").string();
  if (o.work_dir.empty()) o.work_dir = (preset_dir.parent_path() / "fuzz-work").string();
  if (o.side_dir.empty()) o.side_dir = (fs::path(PTSIM_CLI_SOURCE_DIR) / "fuzz").string();
  for (std::string* d : {&o.fuzz_dir, &o.seeds_dir, &o.work_dir, &o.side_dir}) *d = AbsolutePath(*d);
  if (o.jobs == 0) o.jobs = ::sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;

  if (const char* v = std::getenv("PTSIM_AFL_TIMEOUT_MS"); v != nullptr && *v != '\0') {
    if (!absl::SimpleAtoi(v, &o.afl_timeout_ms) || o.afl_timeout_ms <= 0) {
      return absl::StrFormat("PTSIM_AFL_TIMEOUT_MS='%s' is not a positive number of milliseconds", v);
    }
  }
  if (const char* v = std::getenv("PTSIM_FUZZ_GRACE_SECONDS"); v != nullptr && *v != '\0') {
    if (!absl::SimpleAtod(v, &o.grace_seconds) || !(o.grace_seconds >= 0 && o.grace_seconds <= 3600)) {
      return absl::StrFormat("PTSIM_FUZZ_GRACE_SECONDS='%s' is not a number of seconds in [0, 3600]", v);
    }
  }
  std::error_code ec;
  if (!fs::is_directory(o.fuzz_dir, ec)) {
    return absl::StrFormat("no fuzz target directory %s (build the fuzz or afl preset, or pass --fuzz-dir)",
                           o.fuzz_dir);
  }
  return "";
}

std::string DiscoverTargets(const Options& o, std::vector<TargetRun>* runs) {
  // Targets are discovered, never listed: a new fuzz target needs no change
  // here. Sorted, so that the order (and the rounds) are the same every run.
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(o.fuzz_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 7 && name.ends_with("_fuzzer") && IsExecutable(e.path())) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& want : o.targets) {
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      return absl::StrFormat("no fuzz target %s/%s", o.fuzz_dir, want);
    }
  }
  for (const std::string& name : names) {
    if (!o.targets.empty() && std::find(o.targets.begin(), o.targets.end(), name) == o.targets.end()) continue;
    TargetRun t;
    t.name = name;
    t.binary = (fs::path(o.fuzz_dir) / name).string();
    t.work = (fs::path(o.work_dir) / name).string();
    runs->push_back(std::move(t));
  }
  return "";
}

}  // namespace ptsim::cli::campaign
