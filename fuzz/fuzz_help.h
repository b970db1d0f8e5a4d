// --help for the fuzz targets, whatever drives them. libFuzzer ignores
// flags that start with "--" (and would start fuzzing), the standalone main
// skips every flag, and AFL++'s driver passes them on; all three call
// LLVMFuzzerInitialize first, which calls this.
#ifndef PTSIM_FUZZ_FUZZ_HELP_H_
#define PTSIM_FUZZ_FUZZ_HELP_H_

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <string_view>

namespace ptsim::fuzz {

// What every target's usage ends with: how each build runs.
inline constexpr const char* kEngineUsage = R"(
Builds:
  libFuzzer (fuzz preset): NAME [libFuzzer flags] [CORPUS_DIR...]   fuzz
                           NAME CRASH_FILE                          reproduce
                           NAME -help=1                             libFuzzer's own flags
  standalone (release, asan-ubsan presets): NAME FILE|DIR...        replay each file once
  AFL++ (afl preset): afl-fuzz -i SEEDS -o OUT -- NAME
)";

// Prints `usage` (with "NAME" in kEngineUsage replaced by argv[0]) and
// exits 0 when the command line asks for --help or -h.
inline void ExitOnHelp(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a != "--help" && a != "-h") continue;
    std::fputs(usage, stdout);
    const std::string_view name = argc > 0 ? argv[0] : "fuzzer";
    for (std::string_view rest = kEngineUsage; !rest.empty();) {
      const size_t at = rest.find("NAME");
      std::fwrite(rest.data(), 1, std::min(at, rest.size()), stdout);
      if (at == std::string_view::npos) break;
      std::fwrite(name.data(), 1, name.size(), stdout);
      rest.remove_prefix(at + 4);
    }
    std::fflush(stdout);
    std::exit(0);
  }
}

}  // namespace ptsim::fuzz

#endif  // PTSIM_FUZZ_FUZZ_HELP_H_
