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

// ARMv8-A stage 1 (VMSAv8-64, the EL1&0 regime) on the virt machine, RAM
// at 0x40000000, no firmware. QEMU's gdb stub reads the AArch64 system
// registers but ignores writes to them, so a boot stub in guest RAM writes
// them from general registers the gdb stub can set. The CPU runs the stub
// at EL2 (virtualization=on: the virt machine then resets into EL2h with
// no EL3) where stage 1 of EL1&0 does not translate its fetches, so the
// stub runs again for every image whatever the EL1 tables hold. After it,
// the gdb stub moves PSTATE to EL1h or EL0t and gva2gpa translates in the
// EL1&0 regime (HCR_EL2.VM = 0: no stage 2).
//
// Arm ARM (DDI 0487), by section name:
//   * "MSR (register)", "MRS", "ORR (immediate)", "ISB", "B" (A64 base
//     instruction descriptions) for the stub's encodings;
//   * the system register pages of HCR_EL2 (RW, bit 31: EL1 is AArch64),
//     MAIR_EL1, TCR_EL1 (T0SZ/T1SZ, EPD0/EPD1, TG0/TG1, IPS, HA, DS),
//     TTBR0_EL1/TTBR1_EL1 and SCTLR_EL1 (M, bit 0), each with its
//     op0/op1/CRn/CRm/op2 in "Accessing the register";
//   * "SPSR_EL2" / "Process state, PSTATE" for the M[3:0] encodings of
//     EL0t, EL1h and EL2h.
//
// What QEMU 7.2 reaches: HMP gva2gpa -> arm_cpu_get_phys_page_attrs_debug
// -> the TCG walker (target/arm/ptw.c) for a data load in the current
// regime and EL: descriptor types, address size faults, AP[1] against EL0,
// APTable[0], the TTBR0/TTBR1 range check. An AF = 0 leaf translates
// whatever TCR.HA says (measured: the debug walk neither raises the Access
// flag fault with HA = 0 nor writes AF with HA = 1), so the Access flag,
// which ptsim does not model either, is not compared. Stores and instruction
// fetches have no debug path, and there is no "info mem" or "info tlb" for
// ARM: only reads at EL1 and EL0 are compared.
class ArmV8Target final : public Target {
 public:
  enum class Granule { k4K, k16K, k64K };
  explicit ArmV8Target(Granule g) : granule_(g) {}

  QemuLaunch Launch(const AnyFormat& f) const override {
    QemuLaunch l;
    l.binary = "qemu-system-aarch64";
    // highmem=off: no PCIe windows above 4 GiB. A corrupted table pointer
    // there reads all ones from QEMU's empty PCI space (a valid table or
    // page descriptor) where ptsim, which has only RAM, faults; below 4 GiB
    // a one-bit flip of a table address lands in RAM, flash (zeros) or
    // nowhere (both fault).
    l.machine = "virt,virtualization=on,highmem=off";
    // The CPU mirrors the lpa knob. lpa = 0 models a core with a 48-bit PA
    // and neither FEAT_LPA nor FEAT_LPA2: Neoverse N1 (ARMv8.2; PARange 48
    // bits, all three granules, hardware Access flag). lpa = 1 needs both,
    // which QEMU's "max" CPU has (PARange 52 bits, FEAT_LPA2 for 4KB/16KB).
    // Which CPU matters: with FEAT_LPA the 64KB granule has 4 TiB blocks at
    // L1 and OA[51:48] in descriptor bits 15:12 (AArch64.BlockDescSupported,
    // AArch64.LeafBase: both keyed on AArch64.PAMax(), not on TCR_EL1.IPS).
    l.args = {"-cpu", Knob(f, "lpa") ? "max" : "neoverse-n1"};
    l.ram_base = kRamBase;
    l.ram_size = kRamSize;
    return l;
  }
  uint64_t TableBase() const override { return kRamBase + 16 * kMiB; }
  std::vector<Mode> Modes() const override {
    return {{"el1", {AccessType::kRead, false}, "el=1"}, {"el0", {AccessType::kRead, true}, "el=0"}};
  }
  uint8_t PermMask() const override { return 0; }
  bool ReservedUnchecked() const override { return false; }
  uint64_t MaxVa() const override { return ~uint64_t{0}; }

  absl::Status Enter(QemuProcess& q, const AnyFormat& f, Oa root, size_t mode) const override {
    const FormatInfo& info = f.Info();
    const bool ttbr1 = Knob(f, "ttbr1") != 0;
    const bool lpa = Knob(f, "lpa") != 0;
    auto ips = Ips(info.oa_bits);
    if (!ips.ok()) return ips.status();

    // TCR_EL1: the used half gets its size and granule, the other half is
    // disabled (EPDn = 1), so its VAs fault as ptsim's do.
    const uint64_t tsz = 64 - info.va_bits;
    // Walks are Normal, inner and outer write-back write-allocate, inner
    // shareable (IRGNn = ORGNn = 01, SHn = 11); QEMU ignores all three.
    constexpr uint64_t kWalkAttrs = 0b11'01'01;
    uint64_t tcr = *ips << 32;
    if (ttbr1) {
      tcr |= tsz << 16 | kWalkAttrs << 24 | Tg1() << 30 | uint64_t{1} << 7;  // T1SZ, attrs, TG1, EPD0
    } else {
      tcr |= tsz | kWalkAttrs << 8 | Tg0() << 14 | uint64_t{1} << 23;  // T0SZ, attrs, TG0, EPD1
    }
    if (Knob(f, "ha")) tcr |= uint64_t{1} << 39;  // HA
    // 52-bit addresses with 4KB/16KB granules: FEAT_LPA2 with DS (bit 59).
    if (lpa && granule_ != Granule::k64K) tcr |= uint64_t{1} << 59;
    // MAIR_EL1 Attr0 (AttrIndx 0 in ptsim's leaves): Normal memory,
    // write-back non-transient, read/write-allocate.
    constexpr uint64_t kMair = 0xff;
    // TTBRn_EL1.BADDR holds the root as is (ASID 0, CnP 0); with a 52-bit
    // OA, OA[51:48] would go to bits 5:2, but guest RAM is below 2^32.
    const uint64_t ttbr = root.value();
    constexpr uint64_t kHcrRw = uint64_t{1} << 31;

    // Guest RAM as ptsim sees it: zero outside the tables. The virt machine
    // put its device tree at the start of RAM; a corrupted table pointer
    // with bit 24 flipped lands there.
    std::memset(q.ram(), 0, TableBase() - kRamBase);
    const std::vector<uint32_t> stub = Stub();
    std::memcpy(q.ram() + (kStubBase - kRamBase), stub.data(), stub.size() * sizeof(uint32_t));

    GdbRemote& g = q.gdb();
    if (auto st = g.WriteRegister("cpsr", kPstateEl2h); !st.ok()) return st;
    if (auto st = g.WriteRegister("pc", kStubBase); !st.ok()) return st;
    const std::pair<const char*, uint64_t> args[] = {
        {"x0", kMair}, {"x1", tcr}, {"x2", ttbr1 ? 0 : ttbr}, {"x3", ttbr1 ? ttbr : 0}, {"x4", kHcrRw}};
    for (const auto& [name, value] : args) {
      if (auto st = g.WriteRegister(name, value); !st.ok()) return st;
    }
    // Every instruction but the final loop.
    for (size_t i = 0; i + 1 < stub.size(); ++i) {
      if (auto st = g.Step(); !st.ok()) return st;
    }
    // The stub ran to its loop, and the registers hold what it wrote.
    const std::pair<const char*, uint64_t> expect[] = {
        {"pc", kStubBase + 4 * (stub.size() - 1)}, {"TCR_EL1", tcr}, {ttbr1 ? "TTBR1_EL1" : "TTBR0_EL1", ttbr}};
    for (const auto& [name, value] : expect) {
      auto got = g.ReadRegister(name);
      if (!got.ok()) return got.status();
      if (*got != value) {
        return absl::InternalError(
            absl::StrFormat("after the boot stub QEMU has %s = 0x%x, not 0x%x", name, *got, value));
      }
    }
    return g.WriteRegister("cpsr", mode == 0 ? kPstateEl1h : kPstateEl0t);
  }

  absl::StatusOr<std::vector<PermRange>> ParseInfoMem(std::string_view) const override {
    return absl::UnimplementedError("QEMU has no 'info mem' for ARM");
  }

  // QEMU 7.2's walker (get_phys_addr_lpae in target/arm/ptw.c) against the
  // manual, where the corrupted entries reach:
  //   * it takes bits 1:0 = 01 as a block at any level above L3, where
  //     AArch64.BlockDescSupported allows blocks only at 4KB L1-L2, 16KB L2
  //     and 64KB L2 (one level more with 52-bit addresses); a block
  //     descriptor elsewhere is invalid, a Translation fault;
  //   * with a PA size (TCR_EL1.IPS) below 52 bits it drops the
  //     descriptor's OA[51:48] (64KB: bits 15:12; DS = 1: bits 9:8 and
  //     49:48). With 52-bit addresses (lpa = 1) the manual takes them as
  //     address bits (AArch64.LeafBase, AArch64.NextTableBase), so nonzero
  //     they are an Address size fault. On a core without FEAT_LPA
  //     (lpa = 0) it is IMPLEMENTATION DEFINED whether 64KB bits 15:12 are
  //     OA[51:48] (ptsim's choice: an Address size fault) or not address
  //     bits at all (QEMU's);
  //   * it ignores the Contiguous bit, translating with the entry alone.
  //     ptsim translates with the group's base; they differ only when the
  //     group is misprogrammed (a flipped bit 52, or an address flipped in
  //     one member), which "Misprogramming of the Contiguous bit" makes
  //     CONSTRAINED UNPREDICTABLE.
  // Each is accepted only when QEMU's address is what that reading gives.
  std::string KnownQemuDeviation(const AnyFormat& f, uint64_t va, const WalkResult& r, const WalkTrace& trace,
                                 const Gva2Gpa& q) const override {
    if (trace.count == 0 || !q.mapped) return "";
    const WalkStep& s = trace.steps[static_cast<size_t>(trace.count - 1)];
    const bool lpa = Knob(f, "lpa") != 0;
    const LevelInfo* level = nullptr;
    for (const LevelInfo& l : f.Info().levels) {
      if (l.level == s.level.value()) level = &l;
    }
    if (level == nullptr) return "";
    // The address the descriptor names for `va`, as a leaf of its own level.
    const uint64_t own = (DescriptorOa(s.raw, lpa) & ~LowMask(level->item_lg2)) | (va & LowMask(level->item_lg2));
    if (!r.ok && s.kind == EntryKind::kInvalid && !level->can_leaf && (s.raw & 0b11) == 0b01 && q.pa == own) {
      return "block descriptor at a level without blocks: QEMU 7.2 translates it, the manual "
             "(AArch64.BlockDescSupported) makes it a Translation fault";
    }
    // OA[51:48] as the descriptor would hold them with 52-bit addresses
    // (64KB: bits 15:12, whether or not FEAT_LPA is there).
    const uint64_t high = granule_ == Granule::k64K ? (s.raw >> 12) & 0xf : lpa ? DescriptorOa(s.raw, true) >> 48 : 0;
    if (!r.ok && s.kind == EntryKind::kInvalid && high != 0 && f.Info().oa_bits <= 48) {
      // A table descriptor: QEMU went on to the next level, whose answer
      // ptsim cannot give; a page or block: QEMU's address must be the one
      // without those bits.
      const bool leaf_shape = s.level.IsBottom() ? (s.raw & 0b11) == 0b11 : (s.raw & 0b11) == 0b01;
      const uint64_t own48 = (DescriptorOa(s.raw, false) & ~LowMask(level->item_lg2)) | (va & LowMask(level->item_lg2));
      if (!leaf_shape || q.pa == own48) {
        return lpa ? "descriptor OA[51:48] nonzero with a 48-bit PA size (TCR_EL1.IPS): the manual makes it an "
                     "Address size fault, QEMU 7.2 drops the bits"
                   : "64KB descriptor bits 15:12 nonzero without FEAT_LPA: IMPLEMENTATION DEFINED whether they are "
                     "OA[51:48] (ptsim: Address size fault) or not address bits (QEMU 7.2 ignores them)";
      }
    }
    if (r.ok && s.kind == EntryKind::kLeaf && ((s.raw >> 52) & 1) != 0 && q.pa == own) {
      return "misprogrammed Contiguous group: CONSTRAINED UNPREDICTABLE; QEMU 7.2 ignores the bit and uses the "
             "entry alone, ptsim the group's base";
    }
    return "";
  }

 private:
  static constexpr uint64_t kRamBase = 0x40000000;
  // The stub sits above the table window [16, 32) MiB: no single-bit flip
  // of a table address in the window reaches [32, 48) MiB, so no corrupted
  // entry reads the stub (ptsim's memory has zeros there).
  static constexpr uint64_t kStubBase = kRamBase + 32 * kMiB;
  // PSTATE with D, A, I, F masked and M[3:0] = EL2h 1001, EL1h 0101, EL0t
  // 0000 (M[4] = 0: AArch64).
  static constexpr uint64_t kPstateEl2h = 0x3c9, kPstateEl1h = 0x3c5, kPstateEl0t = 0x3c0;

  // MSR <sysreg>, Xt: 1101 0101 0001 o0 op1 CRn CRm op2 Rt, op0 = 2 + o0;
  // MRS Xt, <sysreg> sets bit 21 (L) as well.
  static constexpr uint32_t Msr(uint32_t op1, uint32_t crn, uint32_t crm, uint32_t op2, uint32_t rt) {
    return 0xd5100000u | 1u << 19 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt;
  }
  static constexpr uint32_t Mrs(uint32_t op1, uint32_t crn, uint32_t crm, uint32_t op2, uint32_t rt) {
    return Msr(op1, crn, crm, op2, rt) | 1u << 21;
  }

  // Loads the EL1 translation registers from X0-X4 and turns the EL1&0
  // stage 1 MMU on, then loops.
  static std::vector<uint32_t> Stub() {
    constexpr uint32_t kX5 = 5;
    return {
        Msr(4, 1, 1, 0, 4),   // msr hcr_el2, x4
        Msr(0, 10, 2, 0, 0),  // msr mair_el1, x0
        Msr(0, 2, 0, 2, 1),   // msr tcr_el1, x1
        Msr(0, 2, 0, 0, 2),   // msr ttbr0_el1, x2
        Msr(0, 2, 0, 1, 3),   // msr ttbr1_el1, x3
        Mrs(0, 1, 0, 0, kX5),  // mrs x5, sctlr_el1
        // orr x5, x5, #1: sf=1 opc=01 100100, N=1 immr=0 imms=0 (one bit).
        0xb2400000u | kX5 << 5 | kX5,
        Msr(0, 1, 0, 0, kX5),  // msr sctlr_el1, x5
        0xd5033fdfu,           // isb (CRm = 1111, SY)
        0x14000000u,           // b . (imm26 = 0)
    };
  }

  // A table, block or page descriptor's address bits: OA[47:12] in place;
  // with 52-bit addresses also OA[51:48] from bits 15:12 (64KB) or
  // OA[49:48] in place and OA[51:50] from bits 9:8 (4KB/16KB with DS).
  uint64_t DescriptorOa(uint64_t raw, bool lpa) const {
    const uint64_t low = raw & LowMask(48) & ~LowMask(12);
    if (!lpa) return low;
    if (granule_ == Granule::k64K) return (low & ~LowMask(16)) | ((raw >> 12) & 0xf) << 48;
    return (raw & LowMask(50) & ~LowMask(12)) | ((raw >> 8) & 0b11) << 50;
  }
  uint64_t Tg0() const { return granule_ == Granule::k4K ? 0b00 : granule_ == Granule::k64K ? 0b01 : 0b10; }
  uint64_t Tg1() const { return granule_ == Granule::k4K ? 0b10 : granule_ == Granule::k64K ? 0b11 : 0b01; }
  // TCR_EL1.IPS for an output size in bits.
  static absl::StatusOr<uint64_t> Ips(unsigned oa_bits) {
    constexpr unsigned kSizes[] = {32, 36, 40, 42, 44, 48, 52};
    for (uint64_t i = 0; i < std::size(kSizes); ++i) {
      if (kSizes[i] == oa_bits) return i;
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("oa_bits=%d has no TCR_EL1.IPS encoding (32, 36, 40, 42, 44, 48, 52)", oa_bits));
  }

  Granule granule_;
};

}  // namespace

std::unique_ptr<Target> MakeArmV8Target(int granule_kib) {
  using G = ArmV8Target::Granule;
  return std::make_unique<ArmV8Target>(granule_kib == 4 ? G::k4K : granule_kib == 16 ? G::k16K : G::k64K);
}

}  // namespace ptsim::oracle
