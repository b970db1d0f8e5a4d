#include "tools/cli/printed_commands.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_format.h"
#include "tools/cli/common.h"

// Set by tools/CMakeLists.txt: where this ptsim was built, from which
// sources, and with which fuzzing engine.
#ifndef PTSIM_CLI_BUILD_DIR
#error "PTSIM_CLI_BUILD_DIR must be defined by the build"
#endif

namespace ptsim::cli {
namespace {

namespace fs = std::filesystem;

}  // namespace

bool IsExecutable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::string SelfPath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && self.is_absolute()) return self.string();
  return AbsolutePath(InvokedAs());
}

std::string AbsolutePath(std::string_view path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(fs::path(path), ec);
  return ec ? std::string(path) : abs.lexically_normal().string();
}

FuzzTarget FindFuzzTarget(std::string_view target) {
  const bool libfuzzer = std::string_view(PTSIM_CLI_FUZZ_ENGINE) == "libfuzzer";
  // ptsim lives in <build>/<preset>/tools/; fuzz targets in <build>/<preset>/fuzz/.
  const fs::path preset_dir = fs::path(SelfPath()).parent_path().parent_path();
  const fs::path configured = fs::path(PTSIM_CLI_BUILD_DIR);
  std::vector<fs::path> candidates;
  if (libfuzzer) candidates.push_back(preset_dir / "fuzz" / target);
  candidates.push_back(preset_dir.parent_path() / "fuzz" / "fuzz" / target);
  if (libfuzzer) candidates.push_back(configured / "fuzz" / target);
  candidates.push_back(configured.parent_path() / "fuzz" / "fuzz" / target);
  for (const fs::path& c : candidates) {
    if (IsExecutable(c)) return {c.lexically_normal().string(), true};
  }
  return {candidates.back().lexically_normal().string(), false};
}

std::vector<std::string> MinimiseCommands(std::string_view target, const std::string& file, bool is_text) {
  std::vector<std::string> out;
  const FuzzTarget fuzzer = FindFuzzTarget(target);
  if (!fuzzer.exists) {
    out.push_back(absl::StrFormat("(cd %s && cmake --preset fuzz && cmake --build --preset fuzz --target %s)",
                                  ShellQuote(PTSIM_CLI_SOURCE_DIR), target));
  }
  const std::string self = ShellQuote(SelfPath());
  const std::string abs = ShellQuote(AbsolutePath(file));
  if (is_text) {
    // The fuzz target reads binary programs only.
    const std::string bin = ShellQuote(fs::path(file).stem().string() + ".bin");
    out.push_back(absl::StrFormat("%s encode %s -o %s && %s -minimize_crash=1 -runs=10000 %s", self, abs, bin,
                                  ShellQuote(fuzzer.path), bin));
  } else {
    out.push_back(absl::StrFormat("%s -minimize_crash=1 -runs=10000 %s", ShellQuote(fuzzer.path), abs));
    out.push_back(absl::StrFormat("%s decode %s", self, abs));
  }
  return out;
}

}  // namespace ptsim::cli
