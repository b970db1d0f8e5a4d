// ptsim translate: what the MMU makes of some VAs, over a raw image.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "src/harness/executor.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/entry_text.h"
#include "tools/cli/image_loader.h"

namespace ptsim::cli {
namespace {

struct TranslateOptions {
  ImageOptions image;
  std::string access = "r";
  bool user = false;
  bool json = false;
  bool walk = false;
  std::vector<std::string> vas;
};

AccessType AccessOf(const std::string& s) {
  if (s == "w" || s == "write") return AccessType::kWrite;
  if (s == "x" || s == "exec") return AccessType::kExec;
  return AccessType::kRead;
}

// Faults that say the image itself is broken, not just that the VA is
// unmapped or forbidden.
bool IsImageProblem(FaultKind k) {
  switch (k) {
    case FaultKind::kNotPresent:
    case FaultKind::kPermission:
    case FaultKind::kNonCanonical:
      return false;
    case FaultKind::kReserved:
    case FaultKind::kOutsideMemory:
      return true;
  }
  return true;
}

Json WalkJson(const WalkTrace& trace) {
  Json steps = Json::array();
  for (int i = 0; i < trace.count; ++i) {
    const WalkStep& s = trace.steps[static_cast<size_t>(i)];
    steps.push_back({{"level", s.level.value()},
                     {"table", Hex(s.table.value())},
                     {"index", s.index},
                     {"entry_addr", Hex(s.entry_addr.value())},
                     {"raw", Hex(s.raw)},
                     {"kind", EntryKindName(s.kind)}});
  }
  return steps;
}

int RunTranslate(const TranslateOptions& o) {
  std::vector<uint64_t> vas;
  for (const std::string& s : o.vas) {
    auto v = ParseNumber("VA", s);
    if (!v.ok()) return Fail(v.status());
    vas.push_back(*v);
  }
  auto img = LoadImage(o.image);
  if (!img.ok()) return Fail(img.status());
  const AnyFormat& f = *img->format;
  const FormatInfo& info = f.Info();
  const AddrWidths w = AddrWidths::Of(info);
  const Access acc{AccessOf(o.access), o.user};

  Json out = Json::array();
  int rc = kExitOk;
  for (uint64_t v : vas) {
    const Va va(v);
    WalkTrace trace;
    // Never set accessed/dirty: the user's image is read, not changed.
    const WalkResult r = f.Translate(img->mem.get(), img->root, va, acc, MmuOptions{.update_ad = false}, &trace);
    if (!r.ok && IsImageProblem(r.fault.kind)) rc = kExitFinding;
    if (o.json) {
      Json j = {{"va", Hex(v)}};
      if (r.ok) {
        const WalkStep& leaf = trace.steps[static_cast<size_t>(trace.count - 1)];
        j["oa"] = Hex(r.t.oa.value());
        j["size"] = Hex(uint64_t{1} << r.t.size_lg2);
        j["level"] = r.t.level.value();
        j["raw"] = Hex(leaf.raw);
        j["attrs"] = NamedBitsJson(info, leaf.raw);
      } else {
        j["fault"] = {{"kind", FaultKindName(r.fault.kind)}, {"level", r.fault.level.value()}};
      }
      if (o.walk) j["walk"] = WalkJson(trace);
      out.push_back(std::move(j));
      continue;
    }
    if (r.ok) {
      const WalkStep& leaf = trace.steps[static_cast<size_t>(trace.count - 1)];
      absl::PrintF("va 0x%0*x  oa 0x%0*x  %-7s  level %d %-6s %s  %s\n", w.va, v, w.oa, r.t.oa.value(),
                   SizeName(r.t.size_lg2), r.t.level.value(), LevelOf(info, r.t.level.value()).name,
                   AttrsToString(r.t.attrs), f.DescribeEntry(leaf.raw, leaf.level));
    } else {
      absl::PrintF("va 0x%0*x  fault %s at level %d (%s)\n", w.va, v, FaultKindName(r.fault.kind),
                   r.fault.level.value(), LevelOf(info, r.fault.level.value()).name);
    }
    if (o.walk) std::fputs(FormatWalk(f, img->mem.get(), img->root, va, acc).c_str(), stdout);
  }
  if (o.json) PrintJson(out);
  if (rc != kExitOk) {
    Note(absl::StrFormat("some walks hit a broken image (a reserved encoding, or a table outside the image %s)",
                         img->Extent()));
  }
  return rc;
}

}  // namespace

void AddTranslateCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TranslateOptions>();
  CLI::App* sub = app.add_subcommand("translate", "Translate VAs through the page tables in a raw memory image");
  AddImageOptions(sub, &o->image);
  sub->add_option("--access,-a", o->access, "Access type to check permissions for: r, w or x")
      ->check(CLI::IsMember({"r", "w", "x", "read", "write", "exec"}))
      ->capture_default_str()
      ->type_name("ACCESS");
  sub->add_flag("--user,-u", o->user, "A user-mode (unprivileged) access");
  sub->add_flag("--json", o->json,
                "Print a JSON array: {va, oa, size, level, raw, attrs} or {va, fault: {kind, level}} per VA");
  sub->add_flag("--walk", o->walk, "Also show every entry the walk read (table, index, raw bytes)");
  sub->add_option("va", o->vas, "Virtual addresses to translate (hex 0x... or decimal)")
      ->required()
      ->type_name("VA");
  SetHelp(sub, R"(Walks each VA as the format's MMU would, from --root through the image,
checking permissions for the given access (read by default; --user for a
user-mode access). For each VA prints the output address, the leaf's size,
level, effective permissions (rwxugad) and the entry's named bits, or the
fault: not-present, permission, non-canonical, reserved (an invalid encoding)
or outside-memory (a table pointer past the image). Accessed/dirty bits are
never set: the image is only read.

Exit status: 0 every VA answered (faults included), 1 a walk found the image
broken (reserved or outside-memory), 2 usage or input error.

Examples:
  ptsim translate -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 0x1000 0x400000
  ptsim translate -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 \
                  --access w --user --walk 0x201234
  ptsim translate ... --json 0xffff800000000000 | python3 -m json.tool)");
  sub->callback([o, exit_code] { *exit_code = RunTranslate(*o); });
}

}  // namespace ptsim::cli
