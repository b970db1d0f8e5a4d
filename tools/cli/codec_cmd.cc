// ptsim decode / ptsim encode: between the binary program form that fuzzers
// mutate and the text form people read and edit.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "src/harness/program.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/race_cli.h"

namespace ptsim::cli {
namespace {

struct CodecOptions {
  std::string file;
  std::string out;
};

// A binary program whose format ID is not registered still decodes (to the
// format the ID selects modulo the registry), which is right for a fuzzer
// but surprising for a person: say so.
void NoteInexactFormatId(const std::vector<uint8_t>& bytes, const Program& p) {
  if (bytes.size() < 5 || !IsProgramVersion(bytes[0])) return;
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id |= uint32_t{bytes[1 + static_cast<size_t>(i)]} << (8 * i);
  bool exact = false;
  FormatById(id, &exact);
  if (!exact) {
    Note(absl::StrFormat("note: format id 0x%08x is not registered; decoded as %s (as the fuzzers do)", id,
                         p.format));
  }
}

int RunDecode(const CodecOptions& o) {
  auto bytes = ReadFileBytes(o.file);
  if (!bytes.ok()) return Fail(bytes.status());
  std::string text;
  if (LooksLikeRace(*bytes)) {
    absl::StatusOr<std::string> t = DecodeRaceToText(*bytes);
    if (!t.ok()) return Fail(absl::StrFormat("%s: %s", o.file, t.status().message()));
    text = *t;
  } else {
    auto program = ParseAny(*bytes);
    if (!program.ok()) return Fail(absl::StrFormat("%s: %s", o.file, program.status().message()));
    NoteInexactFormatId(*bytes, *program);
    text = ToText(*program);
  }
  const auto span = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (auto st = WriteFileBytes(o.out.empty() ? "-" : o.out, span); !st.ok()) return Fail(st);
  return kExitOk;
}

int RunEncode(const CodecOptions& o) {
  if (o.out.empty() && isatty(STDOUT_FILENO)) {
    return Fail("encode: refusing to write a binary program to a terminal; give -o FILE or pipe the output");
  }
  auto bytes = ReadFileBytes(o.file);
  if (!bytes.ok()) return Fail(bytes.status());
  if (LooksLikeRace(*bytes)) {
    auto bin = EncodeRaceFromBytes(*bytes);
    if (!bin.ok()) return Fail(absl::StrFormat("%s: %s", o.file, bin.status().message()));
    if (auto st = WriteFileBytes(o.out.empty() ? "-" : o.out, *bin); !st.ok()) return Fail(st);
    return kExitOk;
  }
  auto program = ParseAny(*bytes);
  if (!program.ok()) return Fail(absl::StrFormat("%s: %s", o.file, program.status().message()));
  auto bin = EncodeBinary(*program);
  if (!bin.ok()) return Fail(absl::StrFormat("%s: %s", o.file, bin.status().message()));
  if (auto st = WriteFileBytes(o.out.empty() ? "-" : o.out, *bin); !st.ok()) return Fail(st);
  return kExitOk;
}

CLI::App* AddCodec(CLI::App& app, const char* name, const char* what, const char* in_help, const char* out_help,
                   std::shared_ptr<CodecOptions> o) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->add_option("file", o->file, in_help)->required()->type_name("FILE");
  sub->add_option("-o,--output", o->out, out_help)->type_name("OUT");
  return sub;
}

}  // namespace

void AddDecodeCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CodecOptions>();
  CLI::App* sub = AddCodec(app, "decode", "Binary program -> text (text input is re-printed canonically)",
                           "Binary program (fuzzer input, crash file) or text program",
                           "Write the text here instead of stdout", o);
  SetHelp(sub, R"(Decodes a binary program (what the fuzzers mutate) into the text form:
'format NAME', 'config KEY=VALUE ...', then one operation per line (map, unmap,
protect, access). Decoding never fails for a v1 binary: trailing bytes that do
not make a whole operation are dropped, as the fuzzers drop them. A text
program is parsed and printed back in canonical form (hex addresses, comments
dropped). The text can be edited and replayed with 'ptsim repro' directly, or
turned back into binary with 'ptsim encode'.

Examples:
  ptsim decode crash-0123abcd
  ptsim decode crash-0123abcd -o crash.txt)");
  sub->callback([o, exit_code] { *exit_code = RunDecode(*o); });
}

void AddEncodeCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CodecOptions>();
  CLI::App* sub = AddCodec(app, "encode", "Text program -> binary (the form fuzzers and corpora use)",
                           "Text program (a binary one is re-encoded)",
                           "Write the binary here (required unless stdout is a pipe or file)", o);
  SetHelp(sub, R"(Encodes a text program into the versioned binary form that the fuzz targets
read, e.g. to add a seed or a regression file to a corpus. The binary form is
narrower than the text: addresses must be page aligned and canonical, and a
forced leaf size must exist in the format; anything else is an error (exit 2)
naming the operation. Binary is never written to a terminal.

Examples:
  ptsim encode seed.txt -o seed.bin
  ptsim encode seed.txt | xxd
  ptsim encode seed.txt -o s.bin && ptsim decode s.bin    (round trip))");
  sub->callback([o, exit_code] { *exit_code = RunEncode(*o); });
}

}  // namespace ptsim::cli
