// ELF cores as images (tools/cli/elf_core.h, core_hints.h, image_loader.h):
// hand-made cores with holes between their PT_LOADs and QEMU's x86 CPU
// note, loaded with no --format and no --root; malformed cores, each a
// clear error (exit 2 from the CLI) and never a crash; random mutations of
// a valid core; a multi-GiB sparse core that costs the pages read.
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "tests/cli/core_builder.h"
#include "tools/cli/common.h"
#include "tools/cli/entry_text.h"
#include "tools/cli/image_loader.h"
#include "tools/cli/image_probe.h"

namespace ptsim::cli {
namespace {

using testing::CoreBuilder;
using testing::QemuX86Note;
using testing::Segment;

constexpr uint64_t kCr0PePgWp = 0x80010001, kCr4Pae = 0x20, kCr4La57 = 0x1000, kCr4Smep = 1u << 20;
constexpr uint64_t kTable = 0x7, kLeaf = 0x3, kBigLeaf = 0x83;  // x86 P|W|U, P|W, P|W|PS

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ptsim_elf_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// x86-64 4-level tables split over two PT_LOADs with a hole between them:
// PML4 and PDPT in [0x100000, 0x103fff] (the last 8 KiB p_memsz past
// p_filesz), PD and PT in [0x400000, 0x401fff].
CoreBuilder SplitTables(uint64_t cr3 = 0x100000, uint64_t cr4 = kCr4Pae) {
  CoreBuilder b;
  Segment low{.paddr = 0x100000, .filesz = 0x2000, .memsz = 0x4000};
  low.Put64(0x0000, 0x101000 | kTable);      // PML4[0] -> PDPT
  low.Put64(0x1000, 0x400000 | kTable);      // PDPT[0] -> PD
  low.Put64(0x1008, 0x40000000 | kBigLeaf);  // PDPT[1]: 1 GiB at VA 0x40000000
  Segment high{.paddr = 0x400000, .filesz = 0x2000, .memsz = 0x2000};
  high.Put64(0x0000, 0x401000 | kTable);    // PD[0] -> PT
  high.Put64(0x0008, 0x200000 | kBigLeaf);  // PD[1]: 2 MiB at VA 0x200000
  high.Put64(0x1000, 0x5000 | kLeaf);       // PT[0]: VA 0x0
  high.Put64(0x1028, 0x7000 | kTable);      // PT[5]: VA 0x5000
  b.segments = {low, high};
  b.notes = {{"CORE", 1, std::vector<uint8_t>(336, 0)}, QemuX86Note(kCr0PePgWp, cr3, cr4)};
  return b;
}

std::string Write(const TempDir& d, const std::string& name, const CoreBuilder& b) {
  const std::string path = d.File(name);
  EXPECT_TRUE(b.Build().Write(path)) << path;
  return path;
}

struct Walked {
  std::vector<std::string> leaves;  // "va oa size_lg2"
  std::vector<std::string> problems;
};

Walked WalkAll(const LoadedImage& img) {
  Walked w;
  img.format->ForEachLeaf(
      img.mem.get(), img.root,
      [&](const LeafInfo& l) {
        w.leaves.push_back(absl::StrFormat("0x%x 0x%x %d", l.va.value(), l.oa.value(), l.size_lg2));
        return true;
      },
      [&](const TreeProblem& p) {
        w.problems.push_back(ProblemLine(*img.format, img, p));
        return true;
      });
  return w;
}

absl::StatusOr<LoadedImage> Load(const std::string& path, ImageOptions o = {}) {
  o.image = path;
  return LoadImage(o);
}

TEST(ElfCore, QemuX86NoteGivesFormatRootAndModeAndEveryLeafIsFound) {
  TempDir d;
  const std::string path = Write(d, "core.elf", SplitTables(0x100000 | 0x5, kCr4Pae | kCr4Smep));
  auto img = Load(path);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->format->Info().name, "x86_64_4level");
  EXPECT_EQ(img->root.value(), 0x100000u);  // CR3's low bits (PCID) dropped
  EXPECT_EQ(img->RootText(), "root 0x100000 (CR3 of cpu0 in the ELF note)");
  EXPECT_EQ(img->mode, "wp=1,smep=1,smap=0,pke=0,pks=0");
  EXPECT_EQ(img->Extent(), "[0x100000, 0x103fff] [0x400000, 0x401fff]");
  const Walked w = WalkAll(*img);
  EXPECT_EQ(w.leaves, (std::vector<std::string>{"0x0 0x5000 12", "0x5000 0x7000 12", "0x200000 0x200000 21",
                                                "0x40000000 0x40000000 30"}));
  EXPECT_TRUE(w.problems.empty()) << w.problems[0];
  EXPECT_TRUE(img->ReadStatus().ok());
  // Four tables read, nothing else.
  EXPECT_LE(img->mem->allocated_chunks(), 4u);
}

TEST(ElfCore, La57AndTheCpuOptionPickTheFormatAndTheRegisters) {
  TempDir d;
  CoreBuilder b = SplitTables();
  b.notes.push_back(QemuX86Note(kCr0PePgWp, 0x400000, kCr4Pae | kCr4La57));
  const std::string path = Write(d, "two_cpus.elf", b);
  ImageOptions o;
  o.cpu = "1";
  auto img = Load(path, o);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->format->Info().name, "x86_64_5level");
  EXPECT_EQ(img->RootText(), "root 0x400000 (CR3 of cpu1 in the ELF note)");
  o.cpu = "2";
  auto bad = Load(path, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--cpu 2: the core's notes describe 2 CPUs (0 to 1)"), std::string::npos)
      << bad.status();
}

TEST(ElfCore, ExplicitRootAndFormatOverrideTheNotes) {
  TempDir d;
  const std::string path = Write(d, "core.elf", SplitTables());
  ImageOptions o;
  o.root = "0x101000";
  o.format = "x86_pae";
  auto img = Load(path, o);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->RootText(), "--root 0x101000");
  EXPECT_EQ(img->format->Info().name, "x86_pae");
  // The same architecture: the notes' mode still applies, under --mode.
  EXPECT_EQ(img->ModeSettings({"wp=0"}), (std::vector<std::string>{"wp=1,smep=0,smap=0,pke=0,pks=0", "wp=0"}));
  auto mode = ParseMode(img->format->Info(), false, img->ModeSettings({"wp=0"}));
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(SettingsDiff(img->format->Info().mode_knobs, *mode), "wp=0");
}

TEST(ElfCore, ATableInTheHoleIsOutsideTheImage) {
  TempDir d;
  CoreBuilder b = SplitTables();
  b.segments[1].Put64(0x0010, 0x200000 | kTable);  // PD[2] -> a PT in the hole
  b.segments[1].Put64(0x0018, 0x402000 | kTable);  // PD[3] -> just past the second range
  auto img = Load(Write(d, "hole.elf", b));
  ASSERT_TRUE(img.ok()) << img.status();
  const Walked w = WalkAll(*img);
  ASSERT_EQ(w.problems.size(), 2u);
  EXPECT_EQ(w.problems[0],
            "problem: va 0x400000, level 0 (PT): table at 0x200000 lies outside the image [0x100000, 0x103fff] "
            "[0x400000, 0x401fff] (truncated image or bad table pointer)");
  EXPECT_NE(w.problems[1].find("table at 0x402000 lies outside the image"), std::string::npos) << w.problems[1];
  EXPECT_EQ(w.leaves.size(), 4u);
  WalkTrace trace;
  const HwWalkResult r =
      img->format->HwTranslate(img->mem.get(), img->root, Va(0x400000), AccessType::kRead,
                               FormatConfig::Defaults(img->format->Info().mode_knobs), &trace, false);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.fault.kind, FaultKind::kOutsideMemory);
}

TEST(ElfCore, ARootInTheHoleOrAPagingOffCpuIsAnInputError) {
  TempDir d;
  auto hole = Load(Write(d, "root_hole.elf", SplitTables(0x200000)));
  ASSERT_FALSE(hole.ok());
  EXPECT_NE(hole.status().message().find("root 0x200000 (CR3 of cpu0 in the ELF note) is outside the image "
                                         "[0x100000, 0x103fff] [0x400000, 0x401fff]"),
            std::string::npos)
      << hole.status();
  CoreBuilder off = SplitTables();
  off.notes[1] = QemuX86Note(0x11, 0x100000, kCr4Pae);
  auto paging_off = Load(Write(d, "off.elf", off));
  ASSERT_FALSE(paging_off.ok());
  EXPECT_NE(paging_off.status().message().find("cpu0 has paging off (CR0 0x11: PG=0)"), std::string::npos)
      << paging_off.status();
}

TEST(ElfCore, ArmAndRiscvCoresNeedRootAndFormatBecauseQemuWritesNoTtbrOrSatp) {
  TempDir d;
  CoreBuilder b = SplitTables();
  b.machine = 183;  // EM_AARCH64
  b.notes = {{"CORE", 1, std::vector<uint8_t>(392, 0)}};
  const std::string path = Write(d, "arm.elf", b);
  auto img = Load(path);
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.status().message().find("needs --format"), std::string::npos) << img.status();
  EXPECT_NE(img.status().message().find("TTBR0_EL1/TTBR1_EL1"), std::string::npos) << img.status();
  ImageOptions o;
  o.format = "armv8_s1_4k";
  auto no_root = Load(path, o);
  ASSERT_FALSE(no_root.ok());
  EXPECT_NE(no_root.status().message().find("needs --root"), std::string::npos) << no_root.status();
  o.root = "0x100000";
  EXPECT_TRUE(Load(path, o).ok());
  b.machine = 243;  // EM_RISCV
  auto riscv = Load(Write(d, "riscv.elf", b));
  ASSERT_FALSE(riscv.ok());
  EXPECT_NE(riscv.status().message().find("no satp"), std::string::npos) << riscv.status();
}

TEST(ElfCore, VmcoreinfoGivesTheKernelsRootThroughPhysBaseOrAVirtualSegment) {
  TempDir d;
  CoreBuilder b = SplitTables();
  b.notes = {{"CORE", 1, std::vector<uint8_t>(336, 0)},
             testing::TextNote("VMCOREINFO",
                               "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff82100000\n"
                               "NUMBER(phys_base)=-33554432\nNUMBER(pgtable_l5_enabled)=0\n")};
  // phys_base is printed with %ld: -0x2000000 puts the kernel 32 MiB lower
  // than it was linked for.
  auto img = Load(Write(d, "vmcore.elf", b));
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->root.value(), 0x100000u);
  EXPECT_EQ(img->format->Info().name, "x86_64_4level");
  EXPECT_NE(img->root_source.find("- 0xffffffff80000000 + NUMBER(phys_base) 0xfffffffffe000000"), std::string::npos)
      << img->root_source;
  // A kexec-style kernel text segment: its p_vaddr maps the symbol, and it
  // repeats bytes of the RAM segment at its physical address.
  CoreBuilder k = b;
  Segment text = k.segments[0];
  text.vaddr = 0xffffffff82100000ull;
  text.filesz = text.memsz = 0x1000;
  text.bytes.clear();
  text.Put64(0, 0x101000 | kTable);
  k.segments.push_back(text);
  auto img2 = Load(Write(d, "vmcore_text.elf", k));
  ASSERT_TRUE(img2.ok()) << img2.status();
  EXPECT_EQ(img2->root.value(), 0x100000u);
  EXPECT_NE(img2->root_source.find("SYMBOL(swapper_pg_dir)=0xffffffff82100000 in VMCOREINFO, through PT_LOAD 3"),
            std::string::npos)
      << img2->root_source;
  EXPECT_EQ(WalkAll(*img2).leaves.size(), 4u);
}

TEST(ElfCore, VmcoreinfoOfArm64AndRiscvKernelsGivesFormatKnobsAndRoot) {
  TempDir d;
  CoreBuilder arm = SplitTables();
  arm.machine = 183;  // EM_AARCH64
  arm.notes = {testing::TextNote("VMCOREINFO",
                                 "PAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffff800081100000\nNUMBER(VA_BITS)=48\n"
                                 "NUMBER(kimage_voffset)=0xffff800081000000\nNUMBER(tcr_el1_t1sz)=0x10\n")};
  const std::string arm_path = Write(d, "arm_vmcore.elf", arm);
  auto img = Load(arm_path);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->format->Info().name, "armv8_s1_4k");
  EXPECT_EQ(img->root.value(), 0x100000u);
  const std::vector<std::string> cfg = ConfigSettings(*img->format);
  EXPECT_NE(std::find(cfg.begin(), cfg.end(), "ttbr1=1"), cfg.end());
  EXPECT_NE(std::find(cfg.begin(), cfg.end(), "va_bits=48"), cfg.end());
  // Naming the same format keeps the notes' knobs; --config still wins.
  ImageOptions o;
  o.format = "armv8_s1_4k";
  o.config = {"va_bits=47"};
  auto named = Load(arm_path, o);
  ASSERT_TRUE(named.ok()) << named.status();
  const std::vector<std::string> cfg2 = ConfigSettings(*named->format);
  EXPECT_NE(std::find(cfg2.begin(), cfg2.end(), "ttbr1=1"), cfg2.end());
  EXPECT_NE(std::find(cfg2.begin(), cfg2.end(), "va_bits=47"), cfg2.end());

  CoreBuilder rv = SplitTables();
  rv.machine = 243;  // EM_RISCV
  rv.segments[0].vaddr = 0xffffffff80000000ull;  // the kernel's mapping of its first segment
  rv.notes = {testing::TextNote("VMCOREINFO", "SYMBOL(swapper_pg_dir)=ffffffff80001000\nNUMBER(VA_BITS)=39\n")};
  auto riscv = Load(Write(d, "riscv_vmcore.elf", rv));
  ASSERT_TRUE(riscv.ok()) << riscv.status();
  EXPECT_EQ(riscv->format->Info().name, "riscv_sv39");
  EXPECT_EQ(riscv->root.value(), 0x101000u);
}

TEST(ElfCore, ASegmentWithNoFileBytesIsZerosWhateverItsOffset) {
  TempDir d;
  CoreBuilder b = SplitTables();
  b.segments.push_back(Segment{.paddr = 0x800000, .filesz = 0, .memsz = 0x1000, .offset = 0xfffffffff000ull});
  auto img = Load(Write(d, "zeros.elf", b));
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_TRUE(img->mem->Contains(Oa(0x800ff8), 8));
  EXPECT_EQ(*img->mem->Readable(Oa(0x800ff8)), 0);
}

struct BadCore {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string message;
};

std::vector<BadCore> BadCores() {
  std::vector<BadCore> out;
  const std::vector<uint8_t> good = SplitTables().Build().Flat();
  out.push_back({"truncated_header", std::vector<uint8_t>(good.begin(), good.begin() + 40),
                 "truncated ELF header: the file has 40 bytes, an ELF64 header needs 64"});
  std::vector<uint8_t> phoff = good;
  testing::PutLe(phoff, 32, good.size() - 8, 8);
  out.push_back({"phdrs_past_eof", phoff, "the program header table"});
  CoreBuilder past = SplitTables();
  past.segments[1].offset = 0x3000;
  past.segments[1].filesz = past.segments[1].memsz = 0x100000;
  std::vector<uint8_t> past_bytes = past.Build().Flat();
  past_bytes.resize(0x4000);
  out.push_back({"filesz_past_eof", past_bytes, "PT_LOAD 2: its file bytes [0x3000, 0x103000)"});
  CoreBuilder none = SplitTables();
  none.segments.clear();
  out.push_back({"no_pt_load", none.Build().Flat(), "no PT_LOAD segment with memory"});
  CoreBuilder overlap = SplitTables();
  overlap.segments[1].paddr = 0x101000;  // over the PDPT, with other bytes
  out.push_back({"overlap", overlap.Build().Flat(), "PT_LOAD 2 [0x101000, 0x102fff] overlaps PT_LOAD 1"});
  CoreBuilder exec = SplitTables();
  exec.type = 2;
  out.push_back({"not_core", exec.Build().Flat(), "ELF type (e_type) 2 is not a core file"});
  return out;
}

TEST(ElfCore, MalformedCoresAreInputErrorsNamingTheValue) {
  TempDir d;
  for (const BadCore& c : BadCores()) {
    const std::string path = d.File(c.name);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
    auto img = Load(path);
    ASSERT_FALSE(img.ok()) << c.name;
    EXPECT_NE(img.status().message().find(c.message), std::string::npos) << c.name << ": " << img.status();
  }
}

// What the CLI makes of them: exit 2 and the message on stderr.
TEST(ElfCore, TheCliExitsTwoWithTheMessageForEachMalformedCore) {
  TempDir d;
  for (const BadCore& c : BadCores()) {
    const std::string path = d.File(c.name);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
    const std::string err = d.File(c.name + ".err");
    const std::string cmd = absl::StrFormat("%s dump --image %s >/dev/null 2>%s", PTSIM_BINARY, path, err);
    const int rc = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(rc)) << c.name;
    EXPECT_EQ(WEXITSTATUS(rc), 2) << c.name;
    std::stringstream text;
    text << std::ifstream(err).rdbuf();
    EXPECT_NE(text.str().find(c.message), std::string::npos) << c.name << ": " << text.str();
  }
}

TEST(ElfCore, RandomMutationsOfAValidCoreNeverCrash) {
  const std::vector<uint8_t> good = SplitTables().Build().Flat();
  std::mt19937_64 rng(20240607);
  uint64_t loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> input(kProbeHeaderBytes, 0);
    input[0] = static_cast<uint8_t>(rng());
    input[1] = static_cast<uint8_t>(rng());
    std::vector<uint8_t> core = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      // Mostly the header, program headers and notes, where the structure is.
      const size_t at = rng() % 4 != 0 ? rng() % 0x300 : rng() % core.size();
      core[at] = rng() % 2 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(core[at] ^ (1u << (rng() % 8)));
    }
    if (rng() % 8 == 0) core.resize(rng() % core.size());
    input.insert(input.end(), core.begin(), core.end());
    loaded += ProbeImage(input).loaded ? 1 : 0;
  }
  EXPECT_GT(loaded, 100u);  // the mutations reach the walks, not only the header checks
}

TEST(ElfCore, AMultiGibibyteSparseCoreCostsThePagesRead) {
  TempDir d;
  CoreBuilder b = SplitTables();
  // RAM of 6 GiB in two segments, nearly all of it a hole in the file, the
  // tables at its top.
  Segment ram{.paddr = 0x100000000ull, .filesz = 0x100000000ull, .memsz = 0x100000000ull};
  Segment top{.paddr = 0x200000000ull, .filesz = 0x80000000ull, .memsz = 0x80000000ull};
  top.Put64(0x7ffff000, 0x200000000ull | kTable);
  b.segments.push_back(ram);
  b.segments.push_back(top);
  b.notes[1] = QemuX86Note(kCr0PePgWp, 0x27ffff000ull, kCr4Pae);
  const std::string path = Write(d, "sparse.elf", b);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto img = Load(path);
  ASSERT_TRUE(img.ok()) << img.status();
  const Walked w = WalkAll(*img);
  EXPECT_TRUE(w.problems.empty());
  EXPECT_LE(img->mem->allocated_chunks(), 2u);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 32 * 1024) << "KiB";
}

TEST(ElfCore, ASparseRawImageCostsThePagesRead) {
  TempDir d;
  const std::string path = d.File("raw.img");
  {
    std::ofstream out(path, std::ios::binary);
    out.seekp(0x17ffff000ll);
    const uint64_t pml4e = 0x180000000ull | kTable;  // points just past the file: outside the image
    out.write(reinterpret_cast<const char*>(&pml4e), 8);
    out.seekp(0x17fffffffll);
    out.put(0);
  }
  ImageOptions o;
  o.format = "x86_64_4level";
  o.root = "0x17ffff000";
  auto img = Load(path, o);
  ASSERT_TRUE(img.ok()) << img.status();
  const Walked w = WalkAll(*img);
  ASSERT_EQ(w.problems.size(), 1u);
  EXPECT_NE(w.problems[0].find("table at 0x180000000 lies outside the image [0x0, 0x17fffffff]"), std::string::npos)
      << w.problems[0];
  EXPECT_EQ(img->mem->allocated_chunks(), 1u);
}

}  // namespace
}  // namespace ptsim::cli
