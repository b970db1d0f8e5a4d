// ptsim: the command-line face of the simulator. Every subcommand lives in
// tools/cli/<name>_cmd.cc; this file only wires them into CLI11 and turns
// parse errors into exit code 2.
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace {

constexpr const char* kFooter = R"(Exit codes: 0 success (every check held), 1 a finding (a divergence, or problems
found in an image), 2 usage or input error (message on stderr); campaign adds 3 and 130.

Typical sessions:
  ptsim formats                             which page-table formats exist
  ptsim repro crash-1234                    replay a fuzzer crash file step by step
  ptsim repro --check-determinism race.txt  a race program, twice: same trace?
  ptsim stress -f x86_64_4level -t 2 -s 5   concurrent operations on real threads
  ptsim decode crash-1234 -o crash.txt      binary program -> editable text
  ptsim encode crash.txt -o crash.bin       and back
  ptsim image prog.txt -o tables.img        build tables from a program into an image
  ptsim dump -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000
  ptsim translate -f x86_64_4level -i tables.img -b 0x1000000 -r 0x1000000 0x1000
  ptsim diff --formats x86_64_4level,riscv_sv39 prog.txt   where two formats differ
  ptsim oracle qemu -f x86_64_4level -n 300  ptsim's walker against QEMU's
  ptsim campaign --seconds 600              fuzz every target of this build

Run 'ptsim SUBCOMMAND --help' for each subcommand's options and examples.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace ptsim::cli;
  SetInvokedAs(argc > 0 ? argv[0] : "ptsim");

  CLI::App app{"ptsim: a user-space page-table simulator and fuzzing harness.\n"
               "Inspect formats, replay and convert fuzzer programs, and walk raw page-table images.",
               "ptsim"};
  app.set_version_flag("--version", "ptsim 0.1", "Print the version and exit");
  app.require_subcommand(1);
  app.footer(kFooter);
  app.get_formatter()->column_width(36);

  int exit_code = kExitOk;
  AddFormatsCommand(app, &exit_code);
  AddReproCommand(app, &exit_code);
  AddDecodeCommand(app, &exit_code);
  AddEncodeCommand(app, &exit_code);
  AddImageCommand(app, &exit_code);
  AddDumpCommand(app, &exit_code);
  AddTranslateCommand(app, &exit_code);
  AddStressCommand(app, &exit_code);
  AddBugsCommand(app, &exit_code);
  AddDiffCommand(app, &exit_code);
  AddOracleCommand(app, &exit_code);
  AddCampaignCommand(app, &exit_code);

  // Decided before parsing, so that a usage error of a --json command line
  // is JSON too.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") SetJsonErrors(true);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string where = "ptsim";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    Note(e.what());
    std::fprintf(stderr, "Run '%s --help' for usage.\n", where.c_str());
    if (JsonErrors()) PrintJson({{"error", e.what()}});
    return kExitUsage;
  } catch (const std::bad_alloc&) {
    return Fail("out of host memory");
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) return Fail("cannot write to stdout");
  return exit_code;
}
