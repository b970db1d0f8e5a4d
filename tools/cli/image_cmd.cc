// ptsim image: build a program's page tables and save the table memory as a
// raw physical-memory image, for dump, translate and (later) QEMU.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/harness/executor.h"
#include "src/harness/program.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

struct ImageCmdOptions {
  std::string program;
  std::string out;
  bool json = false;
};

struct Built {
  uint64_t applied = 0;
  uint64_t failed = 0;
  uint64_t accesses_skipped = 0;
};

// The most leaves the maps of one program may ask for. ptsim image builds
// the whole tree in memory (tables plus per-leaf frame metadata) before
// writing it, so a single huge map of small pages would otherwise grow for
// minutes towards gigabytes before table memory runs out.
constexpr uint64_t kMaxImageLeaves = uint64_t{1} << 20;

// About how many leaves a map writes: its range over the largest leaf size
// that the VA and OA are equally aligned for (or the forced size). The
// edges of the range add at most a few smaller leaves per level.
uint64_t EstimateLeaves(const FormatInfo& info, const Op& op) {
  if (op.kind != OpKind::kMap) return 0;
  const uint64_t first = op.range.first.value();
  unsigned size = op.force_lg2;
  if (size == 0) {
    size = info.min_page_lg2;
    for (unsigned s : info.leaf_sizes_lg2) {  // largest first
      if (((first ^ op.oa.value()) & ((uint64_t{1} << s) - 1)) == 0 && op.range.SizeMinusOne() >> s != 0) {
        size = s;
        break;
      }
    }
  }
  if (size >= 64) return 1;
  return (op.range.SizeMinusOne() >> size) + 1;
}

// Refuses, before anything is built, a program whose maps would write more
// than kMaxImageLeaves leaves, with the estimate that says why.
absl::Status CheckImageSize(const FormatInfo& info, const Program& p) {
  uint64_t total = 0;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const uint64_t n = EstimateLeaves(info, p.ops[i]);
    total = n > UINT64_MAX - total ? UINT64_MAX : total + n;
    if (total <= kMaxImageLeaves) continue;
    const double bytes = static_cast<double>(total) * info.entry_bytes;
    return absl::ResourceExhaustedError(absl::StrFormat(
        "op %d (%s) brings the program's maps to about %d leaves, at least %.0f MiB of page-table entries and more "
        "for the frames they map; ptsim image builds at most %d leaves in memory before writing the image: map "
        "with larger leaves (no size_lg2=) or smaller ranges",
        i + 1, OpToText(p.ops[i]), total, bytes / (1 << 20), kMaxImageLeaves));
  }
  return absl::OkStatus();
}

// Applies the program's map/unmap/protect operations to `space`. A failing
// operation changes nothing (the space guarantees that), so building goes
// on; running out of table memory ends it.
Built Apply(const Program& p, AnySpace& space) {
  Built b;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    const std::optional<absl::Status> applied = ApplyTableOp(space, op);
    if (!applied) {
      ++b.accesses_skipped;
      continue;
    }
    const absl::Status& st = *applied;
    if (st.ok()) {
      ++b.applied;
      continue;
    }
    ++b.failed;
    Note(absl::StrFormat("note: op %d (%s) failed: %s", i + 1, OpToText(op), st.ToString()));
    if (st.code() == absl::StatusCode::kResourceExhausted) {
      Note("note: table memory is exhausted; the remaining operations are not applied");
      break;
    }
  }
  return b;
}

// The table region from its base to the end of the highest live table,
// rounded up to 4 KiB, with freed (poisoned) tables inside it zeroed so the
// image holds exactly the live tree.
std::vector<uint8_t> Snapshot(Arena& arena) {
  const uint64_t base = Arena::kTableBase;
  uint64_t end = base;
  const std::vector<Oa> live = arena.alloc().LiveTables();
  for (Oa t : live) end = std::max(end, t.value() + (uint64_t{1} << arena.alloc().Find(t)->size_lg2));
  const uint64_t size = (end - base + 0xfff) & ~uint64_t{0xfff};
  std::vector<uint8_t> bytes(size);
  for (Oa t : live) {
    const uint64_t n = uint64_t{1} << arena.alloc().Find(t)->size_lg2;
    arena.mem().Read(t, absl::MakeSpan(bytes.data() + (t.value() - base), n));
  }
  return bytes;
}

int RunImage(const ImageCmdOptions& o) {
  auto text = ReadFileBytes(o.program);
  if (!text.ok()) return Fail(text.status());
  auto program = ParseAny(*text);
  if (!program.ok()) return Fail(absl::StrFormat("%s: %s", o.program, program.status().message()));
  const FormatEntry* e = FindFormat(program->format);
  if (e == nullptr) return Fail(absl::StrFormat("%s: unknown format '%s'", o.program, program->format));
  const std::unique_ptr<AnyFormat> f = e->make(program->config);
  if (auto st = CheckImageSize(f->Info(), *program); !st.ok()) {
    return Fail(absl::StrFormat("%s: %s", o.program, st.message()));
  }

  Arena arena;
  const SpaceEnv env{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1};
  const std::unique_ptr<AnySpace> space = f->NewSpace(env);
  if (auto st = space->Init(); !st.ok()) return Fail(absl::StrFormat("cannot allocate the root table: %s", st.ToString()));
  const Built built = Apply(*program, *space);

  const std::vector<uint8_t> bytes = Snapshot(arena);
  if (auto st = WriteFileBytes(o.out, bytes); !st.ok()) return Fail(st);

  const std::vector<std::string> config = ConfigSettings(*f);
  if (o.json) {
    PrintJson({{"image", o.out},
               {"image_base", Hex(Arena::kTableBase)},
               {"root", Hex(space->root().value())},
               {"format", f->Info().name},
               {"config", config},
               {"size", Hex(bytes.size())},
               {"tables", arena.alloc().stats().live},
               {"leaves", space->leaves()},
               {"ops_applied", built.applied},
               {"ops_failed", built.failed},
               {"accesses_skipped", built.accesses_skipped}});
    return kExitOk;
  }
  absl::PrintF("image 0x%x root 0x%x format %s%s%s size 0x%x\n", Arena::kTableBase, space->root().value(),
               f->Info().name, config.empty() ? "" : " config ", absl::StrJoin(config, ","), bytes.size());
  return kExitOk;
}

}  // namespace

void AddImageCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ImageCmdOptions>();
  CLI::App* sub = app.add_subcommand("image", "Build a program's page tables and save them as a raw memory image");
  sub->add_option("program", o->program, "Text or binary program whose map/unmap/protect operations build the tables")
      ->required()
      ->type_name("PROGRAM");
  sub->add_option("-o,--output", o->out, "Image file to write")->required()->type_name("IMAGE");
  sub->add_flag("--json", o->json,
                "Print {image, image_base, root, format, config, size, tables, leaves, ops_applied, ops_failed, "
                "accesses_skipped}");
  SetHelp(sub, R"(Applies the program's map, unmap and protect operations to a fresh address
space (access operations are skipped; an operation that fails is reported on
stderr and changes nothing) and writes the table memory, from the table base
to the end of the highest live table, to IMAGE: the same raw bytes hardware
would read, as QEMU's pmemsave would save them. The tree is built in memory
first, so a program whose maps would write more than 1048576 leaves in all
(e.g. a large range forced to 4 KiB pages) is refused up front with an
estimate of its size (exit 2). Prints where the image lives
and how to interpret it:
  image <base> root <root> format <name> [config K=V,...] size <bytes>
which are exactly the --image-base, --root, --format and --config that
'ptsim dump' and 'ptsim translate' need.

Examples:
  ptsim image prog.txt -o tables.img
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000
  ptsim image --json crash-0123abcd -o crash.img)");
  sub->callback([o, exit_code] { *exit_code = RunImage(*o); });
}

}  // namespace ptsim::cli
