#include "tools/cli/common.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/strings.h"

namespace ptsim::cli {

namespace {
bool g_json_errors = false;
}  // namespace

void SetJsonErrors(bool on) { g_json_errors = on; }
bool JsonErrors() { return g_json_errors; }

int Fail(std::string_view msg) {
  Note(msg);
  // Scripts that asked for JSON read stdout only; the stderr line stays for
  // whoever watches the terminal.
  if (g_json_errors) PrintJson({{"error", std::string(msg)}});
  return kExitUsage;
}

int Fail(const absl::Status& st) { return Fail(StdSv(st.message())); }

void Note(std::string_view msg) {
  std::fflush(stdout);  // keep stdout and stderr in order on a shared terminal
  std::fprintf(stderr, "ptsim: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

std::string SizeName(unsigned lg2) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  const unsigned unit = lg2 / 10;
  return absl::StrFormat("%d %s", uint64_t{1} << (lg2 % 10), kUnits[unit < 7 ? unit : 6]);
}

std::string BytesText(uint64_t b) {
  for (const auto& [shift, unit] : {std::pair{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}}) {
    if (b >= (uint64_t{1} << shift) && b % (uint64_t{1} << shift) == 0) return absl::StrCat(b >> shift, unit);
  }
  return absl::StrCat(b);
}

absl::StatusOr<uint64_t> ParseNumber(std::string_view what, std::string_view text) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = hex ? text.substr(2) : text;
  const int base = hex ? 16 : 10;
  uint64_t v = 0;
  bool ok = true;
  bool any_digit = false;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (hex && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (hex && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else if (c == '_' || c == '\'') {
      continue;  // 0xffff_8000_0000_0000 reads better
    } else {
      ok = false;
      break;
    }
    any_digit = true;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s '%s' does not fit in 64 bits", what, text));
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (!ok || !any_digit) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s '%s' is not a number (hex 0x... or decimal)", what, text));
  }
  return v;
}

std::string ShellQuote(std::string_view s) {
  const bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789_-+./:=@%,") == std::string_view::npos;
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is a directory, not a file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open '%s': %s", path, std::strerror(errno)));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrFormat("cannot read '%s': %s", path, std::strerror(errno)));
  return bytes;
}

absl::Status WriteFileBytes(const std::string& path, absl::Span<const uint8_t> bytes) {
  if (path == "-") {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0) {
      return absl::DataLossError(absl::StrFormat("cannot write to stdout: %s", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrFormat("cannot create '%s': %s", path, std::strerror(errno)));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrFormat("cannot write '%s': %s", path, std::strerror(errno)));
  return absl::OkStatus();
}

void PrintJson(const Json& j) {
  std::fputs(j.dump(2, ' ', false, Json::error_handler_t::replace).c_str(), stdout);
  std::fputs("\n", stdout);
}

JsonArrayWriter::JsonArrayWriter() { std::fputs("[", stdout); }

JsonArrayWriter::~JsonArrayWriter() { std::fputs(first_ ? "]\n" : "\n]\n", stdout); }

void JsonArrayWriter::Add(const Json& element) {
  std::fputs(first_ ? "\n  " : ",\n  ", stdout);
  first_ = false;
  std::fputs(element.dump(-1, ' ', false, Json::error_handler_t::replace).c_str(), stdout);
}

const LevelInfo& LevelOf(const FormatInfo& info, int level) {
  return info.levels[info.levels.size() - 1 - static_cast<size_t>(level)];
}

Json WalkStepsJson(absl::Span<const WalkStep> steps) {
  Json out = Json::array();
  for (const WalkStep& s : steps) {
    out.push_back({{"level", s.level.value()},
                   {"table", Hex(s.table.value())},
                   {"index", s.index},
                   {"entry_addr", Hex(s.entry_addr.value())},
                   {"raw", Hex(s.raw)},
                   {"kind", EntryKindName(s.kind)}});
  }
  return out;
}

Json NamedBitsJson(const FormatInfo& info, uint64_t raw) {
  Json attrs = Json::object();
  for (const NamedBit& b : info.named_bits) attrs[std::string(b.name)] = ((raw >> b.bit) & 1) != 0;
  return attrs;
}

std::vector<std::string> ConfigSettings(const AnyFormat& f) {
  std::vector<std::string> out;
  const auto knobs = f.Info().knobs;
  for (size_t i = 0; i < knobs.size(); ++i) {
    out.push_back(absl::StrCat(Sv(knobs[i].name), "=", f.Config().Get(static_cast<int>(i))));
  }
  return out;
}

namespace {
std::string& Argv0() {
  static std::string* s = new std::string("ptsim");
  return *s;
}
}  // namespace

void SetInvokedAs(std::string argv0) {
  if (!argv0.empty()) Argv0() = std::move(argv0);
}
const std::string& InvokedAs() { return Argv0(); }

CLI::Validator NotNegative() {
  return CLI::Validator(
      [](std::string& s) { return !s.empty() && s[0] == '-' ? "'" + s + "' is negative" : std::string(); }, "");
}

CLI::Validator Seconds(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        // strtod, not CLI11's range check: NaN compares false with
        // everything, so a plain range check lets "nan" through.
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) return "'" + s + "' is not a number of seconds";
        if (!std::isfinite(v)) return "'" + s + "' is not a finite number of seconds";
        if (v < 0) return "'" + s + "' is negative";
        if (v < lo || v > hi) return absl::StrFormat("%s seconds is outside [%g, %g]", s, lo, hi);
        return std::string();
      },
      absl::StrFormat("SECONDS in [%g, %g]", lo, hi));
}

void SetHelp(CLI::App* sub, std::string_view footer) { sub->footer(std::string(footer)); }

absl::StatusOr<FormatConfig> ParseMode(const FormatInfo& info, bool user, const std::vector<std::string>& settings) {
  FormatConfig mode = FormatConfig::Defaults(info.mode_knobs);
  if (user) {
    if (info.user_mode.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--user: %s has no privilege levels (its requests carry none)", info.name));
    }
    if (auto st = ApplySettingList("mode", info.mode_knobs, info.user_mode, &mode); !st.ok()) return st;
  }
  for (const std::string& m : settings) {
    if (auto st = ApplySettingList("mode", info.mode_knobs, m, &mode); !st.ok()) return st;
  }
  return mode;
}

void AddModeOption(CLI::App* sub, std::vector<std::string>* mode) {
  sub->add_option("--mode,-m", *mode,
                  "CPU mode KEY=VALUE[,KEY=VALUE...], repeatable: x86 cpl wp smep smap ac pke pkru pks pkrs implicit; "
                  "ARMv8 el pan epan wxn hd unpriv; ARMv7 pl dacr afe; RISC-V priv sum mxr svadu "
                  "(`ptsim formats NAME` lists a format's keys and defaults)")
      ->type_name("K=V");
}

}  // namespace ptsim::cli
