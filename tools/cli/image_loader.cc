#include "tools/cli/image_loader.h"

#include <algorithm>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli/common.h"
#include "tools/cli/core_hints.h"
#include "tools/cli/elf_core.h"

namespace ptsim::cli {
namespace {

constexpr unsigned kPageLg2 = PhysMem::kChunkLg2;
constexpr uint64_t kPage = uint64_t{1} << kPageLg2;
constexpr uint64_t kMaxImageBytes = PhysMem::kMaxChunks << kPageLg2;
// Ranges Extent() names before it elides the middle ones.
constexpr size_t kExtentRanges = 4;

// Checks the root against the image's memory: inside it, aligned, and with
// the whole top-level table inside it.
absl::Status CheckRoot(const LoadedImage& img) {
  const FormatInfo& info = img.format->Info();
  const LevelInfo& top = info.levels.front();
  const uint64_t root = img.root.value();
  if (!img.mem->Contains(img.root, 1)) {
    return absl::OutOfRangeError(absl::StrFormat("%s is outside the image %s", img.RootText(), img.Extent()));
  }
  if (!img.root.IsAligned(top.table_size_lg2)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is not aligned to the %s size of a top-level (%s) table of %s", img.RootText(),
                        SizeName(top.table_size_lg2), top.name, info.name));
  }
  const uint64_t top_bytes = uint64_t{1} << top.table_size_lg2;
  if (img.mem->Contains(img.root, top_bytes)) return absl::OkStatus();
  if (img.ranges.empty()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "the image is truncated: the top-level (%s) table at %s needs %s, up to 0x%x, but the image %s holds only %d "
        "bytes",
        top.name, img.RootText(), SizeName(top.table_size_lg2), root + (top_bytes - 1), img.Extent(), img.mem->size()));
  }
  return absl::OutOfRangeError(
      absl::StrFormat("the top-level (%s) table at %s needs %s, up to 0x%x, which runs out of the image's ranges %s",
                      top.name, img.RootText(), SizeName(top.table_size_lg2), root + (top_bytes - 1), img.Extent()));
}

absl::Status LoadRaw(const ImageOptions& o, LoadedImage* img) {
  if (o.format.empty()) return absl::InvalidArgumentError("a raw image needs --format (see `ptsim formats`)");
  if (o.root.empty()) {
    return absl::InvalidArgumentError("a raw image needs --root, the physical address of its top-level table");
  }
  auto f = MakeFormat(o.format, o.config);
  if (!f.ok()) return f.status();
  img->format = std::move(*f);
  auto base = ParseNumber("--image-base", o.image_base.empty() ? "0" : o.image_base);
  if (!base.ok()) return base.status();
  auto root = ParseNumber("--root", o.root);
  if (!root.ok()) return root.status();
  const uint64_t size = img->file->size();
  if (*base % kPage != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("--image-base 0x%x is not aligned to 4 KiB", *base));
  }
  if (size > kMaxImageBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the image is 0x%x bytes; at most 0x%x are supported", size, kMaxImageBytes));
  }
  if (*base + (size - 1) < *base) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--image-base 0x%x plus the image size 0x%x passes the top of the 64-bit address space", *base, size));
  }
  img->source = std::make_unique<PieceSource>(img->file.get(), std::vector<ImagePiece>{{*base, size, 0, size}});
  img->mem = std::make_unique<PhysMem>(Oa(*base), size);
  img->mem->SetImage({{Oa(*base), Oa(*base + (size - 1))}}, img->source.get());
  img->root = Oa(*root);
  return absl::OkStatus();
}

// An ELF core: memory from its PT_LOADs; format, root and mode from the
// options, else from its notes.
absl::Status LoadCore(const ImageOptions& o, LoadedImage* img) {
  if (!o.image_base.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--image-base %s does not apply to an ELF core: its PT_LOAD headers give the physical addresses",
        o.image_base));
  }
  auto cpu = ParseNumber("--cpu", o.cpu);
  if (!cpu.ok()) return cpu.status();
  auto core = ReadElfCore(*img->file);
  if (!core.ok()) return core.status();
  auto hints = ReadCoreHints(*core, *cpu);
  if (!hints.ok()) return hints.status();

  if (!o.format.empty()) {
    auto f = MakeFormat(o.format, o.config);
    if (!f.ok()) return f.status();
    img->format = std::move(*f);
    // The paging mode the notes give, named: their knobs still apply
    // (a kernel's TTBR1 half, its VA size), under --config.
    const QemuTarget t = img->format->Info().qemu;
    if (!hints->config.empty() && t.machine == hints->paging.machine && t.variant == hints->paging.variant) {
      std::vector<std::string> settings = hints->config;
      settings.insert(settings.end(), o.config.begin(), o.config.end());
      auto g = MakeFormat(o.format, settings);
      if (!g.ok()) return g.status();
      img->format = std::move(*g);
      img->from_image.push_back({"config", absl::StrJoin(hints->config, ","), hints->format_source});
    }
  } else if (hints->paging.machine != QemuMachine::kNone) {
    auto f = MakeCoreFormat(*hints, o.config);
    if (!f.ok()) return f.status();
    img->format = std::move(*f);
    const std::vector<std::string> settings = ConfigSettings(*img->format);
    img->from_image.push_back(
        {"format", absl::StrCat(img->format->Info().name, " ", absl::StrJoin(settings, ",")), hints->format_source});
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("this %s core needs --format: %s", MachineName(core->machine), hints->no_format));
  }
  // The notes' root and mode are the registers of the architecture they
  // describe; a --format of another one gets neither.
  const bool same_arch =
      hints->paging.machine != QemuMachine::kNone && img->format->Info().qemu.machine == hints->paging.machine;
  if (!o.root.empty()) {
    auto root = ParseNumber("--root", o.root);
    if (!root.ok()) return root.status();
    img->root = Oa(*root);
  } else if (hints->root && same_arch) {
    img->root = Oa(*hints->root);
    img->root_source = hints->root_source;
    img->from_image.push_back({"root", Hex(*hints->root), hints->root_source});
  } else if (hints->root) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "this %s core needs --root with --format %s: the root its notes give (%s) is for %s",
        MachineName(core->machine), img->format->Info().name, hints->root_source, hints->format_source));
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("this %s core needs --root: %s", MachineName(core->machine), hints->no_root));
  }
  if (same_arch && !hints->mode.empty()) {
    img->mode = hints->mode;
    img->from_image.push_back({"mode", hints->mode, hints->mode_source});
  }

  // The window spans the ranges; the holes between them are outside memory.
  const uint64_t base = core->pieces.front().paddr & ~(kPage - 1);
  const ImagePiece& top = core->pieces.back();
  const uint64_t size = top.paddr + top.size - base;
  for (const ImagePiece& p : core->pieces) {
    if (!img->ranges.empty() && img->ranges.back().last.value() + 1 == p.paddr) {
      img->ranges.back().last = Oa(p.paddr + (p.size - 1));
    } else {
      img->ranges.push_back({Oa(p.paddr), Oa(p.paddr + (p.size - 1))});
    }
  }
  img->source = std::make_unique<PieceSource>(img->file.get(), std::move(core->pieces));
  img->mem = std::make_unique<PhysMem>(Oa(base), size);
  img->mem->SetImage(img->ranges, img->source.get());
  return absl::OkStatus();
}

}  // namespace

void AddImageOptions(CLI::App* sub, ImageOptions* o) {
  sub->add_option("--format,-f", o->format,
                  "Page-table format of the image (see `ptsim formats`); an ELF core's notes may give it")
      ->type_name("NAME");
  sub->add_option("--config,-c", o->config,
                  "Format configuration KEY=VALUE (repeatable or comma-separated; knobs are listed by "
                  "`ptsim formats`)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->delimiter(',')
      ->take_all();
  sub->add_option("--image,-i", o->image,
                  "Physical memory image: raw (`ptsim image` output, QEMU pmemsave, ...) or an ELF core (QEMU "
                  "dump-guest-memory, a kdump vmcore)")
      ->required()
      ->type_name("FILE");
  sub->add_option("--image-base,-b", o->image_base,
                  "Physical address of a raw image's first byte (4 KiB aligned; hex or decimal; default 0)")
      ->type_name("ADDR");
  sub->add_option("--root,-r", o->root,
                  "Physical address of the top-level table (CR3, TTBR, satp, ...); an ELF core's notes may give it")
      ->type_name("ADDR");
  sub->add_option("--cpu", o->cpu, "The CPU whose registers in an ELF core's notes give the root and the mode")
      ->capture_default_str()
      ->type_name("N");
}

std::string LoadedImage::Extent() const {
  auto text = [](const OaRange& r) { return absl::StrFormat("[0x%x, 0x%x]", r.first.value(), r.last.value()); };
  if (ranges.empty()) return text({mem->base(), mem->base() + (mem->size() - 1)});
  std::vector<std::string> parts;
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges.size() > kExtentRanges && i == kExtentRanges - 1) {
      parts.push_back(absl::StrFormat("... (%d ranges)", ranges.size()));
      i = ranges.size() - 1;
    }
    parts.push_back(text(ranges[i]));
  }
  return absl::StrJoin(parts, " ");
}

std::string LoadedImage::RootFrom() const {
  return root_source == "--root" ? "" : absl::StrCat(" (", root_source, ")");
}

std::string LoadedImage::RootText() const {
  if (root_source == "--root") return absl::StrFormat("--root 0x%x", root.value());
  return absl::StrFormat("root 0x%x%s", root.value(), RootFrom());
}

std::vector<std::string> LoadedImage::FromImageLines() const {
  std::vector<std::string> out;
  for (const FromImage& f : from_image) out.push_back(absl::StrFormat("%s %s: %s", f.what, f.value, f.source));
  return out;
}

absl::Status LoadedImage::ReadStatus() const { return source ? source->status() : absl::OkStatus(); }

std::vector<std::string> LoadedImage::ModeSettings(const std::vector<std::string>& settings) const {
  std::vector<std::string> out;
  if (!mode.empty()) out.push_back(mode);
  out.insert(out.end(), settings.begin(), settings.end());
  return out;
}

absl::StatusOr<LoadedImage> LoadImageBytes(std::unique_ptr<AnyFormat> format, uint64_t base, uint64_t root,
                                           absl::Span<const uint8_t> bytes) {
  LoadedImage img;
  img.format = std::move(format);
  if (base % kPage != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("--image-base 0x%x is not aligned to 4 KiB", base));
  }
  if (bytes.empty()) return absl::InvalidArgumentError("the image is empty");
  img.mem = std::make_unique<PhysMem>(Oa(base), bytes.size());
  if (auto st = img.mem->Write(img.mem->base(), bytes); !st.ok()) return st;
  img.root = Oa(root);
  if (auto st = CheckRoot(img); !st.ok()) return st;
  return img;
}

absl::StatusOr<LoadedImage> LoadImageFile(std::unique_ptr<ImageFile> file, const ImageOptions& o) {
  LoadedImage img;
  img.file = std::move(file);
  const bool elf = IsElf(*img.file);
  absl::Status st = elf ? LoadCore(o, &img) : LoadRaw(o, &img);
  if (st.ok()) st = CheckRoot(img);
  if (!st.ok()) {
    return absl::Status(st.code(),
                        absl::StrFormat("%s '%s': %s", elf ? "ELF core" : "image", img.file->name(), st.message()));
  }
  return img;
}

absl::StatusOr<LoadedImage> LoadImage(const ImageOptions& o) {
  auto file = ImageFile::Open(o.image);
  if (!file.ok()) return file.status();
  return LoadImageFile(std::move(*file), o);
}

}  // namespace ptsim::cli
