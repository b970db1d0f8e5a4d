// Child processes of ptsim campaign: started with posix_spawn in their own
// process group (so a fuzzer and, in fork mode, its workers stop as one),
// output to a log file, reaped without blocking; and the SIGINT/SIGTERM
// flag that ends a campaign early.
#ifndef PTSIM_TOOLS_CLI_CAMPAIGN_PROCESS_H_
#define PTSIM_TOOLS_CLI_CAMPAIGN_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ptsim::cli::campaign {

// Starts argv[0] (looked up on PATH when it has no '/') with stdin from
// /dev/null and stdout+stderr appended to `log` (stderr to `err_log` when
// given), in a new process group, with the environment plus `env`
// ("KEY=VALUE", overriding).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log,
                            const std::vector<std::string>& env = {}, const std::string& err_log = "");
// Signals the process group `pid` leads (or the process alone if that fails).
void SignalGroup(pid_t pid, int sig);
// The exit code if the process has ended (128+N for signal N), else nothing.
std::optional<int> TryReap(pid_t pid);

// Runs argv to completion with output to `log`; past `timeout` seconds it
// is sent SIGTERM, then SIGKILL `grace` seconds later. Returns the exit
// code, or the spawn error. *timed_out says whether the timeout hit.
absl::StatusOr<int> RunWithTimeout(const std::vector<std::string>& argv, const std::string& log, double timeout,
                                   double grace, bool* timed_out, const std::vector<std::string>& env = {},
                                   const std::string& err_log = "");

// Seconds on a monotonic clock since the first call.
double Now();
void SleepSeconds(double s);  // returns early on a signal

// SIGINT and SIGTERM set a flag instead of ending ptsim, so that the
// campaign can stop its fuzzers and print what it has.
void CatchInterrupts();
bool Interrupted();

// The command line quoted for a shell, as printed and logged.
std::string ShellJoin(const std::vector<std::string>& argv);

}  // namespace ptsim::cli::campaign

#endif  // PTSIM_TOOLS_CLI_CAMPAIGN_PROCESS_H_
