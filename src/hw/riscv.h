// RISC-V hardware-faithful walk for Sv32/Sv39/Sv48/Sv57 (src/formats/riscv.h).
//
// The generic walker (src/mmu/mmu.h) knows only format-neutral R/W/X/U; this
// layer applies the privileged architecture's own rules to the raw PTE bits
// and reports faults as a RISC-V hart does: an exception cause and stval.
//
// Source: The RISC-V Instruction Set Manual, Volume II: Privileged
// Architecture, chapter "Supervisor-Level ISA":
//   * "Supervisor Status Register (sstatus)": "Memory Privilege in sstatus"
//     (SUM, MXR);
//   * "Supervisor Cause Register (scause)": the exception codes (table
//     "Supervisor cause register (scause) values after trap");
//   * "Supervisor Trap Value (stval) Register": stval holds the faulting VA;
//   * "Sv32": "Addressing and Memory Protection" (PTE bits, the R/W/X
//     encoding table, U-bit rules, non-leaf D/A/U reserved) and "Virtual
//     Address Translation Process" (cited "step n");
//   * "Sv39"/"Sv48"/"Sv57": bits above the VA width must copy its top bit;
//   * the '"Svadu" Extension for Hardware Updating of A/D Bits' chapter
//     (menvcfg.ADUE; Svade when hardware updating is off).
//
// Protocol (the walker against concurrent mutators): every PTE is loaded once
// with acquire order (pairs with the release store that publishes a table).
// With Svadu the A/D update is a compare-and-swap against the exact value the
// walk used (step 7: "compare pte to the value of the PTE at address
// a+va.vpn[i]*PTESIZE; if the values match, set ... atomically"); on a
// mismatch the whole walk restarts from the root, so an entry cleared meanwhile
// is re-read as invalid and never written back.
#ifndef PTSIM_HW_RISCV_H_
#define PTSIM_HW_RISCV_H_

#include <atomic>
#include <cstdint>
#include <optional>

#include "src/formats/riscv_bits.h"
#include "src/mem/phys_mem.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim::hw::riscv {

enum class Priv : uint8_t { kUser, kSupervisor };

// Which A/D discipline the hart follows. menvcfg.ADUE is a CSR bit, so it is
// a property of the hart (the mode), not of the table format; kFromFormat
// takes the format's `svadu` knob so that the default mode agrees with the
// generic walker on the same tables.
enum class AdPolicy : uint8_t { kFromFormat, kSvade, kSvadu };

struct Mode {
  Priv priv = Priv::kSupervisor;
  bool sum = false;  // sstatus.SUM: S-mode may load/store U = 1 pages
  bool mxr = false;  // sstatus.MXR: loads from X-only pages succeed
  AdPolicy ad = AdPolicy::kFromFormat;
};

enum class Access : uint8_t { kLoad, kStore, kFetch };  // a store includes AMOs

// Exception codes, "Supervisor cause register (scause) values after trap".
enum class Cause : uint8_t {
  kInstructionAccessFault = 1,
  kLoadAccessFault = 5,
  kStoreAccessFault = 7,  // store/AMO access fault
  kInstructionPageFault = 12,
  kLoadPageFault = 13,
  kStorePageFault = 15,  // store/AMO page fault
};

// Why the walk faulted: ptsim's diagnosis, not architectural state (a hart
// reports only the cause and stval).
enum class Reason : uint8_t {
  kVaNotExtended,     // "Sv39" etc.: upper VA bits differ from the top bit
  kPteOutsideMemory,  // step 2: the PTE access fails the PMA/PMP check
  kNotValid,          // step 3: V = 0
  kWriteWithoutRead,  // step 3: R = 0, W = 1 is reserved
  kReservedBits,      // step 3: bits reserved by the format (PBMT, N, 63:54)
  kNonLeafReserved,   // step 3 with "Addressing and Memory Protection": D, A, U in a non-leaf
  kNoLeaf,            // step 4: a pointer at i = 0
  kUserBit,           // step 5: U-mode on U = 0, or S-mode on U = 1 (fetch, or SUM = 0)
  kPermission,        // step 5: R/W/X (with MXR) forbid the access
  kMisalignedSuperpage,  // step 6
  kAccessedClear,     // step 7, Svade: A = 0
  kDirtyClear,        // step 7, Svade: store with D = 0
};
const char* ReasonName(Reason r);
const char* CauseName(Cause c);

struct Fault {
  Cause cause = Cause::kLoadPageFault;
  uint64_t stval = 0;  // the faulting virtual address
  Reason reason = Reason::kNotValid;
  int level = 0;  // i of the PTE that faulted (the top for a VA fault)
};

struct Result {
  bool ok = false;
  Oa oa;                  // physical address of va
  unsigned size_lg2 = 0;  // the leaf's page size
  int level = 0;          // i of the leaf
  uint64_t pte = 0;       // the leaf as used (after the Svadu update)
  Fault fault;
  int restarts = 0;  // walks restarted after a failed A/D compare-and-swap
};

// PTE bits as masks, from their one declaration (src/formats/riscv_bits.h;
// the same low ten bits in Sv32 and Sv39/48/57).
inline constexpr uint64_t kV = fmt::riscv_pte::V::kMask;
inline constexpr uint64_t kR = fmt::riscv_pte::R::kMask;
inline constexpr uint64_t kW = fmt::riscv_pte::W::kMask;
inline constexpr uint64_t kX = fmt::riscv_pte::X::kMask;
inline constexpr uint64_t kU = fmt::riscv_pte::U::kMask;
inline constexpr uint64_t kG = fmt::riscv_pte::G::kMask;
inline constexpr uint64_t kA = fmt::riscv_pte::A::kMask;
inline constexpr uint64_t kD = fmt::riscv_pte::D::kMask;
inline constexpr unsigned kPpnShift = fmt::riscv_pte::Ppn64::kLo;

inline Cause PageFaultFor(Access a) {
  switch (a) {
    case Access::kLoad:
      return Cause::kLoadPageFault;
    case Access::kStore:
      return Cause::kStorePageFault;
    case Access::kFetch:
      return Cause::kInstructionPageFault;
  }
  return Cause::kLoadPageFault;
}

inline Cause AccessFaultFor(Access a) {
  switch (a) {
    case Access::kLoad:
      return Cause::kLoadAccessFault;
    case Access::kStore:
      return Cause::kStoreAccessFault;
    case Access::kFetch:
      return Cause::kInstructionAccessFault;
  }
  return Cause::kLoadAccessFault;
}

// Whether the format, as configured, has hardware A/D updating: the format
// keeps its knob private, so ask MarkAccessed on a level-0 leaf with A = 0.
template <PageTableFormat F>
bool FormatHasSvadu(const F& f) {
  const auto probe = static_cast<typename F::Raw>(kV | kR);
  return f.MarkAccessed(probe, Level(0), false) != probe;
}

// Step 5: the leaf's R/W/X/U against the access, privilege, SUM and MXR.
// Returns the reason it is denied, or nothing.
inline std::optional<Reason> CheckLeafPermission(uint64_t pte, Access acc, const Mode& m) {
  const bool u = (pte & kU) != 0;
  // "Addressing and Memory Protection": U-mode may only access U = 1 pages.
  if (m.priv == Priv::kUser && !u) return Reason::kUserBit;
  if (m.priv == Priv::kSupervisor && u) {
    // "Memory Privilege in sstatus": SUM = 0 forbids S-mode accesses to
    // U = 1 pages; SUM = 1 permits loads and stores but S-mode never
    // executes code on a U = 1 page, whatever SUM says.
    if (acc == Access::kFetch || !m.sum) return Reason::kUserBit;
  }
  switch (acc) {
    case Access::kLoad:
      // "Memory Privilege in sstatus": MXR = 1 makes loads from pages marked
      // readable or executable succeed.
      if ((pte & kR) != 0 || (m.mxr && (pte & kX) != 0)) return std::nullopt;
      return Reason::kPermission;
    case Access::kStore:
      return (pte & kW) != 0 ? std::nullopt : std::optional<Reason>(Reason::kPermission);
    case Access::kFetch:
      return (pte & kX) != 0 ? std::nullopt : std::optional<Reason>(Reason::kPermission);
  }
  return Reason::kPermission;
}

// The RISC-V rules of the one walker (src/walk/walk.h): the virtual-address
// translation process ("Sv32": "Virtual Address Translation Process", steps
// 1 to 8) for an access `acc` in mode `mode`. The walker does steps 1, 2 and
// 4's descent; the rules do the checks of steps 3 to 7.
template <PageTableFormat F>
class Rules {
 public:
  using Fault = riscv::Fault;
  struct Path {};  // nothing is inherited from non-leaf PTEs

  Rules(const F& f, Access acc, const Mode& mode)
      : acc_(acc), mode_(mode),
        svadu_(mode.ad == AdPolicy::kFromFormat ? FormatHasSvadu(f) : mode.ad == AdPolicy::kSvadu) {}

  // "Sv39"/"Sv48"/"Sv57": bits 63:VaBits must equal bit VaBits-1, else a
  // page fault of the access type. Sv32 translates all 32 bits; an address
  // above them cannot come from an RV32 hart and is refused the same way.
  Fault NonCanonical(const F& f, Va va) const {
    return {PageFaultFor(acc_), va.value(), Reason::kVaNotExtended, f.TopLevel().value()};
  }
  // Step 2: a PTE access that fails the PMA/PMP check is an access fault of
  // the original access type.
  Fault OutsideMemory(const F&, Va va, Level l, const Path&) const {
    return {AccessFaultFor(acc_), va.value(), Reason::kPteOutsideMemory, l.value()};
  }

  Step<Fault> Entry(const F& f, uint64_t pte, Level l, Va va, Path&) const {
    using Raw = typename F::Raw;
    const int i = l.value();
    auto fail = [&](Reason r) { return Step<Fault>::Stop({PageFaultFor(acc_), va.value(), r, i}); };
    // Step 3: V = 0, or R = 0 with W = 1, is a page fault.
    if ((pte & kV) == 0) return fail(Reason::kNotValid);
    if ((pte & kR) == 0 && (pte & kW) != 0) return fail(Reason::kWriteWithoutRead);
    const bool leaf = (pte & (kR | kX)) != 0;
    if (!leaf) {
      // "Addressing and Memory Protection": for non-leaf PTEs the D, A and
      // U bits are reserved for future standard use, and step 3 faults on
      // any reserved bit that is set.
      if ((pte & (kD | kA | kU)) != 0) return fail(Reason::kNonLeafReserved);
      // Step 4: a pointer with i = 0 has no next level.
      if (i == 0) return fail(Reason::kNoLeaf);
      // Step 3 again: whatever else the configured format reserves (PBMT,
      // N, bits 63:54) in a pointer.
      if (f.Classify(static_cast<Raw>(pte), l) == EntryKind::kInvalid) return fail(Reason::kReservedBits);
      return Step<Fault>::Table(pte);  // step 4: a = pte.ppn * PAGESIZE
    }
    // Step 5: a leaf; check R/W/X/U under the privilege, SUM and MXR.
    if (auto why = CheckLeafPermission(pte, acc_, mode_)) return fail(*why);
    // Step 6: a superpage's pte.ppn[i-1:0] must be zero. PPN[k] for k < i
    // are the i * IndexLg2 bits right above bit 10 (10 bits each in Sv32,
    // 9 in the others).
    const uint64_t low_ppn = (pte >> kPpnShift) & LowMask(f.IndexLg2(l) * static_cast<unsigned>(i));
    if (low_ppn != 0) return fail(Reason::kMisalignedSuperpage);
    // Step 3 for leaves: bits and encodings the configured format reserves
    // (PBMT without Svpbmt or = 3, N without Svnapot or with a wrong size).
    if (f.Classify(static_cast<Raw>(pte), l) == EntryKind::kInvalid) return fail(Reason::kReservedBits);
    // Step 7: A = 0, or a store with D = 0.
    const bool store = acc_ == Access::kStore;
    uint64_t used = pte;
    if ((pte & kA) == 0 || (store && (pte & kD) == 0)) {
      // "Svadu" chapter: with menvcfg.ADUE = 0 (Svade) the hart raises a
      // page fault of the access type and writes nothing.
      if (!svadu_) return fail((pte & kA) == 0 ? Reason::kAccessedClear : Reason::kDirtyClear);
      // Svadu: set A (and D on a store) atomically with the check that the
      // PTE is still what the walk read (the walker's compare-and-swap;
      // otherwise it restarts from the root).
      used = pte | kA | (store ? kD : 0);
    }
    // Step 8: pa.pgoff = va.pgoff; for a superpage pa.ppn[i-1:0] =
    // va.vpn[i-1:0]; a NAPOT leaf (Svnapot) takes VPN[0][3:0] as well.
    return Step<Fault>::Leaf(used, f.DecodeAttrs(static_cast<Raw>(used), l));
  }

 private:
  Access acc_;
  Mode mode_;
  bool svadu_;
};

// Walks `va` from the root table at `root` (satp.PPN * PAGESIZE) with the
// RISC-V rules.
template <PageTableFormat F>
Result Walk(const F& f, PhysMem* mem, Oa root, Va va, Access acc, const Mode& mode = {}) {
  const auto w = ptsim::Walk(f, mem, root, va, Rules<F>(f, acc, mode));
  Result res;
  res.restarts = w.restarts;
  if (!w.ok) {
    res.fault = w.fault;
    return res;
  }
  res.ok = true;
  res.oa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.level = w.t.level.value();
  res.pte = w.t.raw;
  return res;
}

inline const char* CauseName(Cause c) {
  switch (c) {
    case Cause::kInstructionAccessFault:
      return "instruction-access-fault";
    case Cause::kLoadAccessFault:
      return "load-access-fault";
    case Cause::kStoreAccessFault:
      return "store-access-fault";
    case Cause::kInstructionPageFault:
      return "instruction-page-fault";
    case Cause::kLoadPageFault:
      return "load-page-fault";
    case Cause::kStorePageFault:
      return "store-page-fault";
  }
  return "?";
}

inline const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kVaNotExtended:
      return "va-not-sign-extended";
    case Reason::kPteOutsideMemory:
      return "pte-outside-memory";
    case Reason::kNotValid:
      return "not-valid";
    case Reason::kWriteWithoutRead:
      return "write-without-read";
    case Reason::kReservedBits:
      return "reserved-bits";
    case Reason::kNonLeafReserved:
      return "non-leaf-dau";
    case Reason::kNoLeaf:
      return "no-leaf";
    case Reason::kUserBit:
      return "user-bit";
    case Reason::kPermission:
      return "permission";
    case Reason::kMisalignedSuperpage:
      return "misaligned-superpage";
    case Reason::kAccessedClear:
      return "accessed-clear";
    case Reason::kDirtyClear:
      return "dirty-clear";
  }
  return "?";
}

}  // namespace ptsim::hw::riscv

#endif  // PTSIM_HW_RISCV_H_
