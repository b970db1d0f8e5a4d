// What `ptsim dump` and `ptsim translate` do with an image, driven by
// arbitrary bytes: the image loader's checks, the leaf walk with every
// leaf's and problem's rendering and per-mode permissions, and walks of
// chosen addresses under both rules with their traces. The image fuzz
// target and the hostile-image test feed it; neither trusts a byte.
#ifndef PTSIM_TOOLS_CLI_IMAGE_PROBE_H_
#define PTSIM_TOOLS_CLI_IMAGE_PROBE_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace ptsim::cli {

// Input layout (every byte string is some input; missing bytes are zero):
//   byte 0        the format, in registry order (modulo the registry's size)
//   byte 1        the root: this many top-level tables into the image
//   byte 2        bit 0 a user-mode walk, bits 1-2 the access (read, write, exec)
//   bytes 3-10    the knob values, one byte each, folded into each knob's range
//   bytes 11-42   four VAs to translate, 8 bytes little-endian each
//   bytes 43-     the image, loaded at physical address kProbeBase; or,
//                 when it starts with the ELF magic, an ELF core whose
//                 PT_LOADs place it, and then byte 1's bit 0 gives
//                 --format (byte 0's, with its knobs), bit 1 --root (as
//                 above), bits 6-7 --cpu; what is not given comes from
//                 the core's notes
inline constexpr size_t kProbeHeaderBytes = 43;
inline constexpr uint64_t kProbeBase = 0x100000;

struct ImageProbeStats {
  bool loaded = false;  // false: the loader refused the image (an input error)
  uint64_t leaves = 0;
  uint64_t problems = 0;
  uint64_t structure_errors = 0;  // cycles and tables reachable twice
  uint64_t walks = 0;
};

ImageProbeStats ProbeImage(absl::Span<const uint8_t> data);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_IMAGE_PROBE_H_
