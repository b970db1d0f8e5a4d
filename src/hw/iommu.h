// IOMMU hardware-faithful walks: Intel VT-d second stage
// (src/formats/vtd.h) and AMD IOMMU v1 host tables
// (src/formats/amd_iommu_v1.h), reporting faults the way each IOMMU records
// them: a VT-d fault reason (fault recording register), an AMD event log
// entry (IO_PAGE_FAULT with its flags, or PAGE_TAB_HARDWARE_ERROR).
//
// Neither walker writes accessed/dirty flags (VT-d SSADE, AMD HAD): the walk
// only reads. The format does the rest of the decoding (table and leaf
// addresses, page size, level skipping, and which bits are reserved as
// configured).
//
// Protocol: every entry is loaded once with acquire order, pairing with the
// release store that publishes a new table; nothing is written.
#ifndef PTSIM_HW_IOMMU_H_
#define PTSIM_HW_IOMMU_H_

#include <atomic>
#include <cstdint>

#include "src/formats/amd_iommu_v1.h"
#include "src/formats/vtd.h"
#include "src/mem/phys_mem.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim::hw {

// DMA request types. Execute requests exist in neither model: VT-d Rev. 5.10
// §9.8 has no X bit in second-stage entries (bit 2 is ignored; Rev. 3.x's X
// with ECAP.ERS is not modelled), and AMD v1 PTEs have only IR and IW
// (§2.2.3).
enum class DmaAccess : uint8_t { kRead, kWrite };

namespace vtd {

// Non-recoverable fault reasons for requests translated through a
// context entry with second-stage translation (VT-d spec, chapter 7
// "Address Translation Faults", the table of fault reasons in §7.1.3, and
// §7.2 "Non-Recoverable Fault Reporting").
enum class FaultReason : uint8_t {
  kAddressBeyondAgaw = 0x4,   // input address above 2^AGAW - 1
  kWrite = 0x5,               // a write request met an entry with W = 0
  kRead = 0x6,                // a read request met an entry with R = 0
  kPagingEntryAccess = 0x7,   // reading a second-stage paging entry failed
  kPagingEntryReserved = 0xC, // a present second-stage entry has a reserved bit set
};
const char* FaultReasonName(FaultReason r);

struct Result {
  bool ok = false;
  Oa oa;
  unsigned size_lg2 = 0;
  int level = 0;
  FaultReason reason = FaultReason::kRead;
  uint64_t fault_addr = 0;  // FRCD.FI: the faulting input address (page-aligned in hardware)
  int fault_level = 0;
};

struct Fault {
  FaultReason reason = FaultReason::kRead;
  uint64_t fault_addr = 0;  // FRCD.FI: the faulting input address
  int fault_level = 0;
  bool not_present = false;  // ptsim's diagnosis: R = W = 0 (hardware reports reason 5h/6h alike)
};

// The VT-d second-stage rules of the one walker (src/walk/walk.h): §3.7
// "Second-Stage Translation", §3.7.1 "Access Rights", §9.8 entries.
template <int kLevels>
class Rules {
 public:
  using F = fmt::VtdSs<kLevels>;
  using Fault = vtd::Fault;
  struct Path {};  // the rights are checked entry by entry, top down

  explicit Rules(DmaAccess acc) : acc_(acc) {}

  // §3.7: input address bits above the AGAW are not translated; a request
  // with one of them set faults (reason 4h).
  Fault NonCanonical(const F& f, Va va) const {
    return {FaultReason::kAddressBeyondAgaw, va.value(), f.TopLevel().value()};
  }
  // §7.1.3 reason 7h: the entry's read is aborted (outside memory).
  Fault OutsideMemory(const F&, Va va, Level l, const Path&) const {
    return {FaultReason::kPagingEntryAccess, va.value(), l.value()};
  }

  Step<Fault> Entry(const F& f, uint64_t e, Level l, Va va, Path&) const {
    const bool r = F::R::Test(e), w = F::W::Test(e);
    auto fail = [&](FaultReason why) { return Step<Fault>::Stop({why, va.value(), l.value(), !r && !w}); };
    // §3.7.1: a read needs R = 1 and a write W = 1 in every entry used; an
    // entry with R = W = 0 is not present, and that too is reported as the
    // read or write reason (there is no separate not-present reason for
    // second-stage entries). Checked entry by entry, top down.
    if (acc_ == DmaAccess::kRead && !r) return fail(FaultReason::kRead);
    if (acc_ == DmaAccess::kWrite && !w) return fail(FaultReason::kWrite);
    // §3.7 reserved bits (and §9.8's per-entry tables), reason Ch, for an
    // entry with R or W set.
    switch (f.Classify(e, l)) {
      case EntryKind::kInvalid:
      case EntryKind::kEmpty:
        return fail(FaultReason::kPagingEntryReserved);
      case EntryKind::kTable:
        return Step<Fault>::Table(e);
      case EntryKind::kLeaf:
        break;
    }
    return Step<Fault>::Leaf(e, f.DecodeAttrs(e, l));
  }

 private:
  DmaAccess acc_;
};

template <int kLevels>
Result Walk(const fmt::VtdSs<kLevels>& f, PhysMem* mem, Oa root, uint64_t iova, DmaAccess acc) {
  const auto w = ptsim::Walk(f, mem, root, Va(iova), Rules<kLevels>(acc));
  Result res;
  if (!w.ok) {
    res.reason = w.fault.reason;
    res.fault_addr = w.fault.fault_addr;
    res.fault_level = w.fault.fault_level;
    return res;
  }
  res.ok = true;
  res.oa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.level = w.t.level.value();
  return res;
}

inline const char* FaultReasonName(FaultReason r) {
  switch (r) {
    case FaultReason::kAddressBeyondAgaw:
      return "4h address beyond AGAW";
    case FaultReason::kWrite:
      return "5h write permission";
    case FaultReason::kRead:
      return "6h read permission / not present";
    case FaultReason::kPagingEntryAccess:
      return "7h paging entry access error";
    case FaultReason::kPagingEntryReserved:
      return "Ch paging entry reserved bit";
  }
  return "?";
}

}  // namespace vtd

namespace amd {

// Event log entries, AMD IOMMU spec §2.5 "Event Logging": IO_PAGE_FAULT
// (event code 2h) and PAGE_TAB_HARDWARE_ERROR (event code 4h).
enum class EventCode : uint8_t { kIoPageFault = 0x2, kPageTabHardwareError = 0x4 };

// IO_PAGE_FAULT flags (§2.5, the IO_PAGE_FAULT event layout).
struct PageFaultFlags {
  bool pr = false;  // the PTE was present (0: not present)
  bool rw = false;  // the transaction was a write
  bool pe = false;  // permission violation
  bool rz = false;  // reserved bit not zero / illegal level encoding
  bool tr = false;  // a translation request (ATS); always 0 here: transactions only
  bool operator==(const PageFaultFlags&) const = default;
};

struct Result {
  bool ok = false;
  Oa oa;
  unsigned size_lg2 = 0;
  int level = 0;
  EventCode event = EventCode::kIoPageFault;
  PageFaultFlags flags;
  uint64_t address = 0;  // the event's Address field: the faulting DMA address
  int fault_level = 0;
};

struct Fault {
  EventCode event = EventCode::kIoPageFault;
  PageFaultFlags flags;
  uint64_t address = 0;  // the event's Address field: the faulting DMA address
  int fault_level = 0;
};

// The AMD IOMMU v1 rules of the one walker (src/walk/walk.h): §2.2.3 "I/O
// Page Tables for Host Translations": PR, Next Level, IR/IW in PDEs and
// PTEs; the effective permission is the AND of IR (IW) over every PDE and
// the PTE of the walk.
class Rules {
 public:
  using F = fmt::AmdIommuV1;
  using Fault = amd::Fault;
  struct Path {
    bool ir = true, iw = true;
  };

  explicit Rules(DmaAccess acc) : write_(acc == DmaAccess::kWrite) {}

  // §2.2.3 Page Table Level Parameters: address bits above those the DTE
  // mode translates must be zero; otherwise no translation exists
  // (reported as not present).
  Fault NonCanonical(const F& f, Va va) const { return PageFault({}, va, f.TopLevel()); }
  // The table read fails: PAGE_TAB_HARDWARE_ERROR.
  Fault OutsideMemory(const F&, Va va, Level l, const Path&) const {
    return {EventCode::kPageTabHardwareError, {.rw = write_}, va.value(), l.value()};
  }
  // A PDE whose Next Level skips levels: the skipped address bits must be
  // zero, or nothing translates the address (not present).
  Fault SkippedIndex(const F&, Va va, Level l) const { return PageFault({}, va, l); }

  Step<Fault> Entry(const F& f, uint64_t e, Level l, Va va, Path& path) const {
    // PR = 0: not present.
    if (!F::Pr::Test(e)) return Step<Fault>::Stop(PageFault({}, va, l));
    // Reserved bits, Next Level at or above the entry's own level, a
    // misaligned or unsupported page size: RZ, with PR = 1.
    const EntryKind kind = f.Classify(e, l);
    if (kind == EntryKind::kInvalid || kind == EntryKind::kEmpty) {
      return Step<Fault>::Stop(PageFault({.pr = true, .rz = true}, va, l));
    }
    // IR and IW of every entry on the path, ANDed.
    path.ir = path.ir && F::Ir::Test(e);
    path.iw = path.iw && F::Iw::Test(e);
    if (kind == EntryKind::kTable) return Step<Fault>::Table(e);
    // A PTE: the permission check on the ANDed rights.
    if (write_ ? !path.iw : !path.ir) return Step<Fault>::Stop(PageFault({.pr = true, .pe = true}, va, l));
    return Step<Fault>::Leaf(e, f.DecodeAttrs(e, l));
  }

 private:
  Fault PageFault(PageFaultFlags fl, Va va, Level l) const {
    fl.rw = write_;
    return {EventCode::kIoPageFault, fl, va.value(), l.value()};
  }

  bool write_;
};

inline Result Walk(const fmt::AmdIommuV1& f, PhysMem* mem, Oa root, uint64_t dva, DmaAccess acc) {
  const auto w = ptsim::Walk(f, mem, root, Va(dva), Rules(acc));
  Result res;
  if (!w.ok) {
    res.event = w.fault.event;
    res.flags = w.fault.flags;
    res.address = w.fault.address;
    res.fault_level = w.fault.fault_level;
    return res;
  }
  res.ok = true;
  res.oa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.level = w.t.level.value();
  return res;
}

}  // namespace amd
}  // namespace ptsim::hw

#endif  // PTSIM_HW_IOMMU_H_
