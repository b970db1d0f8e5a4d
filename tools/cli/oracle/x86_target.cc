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
  std::vector<Mode> Modes() const override { return {{"supervisor", {AccessType::kRead, false}, "cpl=0"}}; }
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

}  // namespace

std::unique_ptr<Target> MakeX86Target(int paging) {
  using P = X86Target::Paging;
  static constexpr P kPaging[] = {P::k32, P::kPae, P::k4Level, P::k5Level};
  if (paging < 0 || paging > 3) return nullptr;
  return std::make_unique<X86Target>(kPaging[paging]);
}

}  // namespace ptsim::oracle
