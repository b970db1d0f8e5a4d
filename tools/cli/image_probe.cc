#include "tools/cli/image_probe.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/harness/executor.h"
#include "tools/cli/common.h"
#include "tools/cli/entry_text.h"
#include "tools/cli/image_loader.h"

namespace ptsim::cli {
namespace {

// Leaves walked per input, and addresses translated besides the chosen
// ones: keep one input cheap; the walk itself is bounded by the image.
constexpr uint64_t kMaxLeaves = 1 << 14;
constexpr size_t kLeafWalks = 16;

uint8_t ByteAt(absl::Span<const uint8_t> d, size_t i) { return i < d.size() ? d[i] : 0; }

uint64_t Le64(absl::Span<const uint8_t> d, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{ByteAt(d, at + i)} << (8 * i);
  return v;
}

// One access walked as translate walks it, under both rules, with the
// trace rendered and checked for cycles as translate prints it.
void Translate(const AnyFormat& f, const LoadedImage& img, Va va, AccessType type, bool user,
               const FormatConfig& mode, ImageProbeStats* st) {
  WalkTrace trace;
  const HwWalkResult hw = f.HwTranslate(img.mem.get(), img.root, va, type, mode, &trace, /*write_back=*/false);
  std::string text = FormatTraceSteps(f, trace) + WalkCycle(trace) + hw.detail;
  if (hw.ok && trace.count > 0) {
    text += f.DescribeEntry(trace.steps[static_cast<size_t>(trace.count - 1)].raw, hw.t.level);
  }
  WalkTrace neutral_trace;
  const WalkResult n = f.Translate(img.mem.get(), img.root, va, Access{type, user}, MmuOptions{.update_ad = false},
                                   &neutral_trace);
  text += FormatTraceSteps(f, neutral_trace) + WalkCycle(neutral_trace);
  if (n.ok) text += AttrsToString(n.t.attrs);
  st->walks += 2;
}

}  // namespace

ImageProbeStats ProbeImage(absl::Span<const uint8_t> data) {
  ImageProbeStats st;
  const std::span<const FormatEntry> registry = Registry();
  const FormatEntry& e = registry[ByteAt(data, 0) % registry.size()];
  FormatConfig cfg = FormatConfig::Defaults(e.knobs);
  for (size_t i = 0; i < e.knobs.size() && i < 8; ++i) {
    const ConfigKnob& k = e.knobs[i];
    const uint64_t span = k.max - k.min;
    const uint64_t b = ByteAt(data, 3 + i);
    cfg.Set(static_cast<int>(i), span == UINT64_MAX ? b : k.min + b % (span + 1));
  }
  std::unique_ptr<AnyFormat> format = e.make(cfg);
  const AnyFormat& f = *format;
  const FormatInfo& info = f.Info();
  const absl::Span<const uint8_t> image =
      data.size() > kProbeHeaderBytes ? data.subspan(kProbeHeaderBytes) : absl::Span<const uint8_t>();
  // Mostly a root inside the image; 255 puts it past the end, for the
  // loader's refusal.
  const unsigned top_lg2 = info.levels.front().table_size_lg2;
  const uint64_t tops = std::max<uint64_t>(1, image.size() >> top_lg2);
  const uint64_t pick = ByteAt(data, 1);
  const uint64_t root = kProbeBase + ((pick == 255 ? pick : pick % tops) << top_lg2);
  absl::StatusOr<LoadedImage> img = absl::UnknownError("");
  if (image.size() >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F') {
    // An ELF core: byte 1 says which of format, root and CPU come from the
    // header rather than from the core's notes.
    ImageOptions o;
    if ((pick & 1) != 0) {
      o.format = std::string(e.name);
      o.config = ConfigSettings(*format);
    }
    if ((pick & 2) != 0) o.root = absl::StrFormat("0x%x", root);
    o.cpu = absl::StrFormat("%d", pick >> 6);
    img = LoadImageFile(ImageFile::FromBytes(image, "probe"), o);
  } else {
    img = LoadImageBytes(std::move(format), kProbeBase, root, image);
  }
  if (!img.ok()) return st;
  st.loaded = true;

  const FormatInfo& used = img->format->Info();  // an ELF core's notes may pick another format
  const bool user = (ByteAt(data, 2) & 1) != 0 && !used.user_mode.empty();
  const AccessType type = std::array{AccessType::kRead, AccessType::kWrite, AccessType::kExec,
                                     AccessType::kRead}[(ByteAt(data, 2) >> 1) & 3];
  absl::StatusOr<FormatConfig> priv = ParseMode(used, false, img->ModeSettings({}));
  absl::StatusOr<FormatConfig> mode = ParseMode(used, user, img->ModeSettings({}));
  if (!priv.ok() || !mode.ok()) return st;  // every family's defaults parse, and so does a core's mode

  // dump: every leaf line with its permissions, every problem line.
  const AddrWidths w = AddrWidths::Of(used);
  std::vector<Va> leaf_vas;
  img->format->ForEachLeaf(
      img->mem.get(), img->root,
      [&](const LeafInfo& l) {
        std::string line = LeafLine(*img->format, w, l) + img->format->HwPerms(img->mem.get(), img->root, l.va, *priv);
        if (user) line += img->format->HwPerms(img->mem.get(), img->root, l.va, *mode);
        if (leaf_vas.size() < kLeafWalks) leaf_vas.push_back(l.va);
        return ++st.leaves < kMaxLeaves;
      },
      [&](const TreeProblem& p) {
        const std::string line = ProblemLine(*img->format, *img, p);
        if (line.find("structure error") != std::string::npos) ++st.structure_errors;
        return ++st.problems < kMaxLeaves;
      });

  // translate: the chosen addresses, and the first leaves found.
  for (size_t i = 0; i < 4; ++i) Translate(*img->format, *img, Va(Le64(data, 11 + 8 * i)), type, user, *mode, &st);
  for (Va va : leaf_vas) Translate(*img->format, *img, va, type, user, *mode, &st);
  return st;
}

}  // namespace ptsim::cli
