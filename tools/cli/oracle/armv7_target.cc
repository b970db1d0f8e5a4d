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

// ARMv7-A short descriptors (TTBCR.N = 0, EAE = 0) on qemu-system-arm's
// virt machine with a Cortex-A15, RAM at 0x40000000. As on AArch64 the gdb
// stub ignores writes to the CP15 registers, so a boot stub run in Hyp
// mode (virtualization=on: the A15 resets into Hyp, whose own translation
// is off) writes them; gdb then sets CPSR to Supervisor or User mode and
// gva2gpa walks the PL1&0 regime. Unlike AArch64, a gdb write of CPSR back
// to Hyp mode leaves QEMU 7.2 executing with the PL1 state it cached, so
// the stub's first fetch goes through the tables; every image therefore
// starts with a system reset (HMP system_reset), which also puts back the
// device tree at the start of RAM, zeroed again below.
//
// ARMv7 ARM (DDI 0406C), by section name: "MCR, MCR2", "MRC, MRC2",
// "ORR (immediate)", "ISB" and "B" (encoding A1 of each) for the stub;
// the register descriptions of TTBR0, TTBCR, DACR and SCTLR (M, bit 0)
// for their CRn/opc1/CRm/opc2; "ARM processor modes" for CPSR.M (Hyp
// 11010, Supervisor 10011, User 10000).
//
// QEMU 7.2's gva2gpa -> arm_cpu_get_phys_page_attrs_debug -> the short-
// descriptor walker (get_phys_addr_v6 in target/arm/ptw.c) for a load in
// the current mode: descriptor types, domains (DACR = all Client here),
// AP[2:0] against PL1 and PL0. Only reads are compared, as on AArch64.
class ArmV7Target final : public Target {
 public:
  QemuLaunch Launch(const AnyFormat&) const override {
    QemuLaunch l;
    l.binary = "qemu-system-arm";
    l.machine = "virt,virtualization=on,highmem=off";
    l.args = {"-cpu", "cortex-a15"};
    l.ram_base = kRamBase;
    l.ram_size = kRamSize;
    return l;
  }
  uint64_t TableBase() const override { return kRamBase + 16 * kMiB; }
  std::vector<Mode> Modes() const override {
    // DACR all Client, as Enter() writes it; SCTLR.AFE stays 0.
    return {{"pl1", {AccessType::kRead, false}, "pl=1,dacr=0x55555555"},
            {"pl0", {AccessType::kRead, true}, "pl=0,dacr=0x55555555"}};
  }
  uint8_t PermMask() const override { return 0; }
  bool ReservedUnchecked() const override { return false; }
  uint64_t MaxVa() const override { return 0xffffffffu; }

  absl::Status Enter(QemuProcess& q, const AnyFormat&, Oa root, size_t mode) const override {
    GdbRemote& g = q.gdb();
    if (mode != 0) return g.WriteRegister("cpsr", kCpsrUsr);
    auto reset = q.qmp().Hmp("system_reset");
    if (!reset.ok()) return reset.status();
    // The reset is done once the CPU is back in Hyp mode.
    for (int i = 0;; ++i) {
      auto cpsr = g.ReadRegister("cpsr");
      if (!cpsr.ok()) return cpsr.status();
      if ((*cpsr & 0x1f) == (kCpsrHyp & 0x1f)) break;
      if (i == 100) return absl::InternalError(absl::StrFormat("after system_reset QEMU has CPSR 0x%x", *cpsr));
    }
    std::memset(q.ram(), 0, TableBase() - kRamBase);
    const std::vector<uint32_t> stub = Stub();
    std::memcpy(q.ram() + (kStubBase - kRamBase), stub.data(), stub.size() * sizeof(uint32_t));
    // DACR: all 16 domains Client (01), so permissions are always checked.
    const std::pair<const char*, uint64_t> args[] = {
        {"pc", kStubBase}, {"r0", root.value()}, {"r1", 0}, {"r2", 0x55555555}};
    for (const auto& [name, value] : args) {
      if (auto st = g.WriteRegister(name, value); !st.ok()) return st;
    }
    for (size_t i = 0; i + 1 < stub.size(); ++i) {
      if (auto st = g.Step(); !st.ok()) return st;
    }
    const std::pair<const char*, uint64_t> expect[] = {
        {"pc", kStubBase + 4 * (stub.size() - 1)}, {"TTBR0", root.value()}, {"TTBCR", 0}, {"DACR", 0x55555555}};
    for (const auto& [name, value] : expect) {
      auto got = g.ReadRegister(name);
      if (!got.ok()) return got.status();
      if (*got != value) {
        return absl::InternalError(
            absl::StrFormat("after the boot stub QEMU has %s = 0x%x, not 0x%x", name, *got, value));
      }
    }
    return g.WriteRegister("cpsr", kCpsrSvc);
  }

  absl::StatusOr<std::vector<PermRange>> ParseInfoMem(std::string_view) const override {
    return absl::UnimplementedError("QEMU has no 'info mem' for ARM");
  }

  // Supersection PA[39:32] (bits 23:20 = PA[35:32], 8:5 = PA[39:36]): the
  // manual makes the extended base optional ("Short-descriptor translation
  // table format descriptors"; required with the Large Physical Address
  // Extension, which the A15 has). ptsim models a core without it
  // (nonzero bits: invalid), QEMU the A15.
  std::string KnownQemuDeviation(const AnyFormat&, uint64_t va, const WalkResult& r, const WalkTrace& trace,
                                 const Gva2Gpa& q) const override {
    if (r.ok || trace.count == 0 || !q.mapped) return "";
    const WalkStep& st = trace.steps[static_cast<size_t>(trace.count - 1)];
    const uint64_t raw = st.raw;
    const bool supersection = st.level.value() == 1 && (raw & 0b10) != 0 && ((raw >> 18) & 1) != 0;
    const uint64_t ext = ((raw >> 20) & 0xf) << 32 | ((raw >> 5) & 0xf) << 36;
    if (!supersection || ext == 0 || q.pa != ((raw & 0xff000000u) | ext | (va & 0xffffffu))) return "";
    return "supersection PA[39:32] nonzero: optional in ARMv7 (required with LPAE, which the Cortex-A15 has); "
           "ptsim models a core without it";
  }

 private:
  static constexpr uint64_t kRamBase = 0x40000000;
  // Out of reach of a one-bit flip of a table address, as on AArch64.
  static constexpr uint64_t kStubBase = kRamBase + 32 * kMiB;
  // A, I, F masked, ARM state, and the mode.
  static constexpr uint64_t kCpsrHyp = 0x1da, kCpsrSvc = 0x1d3, kCpsrUsr = 0x1d0;

  // MCR p15, 0, Rt, CRn, CRm, opc2 (cond = 1110): 1110 1110 opc1 0 CRn Rt
  // 1111 opc2 1 CRm; MRC sets bit 20 (L).
  static constexpr uint32_t Mcr(uint32_t crn, uint32_t crm, uint32_t opc2, uint32_t rt) {
    return 0xee000f10u | crn << 16 | rt << 12 | opc2 << 5 | crm;
  }
  static constexpr uint32_t Mrc(uint32_t crn, uint32_t crm, uint32_t opc2, uint32_t rt) {
    return Mcr(crn, crm, opc2, rt) | 1u << 20;
  }
  static std::vector<uint32_t> Stub() {
    return {
        Mcr(2, 0, 0, 0),  // mcr p15, 0, r0, c2, c0, 0: TTBR0
        Mcr(2, 0, 2, 1),  // mcr p15, 0, r1, c2, c0, 2: TTBCR
        Mcr(3, 0, 0, 2),  // mcr p15, 0, r2, c3, c0, 0: DACR
        Mrc(1, 0, 0, 3),  // mrc p15, 0, r3, c1, c0, 0: SCTLR
        // orr r3, r3, #1: cond 1110, 00 1 1100 S=0, Rn=3, Rd=3, imm12 = 1.
        0xe3833001u,
        Mcr(1, 0, 0, 3),  // mcr p15, 0, r3, c1, c0, 0: SCTLR.M = 1
        0xf57ff06fu,      // isb sy
        0xeafffffeu,      // b . (imm24 = -2: PC + 8 - 8)
    };
  }
};

}  // namespace

std::unique_ptr<Target> MakeArmV7Target() { return std::make_unique<ArmV7Target>(); }

}  // namespace ptsim::oracle
