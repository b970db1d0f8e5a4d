// QEMU writes the ELF core: for each x86 paging mode, ptsim builds page
// tables in a paused QEMU guest's RAM, the QEMU oracle's machinery
// (tools/cli/oracle/) points the CPU at them (CR0, CR3, CR4, EFER through
// QEMU's gdb stub), QEMU's dump-guest-memory writes the guest's memory as
// an ELF core, and `ptsim dump --image CORE --json` with no --format and no
// --root lists exactly the leaves ptsim built. Skipped when QEMU is not
// installed.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "src/any/any_format.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"
#include "tools/cli/oracle/qemu_process.h"
#include "tools/cli/oracle/targets.h"

namespace ptsim {
namespace {

constexpr uint64_t kTableWindow = uint64_t{16} << 20;

std::string RunPtsim(const std::string& args, int* rc) {
  const std::string cmd = std::string(PTSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p != nullptr && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = p != nullptr ? pclose(p) : -1;
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Leaves of every size the format has (up to 1 GiB), in both halves of
// the VA space: deterministic, a few tables per level.
void BuildTables(const AnyFormat& f, AnySpace& space) {
  const FormatInfo& info = f.Info();
  const uint64_t span = uint64_t{1} << info.va_bits, step = span / 16;
  uint64_t oa = 0x200000;
  for (size_t i = 0; i < info.leaf_sizes_lg2.size(); ++i) {
    const unsigned s = info.leaf_sizes_lg2[i];
    if (s > 30) continue;  // keep the output addresses small
    const uint64_t count = s == info.min_page_lg2 ? 5 : 2, bytes = count << s;
    for (uint64_t low : {step * (1 + i), span - step * (1 + i) - bytes}) {
      low &= ~((uint64_t{1} << s) - 1);
      const VaRange r{f.CanonicalVa(low), f.CanonicalVa(low + bytes - 1)};
      oa = (oa + (uint64_t{1} << s) - 1) & ~((uint64_t{1} << s) - 1);
      const absl::Status st = space.Map(r, Oa(oa), f.Canonical(LeafAttrs::FromBits(0b0001011)), s);  // r w - u
      ASSERT_TRUE(st.ok()) << st << " va 0x" << std::hex << low;
      oa += bytes;
    }
  }
}

class QemuCoreTest : public ::testing::TestWithParam<const char*> {};

TEST_P(QemuCoreTest, DumpOfQemusElfCoreFindsTheBuiltLeavesWithNoRootOrFormat) {
  const std::string format = GetParam();
  auto target = oracle::MakeTarget(format);
  ASSERT_NE(target, nullptr);
  auto f = MakeFormat(format, {});
  ASSERT_TRUE(f.ok()) << f.status();
  const oracle::QemuLaunch launch = target->Launch(**f);
  if (!oracle::FindOnPath(launch.binary).ok()) GTEST_SKIP() << launch.binary << " is not installed";
  auto q = oracle::QemuProcess::Start(launch);
  ASSERT_TRUE(q.ok()) << q.status();

  PhysMem mem(Oa((*q)->ram_base()), (*q)->ram_size());
  const uint64_t table_base = target->TableBase();
  TableAllocator alloc(&mem, OaRange{Oa(table_base), Oa(table_base + kTableWindow - 1)});
  FrameTable frames;
  std::unique_ptr<AnySpace> space = (*f)->NewSpace(SpaceEnv{&mem, &alloc, &frames, nullptr, 1});
  ASSERT_TRUE(space->Init().ok());
  BuildTables(**f, *space);
  std::vector<std::string> built;
  (*f)->ForEachLeaf(
      &mem, space->root(),
      [&](const LeafInfo& l) {
        built.push_back(absl::StrFormat("0x%x 0x%x 0x%x", l.va.value(), l.oa.value(), uint64_t{1} << l.size_lg2));
        return true;
      },
      [](const TreeProblem&) { return true; });
  ASSERT_GE(built.size(), 8u);

  // The table window into guest RAM, then the paging registers.
  uint64_t end = table_base;
  for (Oa t : alloc.LiveTables()) end = std::max(end, t.value() + (uint64_t{1} << alloc.Find(t)->size_lg2));
  mem.Read(Oa(table_base), absl::MakeSpan((*q)->ram() + (table_base - (*q)->ram_base()), end - table_base));
  ASSERT_TRUE(target->Enter(**q, **f, space->root(), 0).ok());

  char dir_tmpl[] = "/tmp/ptsim_qemu_core_XXXXXX";
  const std::string dir = mkdtemp(dir_tmpl);
  const std::string core = dir + "/core.elf";
  auto reply = (*q)->qmp().Hmp("dump-guest-memory " + core);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(std::filesystem::exists(core)) << *reply;

  int rc = 0;
  const std::string out = RunPtsim("dump --json --image " + core, &rc);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(rc, 0) << out;
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["format"], format);
  EXPECT_EQ(j["root"], absl::StrFormat("0x%x", space->root().value()));
  EXPECT_EQ(j["root_source"], "CR3 of cpu0 in the ELF note");
  std::vector<std::string> dumped;
  for (const auto& l : j["leaves"]) {
    dumped.push_back(absl::StrFormat("%s %s %s", l["va"].get<std::string>(), l["oa"].get<std::string>(),
                                     l["size"].get<std::string>()));
  }
  EXPECT_EQ(dumped, built);
  EXPECT_EQ(j["problem_count"], 0);
}

INSTANTIATE_TEST_SUITE_P(X86, QemuCoreTest, ::testing::Values("x86_32", "x86_pae", "x86_64_4level", "x86_64_5level"),
                         [](const ::testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

}  // namespace
}  // namespace ptsim
