// ptsim campaign: a time-boxed fuzzing campaign over every fuzz target (or
// the ones named), under libFuzzer or AFL++. The pieces live in
// campaign_*.cc, one concern each; this header holds what they share: the
// options, the per-target state and the findings.
#ifndef PTSIM_TOOLS_CLI_CAMPAIGN_H_
#define PTSIM_TOOLS_CLI_CAMPAIGN_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptsim::cli::campaign {

// Exit codes beyond the CLI's common ones (0 nothing found, 1 findings,
// 2 bad usage).
inline constexpr int kExitFailure = 3;       // a fuzzer errored or overran
inline constexpr int kExitInterrupted = 130;  // SIGINT or SIGTERM

enum class Engine { kLibFuzzer, kAfl };
const char* EngineName(Engine e);

struct Options {
  double seconds = 60;
  int jobs = 0;     // targets at a time; 0 = 2 if the machine has 2 cores, else 1
  int workers = 1;  // processes per target: libFuzzer -fork=N, AFL++ one -M and N-1 -S
  Engine engine = Engine::kLibFuzzer;
  std::vector<std::string> targets;  // empty: every *_fuzzer in fuzz_dir
  bool keep_going = false;
  bool json = false;
  bool no_merge = false;
  double build_seconds = -1;  // reported apart when the caller timed a build
  std::string fuzz_dir;       // where the *_fuzzer binaries are
  std::string seeds_dir;      // compiled seeds, one directory per target
  std::string work_dir;       // persistent state, one directory per target
  std::string side_dir;       // T.options and T.dict side files
  // From the environment (README, "Fuzzing").
  int afl_timeout_ms = 2000;
  double grace_seconds = 3;  // SIGTERM to SIGKILL
};

// Status words of a target, as printed and in the JSON.
enum class Status { kPending, kRunning, kOk, kFinding, kError, kOverran, kSkipped, kInterrupted };
const char* StatusName(Status s);

// What a fuzzer has reported so far; unknown values stay empty.
struct Stats {
  std::optional<uint64_t> execs, exec_per_sec, cov, ft, corpus, crashes;
};

// One spawned fuzzer process (AFL++ runs several per target).
struct Proc {
  pid_t pid = -1;
  std::string log;
  std::optional<int> exit_code;  // set once reaped; 128+N for signal N
};

struct TargetRun {
  std::string name;
  std::string binary;
  std::string work;  // work_dir/name
  Status status = Status::kPending;
  std::vector<Proc> procs;
  double started = 0, deadline = 0, ended = 0;  // seconds since the campaign began
  bool term_sent = false, kill_sent = false;
  double term_time = 0;
  std::string afl_out;  // this run's AFL++ output directory
  Stats stats;
  std::vector<std::string> artifacts;  // this run's finding files, oldest first
  std::optional<uint64_t> corpus_before_merge;
  double merge_seconds = 0;
  std::string merge_note;  // how the corpus was merged, or why not
  int ExitCode() const;    // the first process's, or -1
};

// Findings with one signature: five crash files of one bug are one group.
struct FindingGroup {
  std::string signature;
  std::string target;
  std::string first_file;
  std::vector<std::string> files;
  std::string repro;     // the command that replays first_file, no other flags
  std::string replay;    // the fuzz target itself on first_file
  bool reproduced = false;  // the repro command reported the finding again
};

struct Result {
  std::vector<TargetRun> runs;
  std::vector<FindingGroup> groups;
  double fuzz_seconds = 0, merge_seconds = 0, classify_seconds = 0;
  double share = 0;  // seconds per target
  int jobs = 0;
  bool interrupted = false;
  size_t FindingFiles() const;
  int ExitCode() const;
};

// campaign_setup.cc: fills in defaults and checks the options; lists the
// targets to run. Each returns a message for exit 2, or "".
std::string ResolveOptions(Options& o);
std::string DiscoverTargets(const Options& o, std::vector<TargetRun>* runs);

// campaign_launch.cc: refreshes the working corpus and starts the fuzzers.
void PrepareTarget(const Options& o, TargetRun& t);
std::string LaunchTarget(const Options& o, TargetRun& t, double seconds, const std::string& run_id);

// campaign_stats.cc: live and final statistics; this run's finding files.
Stats ReadStats(const Options& o, const TargetRun& t, bool final);
std::vector<std::string> CollectArtifacts(const Options& o, const TargetRun& t);
size_t CountFiles(const std::string& dir);  // entries in a directory, 0 if none

// campaign_corpus.cc: merges the run's corpus into the persistent one.
void MergeCorpus(const Options& o, TargetRun& t);

// campaign_findings.cc: signatures and groups.
std::vector<FindingGroup> GroupFindings(const Options& o, const std::vector<TargetRun>& runs);
std::string ReplayCommand(const TargetRun& t, const std::string& file);

// campaign_report.cc: the live progress lines, the final table and JSON.
class Progress {
 public:
  explicit Progress(const Options& o);
  // Redraws (a terminal: every call, in place) or prints (otherwise: every
  // ~10 s) one line per running target.
  void Update(const Options& o, const std::vector<TargetRun>& runs, double now);
  void Clear();  // before any other line is printed
  static bool Tty();

 private:
  bool tty_;
  int lines_ = 0;
  double last_print_ = -1e9;
};
void PrintSummary(const Options& o, const Result& r);
// A line on stderr ("ptsim: ...", "ptsim: warning: ..."), after clearing
// the live progress lines.
void Say(const std::string& msg);
void Warn(const std::string& msg);

// campaign_run.cc: the campaign itself.
Result RunCampaign(const Options& o, std::vector<TargetRun> runs);

}  // namespace ptsim::cli::campaign

#endif  // PTSIM_TOOLS_CLI_CAMPAIGN_H_
