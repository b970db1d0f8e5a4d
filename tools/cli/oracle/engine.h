// The QEMU oracle: random page tables built by ptsim's own operations, a
// few entries corrupted, probe addresses in and around the leaves; QEMU
// translates each probe with the same memory and root, and every answer
// is compared with ptsim's walker.
//
// Determinism: everything random comes from one std::mt19937_64 per image,
// seeded from (seed, image number), so an image is reproducible on its own
// and the same seed gives the same tables and probes on every machine.
#ifndef PTSIM_TOOLS_CLI_ORACLE_ENGINE_H_
#define PTSIM_TOOLS_CLI_ORACLE_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/any/any_format.h"

namespace ptsim::oracle {

struct OracleOptions {
  std::vector<std::string> config;  // ptsim knob settings, mirrored into QEMU's CPU
  uint64_t count = 100;             // images
  uint64_t seed = 1;
  unsigned probes = 32;             // probe addresses per image
  unsigned corrupt = 2;             // entries with one bit flipped, per image
  std::chrono::milliseconds timeout{10000};
};

struct Disagreement {
  uint64_t image = 0;
  std::string mode;   // the privilege mode QEMU translated in
  uint64_t va = 0;
  std::string kind;   // translation, qemu-faults, ptsim-faults, permissions, info-mem-missing, info-mem-oa
  std::string ptsim;  // ptsim's answer
  std::string qemu;   // QEMU's answer
  std::string walk;   // ptsim's walk of the VA, level by level
  std::string corrupted;  // the entries flipped in this image, if any
};

struct Counts {
  uint64_t compared = 0;
  uint64_t agree = 0;
  uint64_t agree_mapped = 0;  // of `agree`: both translated, to the same address
};

struct FormatReport {
  std::string format;
  std::vector<std::string> config;
  std::string qemu_command;
  uint64_t images = 0;
  uint64_t tables = 0;
  uint64_t leaves = 0;
  std::map<std::string, Counts> translations;  // per mode
  Counts permissions;
  // ptsim found a reserved encoding where QEMU's reachable walker checks
  // none (x86's debug walk): nothing to compare.
  uint64_t reserved_not_checked_by_qemu = 0;
  // Disagreements the target explains as a known departure of QEMU from
  // the manual (or a case the manual leaves open), per explanation: not
  // compared, only counted.
  std::map<std::string, uint64_t> known_qemu_deviations;
  std::vector<Disagreement> disagreements;
};

// Called after every image with (images done, report so far).
using Progress = std::function<void(uint64_t, const FormatReport&)>;

// Errors: unknown or unsupported format, bad settings (InvalidArgument or
// NotFound), QEMU missing (NotFound naming the binary), QEMU failing or
// timing out (Unavailable, DeadlineExceeded).
absl::StatusOr<FormatReport> RunOracle(const std::string& format, const OracleOptions& o, const Progress& progress);

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_ENGINE_H_
