#include "tools/cli/oracle/targets.h"

#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "src/base/strings.h"
#include "tools/cli/oracle/target_util.h"

namespace ptsim::oracle {
namespace {

// The QEMU machine a registered format's family names (HwRules<F>::kQemu).
QemuTarget QemuTargetOf(std::string_view format) {
  const FormatEntry* e = FindFormat(format);
  if (e == nullptr) return {};
  return e->make(FormatConfig::Defaults(e->knobs))->Info().qemu;
}

}  // namespace

std::vector<std::string> OracleFormats() {
  std::vector<std::string> names;
  for (const FormatEntry& e : Registry()) {
    if (QemuTargetOf(e.name).machine != QemuMachine::kNone) names.emplace_back(e.name);
  }
  return names;
}

std::unique_ptr<Target> MakeTarget(std::string_view format) {
  const QemuTarget q = QemuTargetOf(format);
  switch (q.machine) {
    case QemuMachine::kNone:
      return nullptr;
    case QemuMachine::kX86:
      return MakeX86Target(q.variant);
    case QemuMachine::kRiscv:
      return MakeRiscvTarget(q.variant);
    case QemuMachine::kArmV8:
      return MakeArmV8Target(q.variant);
    case QemuMachine::kArmV7:
      return MakeArmV7Target();
  }
  return nullptr;
}

absl::StatusOr<Gva2Gpa> ParseGva2Gpa(std::string_view text) {
  const absl::string_view t = absl::StripAsciiWhitespace(Sv(text));
  if (t == "Unmapped") return Gva2Gpa{};
  absl::string_view rest = t;
  if (!absl::ConsumePrefix(&rest, "gpa: ")) {
    return absl::DataLossError(absl::StrFormat("unexpected gva2gpa answer: '%s'", t));
  }
  auto pa = ParseHex(rest);
  if (!pa.ok()) return pa.status();
  return Gva2Gpa{true, *pa};
}

}  // namespace ptsim::oracle
