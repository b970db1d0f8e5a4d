// What `ptsim repro`, `decode` and `encode` need from the race side.
#ifndef PTSIM_TOOLS_CLI_RACE_CLI_H_
#define PTSIM_TOOLS_CLI_RACE_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/harness/race_options.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ptsim::cli {

struct RaceCliArgs {
  std::string inject;
  std::string free;
  std::string shootdown;
  bool allow_unsafe = false;
};

struct RaceReproFlags {
  RaceCliArgs race;
  bool check_determinism = false;
  bool json = false;
  bool quiet = false;
};

// `ptsim repro`'s overrides of a race program's own settings.
void AddRaceOptions(CLI::App* sub, RaceCliArgs* a);
absl::StatusOr<RaceSettingFlags> ToRaceOverrides(const RaceCliArgs& a);

int RunRaceRepro(const std::string& file, const std::vector<uint8_t>& bytes, const RaceReproFlags& flags);
absl::StatusOr<std::string> DecodeRaceToText(const std::vector<uint8_t>& bytes);
absl::StatusOr<std::vector<uint8_t>> EncodeRaceFromBytes(const std::vector<uint8_t>& bytes);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_RACE_CLI_H_
