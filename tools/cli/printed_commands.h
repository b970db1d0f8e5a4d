// The follow-up commands ptsim prints after a finding (minimise the crash
// file, decode it). They must work pasted into a shell in any directory:
// every path in them is absolute, and they need no options because the
// file carries its settings.
#ifndef PTSIM_TOOLS_CLI_PRINTED_COMMANDS_H_
#define PTSIM_TOOLS_CLI_PRINTED_COMMANDS_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ptsim::cli {

// The running ptsim, absolute: /proc/self/exe, else argv[0] made absolute.
std::string SelfPath();
// `path` made absolute against the current directory (symlinks kept).
std::string AbsolutePath(std::string_view path);
// A regular file we may execute.
bool IsExecutable(const std::filesystem::path& p);

// The libFuzzer build of fuzz target `target` (the one -minimize_crash
// needs; the standalone replay build cannot minimise). Looked for beside
// the running ptsim (the same build if it is a libFuzzer one, else the
// `fuzz` preset's build next to it), then in the build tree this ptsim was
// configured in. `exists` is false when none is built; `path` is then where
// the `fuzz` preset would put it.
struct FuzzTarget {
  std::string path;
  bool exists = false;
};
FuzzTarget FindFuzzTarget(std::string_view target);

// The lines printed under "=== to minimise and read it" for `file`, a
// finding of `target`: a binary file is minimised by the fuzz target and
// decoded by ptsim; a text file is first encoded into the current
// directory. When the fuzz target is not built, a line that builds it comes
// first.
std::vector<std::string> MinimiseCommands(std::string_view target, const std::string& file, bool is_text);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_PRINTED_COMMANDS_H_
