// image_fuzzer: hostile physical-memory images through what `ptsim dump` and
// `ptsim translate` do with them (tools/cli/image_probe.h: the loader's
// checks, the leaf walk, the per-mode permissions, walks of chosen
// addresses under both rules). Cycles, tables reachable twice, truncated
// tables and invalid encodings must come back as problems or errors,
// never as a crash, a hang or unbounded memory; under libFuzzer, ASan and
// the memory limit of image_fuzzer.options say so.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_help.h"
#include "tools/cli/image_probe.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  ptsim::fuzz::ExitOnHelp(*argc, *argv, R"(Usage: image_fuzzer [FILE|DIR...]
Random physical-memory images through ptsim dump's and ptsim translate's
code: byte 0 picks the format, byte 1 the root, byte 2 the access, bytes
3-10 the format's knobs, bytes 11-42 four addresses to translate, and the
rest is the image: raw, or an ELF core when it starts with the ELF magic
(layout in tools/cli/image_probe.h). A crash, a hang or
running past the memory limit is a finding. No options.
)");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ptsim::cli::ProbeImage(absl::MakeConstSpan(data, size));
  return 0;
}
