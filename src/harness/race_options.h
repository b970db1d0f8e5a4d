// The options that change how a race program runs, shared by race_fuzzer
// and `ptsim repro`/`ptsim stress`, so a crash found with them replays with
// them: known bugs switched on, and a forced configuration.
#ifndef PTSIM_HARNESS_RACE_OPTIONS_H_
#define PTSIM_HARNESS_RACE_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/harness/race_program.h"
#include "src/harness/race_runner.h"

namespace ptsim {

struct RaceCliOptions {
  RaceDecodeOptions decode;
  RaceRunOptions run;
  std::optional<FreeScheme> free;
  std::optional<ShootdownStyle> shootdown;

  void Apply(RaceProgram* p) const {
    if (free) p->free = *free;
    if (shootdown) p->shootdown = *shootdown;
  }
};

// "name,name": names from KnownBugs(); unknown names are errors listing
// the known ones.
absl::Status ParseInjectList(std::string_view list, uint32_t* bugs);

// Reads --inject=LIST, --free=SCHEME, --shootdown=STYLE and --allow-unsafe
// from `args` (other arguments are left alone), after the environment
// variables PTSIM_INJECT, PTSIM_FREE, PTSIM_SHOOTDOWN, PTSIM_ALLOW_UNSAFE.
absl::Status ParseRaceCliOptions(const std::vector<std::string>& args, RaceCliOptions* out);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_OPTIONS_H_
