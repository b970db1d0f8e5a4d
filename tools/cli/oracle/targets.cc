#include "tools/cli/oracle/targets.h"

#include <cstring>
#include <iterator>
#include <utility>

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
    return {{"el1", {AccessType::kRead, false}}, {"el0", {AccessType::kRead, true}}};
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
    return {{"pl1", {AccessType::kRead, false}}, {"pl0", {AccessType::kRead, true}}};
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
    case QemuMachine::kX86: {
      using P = X86Target::Paging;
      static constexpr P kPaging[] = {P::k32, P::kPae, P::k4Level, P::k5Level};
      if (q.variant < 0 || q.variant > 3) return nullptr;
      return std::make_unique<X86Target>(kPaging[q.variant]);
    }
    case QemuMachine::kRiscv:
      return std::make_unique<RiscvTarget>(q.variant == 1, static_cast<unsigned>(q.variant));
    case QemuMachine::kArmV8: {
      using G = ArmV8Target::Granule;
      return std::make_unique<ArmV8Target>(q.variant == 4 ? G::k4K : q.variant == 16 ? G::k16K : G::k64K);
    }
    case QemuMachine::kArmV7:
      return std::make_unique<ArmV7Target>();
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
