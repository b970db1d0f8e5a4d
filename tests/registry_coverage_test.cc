// Everything that claims to cover "every format" enumerates the registry
// (src/formats/all_formats.h), not a list kept by hand: the typed
// conformance suite, both fuzzers' format selection, and `ptsim formats`.
// tests/lint/format_names_lint.sh checks the other half: that no code
// outside src/formats/ names a concrete format type.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/formats/all_formats.h"
#include "src/harness/diff.h"
#include "src/harness/program.h"

namespace ptsim {
namespace {

std::vector<std::string> RegistryNames() {
  std::vector<std::string> names;
  for (const FormatEntry& e : Registry()) names.emplace_back(e.name);
  return names;
}

TEST(RegistryCoverage, RegistryIsExactlyTheFormatList) {
  std::vector<std::string> listed;
  AllFormats::ForEach([&]<typename F>() { listed.emplace_back(F::kName); });
  EXPECT_EQ(listed, RegistryNames());
}

TEST(RegistryCoverage, OpsFuzzerInputsReachEveryRegisteredFormat) {
  for (const FormatEntry& e : Registry()) {
    const std::vector<uint8_t> input = {kProgramVersion, static_cast<uint8_t>(e.id), static_cast<uint8_t>(e.id >> 8),
                                        static_cast<uint8_t>(e.id >> 16), static_cast<uint8_t>(e.id >> 24)};
    EXPECT_EQ(DecodeBinary(input).format, e.name) << "id " << e.id;
  }
}

TEST(RegistryCoverage, DiffFuzzerRunsEveryRegisteredFormat) {
  EXPECT_EQ(AllFormatNames(), RegistryNames());
  Program p;
  p.format = std::string(Registry().front().name);
  p.config = FormatConfig::Defaults(Registry().front().knobs);
  p.ops.push_back(Op{.kind = OpKind::kAccess, .va = Va(0)});
  Arena arena;
  const DiffResult r = RunDiff(p, AllFormatNames(), arena);
  std::vector<std::string> ran;
  for (const FormatRun& run : r.runs) ran.push_back(run.program.format);
  EXPECT_EQ(ran, RegistryNames());
  EXPECT_TRUE(r.ok());
}

TEST(RegistryCoverage, PtsimFormatsJsonListsEveryRegisteredFormat) {
  const std::string cmd = std::string(PTSIM_BINARY) + " formats --json";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr) << cmd;
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe.get())) > 0;) out.append(buf, n);
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << out.substr(0, 200);
  std::vector<std::string> listed;
  for (const auto& f : j) listed.push_back(f.at("name").get<std::string>());
  EXPECT_EQ(listed, RegistryNames());
}

}  // namespace
}  // namespace ptsim
