// ptsim diff: run one program on several formats and show where they
// differ, per operation and per address (src/harness/diff.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"
#include "src/harness/diff.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace ptsim::cli {
namespace {

struct DiffCmdOptions {
  std::string file;
  std::string formats = "all";
  bool json = false;
  size_t max_differences = DiffOptions{}.max_differences;
};

// "all", or registered names separated by commas; each at most once.
absl::StatusOr<std::vector<std::string>> ParseFormats(const std::string& csv) {
  if (csv == "all") return AllFormatNames();
  std::vector<std::string> names;
  for (absl::string_view part : absl::StrSplit(csv, ',')) {
    const std::string name(StdSv(part));
    if (FindFormat(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--formats: unknown format '%s' (known: %s, or 'all')", name, KnownFormatNames()));
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return absl::InvalidArgumentError(absl::StrFormat("--formats: '%s' is named twice", name));
    }
    names.push_back(name);
  }
  if (names.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--formats '%s': a difference needs at least two formats", csv));
  }
  return names;
}

std::string Outcome(const FormatRun& run, size_t k) {
  return k < run.ops.size() ? run.ops[k].step.outcome : "-";
}

Json ResultJson(const std::string& file, const Program& frame, const DiffResult& r) {
  Json j;
  j["file"] = file;
  j["frame"] = frame.format;
  j["ok"] = r.ok();
  j["formats"] = Json::array();
  for (const FormatRun& run : r.runs) {
    Json config = Json::array();
    for (const std::string& s : ConfigSettings(*FindFormat(run.program.format)->make(run.program.config))) {
      config.push_back(s);
    }
    j["formats"].push_back({{"name", run.program.format},
                            {"config", config},
                            {"compared_ops", run.comparable_ops},
                            {"stopped", run.stopped.empty() ? Json(nullptr) : Json(run.stopped)}});
  }
  j["ops"] = Json::array();
  for (size_t k = 0; k < frame.ops.size(); ++k) {
    Json outcomes = Json::object();
    for (const FormatRun& run : r.runs) outcomes[run.program.format] = Outcome(run, k);
    j["ops"].push_back({{"op", OpToText(frame.ops[k])}, {"outcomes", outcomes}});
  }
  j["differences"] = Json::array();
  for (const Difference& d : r.differences) {
    const std::string& a = r.runs[static_cast<size_t>(d.run_a)].program.format;
    const std::string& b = r.runs[static_cast<size_t>(d.run_b)].program.format;
    j["differences"].push_back({{"op_index", d.op_index},
                                {"op", OpToText(frame.ops[static_cast<size_t>(d.op_index)])},
                                {"kind", d.kind},
                                {"va", d.va ? Json(Hex(d.va->value())) : Json(nullptr)},
                                {"a", {{"format", a}, {"result", d.a}}},
                                {"b", {{"format", b}, {"result", d.b}}},
                                {"signature", DiffSignature(r, d)}});
  }
  j["divergence"] = nullptr;
  if (const int bad = r.FirstDivergentRun(); bad >= 0) {
    const FormatRun& run = r.runs[static_cast<size_t>(bad)];
    const Divergence& d = *run.exec.divergence;
    j["divergence"] = {{"format", run.program.format}, {"check", d.check},         {"op", d.op_text},
                       {"expected", d.expected},       {"actual", d.actual},       {"walk", d.walk},
                       {"signature", d.Signature(run.program.format)}};
  }
  return j;
}

void PrintHuman(const std::string& file, const Program& frame, const DiffResult& r) {
  std::printf("=== %s: frame %s, %zu ops, %zu formats\n", file.c_str(), frame.format.c_str(), frame.ops.size(),
              r.runs.size());
  for (const FormatRun& run : r.runs) {
    std::printf("  %-16s compared %d/%zu ops%s%s\n", run.program.format.c_str(), run.comparable_ops,
                frame.ops.size(), run.stopped.empty() ? "" : "; stops: ", run.stopped.c_str());
  }
  std::printf("=== steps\n");
  for (size_t k = 0; k < frame.ops.size(); ++k) {
    std::printf("%3zu  %s\n", k + 1, OpToText(frame.ops[k]).c_str());
    for (const FormatRun& run : r.runs) {
      const bool marked = std::any_of(r.differences.begin(), r.differences.end(), [&](const Difference& d) {
        return d.op_index == static_cast<int>(k) &&
               (r.runs[static_cast<size_t>(d.run_a)].program.format == run.program.format ||
                r.runs[static_cast<size_t>(d.run_b)].program.format == run.program.format);
      });
      std::printf("     %s %-16s %s\n", marked ? "!" : " ", run.program.format.c_str(), Outcome(run, k).c_str());
    }
  }
  if (const int bad = r.FirstDivergentRun(); bad >= 0) {
    const FormatRun& run = r.runs[static_cast<size_t>(bad)];
    std::printf("=== %s diverged from its own reference model\n%s", run.program.format.c_str(),
                FormatReport(run.program, run.exec).c_str());
    return;
  }
  if (r.differences.empty()) {
    std::printf("=== no differences\n");
    return;
  }
  std::printf("=== differences (%zu)\n", r.differences.size());
  for (const Difference& d : r.differences) {
    const std::string& a = r.runs[static_cast<size_t>(d.run_a)].program.format;
    const std::string& b = r.runs[static_cast<size_t>(d.run_b)].program.format;
    std::printf("#%d %s  [%s]%s\n", d.op_index + 1, OpToText(frame.ops[static_cast<size_t>(d.op_index)]).c_str(),
                d.kind.c_str(), d.va ? absl::StrFormat(" at %#x", d.va->value()).c_str() : "");
    std::printf("    %-40s | %s\n", (a + ": " + d.a).c_str(), (b + ": " + d.b).c_str());
    std::printf("    Assertion failure: %s\n", DiffSignature(r, d).c_str());
  }
}

int RunDiffCmd(const DiffCmdOptions& o) {
  auto formats = ParseFormats(o.formats);
  if (!formats.ok()) return Fail(formats.status());
  auto bytes = ReadFileBytes(o.file);
  if (!bytes.ok()) return Fail(bytes.status());
  auto program = ParseAny(*bytes);
  if (!program.ok()) return Fail(absl::StrFormat("%s: %s", o.file, program.status().message()));

  DiffOptions opt;
  opt.max_differences = o.max_differences;
  Arena arena;
  const DiffResult r = RunDiff(*program, *formats, arena, opt);
  if (o.json) {
    PrintJson(ResultJson(o.file, *program, r));
  } else {
    PrintHuman(o.file, *program, r);
  }
  return r.ok() ? kExitOk : kExitFinding;
}

}  // namespace

void AddDiffCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DiffCmdOptions>();
  CLI::App* sub = app.add_subcommand("diff", "Run one program on several formats and show where they differ");
  sub->add_option("file", o->file, "Binary program (diff_fuzzer input, crash file) or text program")
      ->required()
      ->type_name("FILE");
  sub->add_option("--formats,-f", o->formats, "Comma-separated format names, or 'all' (every registered format)")
      ->capture_default_str()
      ->type_name("A,B[,C...]");
  sub->add_flag("--json", o->json,
                "Print {file, frame, ok, formats:[{name, config, compared_ops, stopped}], ops:[{op, outcomes}], "
                "differences:[{op_index, op, kind, va, a, b, signature}], divergence}");
  sub->add_option("--max-differences", o->max_differences, "Stop comparing after this many differences (at least 1)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->type_name("N");
  SetHelp(sub, R"(The program's 'format' line is its frame: the format whose page size and VA
width the binary encoding is relative to, and the only format that runs with
the program's 'config'; every other format runs with its defaults. Each
format runs the program under the checking executor (as 'ptsim repro' does);
after every operation the touched addresses are translated in each format and
compared pairwise: the operation's status, and per address the output
address, the leaf size (projected onto the sizes both formats have), the
attributes (after both formats' canonical forms) or the fault kind. What a
format cannot express (VA width, page size, OA width, forced leaf size) ends
its comparison there; the per-format summary says where and why.

Exit status: 0 no differences, 1 differences (or a format diverged from its
own reference model), 2 unknown format, bad option or unreadable program.

Examples:
  ptsim diff --formats x86_64_4level,riscv_sv39 prog.txt
  ptsim diff --formats all crash-0123abcd
  ptsim diff -f x86_32,x86_pae,armv8_s1_4k --json prog.txt | python3 -m json.tool
  ptsim diff --formats all --max-differences 1 prog.bin)");
  sub->callback([o, exit_code] { *exit_code = RunDiffCmd(*o); });
}

}  // namespace ptsim::cli
