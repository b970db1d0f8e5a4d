// ptsim oracle qemu: ptsim's walker against QEMU's, on random tables.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/oracle/engine.h"
#include "tools/cli/oracle/targets.h"

namespace ptsim::cli {
namespace {

struct OracleCmdOptions {
  std::vector<std::string> formats;
  oracle::OracleOptions run;
  uint64_t timeout_ms = 10000;
  bool json = false;
  bool progress = false;
  bool quiet = false;
};

Json ReportJson(const oracle::FormatReport& r) {
  Json tr = Json::object();
  for (const auto& [mode, c] : r.translations) tr[mode] = {{"compared", c.compared}, {"agree", c.agree}, {"agree_mapped", c.agree_mapped}};
  Json dis = Json::array();
  for (const oracle::Disagreement& d : r.disagreements) {
    dis.push_back({{"image", d.image},
                   {"mode", d.mode},
                   {"va", Hex(d.va)},
                   {"kind", d.kind},
                   {"ptsim", d.ptsim},
                   {"qemu", d.qemu},
                   {"corrupted", d.corrupted},
                   {"walk", d.walk}});
  }
  Json deviations = Json::object();
  for (const auto& [why, n] : r.known_qemu_deviations) deviations[why] = n;
  return {{"format", r.format},
          {"config", r.config},
          {"qemu", r.qemu_command},
          {"images", r.images},
          {"tables", r.tables},
          {"leaves", r.leaves},
          {"translations", tr},
          {"permissions", {{"compared", r.permissions.compared}, {"agree", r.permissions.agree}}},
          {"reserved_not_checked_by_qemu", r.reserved_not_checked_by_qemu},
          {"known_qemu_deviations", deviations},
          {"disagreements", dis}};
}

void PrintHuman(const oracle::FormatReport& r, bool quiet) {
  std::vector<std::string> modes;
  for (const auto& [mode, c] : r.translations) {
    modes.push_back(absl::StrFormat("%s %d/%d (%d mapped)", mode, c.agree, c.compared, c.agree_mapped));
  }
  absl::PrintF("%-14s images %d  translations agree: %s  permissions agree: %d/%d  reserved (not checked by QEMU): %d  "
               "disagreements: %d\n",
               r.format, r.images, absl::StrJoin(modes, ", "), r.permissions.agree, r.permissions.compared,
               r.reserved_not_checked_by_qemu, r.disagreements.size());
  for (const auto& [why, n] : r.known_qemu_deviations) {
    absl::PrintF("  not compared, known QEMU deviation (%d): %s\n", n, why);
  }
  if (quiet) return;
  for (const oracle::Disagreement& d : r.disagreements) {
    absl::PrintF("\n  DISAGREE %s  image %d  %s  va 0x%x\n    ptsim: %s\n    qemu:  %s\n", d.kind, d.image, d.mode, d.va,
                 d.ptsim, d.qemu);
    if (!d.corrupted.empty()) absl::PrintF("    corrupted: %s\n", d.corrupted);
    absl::PrintF("    ptsim walk:\n");
    for (absl::string_view line : absl::StrSplit(d.walk, '\n', absl::SkipEmpty())) absl::PrintF("      %s\n", line);
  }
}

int RunOracleCmd(const OracleCmdOptions& o) {
  std::vector<std::string> formats;
  for (const std::string& f : o.formats) {
    if (f == "all") {
      for (const std::string& g : oracle::OracleFormats()) formats.push_back(g);
      continue;
    }
    if (FindFormat(f) == nullptr) {
      return Fail(absl::StrFormat("unknown format '%s' (the QEMU oracle covers: %s, or 'all')", f,
                                  absl::StrJoin(oracle::OracleFormats(), ", ")));
    }
    if (oracle::MakeTarget(f) == nullptr) {
      return Fail(absl::StrFormat("the QEMU oracle does not cover format '%s' (it covers: %s, or 'all')", f,
                                  absl::StrJoin(oracle::OracleFormats(), ", ")));
    }
    formats.push_back(f);
  }
  oracle::OracleOptions run = o.run;
  run.timeout = std::chrono::milliseconds(o.timeout_ms);
  const bool progress = o.progress || (!o.json && isatty(STDERR_FILENO));

  Json out = Json::array();
  bool disagreed = false;
  for (const std::string& f : formats) {
    auto last = std::chrono::steady_clock::now();
    auto on_image = [&](uint64_t done, const oracle::FormatReport& r) {
      const auto now = std::chrono::steady_clock::now();
      if (!progress || (now - last < std::chrono::seconds(2) && done != run.count)) return;
      last = now;
      std::fprintf(stderr, "ptsim: %s: image %llu/%llu, %zu disagreements\n", f.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(run.count),
                   r.disagreements.size());
    };
    auto rep = oracle::RunOracle(f, run, on_image);
    if (!rep.ok()) return Fail(rep.status());
    disagreed |= !rep->disagreements.empty();
    if (o.json) {
      out.push_back(ReportJson(*rep));
    } else {
      PrintHuman(*rep, o.quiet);
    }
  }
  if (o.json) PrintJson(out);
  return disagreed ? kExitFinding : kExitOk;
}

}  // namespace

void AddOracleCommand(CLI::App& app, int* exit_code) {
  CLI::App* oracle = app.add_subcommand("oracle", "Compare ptsim's walker with an external one");
  oracle->require_subcommand(1);
  SetHelp(oracle, R"(External oracles translate the same page tables with another walker and
compare every answer with ptsim's. 'qemu' is the only one so far.

Examples:
  ptsim oracle qemu --format x86_64_4level --count 300
  ptsim oracle qemu --help)");
  auto o = std::make_shared<OracleCmdOptions>();
  CLI::App* sub = oracle->add_subcommand("qemu", "Compare translations with QEMU's page walker on random tables");
  sub->add_option("--format,-f", o->formats,
                  absl::StrFormat("Formats to check (repeatable or comma-separated): %s, or all",
                                  absl::StrJoin(oracle::OracleFormats(), ", ")))
      ->required()
      ->delimiter(',')
      ->type_name("NAME");
  sub->add_option("--config,-c", o->run.config,
                  "Format configuration KEY=VALUE (repeatable or comma-separated; applies to every --format); QEMU's CPU and paging "
                  "registers are set to match")
      ->delimiter(',')
      ->type_name("KEY=VALUE");
  sub->add_option("--count,-n", o->run.count, "Random table images per format")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
  sub->add_option("--seed,-s", o->run.seed, "Seed of the random tables and probes")->capture_default_str();
  sub->add_option("--probes", o->run.probes, "Probe addresses per image")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  sub->add_option("--corrupt", o->run.corrupt, "Entries per image with one random bit flipped")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));
  sub->add_option("--timeout-ms", o->timeout_ms, "Longest wait for QEMU to start or answer")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{100}, uint64_t{600000}));
  sub->add_flag("--json", o->json, "Print a JSON array, one report per format, with every disagreement");
  sub->add_flag("--progress", o->progress, "Progress lines on stderr (default when stderr is a terminal)");
  sub->add_flag("--quiet,-q", o->quiet, "Only the per-format summary lines, not each disagreement");
  SetHelp(sub, R"(For each format, starts one paused QEMU (Debian's qemu-system-x86_64,
-riscv32, -riscv64 or -aarch64, driven over 127.0.0.1 only: registers through its gdb
stub, monitor commands through QMP) and, for each of COUNT random images:
builds tables with ptsim's own map/protect/unmap operations, flips one bit
in a few entries on probe paths, writes the tables into guest RAM, points
the paging registers at the root (x86 CR0/CR3/CR4/EFER; RISC-V satp and
the privilege mode; ARM TCR/MAIR/TTBRn_EL1 or TTBR0/TTBCR/DACR, and
SCTLR.M, through a boot stub in guest RAM, since the gdb stub cannot
write them), and
translates every probe with QEMU's monitor (gva2gpa), comparing with
ptsim's walk for a read access:
  * the output address, or that both fault;
  * x86: user/write permissions, ANDed over the levels, from 'info mem';
  * RISC-V: the same in supervisor and in user mode (QEMU's walker checks
    U against the mode), plus R/W/X/U and the output address from 'info mem';
  * ARMv8 stage 1: the same at EL1 and at EL0 (QEMU's walker checks AP[1]
    and APTable[0] against the EL); ARMv7 short descriptors at PL1 and PL0
    (AP[2:0]); ARM has no 'info mem'.
QEMU 7.2's x86 debug walk checks no reserved bit: where ptsim reports a
reserved-bit fault on x86 nothing is compared; the count is printed. On
ARM, disagreements that come from QEMU 7.2 departing from the manual (or
the manual leaving the answer open) are counted per cause, not reported.

Exit status: 0 every answer agreed, 1 a disagreement (each printed with the
VA, both answers, the corrupted entries and ptsim's walk), 2 bad usage, a
format the oracle does not cover, or QEMU missing, failing or timing out.

Examples:
  ptsim oracle qemu --format x86_64_4level --count 300 --seed 7
  ptsim oracle qemu -f all -n 50 --quiet
  ptsim oracle qemu -f riscv_sv39 -c svpbmt=1 --json | python3 -m json.tool)");
  sub->callback([o, exit_code] { *exit_code = RunOracleCmd(*o); });
}

}  // namespace ptsim::cli
