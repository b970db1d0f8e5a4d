// The run settings of a race program that may also be given on a command
// line (or in the environment): known bugs switched on, the freeing scheme,
// the shootdown style, and whether the unsafe pairing may be explored.
//
// A program carries all of them (race_program.h), so nothing here is needed
// to replay a file. They mean different things to the two users:
//   * `ptsim repro --inject/--free/--shootdown` override the file's
//     settings for one run (Override), e.g. to see that a finding goes away
//     with `--inject=none` or `--free=rcu`;
//   * race_fuzzer's flags restrict the search: the custom mutator writes
//     them into every mutant it makes (race_mutator.h, StampSettings), and
//     inputs run exactly as their bytes say.
#ifndef PTSIM_HARNESS_RACE_OPTIONS_H_
#define PTSIM_HARNESS_RACE_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/harness/race_program.h"

namespace ptsim {

struct RaceSettingFlags {
  std::optional<uint32_t> bugs;  // bit n = Bug(n); set (possibly to 0) by --inject
  std::optional<FreeScheme> free;
  std::optional<ShootdownStyle> shootdown;
  // race_fuzzer: mutants may pair broadcast shootdowns with immediate
  // freeing (the seed 004 bug). Naming both with --free/--shootdown asks for
  // that pairing too.
  bool allow_unsafe = false;

  bool UnsafeAsked() const {
    return allow_unsafe || (free == FreeScheme::kImmediate && shootdown == ShootdownStyle::kBroadcast);
  }
  // Replaces the program's settings with the ones given.
  void Override(RaceProgram* p) const {
    if (bugs) p->bugs = *bugs;
    if (free) p->free = *free;
    if (shootdown) p->shootdown = *shootdown;
  }
};

// Reads --inject=LIST, --free=SCHEME, --shootdown=STYLE and --allow-unsafe
// from `args` (other arguments are left alone); with `read_env`, first the
// environment variables PTSIM_INJECT, PTSIM_FREE, PTSIM_SHOOTDOWN and
// PTSIM_ALLOW_UNSAFE. `--inject=none` (or an empty list) is the empty set.
absl::Status ParseRaceSettingFlags(const std::vector<std::string>& args, bool read_env, RaceSettingFlags* out);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_OPTIONS_H_
