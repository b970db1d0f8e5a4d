// A physical-memory image (ptsim image output, QEMU pmemsave, a crash
// dump's RAM, or an ELF core: QEMU dump-guest-memory, a kdump vmcore)
// opened as simulated memory, with the format and root that interpret it:
// what `ptsim dump` and `ptsim translate` share.
//
// The file is read on demand (tools/cli/image_source.h): a walk reads the
// chunks its tables occupy and nothing else, so memory grows with the
// pages read, never with the image.
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
#include "tools/cli/image_source.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ptsim::cli {

struct ImageOptions {
  std::string format;  // empty: from an ELF core's notes
  std::vector<std::string> config;
  std::string image;
  std::string image_base;  // empty: 0 for a raw image; an ELF core has its own addresses
  std::string root;        // empty: from an ELF core's notes
  std::string cpu = "0";   // whose registers, in an ELF core's notes
};

// --format, --config, --image, --image-base, --root, --cpu.
void AddImageOptions(CLI::App* sub, ImageOptions* o);

// Something the image itself decided, and from what: ("root", "0x1000",
// "CR3 of cpu0 in the ELF note").
struct FromImage {
  std::string what;
  std::string value;
  std::string source;
};

struct LoadedImage {
  // Before `mem`, which reads through them until it is destroyed.
  std::unique_ptr<ImageFile> file;
  std::unique_ptr<PieceSource> source;
  std::unique_ptr<AnyFormat> format;
  std::unique_ptr<PhysMem> mem;
  Oa root;
  std::string root_source = "--root";
  // The physical ranges the image holds, sorted; empty: all of mem's window.
  std::vector<OaRange> ranges;
  // The CPU mode the image's notes give, in the family's mode keys ("" if
  // none): applied before --mode, which wins.
  std::string mode;
  std::vector<FromImage> from_image;

  // "[0x1000000, 0x1005fff]", or each range of an image with holes.
  std::string Extent() const;
  // "--root 0x1000000", or "root 0x1000000 (CR3 of cpu0 in the ELF note)".
  std::string RootText() const;
  // "" for --root, else " (CR3 of cpu0 in the ELF note)".
  std::string RootFrom() const;
  // "root 0x1000000: CR3 of cpu0 in the ELF note", one per from_image.
  std::vector<std::string> FromImageLines() const;
  // A read of the file that failed during the walk (it read zeros), or OK.
  absl::Status ReadStatus() const;
  // The image's mode, then `settings` (--mode).
  std::vector<std::string> ModeSettings(const std::vector<std::string>& settings) const;
};

// Every error is an input error (exit 2) and names the offending value: a
// root outside the image, or whose top-level table runs past its end (a
// truncated or tiny image), a malformed ELF core, among others.
absl::StatusOr<LoadedImage> LoadImage(const ImageOptions& o);
// The same for an image already in memory (the fuzz target's): a raw
// image at `base` with its root at `root`.
absl::StatusOr<LoadedImage> LoadImageBytes(std::unique_ptr<AnyFormat> format, uint64_t base, uint64_t root,
                                           absl::Span<const uint8_t> bytes);
// What LoadImage does once the file is open (the image fuzz target passes
// bytes as a file): raw or ELF by the first bytes, with the options'
// format, config, base, root and cpu (o.image is not used).
absl::StatusOr<LoadedImage> LoadImageFile(std::unique_ptr<ImageFile> file, const ImageOptions& o);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_IMAGE_LOADER_H_
