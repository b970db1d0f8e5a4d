// ptsim dump: every leaf mapping in a physical-memory image.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/dump_dot.h"
#include "tools/cli/entry_text.h"
#include "tools/cli/image_loader.h"

namespace ptsim::cli {
namespace {

struct DumpOptions {
  ImageOptions image;
  std::vector<std::string> mode;
  bool json = false;
  bool runs = false;
  bool dot = false;
  uint64_t limit = 1'000'000;
};

// Leaves that continue one another (VA and OA contiguous, the same
// effective attributes and the same architectural permissions) printed as
// one range, as ptdump and pagemap tools do.
struct Run {
  uint64_t va = 0, oa = 0, bytes = 0, leaves = 0;
  std::string attrs, perms_text;
  Json perms;

  bool Extends(const LeafInfo& l, const std::string& a, const std::string& p) const {
    return leaves != 0 && va + bytes == l.va.value() && oa + bytes == l.oa.value() && a == attrs && p == perms_text;
  }
  Json ToJson() const {
    return {{"va", Hex(va)},       {"va_last", Hex(va + bytes - 1)}, {"oa", Hex(oa)}, {"oa_last", Hex(oa + bytes - 1)},
            {"size", Hex(bytes)},  {"leaves", leaves},               {"attrs", attrs}, {"perms", perms}};
  }
  std::string ToText(const AddrWidths& w) const {
    return absl::StrFormat("va 0x%0*x-0x%0*x  oa 0x%0*x-0x%0*x  %7s  %s  %s  (%d leaves)\n", w.va, va, w.va,
                           va + bytes - 1, w.oa, oa, w.oa, oa + bytes - 1, BytesText(bytes), attrs, perms_text, leaves);
  }
};

// What the architecture's rules allow at a leaf: in the mode given ("priv")
// and with the family's user setting on top ("user"); an IOMMU has one
// request kind ("dma").
struct PermsColumns {
  FormatConfig priv, user;
  bool has_user = false;

  Json ToJson(const AnyFormat& f, const LoadedImage& img, Va va) const {
    if (!has_user) return {{"dma", f.HwPerms(img.mem.get(), img.root, va, priv)}};
    return {{"priv", f.HwPerms(img.mem.get(), img.root, va, priv)},
            {"user", f.HwPerms(img.mem.get(), img.root, va, user)}};
  }
  std::string ToText(const AnyFormat& f, const LoadedImage& img, Va va) const {
    if (!has_user) return absl::StrFormat("dma %s", f.HwPerms(img.mem.get(), img.root, va, priv));
    return absl::StrFormat("priv %s user %s", f.HwPerms(img.mem.get(), img.root, va, priv),
                           f.HwPerms(img.mem.get(), img.root, va, user));
  }
};

Json LeafJson(const FormatInfo& info, const LeafInfo& l, Json perms) {
  return {{"va", Hex(l.va.value())},     {"oa", Hex(l.oa.value())},
          {"size", Hex(uint64_t{1} << l.size_lg2)},
          {"level", l.level.value()},    {"raw", Hex(l.raw)},
          {"attrs", NamedBitsJson(info, l.raw)}, {"perms", std::move(perms)}};
}

// Problems kept for the JSON document; more are only counted (the text
// form prints every one as it is found).
constexpr uint64_t kJsonProblemCap = 10'000;

Json ProblemJson(const AnyFormat& f, const LoadedImage& img, const TreeProblem& p) {
  return {{"va", Hex(p.va.value())}, {"level", p.level.value()}, {"entry_addr", Hex(p.entry_addr.value())},
          {"raw", Hex(p.raw)}, {"what", ProblemLine(f, img, p).substr(std::string_view("problem: ").size())}};
}

int RunDump(const DumpOptions& o) {
  auto img = LoadImage(o.image);
  if (!img.ok()) return Fail(img.status());
  const AnyFormat& f = *img->format;
  if (o.dot) return RunDumpDot(f, *img, o.limit == 0 ? UINT64_MAX : o.limit);
  const FormatInfo& info = f.Info();
  const AddrWidths w = AddrWidths::Of(info);
  PermsColumns cols;
  auto priv = ParseMode(info, false, img->ModeSettings(o.mode));
  if (!priv.ok()) return Fail(priv.status());
  cols.priv = *priv;
  cols.has_user = !info.user_mode.empty();
  if (cols.has_user) {
    cols.user = cols.priv;
    if (auto st = ApplySettingList("mode", info.mode_knobs, info.user_mode, &cols.user); !st.ok()) return Fail(st);
  }

  // JSON: {"format", "root", "image", "leaves" (or "runs"): [...],
  // "problems": [...], "problem_count", "limited"}, the leaves streamed as
  // they are found.
  std::optional<JsonArrayWriter> leaves;
  if (o.json) {
    Json from = Json::array();
    for (const FromImage& x : img->from_image) {
      from.push_back({{"what", x.what}, {"value", x.value}, {"source", x.source}});
    }
    std::fputs(absl::StrFormat("{\"format\": %s, \"root\": \"%s\", \"root_source\": %s, \"from_image\": %s, "
                               "\"image\": \"%s\", \"%s\": ",
                               Json(info.name).dump(), Hex(img->root.value()), Json(img->root_source).dump(),
                               from.dump(), img->Extent(), o.runs ? "runs" : "leaves")
                   .c_str(),
               stdout);
    leaves.emplace();
  } else {
    for (const std::string& line : img->FromImageLines()) absl::PrintF("# %s\n", line);
  }
  Run run;
  uint64_t n_runs = 0;
  auto flush_run = [&] {
    if (run.leaves == 0) return;
    ++n_runs;
    if (o.json) {
      leaves->Add(run.ToJson());
    } else {
      std::fputs(run.ToText(w).c_str(), stdout);
    }
    run = Run{};
  };
  Json problems = Json::array();
  uint64_t n_leaves = 0, n_problems = 0;
  bool limited = false;
  const uint64_t limit = o.limit == 0 ? UINT64_MAX : o.limit;
  f.ForEachLeaf(
      img->mem.get(), img->root,
      [&](const LeafInfo& l) {
        if (n_leaves >= limit) {
          limited = true;
          return false;
        }
        ++n_leaves;
        if (o.runs) {
          const std::string attrs = AttrsToString(l.attrs);
          const std::string perms = cols.ToText(f, *img, l.va);
          if (run.Extends(l, attrs, perms)) {
            run.bytes += uint64_t{1} << l.size_lg2;
            ++run.leaves;
            return true;
          }
          flush_run();
          run = Run{l.va.value(), l.oa.value(), uint64_t{1} << l.size_lg2, 1, attrs, perms,
                    o.json ? cols.ToJson(f, *img, l.va) : Json()};
        } else if (o.json) {
          leaves->Add(LeafJson(info, l, cols.ToJson(f, *img, l.va)));
        } else {
          std::string line = LeafLine(f, w, l);
          line.insert(line.size() - 1, "  " + cols.ToText(f, *img, l.va));
          std::fputs(line.c_str(), stdout);
        }
        return true;
      },
      [&](const TreeProblem& p) {
        if (n_problems >= limit) {
          limited = true;
          return false;
        }
        ++n_problems;
        if (!o.json) {
          Note(ProblemLine(f, *img, p));
        } else if (problems.size() < kJsonProblemCap) {
          problems.push_back(ProblemJson(f, *img, p));
        }
        return true;
      });
  flush_run();
  if (o.json) {
    leaves.reset();
    const Json rest = {{"problems", std::move(problems)}, {"problem_count", n_problems}, {"limited", limited}};
    const std::string text = rest.dump(2, ' ', false, Json::error_handler_t::replace);
    // `rest` without its braces continues the object the leaves opened.
    std::fputs(absl::StrFormat(", %s}\n", text.substr(1, text.size() - 2)).c_str(), stdout);
  } else {
    if (o.runs) {
      absl::PrintF("# %d leaves in %d runs\n", n_leaves, n_runs);
    } else {
      absl::PrintF("# %d leaves\n", n_leaves);
    }
  }
  if (auto st = img->ReadStatus(); !st.ok()) return Fail(st);
  if (limited) {
    Note(absl::StrFormat("stopped at --limit %d (leaves or problems); the image describes more", o.limit));
  }
  if (n_problems > 0) {
    Note(absl::StrFormat(
        "%d problem%s in the tables under root 0x%x%s (image %s); the leaves listed are those reachable", n_problems,
        n_problems == 1 ? "" : "s", img->root.value(), img->RootFrom(), img->Extent()));
    return kExitFinding;
  }
  return kExitOk;
}

}  // namespace

void AddDumpCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DumpOptions>();
  CLI::App* sub = app.add_subcommand("dump", "List every leaf mapping in a physical-memory image (raw or ELF core)");
  AddImageOptions(sub, &o->image);
  AddModeOption(sub, &o->mode);
  sub->add_flag("--json", o->json,
                "Print {format, root, root_source, from_image, image, leaves, problems, problem_count, limited}: "
                "root_source is '--root' or the note it came from, from_image what an ELF core's notes decided "
                "({what, value, source}), leaves an array of "
                "{va, oa, size, level, raw, attrs, perms} (attrs maps each named bit of the format to its value in "
                "the leaf entry, perms the accesses allowed per mode: {priv, user} or {dma}), problems one "
                "{va, level, entry_addr, raw, what} per problem found (the first 10000)");
  CLI::Option* json = sub->get_option("--json");
  sub->add_flag("--dot", o->dot,
                "Print the tables as a Graphviz digraph instead (pipe to 'dot -Tsvg'): a node per table (level "
                "name, address, first VA), an edge from the entry that points to it, the leaves of each table "
                "merged into runs (VA and OA contiguous, same attributes); a table reached twice (shared or in "
                "a cycle) and every other problem are marked in red")
      ->excludes(json);
  sub->add_flag("--runs", o->runs,
                "Merge leaves that continue one another (VA and OA contiguous, same attributes and permissions) "
                "into one line per range: va FIRST-LAST, oa FIRST-LAST, size, attributes, permissions, leaf "
                "count; with --json, 'runs' of {va, va_last, oa, oa_last, size, leaves, attrs, perms} replace "
                "'leaves'");
  sub->add_option("--limit,-n", o->limit,
                  "Stop after this many leaves (and at most this many problems); 0 = no limit")
      ->check(NotNegative())
      ->capture_default_str()
      ->type_name("N");
  SetHelp(sub, R"(Walks the tree under --root in an image of physical memory (the output of
'ptsim image', QEMU's pmemsave, a RAM dump, or an ELF core such as QEMU's
dump-guest-memory or a kdump vmcore) and prints every leaf in VA order:
  va, oa, size, level and its name, effective permissions (rwxugad: leaf
  ANDed with the tables above, as the neutral rules see them), the entry's
  kind and named bits set, then what the architecture's own rules allow:
  'priv rwx' in the CPU mode given with --mode (by default the family's
  privileged mode: x86 CPL 0, ARM EL1/PL1, RISC-V S-mode) and 'user r-x'
  with the family's user setting on top (CPL 3, EL0/PL0, U-mode), or 'dma rw-'
  for an IOMMU. These see every level's own bits: ARM PXNTable stops EL1
  fetches only, UXNTable EL0 ones; SMEP, SMAP, PAN, SUM and MXR apply as set.
  A flag the hardware leaves to software (ARM AF with HA=0, RISC-V Svade)
  does not count against an access.
Nothing in the image is trusted: a table pointer outside the image (e.g. a
truncated image), an invalid encoding, a cycle (a table that points back to
itself or to a table above it) or a table reachable through two entries is
reported as a problem (on stderr, or in the JSON), naming the path of table
addresses and entry indices that leads to it; the walk goes on without
following the repeated pointer, so every table is read at most once whatever
--limit says, and the exit status is 1. An image too short to hold the
top-level table at --root is an input error (exit 2). The image is never
modified.

Addresses are hex (0x...) or decimal. A raw image is loaded at --image-base
(4 KiB aligned); the root must lie inside it, aligned to the top-level table's
size. An ELF core (recognised by its magic) places its memory itself: its
PT_LOAD segments are the physical ranges, and an address in a hole between
them is outside the image. Its notes give the rest when they can: QEMU's x86
CPU note gives the format (EM_X86_64 with CR4.LA57: 4- or 5-level; EM_386
with CR4.PAE: PAE or 32-bit), the root (CR3 of --cpu N, default 0) and the
mode (CR0.WP, CR4.SMEP/SMAP/PKE/PKS); a Linux VMCOREINFO note gives the
kernel's root (SYMBOL(swapper_pg_dir)) and paging mode. --format, --root and
--mode override them. QEMU writes no paging register for ARM or RISC-V: give
--format and --root. What came from the notes is printed first as '# ...'
lines. The file is read on demand: memory grows with the tables read, not
with the image.

Examples:
  ptsim dump -i guest.core                   # QEMU dump-guest-memory of an x86 guest
  ptsim dump -i vmcore -f armv8_s1_4k -c ttbr1=1 -r 0x41e3b000
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 --mode smep=1,smap=1
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 --runs
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 --dot | dot -Tsvg -o tables.svg
  ptsim dump --format x86_64_4level --config maxphyaddr=46 --image ram.bin \
             --image-base 0 --root 0x1aa000 --json --limit 100)");
  sub->callback([o, exit_code] { *exit_code = RunDump(*o); });
}

}  // namespace ptsim::cli
