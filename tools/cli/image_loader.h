// A raw physical-memory image (ptsim image output, QEMU pmemsave, a crash
// dump's RAM) loaded into simulated memory, with the format and root that
// interpret it: what `ptsim dump` and `ptsim translate` share.
#ifndef PTSIM_TOOLS_CLI_IMAGE_LOADER_H_
#define PTSIM_TOOLS_CLI_IMAGE_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"
#include "src/mem/phys_mem.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ptsim::cli {

struct ImageOptions {
  std::string format;
  std::vector<std::string> config;
  std::string image;
  std::string image_base = "0";
  std::string root;
};

// --format, --config, --image, --image-base, --root.
void AddImageOptions(CLI::App* sub, ImageOptions* o);

struct LoadedImage {
  std::unique_ptr<AnyFormat> format;
  std::unique_ptr<PhysMem> mem;
  Oa root;
  // "[0x1000000, 0x1005fff]": the window the image occupies.
  std::string Extent() const;
};

// Every error is an input error (exit 2) and names the offending value: a
// root outside the image, or whose top-level table runs past its end (a
// truncated or tiny image), among others.
absl::StatusOr<LoadedImage> LoadImage(const ImageOptions& o);
// The same checks for an image already in memory (the fuzz target's).
absl::StatusOr<LoadedImage> LoadImageBytes(std::unique_ptr<AnyFormat> format, uint64_t base, uint64_t root,
                                           absl::Span<const uint8_t> bytes);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_IMAGE_LOADER_H_
