// ptsim translate: what the MMU makes of some VAs, over a memory image.
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
  std::vector<std::string> mode;
  std::string rules = "arch";
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
    case FaultKind::kAccessedDirty:
      return false;
    case FaultKind::kReserved:
    case FaultKind::kOutsideMemory:
      return true;
  }
  return true;
}

Json WalkJson(const WalkTrace& trace) {
  return WalkStepsJson(absl::MakeConstSpan(trace.steps.data(), static_cast<size_t>(trace.count)));
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
  const bool neutral = o.rules == "neutral";
  if (neutral && !o.mode.empty()) return Fail(absl::InvalidArgumentError("--mode needs --rules arch"));
  auto mode = ParseMode(info, o.user, img->ModeSettings(o.mode));
  if (!mode.ok()) return Fail(mode.status());
  const AccessType type = AccessOf(o.access);
  const std::string mode_text = neutral ? (o.user ? "user" : "") : SettingsDiff(info.mode_knobs, *mode);

  Json out = Json::array();
  int rc = kExitOk;
  if (!o.json) {
    for (const std::string& line : img->FromImageLines()) absl::PrintF("# %s\n", line);
  }
  for (uint64_t v : vas) {
    const Va va(v);
    WalkTrace trace;
    HwWalkResult r;
    if (neutral) {
      // The image is read, not changed: no accessed/dirty updates.
      const WalkResult n = f.Translate(img->mem.get(), img->root, va, Access{type, o.user},
                                       MmuOptions{.update_ad = false}, &trace);
      r = {n.ok, n.t, n.fault, "", n.restarts};
    } else {
      // The image is read, not changed: the walk sets no accessed/dirty
      // flag (an ARM Access flag or Svade fault is still reported).
      r = f.HwTranslate(img->mem.get(), img->root, va, type, *mode, &trace, /*write_back=*/false);
    }
    if (!r.ok && IsImageProblem(r.fault.kind)) rc = kExitFinding;
    const std::string cycle = WalkCycle(trace);
    if (!cycle.empty()) rc = kExitFinding;
    const WalkStep* leaf = trace.count > 0 ? &trace.steps[static_cast<size_t>(trace.count - 1)] : nullptr;
    if (o.json) {
      Json j = {{"va", Hex(v)},        {"access", AccessTypeName(type)}, {"rules", neutral ? "neutral" : "arch"},
                {"mode", mode_text}, {"root", Hex(img->root.value())},  {"root_source", img->root_source}};
      if (r.ok) {
        j["oa"] = Hex(r.t.oa.value());
        j["size"] = Hex(uint64_t{1} << r.t.size_lg2);
        j["level"] = r.t.level.value();
        j["raw"] = Hex(leaf->raw);
        j["attrs"] = NamedBitsJson(info, leaf->raw);
      } else {
        j["fault"] = {{"kind", FaultKindName(r.fault.kind)}, {"level", r.fault.level.value()}};
        if (!r.detail.empty()) j["fault"]["detail"] = r.detail;
      }
      if (!cycle.empty()) j["structure"] = cycle;
      if (o.walk) j["walk"] = WalkJson(trace);
      out.push_back(std::move(j));
      continue;
    }
    if (r.ok) {
      absl::PrintF("va 0x%0*x  oa 0x%0*x  %-7s  level %d %-6s %s  %s\n", w.va, v, w.oa, r.t.oa.value(),
                   SizeName(r.t.size_lg2), r.t.level.value(), LevelOf(info, r.t.level.value()).name,
                   AttrsToString(r.t.attrs), f.DescribeEntry(leaf->raw, leaf->level));
    } else {
      absl::PrintF("va 0x%0*x  fault %s at level %d (%s)%s%s\n", w.va, v, FaultKindName(r.fault.kind),
                   r.fault.level.value(), LevelOf(info, r.fault.level.value()).name, r.detail.empty() ? "" : ": ",
                   r.detail);
    }
    if (!cycle.empty()) absl::PrintF("  %s\n", cycle);
    if (o.walk) {
      absl::PrintF("walk of %#x (%s%s%s), root %#x:\n%s  result: %s\n", v, AccessTypeName(type),
                   mode_text.empty() ? "" : ", ", mode_text, img->root.value(), FormatTraceSteps(f, trace),
                   r.ok ? absl::StrFormat("oa %#x", r.t.oa.value())
                        : absl::StrFormat("%s fault at level %d%s%s", FaultKindName(r.fault.kind),
                                          r.fault.level.value(), r.detail.empty() ? "" : ": ", r.detail));
    }
  }
  if (auto st = img->ReadStatus(); !st.ok()) return Fail(st);
  if (o.json) PrintJson(out);
  if (rc != kExitOk) {
    Note(absl::StrFormat(
        "some walks hit a broken image (a reserved encoding, a table outside the image %s, or a cycle)",
        img->Extent()));
  }
  return rc;
}

}  // namespace

void AddTranslateCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TranslateOptions>();
  CLI::App* sub =
      app.add_subcommand("translate", "Translate VAs through the page tables in a memory image (raw or ELF core)");
  AddImageOptions(sub, &o->image);
  sub->add_option("--access,-a", o->access, "Access type to check permissions for: r, w or x")
      ->check(CLI::IsMember({"r", "w", "x", "read", "write", "exec"}))
      ->capture_default_str()
      ->type_name("ACCESS");
  sub->add_flag("--user,-u", o->user, "A user-mode access: the family's own setting (x86 cpl=3, ARM el=0, RISC-V priv=0)");
  AddModeOption(sub, &o->mode);
  sub->add_option("--rules", o->rules,
                  "arch: the architecture's own rules (faults as the hardware reports them); neutral: the "
                  "architecture-neutral rules the reference model follows")
      ->check(CLI::IsMember({"arch", "neutral"}))
      ->capture_default_str();
  sub->add_flag("--json", o->json,
                "Print a JSON array, one object per VA: {va, access, rules, mode, root, root_source, oa, size, "
                "level, raw, attrs} or {va, access, rules, mode, root, root_source, fault: {kind, level, detail}}");
  sub->add_flag("--walk", o->walk, "Also show every entry the walk read (table, index, raw bytes)");
  sub->add_option("va", o->vas, "Virtual addresses to translate (hex 0x... or decimal)")
      ->required()
      ->type_name("VA");
  SetHelp(sub, R"(Walks each VA as the format's MMU would, from --root through the image,
checking permissions for the given access (read by default) in the given CPU
mode (--mode; --user for a user-mode access), with the architecture's own
rules: SMEP/SMAP/protection keys on x86, PAN/PXN/UXN/hierarchical table
controls/the Access flag on ARM, SUM/MXR/Svade on RISC-V, R/W in every entry
on the IOMMUs. For each VA prints the output address, the leaf's size, level,
the leaf's permissions (rwxugad) and named bits, or the fault: not-present,
permission, non-canonical, reserved (an invalid encoding), accessed-dirty (A
or D clear where the hardware leaves them to software) or outside-memory (a
table pointer past the image), followed by the fault as the architecture
reports it (#PF error code, ESR fault status, scause, fault reason). The image
is only read: the walk sets no accessed/dirty flag.

A walk that reads the same table twice (a cycle in the tables) is answered
as the hardware would, followed by a 'structure error: cycle' line (or a
"structure" field in the JSON) naming the tables and entry indices it went
through.

The image is raw (at --image-base) or an ELF core, whose notes may give the
format, the root and the CPU mode as for 'ptsim dump' (see its --help);
--format, --root and --mode override them.

Exit status: 0 every VA answered (faults included), 1 a walk found the image
broken (reserved, outside-memory or a cycle), 2 usage or input error.

Examples:
  ptsim translate -i guest.core --access w 0xffffffff81000000
  ptsim translate -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 0x1000 0x400000
  ptsim translate -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 \
                  --access w --user --walk 0x201234
  ptsim translate ... --access x --mode smep=1 0x400000   # supervisor fetch of a user page
  ptsim translate ... --json 0xffff800000000000 | python3 -m json.tool)");
  sub->callback([o, exit_code] { *exit_code = RunTranslate(*o); });
}

}  // namespace ptsim::cli
