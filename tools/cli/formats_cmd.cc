// ptsim formats: every registered format's geometry and knobs.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

struct FormatsOptions {
  std::vector<std::string> names;
  std::vector<std::string> config;
  bool json = false;
};

const char* VaExtName(VaExtension e) {
  switch (e) {
    case VaExtension::kZero:
      return "zero";
    case VaExtension::kOnes:
      return "ones";
    case VaExtension::kSign:
      return "sign";
  }
  return "?";
}

const char* VaExtHelp(VaExtension e) {
  switch (e) {
    case VaExtension::kZero:
      return "upper bits zero";
    case VaExtension::kOnes:
      return "upper bits one";
    case VaExtension::kSign:
      return "sign-extended";
  }
  return "?";
}

Json ToJson(const AnyFormat& f) {
  const FormatInfo& info = f.Info();
  Json j;
  j["name"] = info.name;
  j["id"] = absl::StrFormat("0x%08x", info.id);
  j["entry_bytes"] = info.entry_bytes;
  j["va_bits"] = info.va_bits;
  j["va_extension"] = VaExtName(info.va_ext);
  j["oa_bits"] = info.oa_bits;
  j["levels"] = Json::array();
  j["page_sizes"] = Json::array();
  for (const LevelInfo& l : info.levels) {
    j["levels"].push_back({{"level", l.level},
                           {"name", l.name},
                           {"entries", uint64_t{1} << l.index_lg2},
                           {"index_bits", l.index_lg2},
                           {"entry_maps", Hex(uint64_t{1} << l.item_lg2)},
                           {"entry_maps_lg2", l.item_lg2},
                           {"table_bytes", uint64_t{1} << l.table_size_lg2},
                           {"can_leaf", l.can_leaf},
                           {"can_table", l.can_table}});
    // Replicated leaves (several entries of this level) have "entries" > 1.
    for (unsigned s = 64; s-- > 0;) {
      if (((l.leaf_sizes_mask >> s) & 1) == 0) continue;
      j["page_sizes"].push_back({{"level", l.level},
                                 {"name", l.name},
                                 {"size", Hex(uint64_t{1} << s)},
                                 {"size_lg2", s},
                                 {"entries", uint64_t{1} << (s - l.item_lg2)}});
    }
  }
  j["knobs"] = Json::array();
  for (size_t i = 0; i < info.knobs.size(); ++i) {
    const ConfigKnob& k = info.knobs[i];
    j["knobs"].push_back({{"name", std::string(k.name)},
                          {"min", k.min},
                          {"max", k.max},
                          {"default", k.def},
                          {"value", f.Config().Get(static_cast<int>(i))},
                          {"help", std::string(k.help)}});
  }
  j["mode_knobs"] = Json::array();
  for (const ConfigKnob& k : info.mode_knobs) {
    j["mode_knobs"].push_back({{"name", std::string(k.name)},
                               {"min", k.min},
                               {"max", k.max},
                               {"default", k.def},
                               {"help", std::string(k.help)}});
  }
  j["user_mode"] = std::string(info.user_mode);
  j["named_bits"] = Json::array();
  for (const NamedBit& b : info.named_bits) {
    j["named_bits"].push_back({{"name", std::string(b.name)}, {"bit", b.bit}, {"negative", b.negative}});
  }
  return j;
}

void PrintHuman(const AnyFormat& f) {
  const FormatInfo& info = f.Info();
  std::printf("%s  (id 0x%08x)\n", info.name.c_str(), info.id);
  std::printf("  %u-byte entries, %u-bit VA (%s), %u-bit OA\n", info.entry_bytes, info.va_bits,
              VaExtHelp(info.va_ext), info.oa_bits);
  std::printf("  %-6s %-8s %8s  %-12s %-9s %-5s %s\n", "level", "name", "entries", "entry maps", "table", "leaf",
              "table ptr");
  std::vector<std::string> pages;
  for (const LevelInfo& l : info.levels) {
    std::printf("  %-6d %-8s %8llu  %-12s %-9s %-5s %s\n", l.level, l.name.c_str(),
                static_cast<unsigned long long>(uint64_t{1} << l.index_lg2), SizeName(l.item_lg2).c_str(),
                SizeName(l.table_size_lg2).c_str(), l.can_leaf ? "yes" : "no", l.can_table ? "yes" : "no");
    for (unsigned s = 64; s-- > 0;) {
      if (((l.leaf_sizes_mask >> s) & 1) == 0) continue;
      const std::string entries = s == l.item_lg2 ? "" : absl::StrCat(" x", uint64_t{1} << (s - l.item_lg2));
      pages.push_back(absl::StrCat(SizeName(s), " (", l.name, entries, ")"));
    }
  }
  std::printf("  page sizes: %s\n", absl::StrJoin(pages, ", ").c_str());
  if (info.knobs.empty()) {
    std::printf("  config: none\n");
  } else {
    std::printf("  config:\n");
    for (size_t i = 0; i < info.knobs.size(); ++i) {
      const ConfigKnob& k = info.knobs[i];
      const uint64_t v = f.Config().Get(static_cast<int>(i));
      const std::string range = absl::StrFormat("%d..%d", k.min, k.max);
      const std::string now = v == k.def ? absl::StrFormat("default %d", k.def)
                                         : absl::StrFormat("default %d, now %d", k.def, v);
      std::printf("    %-12s %-7s %-18s %.*s\n", std::string(k.name).c_str(), range.c_str(), now.c_str(),
                  static_cast<int>(k.help.size()), k.help.data());
    }
  }
  if (info.mode_knobs.empty()) {
    std::printf("  mode: none (no privilege levels%s)\n", info.has_exec ? "" : ", no instruction fetches");
  } else {
    std::printf("  mode (--mode KEY=VALUE; --user is %.*s):\n", static_cast<int>(info.user_mode.size()),
                info.user_mode.data());
    for (const ConfigKnob& k : info.mode_knobs) {
      // Register-sized knobs (PKRU, DACR) read better in hex.
      const bool wide = k.max > 255;
      const std::string range = wide ? absl::StrFormat("%d..%#x", k.min, k.max) : absl::StrFormat("%d..%d", k.min, k.max);
      const std::string def = wide ? absl::StrFormat("default %#x", k.def) : absl::StrFormat("default %d", k.def);
      std::printf("    %-12s %-12s %-18s %.*s\n", std::string(k.name).c_str(), range.c_str(), def.c_str(),
                  static_cast<int>(k.help.size()), k.help.data());
    }
  }
  std::vector<std::string> bits;
  for (const NamedBit& b : info.named_bits) {
    bits.push_back(absl::StrFormat("%s=%d%s", b.name, b.bit, b.negative ? "(deny)" : ""));
  }
  std::printf("  named bits: %s\n", absl::StrJoin(bits, " ").c_str());
}

int RunFormats(const FormatsOptions& o) {
  if (!o.config.empty() && o.names.size() != 1) {
    return Fail("--config needs exactly one format name (the knobs differ between formats)");
  }
  std::vector<std::unique_ptr<AnyFormat>> formats;
  if (o.names.empty()) {
    for (const FormatEntry& e : Registry()) formats.push_back(e.make(FormatConfig::Defaults(e.knobs)));
  } else {
    for (const std::string& name : o.names) {
      auto f = MakeFormat(name, o.config);
      if (!f.ok()) return Fail(f.status());
      formats.push_back(std::move(*f));
    }
  }
  if (o.json) {
    Json all = Json::array();
    for (const auto& f : formats) all.push_back(ToJson(*f));
    PrintJson(all);
    return kExitOk;
  }
  for (size_t i = 0; i < formats.size(); ++i) {
    if (i > 0) std::printf("\n");
    PrintHuman(*formats[i]);
  }
  return kExitOk;
}

}  // namespace

void AddFormatsCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<FormatsOptions>();
  CLI::App* sub = app.add_subcommand("formats", "List the registered page-table formats: levels, page sizes, knobs");
  sub->add_option("names", o->names, "Show only these formats (default: all)")->type_name("NAME");
  sub->add_option("--config,-c", o->config,
                  "With one NAME: show that format under this configuration (repeatable KEY=VALUE)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->delimiter(',')
      ->take_all();
  sub->add_flag("--json", o->json,
                "Print a JSON array of objects (name, id, entry_bytes, va_bits, va_extension, oa_bits, levels, "
                "page_sizes, knobs, named_bits)");
  SetHelp(sub, R"(For each format: its stable ID (the hash that binary programs and corpora store),
entry size, VA and OA widths, and one row per level, top level first: the
architecture's name, entries per table, how much one entry maps, the table's
size, and whether an entry there can be a leaf and/or point to a table. Then the
page (leaf) sizes, the configuration knobs (--config KEY=VALUE elsewhere) with
their ranges and defaults, and the raw bits that dumps name.

Examples:
  ptsim formats
  ptsim formats x86_64_4level
  ptsim formats x86_64_4level --config pdpe1gb=0
  ptsim formats --json | python3 -m json.tool)");
  sub->callback([o, exit_code] { *exit_code = RunFormats(*o); });
}

}  // namespace ptsim::cli
