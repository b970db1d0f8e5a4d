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

// Applies the program's map/unmap/protect operations to `space`. A failing
// operation changes nothing (the space guarantees that), so building goes
// on; running out of table memory ends it.
Built Apply(const Program& p, AnySpace& space) {
  Built b;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    absl::Status st;
    switch (op.kind) {
      case OpKind::kMap:
        st = space.Map(op.range, op.oa, op.attrs, op.force_lg2);
        break;
      case OpKind::kUnmap:
        st = space.Unmap(op.range);
        break;
      case OpKind::kProtect:
        st = space.Protect(op.range, op.attrs);
        break;
      case OpKind::kAccess:
        ++b.accesses_skipped;
        continue;
    }
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
would read, as QEMU's pmemsave would save them. Prints where the image lives
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
