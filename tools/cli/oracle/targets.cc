#include "tools/cli/oracle/targets.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/base/strings.h"

namespace ptsim::oracle {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Guest RAM: big enough for the table window plus room below it.
constexpr uint64_t kRamSize = 64 * kMiB;

uint64_t Knob(const AnyFormat& f, std::string_view name) {
  const auto knobs = f.Info().knobs;
  for (size_t i = 0; i < knobs.size(); ++i) {
    if (knobs[i].name == name) return f.Config().Get(static_cast<int>(i));
  }
  return 0;
}

absl::StatusOr<uint64_t> ParseHex(absl::string_view s) {
  s = absl::StripPrefix(s, "0x");
  uint64_t v = 0;
  if (s.empty() || !absl::SimpleHexAtoi(s, &v)) return absl::DataLossError(absl::StrFormat("not a hex number: '%s'", s));
  return v;
}

uint8_t Bit(Attr a) { return static_cast<uint8_t>(1u << static_cast<int>(a)); }

// x86: every format runs in qemu-system-x86_64 (a 64-bit CPU runs 32-bit and
// PAE paging too). Intel SDM vol. 3A, 2.5 "Control Registers" and 4.1.1
// "Four Paging Modes" for the bits below.
class X86Target final : public Target {
 public:
  enum class Paging { k32, kPae, k4Level, k5Level };
  explicit X86Target(Paging p) : paging_(p) {}

  QemuLaunch Launch(const AnyFormat& f) const override {
    QemuLaunch l;
    l.binary = "qemu-system-x86_64";
    l.machine = "pc";
    const bool pdpe1gb = paging_ >= Paging::k4Level && Knob(f, "pdpe1gb") != 0;
    // The CPU mirrors the format's knobs: MAXPHYADDR and 1-GByte pages.
    l.args = {"-cpu", absl::StrFormat("qemu64,pdpe1gb=%s,la57=%s,phys-bits=%d", pdpe1gb ? "on" : "off",
                                      paging_ == Paging::k5Level ? "on" : "off", Knob(f, "maxphyaddr"))};
    l.ram_base = 0;
    l.ram_size = kRamSize;
    return l;
  }
  uint64_t TableBase() const override { return 16 * kMiB; }
  std::vector<Mode> Modes() const override { return {{"supervisor", {AccessType::kRead, false}}}; }
  // Not with 5-level paging: QEMU 7.2's mem_info_la57 tests the PDPTE and
  // PDE present bits inverted (it skips present entries and descends into
  // empty ones), so it omits every mapping below a PML4E and takes tens of
  // seconds reading tables at address 0. Nothing it prints is comparable.
  uint8_t PermMask() const override {
    return paging_ == Paging::k5Level ? 0 : Bit(Attr::kWrite) | Bit(Attr::kUser);
  }
  bool ReservedUnchecked() const override { return true; }
  uint64_t MaxVa() const override { return paging_ <= Paging::kPae ? 0xffffffffu : ~uint64_t{0}; }

  absl::Status Enter(QemuProcess& q, const AnyFormat& f, Oa root, size_t) const override {
    constexpr uint64_t kCr0Pe = 1u << 0, kCr0Et = 1u << 4, kCr0Wp = 1u << 16, kCr0Pg = 1u << 31;
    constexpr uint64_t kCr4Pse = 1u << 4, kCr4Pae = 1u << 5, kCr4La57 = 1u << 12;
    constexpr uint64_t kEferLme = 1u << 8, kEferNxe = 1u << 11;
    uint64_t cr4 = 0;
    uint64_t efer = 0;
    switch (paging_) {
      case Paging::k32:
        if (Knob(f, "pse")) cr4 |= kCr4Pse;
        break;
      case Paging::kPae:
        cr4 |= kCr4Pae;
        if (Knob(f, "nxe")) efer |= kEferNxe;
        break;
      case Paging::k4Level:
      case Paging::k5Level:
        cr4 |= kCr4Pae | (paging_ == Paging::k5Level ? kCr4La57 : 0);
        efer |= kEferLme | (Knob(f, "nxe") ? kEferNxe : 0);
        break;
    }
    // CR4 and EFER.LME before CR0.PG: QEMU enters long mode (EFER.LMA) when
    // PG is set with LME and PAE, as the SDM's 10.8.5 sequence does.
    // Paging off first: QEMU sets EFER.LMA only when CR0.PG goes from 0 to 1,
    // and a later EFER write without LMA would otherwise leave long mode.
    GdbRemote& g = q.gdb();
    if (auto st = g.WriteRegister("cr0", kCr0Pe | kCr0Et); !st.ok()) return st;
    if (auto st = g.WriteRegister("cr4", cr4); !st.ok()) return st;
    if (auto st = g.WriteRegister("efer", efer); !st.ok()) return st;
    if (auto st = g.WriteRegister("cr3", root.value()); !st.ok()) return st;
    if (auto st = g.WriteRegister("cr0", kCr0Pe | kCr0Et | kCr0Wp | kCr0Pg); !st.ok()) return st;
    auto got = g.ReadRegister("cr3");
    if (!got.ok()) return got.status();
    if (*got != root.value()) {
      return absl::InternalError(absl::StrFormat("QEMU kept CR3 = 0x%x after writing 0x%x", *got, root.value()));
    }
    return absl::OkStatus();
  }

  // "0000000000400000-0000000000600000 0000000000200000 urw" per run.
  absl::StatusOr<std::vector<PermRange>> ParseInfoMem(std::string_view text) const override {
    std::vector<PermRange> out;
    for (absl::string_view line : absl::StrSplit(Sv(text), '\n', absl::SkipWhitespace())) {
      std::vector<absl::string_view> f = absl::StrSplit(absl::StripAsciiWhitespace(line), ' ', absl::SkipEmpty());
      std::vector<absl::string_view> ends = f.empty() ? std::vector<absl::string_view>{}
                                                      : absl::StrSplit(f[0], '-');
      if (f.size() != 3 || ends.size() != 2 || f[2].size() != 3) {
        return absl::DataLossError(absl::StrFormat("unexpected 'info mem' line: '%s'", line));
      }
      auto first = ParseHex(ends[0]);
      auto size = ParseHex(f[1]);
      if (!first.ok()) return first.status();
      if (!size.ok()) return size.status();
      PermRange r;
      r.first = *first;
      r.last = *first + *size - 1;
      r.attrs = Bit(Attr::kRead);
      if (f[2][0] == 'u') r.attrs |= Bit(Attr::kUser);
      if (f[2][2] == 'w') r.attrs |= Bit(Attr::kWrite);
      out.push_back(r);
    }
    return out;
  }

 private:
  Paging paging_;
};

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
    return {{"supervisor", {AccessType::kRead, false}}, {"user", {AccessType::kRead, true}}};
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

std::vector<std::string> OracleFormats() {
  return {"x86_32",     "x86_pae",    "x86_64_4level", "x86_64_5level",
          "riscv_sv32", "riscv_sv39", "riscv_sv48",    "riscv_sv57"};
}

std::unique_ptr<Target> MakeTarget(std::string_view format) {
  using P = X86Target::Paging;
  if (format == "x86_32") return std::make_unique<X86Target>(P::k32);
  if (format == "x86_pae") return std::make_unique<X86Target>(P::kPae);
  if (format == "x86_64_4level") return std::make_unique<X86Target>(P::k4Level);
  if (format == "x86_64_5level") return std::make_unique<X86Target>(P::k5Level);
  if (format == "riscv_sv32") return std::make_unique<RiscvTarget>(true, 1);
  if (format == "riscv_sv39") return std::make_unique<RiscvTarget>(false, 8);
  if (format == "riscv_sv48") return std::make_unique<RiscvTarget>(false, 9);
  if (format == "riscv_sv57") return std::make_unique<RiscvTarget>(false, 10);
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
