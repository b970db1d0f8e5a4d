#include <cstring>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/base/strings.h"
#include "tools/cli/oracle/target_util.h"

namespace ptsim::oracle {
namespace {

// RISC-V: the virt machine with no firmware (-bios none); RAM starts at
// 0x80000000. Privileged spec, "Supervisor Address Translation and
// Protection (satp) Register" for the MODE encodings.
class RiscvTarget final : public Target {
 public:
  RiscvTarget(bool rv32, unsigned satp_mode) : rv32_(rv32), satp_mode_(satp_mode) {}

  QemuLaunch Launch(const AnyFormat& f) const override {
    QemuLaunch l;
    l.binary = rv32_ ? "qemu-system-riscv32" : "qemu-system-riscv64";
    l.machine = "virt";
    std::string cpu = rv32_ ? "rv32" : "rv64";
    if (!rv32_) {
      absl::StrAppendFormat(&cpu, ",svpbmt=%s,svnapot=%s", Knob(f, "svpbmt") ? "on" : "off",
                            Knob(f, "svnapot") ? "on" : "off");
    }
    l.args = {"-bios", "none", "-cpu", cpu};
    l.ram_base = 0x80000000;
    l.ram_size = kRamSize;
    return l;
  }
  uint64_t TableBase() const override { return 0x80000000 + 16 * kMiB; }
  std::vector<Mode> Modes() const override {
    // S-mode runs with sstatus.SUM = 1 (Enter() sets it), so that S-mode
    // loads of U pages translate; QEMU 7.2 always sets A and D itself, which
    // is Svadu whatever the format's svadu knob says.
    return {{"supervisor", {AccessType::kRead, false}, "priv=1,sum=1,svadu=1"},
            {"user", {AccessType::kRead, true}, "priv=0,svadu=1"}};
  }
  uint8_t PermMask() const override {
    return Bit(Attr::kRead) | Bit(Attr::kWrite) | Bit(Attr::kExec) | Bit(Attr::kUser);
  }
  bool ReservedUnchecked() const override { return false; }
  uint64_t MaxVa() const override { return rv32_ ? 0xffffffffu : ~uint64_t{0}; }

  absl::Status Enter(QemuProcess& q, const AnyFormat& f, Oa root, size_t mode) const override {
    GdbRemote& g = q.gdb();
    const uint64_t ppn = root.value() >> 12;
    const uint64_t satp = rv32_ ? (uint64_t{1} << 31) | ppn : (uint64_t{satp_mode_} << 60) | ppn;
    // satp is written in M-mode (priv 3 at reset), then the mode is set.
    if (auto st = g.WriteRegister("priv", 3); !st.ok()) return st;
    // Physical memory protection: with PMP implemented and no entry
    // matching, S- and U-mode accesses fail, page-table reads included
    // (privileged spec, "Physical Memory Protection"); firmware normally
    // opens all of memory. One NAPOT entry over everything, R/W/X.
    if (auto st = g.WriteRegister("pmpaddr0", rv32_ ? 0xffffffffu : (uint64_t{1} << 54) - 1); !st.ok()) return st;
    if (auto st = g.WriteRegister("pmpcfg0", 0x1f); !st.ok()) return st;
    // Svpbmt needs menvcfg.PBMTE (bit 62; "Machine Environment
    // Configuration Register"). QEMU 7.2 always updates A/D itself (Svadu
    // behaviour, whatever the svadu knob says; see the report's notes).
    if (!rv32_ && Knob(f, "svpbmt") && g.HasRegister("menvcfg")) {
      if (auto st = g.WriteRegister("menvcfg", uint64_t{1} << 62); !st.ok()) return st;
    }
    if (auto st = g.WriteRegister("satp", satp); !st.ok()) return st;
    auto got = g.ReadRegister("satp");
    if (!got.ok()) return got.status();
    if (*got != satp) {
      return absl::InternalError(absl::StrFormat("QEMU kept satp = 0x%x after writing 0x%x", *got, satp));
    }
    // sstatus.SUM (bit 18, "Memory Privilege in sstatus") for S-mode loads
    // of U pages, as Modes() says.
    auto sstatus = g.ReadRegister("sstatus");
    if (!sstatus.ok()) return sstatus.status();
    if (auto st = g.WriteRegister("sstatus", *sstatus | uint64_t{1} << 18); !st.ok()) return st;
    return g.WriteRegister("priv", mode == 0 ? 1 : 0);
  }

  // A header, then "vaddr paddr size attr" per run, attr as "rwxugad".
  absl::StatusOr<std::vector<PermRange>> ParseInfoMem(std::string_view text) const override {
    std::vector<PermRange> out;
    for (absl::string_view line : absl::StrSplit(Sv(text), '\n', absl::SkipWhitespace())) {
      std::vector<absl::string_view> f = absl::StrSplit(absl::StripAsciiWhitespace(line), ' ', absl::SkipEmpty());
      if (f.size() == 4 && f[0] == "vaddr") continue;
      if (f.size() == 4 && absl::StartsWith(f[0], "---")) continue;
      if (f.size() != 4 || f[3].size() != 7) {
        return absl::DataLossError(absl::StrFormat("unexpected 'info mem' line: '%s'", line));
      }
      auto va = ParseHex(f[0]);
      auto pa = ParseHex(f[1]);
      auto size = ParseHex(f[2]);
      if (!va.ok()) return va.status();
      if (!pa.ok()) return pa.status();
      if (!size.ok()) return size.status();
      PermRange r;
      r.first = *va;
      r.last = *va + *size - 1;
      r.has_oa = true;
      r.oa = *pa;
      const absl::string_view a = f[3];
      if (a[0] == 'r') r.attrs |= Bit(Attr::kRead);
      if (a[1] == 'w') r.attrs |= Bit(Attr::kWrite);
      if (a[2] == 'x') r.attrs |= Bit(Attr::kExec);
      if (a[3] == 'u') r.attrs |= Bit(Attr::kUser);
      out.push_back(r);
    }
    return out;
  }

 private:
  bool rv32_;
  unsigned satp_mode_;
};

}  // namespace

std::unique_ptr<Target> MakeRiscvTarget(int satp_mode) {
  return std::make_unique<RiscvTarget>(satp_mode == 1, static_cast<unsigned>(satp_mode));
}

}  // namespace ptsim::oracle
