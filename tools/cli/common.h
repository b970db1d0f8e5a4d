// Shared by the ptsim subcommands: exit codes, error lines, number and file
// handling, and the JSON/human renderings of entries that several commands
// print the same way.
#ifndef PTSIM_TOOLS_CLI_COMMON_H_
#define PTSIM_TOOLS_CLI_COMMON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"

#include <CLI/CLI.hpp>

namespace ptsim::cli {

// Keys keep their insertion order, so output reads in a sensible order.
using Json = nlohmann::ordered_json;

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;        // success, every check held
inline constexpr int kExitFinding = 1;   // a divergence, or problems in an image
inline constexpr int kExitUsage = 2;     // bad usage or unusable input

// Prints "ptsim: <msg>" on stderr and returns kExitUsage; with JSON errors
// on (the command line has --json), also {"error": "<msg>"} on stdout.
int Fail(std::string_view msg);
int Fail(const absl::Status& st);
// Whether errors are also printed as JSON on stdout (set by main when the
// command line asks for --json).
void SetJsonErrors(bool on);
bool JsonErrors();
// Prints "ptsim: <msg>" on stderr (a warning or a problem; no exit code).
void Note(std::string_view msg);

// "0x1f" style.
std::string Hex(uint64_t v);
// "4 KiB", "2 MiB", "512 GiB"; plain bytes below 1 KiB.
std::string SizeName(unsigned lg2);
// A byte count in the largest unit that divides it, as ptdump prints
// ranges: 3M, 20K, 1G (or plain bytes).
std::string BytesText(uint64_t bytes);
// Hex (0x...) or decimal; errors name `what` (an option such as --root).
absl::StatusOr<uint64_t> ParseNumber(std::string_view what, std::string_view text);
// The path quoted for a POSIX shell when it needs it.
std::string ShellQuote(std::string_view s);

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path);
// "-" is stdout.
absl::Status WriteFileBytes(const std::string& path, absl::Span<const uint8_t> bytes);

// Pretty JSON on stdout, never throwing on odd bytes in strings.
void PrintJson(const Json& j);

// A JSON array written element by element, one compact element per line, so
// a dump of a million leaves needs neither the memory nor the time of one
// giant document. Each element is serialised by the JSON library.
class JsonArrayWriter {
 public:
  JsonArrayWriter();
  ~JsonArrayWriter();  // closes the array
  void Add(const Json& element);

 private:
  bool first_ = true;
};

// The LevelInfo of level `level` (FormatInfo keeps them top first).
const LevelInfo& LevelOf(const FormatInfo& info, int level);
// {"present": true, "write": false, ...}: every named bit of the format, as
// it is in the raw entry (negative bits such as nx are not inverted).
Json NamedBitsJson(const FormatInfo& info, uint64_t raw);
// The entries a walk read, one object each: level, table, index,
// entry_addr, raw, kind.
Json WalkStepsJson(absl::Span<const WalkStep> steps);
// "KEY=VALUE" for every knob, in declaration order: what --config takes.
std::vector<std::string> ConfigSettings(const AnyFormat& f);

// The CPU mode of the format's hardware rules: the family's defaults, then
// its user setting when `user`, then each "K=V[,K=V...]" of `settings`.
absl::StatusOr<FormatConfig> ParseMode(const FormatInfo& info, bool user, const std::vector<std::string>& settings);
// The --mode option, with the keys every family has in its help.
void AddModeOption(CLI::App* sub, std::vector<std::string>* mode);

// How the user invoked ptsim (argv[0]), for the commands we print.
void SetInvokedAs(std::string argv0);
const std::string& InvokedAs();

// Rejects negative counts (CLI11 would wrap "-3" into a huge unsigned).
CLI::Validator NotNegative();

// A duration in seconds within [lo, hi]: refuses NaN, infinities, negative
// values and anything that is not a number, naming the value.
CLI::Validator Seconds(double lo, double hi);

// Attaches a one-paragraph explanation and examples to a subcommand's help.
void SetHelp(CLI::App* sub, std::string_view footer);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_COMMON_H_
