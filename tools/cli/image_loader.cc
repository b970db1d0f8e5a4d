#include "tools/cli/image_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

constexpr uint64_t kPage = uint64_t{1} << PhysMem::kChunkLg2;
// PhysMem's own limit (2^28 chunks).
constexpr uint64_t kMaxImageBytes = uint64_t{1} << 40;

// Copies the file into `mem` chunk by chunk, skipping all-zero chunks so a
// mostly empty multi-GiB dump costs only what it holds.
absl::Status Fill(std::ifstream& in, const std::string& path, uint64_t size, PhysMem* mem) {
  std::vector<uint8_t> buf(1u << 20);
  uint64_t done = 0;
  while (done < size) {
    const uint64_t want = std::min<uint64_t>(buf.size(), size - done);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(want));
    const uint64_t got = static_cast<uint64_t>(in.gcount());
    if (got == 0) {
      return absl::DataLossError(absl::StrFormat("cannot read image '%s' at offset 0x%x: %s", path, done,
                                                 in.bad() ? std::strerror(errno) : "file shrank while reading"));
    }
    for (uint64_t off = 0; off < got; off += kPage) {
      const uint64_t n = std::min<uint64_t>(kPage, got - off);
      const auto first = buf.begin() + static_cast<std::ptrdiff_t>(off);
      if (std::all_of(first, first + static_cast<std::ptrdiff_t>(n), [](uint8_t b) { return b == 0; })) continue;
      if (auto st = mem->Write(mem->base() + (done + off), absl::MakeConstSpan(buf.data() + off, n)); !st.ok()) {
        return st;
      }
    }
    done += got;
  }
  return absl::OkStatus();
}

}  // namespace

void AddImageOptions(CLI::App* sub, ImageOptions* o) {
  sub->add_option("--format,-f", o->format, "Page-table format of the image (see `ptsim formats`)")
      ->required()
      ->type_name("NAME");
  sub->add_option("--config,-c", o->config,
                  "Format configuration KEY=VALUE (repeatable or comma-separated; knobs are listed by "
                  "`ptsim formats`)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->delimiter(',')
      ->take_all();
  sub->add_option("--image,-i", o->image, "Raw physical memory image: `ptsim image` output, QEMU pmemsave, ...")
      ->required()
      ->type_name("FILE");
  sub->add_option("--image-base,-b", o->image_base,
                  "Physical address of the image's first byte (4 KiB aligned; hex or decimal)")
      ->capture_default_str()
      ->type_name("ADDR");
  sub->add_option("--root,-r", o->root, "Physical address of the top-level table (CR3, TTBR, satp, ...)")
      ->required()
      ->type_name("ADDR");
}

std::string LoadedImage::Extent() const {
  return absl::StrFormat("[0x%x, 0x%x]", mem->base().value(), mem->base().value() + (mem->size() - 1));
}

namespace {

// Checks the base and the root against an image of `size` bytes and gives
// `img` its (still empty) memory: exactly the image's bytes, so a table
// that runs past the end of a truncated file is outside memory, not zeros.
absl::Status PlaceImage(uint64_t base, uint64_t root, uint64_t size, LoadedImage* img) {
  if (base % kPage != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("--image-base 0x%x is not aligned to 4 KiB", base));
  }
  if (size == 0) return absl::InvalidArgumentError("the image is empty");
  if (size > kMaxImageBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the image is 0x%x bytes; at most 0x%x are supported", size, kMaxImageBytes));
  }
  if (base + (size - 1) < base) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--image-base 0x%x plus the image size 0x%x passes the top of the 64-bit address space", base, size));
  }
  img->mem = std::make_unique<PhysMem>(Oa(base), size);
  img->root = Oa(root);
  const FormatInfo& info = img->format->Info();
  const LevelInfo& top = info.levels.front();
  if (!img->mem->Contains(img->root, 1)) {
    return absl::OutOfRangeError(absl::StrFormat("--root 0x%x is outside the image %s", root, img->Extent()));
  }
  if (!img->root.IsAligned(top.table_size_lg2)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--root 0x%x is not aligned to the %s size of a top-level (%s) table of %s", root,
                        SizeName(top.table_size_lg2), top.name, info.name));
  }
  const uint64_t top_bytes = uint64_t{1} << top.table_size_lg2;
  if (!img->mem->Contains(img->root, top_bytes)) {
    return absl::OutOfRangeError(absl::StrFormat(
        "the image is truncated: the top-level (%s) table at --root 0x%x needs %s, up to 0x%x, but the image %s "
        "holds only %d bytes",
        top.name, root, SizeName(top.table_size_lg2), root + (top_bytes - 1), img->Extent(), size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadedImage> LoadImageBytes(std::unique_ptr<AnyFormat> format, uint64_t base, uint64_t root,
                                           absl::Span<const uint8_t> bytes) {
  LoadedImage img;
  img.format = std::move(format);
  if (auto st = PlaceImage(base, root, bytes.size(), &img); !st.ok()) return st;
  if (auto st = img.mem->Write(img.mem->base(), bytes); !st.ok()) return st;
  return img;
}

absl::StatusOr<LoadedImage> LoadImage(const ImageOptions& o) {
  LoadedImage img;
  auto f = MakeFormat(o.format, o.config);
  if (!f.ok()) return f.status();
  img.format = std::move(*f);
  auto base = ParseNumber("--image-base", o.image_base);
  if (!base.ok()) return base.status();
  auto root = ParseNumber("--root", o.root);
  if (!root.ok()) return root.status();

  std::error_code ec;
  if (std::filesystem::is_directory(o.image, ec)) {
    return absl::InvalidArgumentError(absl::StrFormat("image '%s' is a directory, not a file", o.image));
  }
  std::ifstream in(o.image, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open image '%s': %s", o.image, std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) {
    return absl::InvalidArgumentError(absl::StrFormat("image '%s' is not a seekable file", o.image));
  }
  const uint64_t size = static_cast<uint64_t>(end);
  if (size == 0) return absl::InvalidArgumentError(absl::StrFormat("image '%s' is empty", o.image));
  if (auto st = PlaceImage(*base, *root, size, &img); !st.ok()) {
    return absl::Status(st.code(), absl::StrFormat("image '%s': %s", o.image, st.message()));
  }
  if (auto st = Fill(in, o.image, size, img.mem.get()); !st.ok()) return st;
  return img;
}

}  // namespace ptsim::cli
