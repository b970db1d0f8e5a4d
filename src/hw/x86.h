// The x86 hardware-faithful walk: CPU mode, access rights, page-fault error
// codes and accessed/dirty updates for the four x86 paging modes, on top of
// the architecture-neutral formats and the generic walker's conventions.
//
// Sources: Intel SDM Vol. 3A §4.3 (32-bit paging), §4.4 (PAE paging),
// §4.5 (4-level and 5-level paging), §4.6 "Access Rights" (§4.6.1
// "Determination of Access Rights", §4.6.2 "Protection Keys"), §4.7
// "Page-Fault Exceptions" (Figure 4-12, the error code), §4.8 "Accessed and
// Dirty Flags"; Vol. 1 §3.3.7.1 (canonical addressing). docs/hw/x86.md says
// what is modelled and what is not.
//
// Protocol (the same as the generic walker's, src/mmu/mmu.h): each entry is
// read once with acquire order; accessed/dirty updates are compare-and-swap
// on the value that was read, and a failed swap restarts the whole walk from
// the root, so an entry a mutator cleared meanwhile is never written back.
//
#ifndef PTSIM_HW_X86_H_
#define PTSIM_HW_X86_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "src/formats/x86_32.h"
#include "src/formats/x86_64.h"
#include "src/formats/x86_pae.h"
#include "src/mem/phys_mem.h"
#include "src/pt/entry.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim::hw::x86 {

// The four paging modes of Intel SDM Vol. 3A §4.1.1 (Table 4-1).
enum class Paging : uint8_t { k32Bit, kPae, k4Level, k5Level };

template <typename F>
constexpr std::optional<Paging> kPagingOf = std::nullopt;
template <>
inline constexpr std::optional<Paging> kPagingOf<fmt::X86_32> = Paging::k32Bit;
template <>
inline constexpr std::optional<Paging> kPagingOf<fmt::X86Pae> = Paging::kPae;
template <>
inline constexpr std::optional<Paging> kPagingOf<fmt::X86_64<4>> = Paging::k4Level;
template <>
inline constexpr std::optional<Paging> kPagingOf<fmt::X86_64<5>> = Paging::k5Level;

template <typename F>
constexpr std::optional<Paging> PagingOf() {
  return kPagingOf<F>;
}

// IA-32e paging (4-level and 5-level): CR4.PCIDE and protection keys exist
// only there (SDM §4.10.1, §4.6.2).
template <typename F>
constexpr bool kIa32e = kPagingOf<F> == Paging::k4Level || kPagingOf<F> == Paging::k5Level;

// A format this layer knows how to walk.
template <typename F>
concept X86Format = PageTableFormat<F> && PagingOf<F>().has_value();

// The CPU state that decides access rights. EFER.NXE, MAXPHYADDR, CR4.PSE
// and 1-GByte page support are the formats' own knobs (kKnobs) and are not
// repeated here.
struct Mode {
  int cpl = 0;         // current privilege level; 3 is user mode (§4.6)
  bool wp = true;      // CR0.WP (§4.6.1)
  bool smep = false;   // CR4.SMEP (§4.6.1)
  bool smap = false;   // CR4.SMAP (§4.6.1)
  bool ac = false;     // EFLAGS.AC (§4.6.1, with SMAP)
  bool pke = false;    // CR4.PKE (§4.6.2)
  uint32_t pkru = 0;   // PKRU: AD of key i at bit 2i, WD at bit 2i+1 (§4.6.2)
  bool pks = false;    // CR4.PKS (§4.6.2)
  uint32_t pkrs = 0;   // IA32_PKRS bits 31:0, laid out as PKRU (§4.6.2)
  bool operator==(const Mode&) const = default;
};

enum class Op : uint8_t { kRead, kWrite, kFetch };

struct Access {
  Op op = Op::kRead;
  // An implicit supervisor-mode access (§4.6: to the GDT, LDT, IDT or TSS,
  // for instance): supervisor-mode whatever the CPL, and always subject to
  // SMAP. Only data accesses are implicit.
  bool implicit = false;
};

// Page-fault error code, Intel SDM Vol. 3A §4.7, Figure 4-12.
inline constexpr uint32_t kErrP = 1u << 0;     // 0: not present; 1: protection violation
inline constexpr uint32_t kErrW = 1u << 1;     // the access was a write
inline constexpr uint32_t kErrU = 1u << 2;     // the access was a user-mode access
inline constexpr uint32_t kErrRsvd = 1u << 3;  // a reserved bit was set in an entry
inline constexpr uint32_t kErrId = 1u << 4;    // instruction fetch (with SMEP, or PAE and NXE)
inline constexpr uint32_t kErrPk = 1u << 5;    // protection-key violation

enum class Outcome : uint8_t {
  kOk,
  kPageFault,         // #PF with error_code, at `level`
  kGeneralProtection, // #GP(0): non-canonical address, or a PAE PDPTE with reserved bits
  kOutsideMemory,     // a table pointer leads outside simulated memory (not an x86 event)
};

struct Result {
  Outcome outcome = Outcome::kOk;
  uint32_t error_code = 0;  // #PF only
  Level level;              // the leaf's level, or the level of the entry that faulted
  Oa oa;                    // kOk: the output address of the VA itself
  unsigned size_lg2 = 0;    // kOk: size of the leaf
  uint8_t pkey = 0;         // kOk: the leaf's protection key (4/5-level paging)
  int restarts = 0;         // walks restarted after a failed A/D compare-and-swap
  bool ok() const { return outcome == Outcome::kOk; }
};

namespace internal {

// Bits 62:59 of an entry that maps a page hold its protection key in
// 4-level and 5-level paging (Tables 4-16, 4-18, 4-20); PAE and 32-bit
// paging have none (§4.6.2: keys exist only with IA32_EFER.LMA = 1).
template <typename Raw>
constexpr uint8_t PkeyBits(Raw raw) {
  if constexpr (sizeof(Raw) == 8) {
    return static_cast<uint8_t>(fmt::x86::Pkey::Get(raw));
  } else {
    return 0;
  }
}

// What a walk folded from the entries on its path, leaf included
// (§4.6.1: "every paging-structure entry controlling the translation").
struct Folded {
  bool write_all = true;  // R/W = 1 in every entry
  bool user_all = true;   // U/S = 1 in every entry: a user-mode address
  bool xd_any = false;    // XD = 1 in some entry (only when NXE = 1)
};

// The error-code bits of a protection violation (P, and PK when §4.7 says
// so), or 0 when §4.6 allows the access. `access_bits` are W/R, U/S, I/D.
inline uint32_t Check(Paging paging, const Mode& m, Access acc, bool supervisor, const Folded& p, uint8_t pkey,
                      uint32_t access_bits) {
  const bool write = acc.op == Op::kWrite;
  const bool fetch = acc.op == Op::kFetch;
  const bool user_addr = p.user_all;
  bool deny = false;
  if (!supervisor) {
    // §4.6.1, user-mode access: only user-mode addresses; writes need R/W
    // everywhere (CR0.WP does not matter); fetches need XD clear everywhere.
    deny = !user_addr || (write && !p.write_all) || (fetch && p.xd_any);
  } else if (fetch) {
    // §4.6.1, supervisor-mode instruction fetch: never from a user-mode
    // address with CR4.SMEP = 1; otherwise XD decides (when NXE = 1).
    deny = (user_addr && m.smep) || p.xd_any;
  } else {
    // §4.6.1, supervisor-mode data access: with CR4.SMAP = 1 a user-mode
    // address is reachable only by an explicit access with EFLAGS.AC = 1;
    // writes to a read-only address fault only with CR0.WP = 1.
    deny = (user_addr && m.smap && (acc.implicit || !m.ac)) || (write && !p.write_all && m.wp);
  }
  // §4.6.2: keys govern data accesses only, in 4/5-level paging; PKRU for
  // user-mode addresses (CR4.PKE), IA32_PKRS for supervisor-mode ones
  // (CR4.PKS). AD forbids every data access; WD forbids writes by user-mode
  // accesses, and by supervisor-mode accesses when CR0.WP = 1. §4.7: the PK
  // flag is set exactly when these conditions hold.
  bool pk = false;
  const bool keyed = (paging == Paging::k4Level || paging == Paging::k5Level) && !fetch &&
                     (user_addr ? m.pke : m.pks);
  if (keyed) {
    const uint32_t reg = user_addr ? m.pkru : m.pkrs;
    const bool ad = ((reg >> (2 * pkey)) & 1) != 0;
    const bool wd = ((reg >> (2 * pkey + 1)) & 1) != 0;
    pk = ad || (wd && write && (m.wp || !supervisor));
  }
  if (!deny && !pk) return 0;
  return kErrP | access_bits | (pk ? kErrPk : 0);
}

}  // namespace internal

// What an x86 walk reports when it does not translate.
struct Fault {
  Outcome outcome = Outcome::kPageFault;
  uint32_t error_code = 0;  // #PF only
  Level level;              // the level of the entry that faulted
};

// The x86 rules of the one walker (src/walk/walk.h) for access `acc` in CPU
// mode `m`. Accessed and dirty flags are set as §4.8 says (see
// docs/hw/x86.md for the choice when the access faults: table entries keep
// the A they got on the way down, the leaf gets A and D only when the
// access is allowed).
template <X86Format F>
class Rules {
 public:
  using Fault = x86::Fault;
  using Path = internal::Folded;

  Rules(const F& f, Access acc, const Mode& m) : acc_(acc), m_(m), rs_(f.Restrictions()) {
    PTSIM_CHECK(!(acc.implicit && acc.op == Op::kFetch), "an implicit access is a data access (SDM Vol. 3A §4.6)");
    // §4.6: CPL < 3 and implicit accesses are supervisor-mode accesses.
    supervisor_ = m.cpl < 3 || acc.implicit;
    // §4.7: W/R, U/S and I/D describe the access, whatever the cause. I/D
    // is reported only with CR4.SMEP = 1 or with PAE-style paging and NXE =
    // 1 (the formats carry NXE: XD restricts iff it is on).
    const bool nxe = rs_.deny_exec != 0;
    access_bits_ = (acc.op == Op::kWrite ? kErrW : 0) | (supervisor_ ? 0 : kErrU) |
                   (acc.op == Op::kFetch && (m.smep || nxe) ? kErrId : 0);
  }

  // §4.5 / Vol. 1 §3.3.7.1: a non-canonical address raises #GP(0), not #PF.
  // (32-bit linear addresses have no such case; a VA above 4 GiB given to a
  // 32-bit mode is refused the same way, as the neutral rules do.)
  Fault NonCanonical(const F& f, Va) const { return {Outcome::kGeneralProtection, 0, f.TopLevel()}; }
  Fault OutsideMemory(const F&, Va, Level l, const Path&) const { return {Outcome::kOutsideMemory, 0, l}; }

  Step<Fault> Entry(const F& f, uint64_t raw64, Level l, Va, Path& path) const {
    constexpr Paging kPaging = *PagingOf<F>();
    const auto raw = static_cast<typename F::Raw>(raw64);
    // The rights an entry grants, with the controls a level lacks counted
    // as granting (PAE PDPTEs, Table 4-7: geometry.h RestrictingBits).
    auto fold = [&](uint64_t bits) {
      path.write_all = path.write_all && (bits & rs_.allow_write) == rs_.allow_write;
      path.user_all = path.user_all && (bits & rs_.allow_user) == rs_.allow_user;
      path.xd_any = path.xd_any || (bits & rs_.deny_exec) != 0;
    };
    switch (f.Classify(raw, l)) {
      case EntryKind::kEmpty:
        // §4.7: P = 0 in an entry used for the translation.
        return PageFault(access_bits_, l);
      case EntryKind::kInvalid:
        // §4.4.1: PAE PDPTEs are loaded into registers by MOV to CR3,
        // which raises #GP(0) for a reserved bit; ptsim has no CR3 load and
        // rereads them on each walk, so the #GP is reported here.
        if (kPaging == Paging::kPae && l == f.TopLevel()) {
          return Step<Fault>::Stop({Outcome::kGeneralProtection, 0, l});
        }
        // §4.7: RSVD = 1 only with P = 1; the walk stops here, so a
        // reserved bit wins over any access-rights violation below.
        return PageFault(kErrP | kErrRsvd | access_bits_, l);
      case EntryKind::kTable:
        // §4.8: A is set in every paging-structure entry used.
        fold(RestrictingBits(f, raw, l));
        return Step<Fault>::Table(f.MarkAccessed(raw, l, false));
      case EntryKind::kLeaf:
        break;
    }
    fold(raw);
    if (const uint32_t ec = internal::Check(kPaging, m_, acc_, supervisor_, path, internal::PkeyBits(raw),
                                            access_bits_)) {
      return PageFault(ec, l);
    }
    // §4.8: A in the entry that maps the page, and D on a write.
    const typename F::Raw marked = f.MarkAccessed(raw, l, acc_.op == Op::kWrite);
    return Step<Fault>::Leaf(marked, f.DecodeAttrs(marked, l));
  }

 private:
  static Step<Fault> PageFault(uint32_t ec, Level l) { return Step<Fault>::Stop({Outcome::kPageFault, ec, l}); }

  Access acc_;
  Mode m_;
  TableRestrictions rs_;
  bool supervisor_ = false;
  uint32_t access_bits_ = 0;
};

// Walks `va` from `root` for `acc` in CPU mode `m` with the x86 rules.
template <X86Format F>
Result Walk(const F& f, PhysMem* mem, Oa root, Va va, Access acc, const Mode& m) {
  constexpr Paging kPaging = *PagingOf<F>();
  const auto w = ptsim::Walk(f, mem, root, va, Rules<F>(f, acc, m));
  Result res;
  res.restarts = w.restarts;
  if (!w.ok) {
    res.outcome = w.fault.outcome;
    res.error_code = w.fault.error_code;
    res.level = w.fault.level;
    return res;
  }
  res.outcome = Outcome::kOk;
  res.level = w.t.level;
  res.oa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.pkey = kPaging == Paging::k4Level || kPaging == Paging::k5Level ? internal::PkeyBits(w.t.raw) : 0;
  return res;
}

}  // namespace ptsim::hw::x86

#endif  // PTSIM_HW_X86_H_
