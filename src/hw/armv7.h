// ARMv7-A short-descriptor hardware-faithful walk (src/formats/armv7_short.h).
//
// The format and the generic walker treat every domain as Client, use the
// AFE = 0 access permissions only, and report format-neutral faults. This
// layer applies the VMSAv7 rules to the raw descriptors and reports what a
// processor writes into DFSR/IFSR and DFAR/IFAR.
//
// Source: ARM Architecture Reference Manual ARMv7-A and ARMv7-R edition
// (DDI 0406C.d), chapter B3 "Virtual Memory System Architecture (VMSA)":
//   * B3.5.1 "Short-descriptor translation table format descriptors" (the
//     first- and second-level descriptor layouts; supersections have no
//     domain field and are in domain 0);
//   * B3.7.1 "Access permissions": Table B3-8 (AP[2:0], SCTLR.AFE = 0) and
//     Table B3-9 (the simplified model, SCTLR.AFE = 1, AP[0] is the Access
//     flag), "The Access flag";
//   * B3.7.2 "Execute-never restrictions on instruction fetching" (XN, PXN,
//     PXN in a page table descriptor; a location that is not readable at the
//     current privilege cannot be executed either);
//   * B3.7.3 "Domains" (DACR: 00 No access, 01 Client, 11 Manager; 10
//     reserved);
//   * B3.12.3 "The MMU fault-checking sequence" and B3.12 "Exception
//     reporting in a VMSA implementation": translation, Access flag, domain
//     and permission faults, each of section or page size, and the
//     synchronous external abort on a translation table walk;
//   * B3.13.3 "Short-descriptor translation table format FSR encodings"
//     (DFSR/IFSR FS[4:0], Table B3-23), B4.1.52 DFSR (WnR, Domain).
//
// Fault checking order, as B3.12.3's sequence reads: fetch the first-level
// descriptor (external abort; translation fault, section); for a page table
// fetch the second-level descriptor (external abort; translation fault,
// page); then the domain (domain fault); then the Access flag when
// SCTLR.AFE = 1 (Access flag fault); then, in a Client domain only, the
// permissions (permission fault). See docs/hw/armv7.md for the two points
// where implementations (QEMU) differ.
#ifndef PTSIM_HW_ARMV7_H_
#define PTSIM_HW_ARMV7_H_

#include <atomic>
#include <cstdint>

#include "src/formats/armv7_short.h"
#include "src/mem/phys_mem.h"
#include "src/pt/geometry.h"
#include "src/walk/walk.h"

namespace ptsim::hw::armv7 {

enum class Pl : uint8_t { kPl0, kPl1 };
enum class Access : uint8_t { kRead, kWrite, kFetch };

// DACR values, B3.7.3 (and B4.1.43 DACR).
enum class DomainAccess : uint8_t { kNoAccess = 0b00, kClient = 0b01, kReserved = 0b10, kManager = 0b11 };

struct Mode {
  Pl pl = Pl::kPl1;
  uint32_t dacr = 0x55555555;  // every domain Client, as the format assumes
  bool afe = false;            // SCTLR.AFE
};

inline uint32_t DacrWith(uint32_t dacr, unsigned domain, DomainAccess a) {
  const unsigned shift = 2 * domain;
  return (dacr & ~(uint32_t{3} << shift)) | (uint32_t{static_cast<uint8_t>(a)} << shift);
}

// FS[4:0] values, B3.13.3 Table B3-23.
enum class Fs : uint8_t {
  kAccessFlagSection = 0b00011,
  kTranslationSection = 0b00101,
  kAccessFlagPage = 0b00110,
  kTranslationPage = 0b00111,
  kDomainSection = 0b01001,
  kDomainPage = 0b01011,
  kExternalAbortWalkL1 = 0b01100,
  kExternalAbortWalkL2 = 0b01110,
  kPermissionSection = 0b01101,
  kPermissionPage = 0b01111,
};
const char* FsName(Fs fs);

struct Fault {
  Fs fs = Fs::kTranslationSection;
  bool prefetch_abort = false;  // IFSR/IFAR (fetch), else DFSR/DFAR
  bool wnr = false;             // DFSR.WnR: the faulting access was a write
  uint8_t domain = 0;           // DFSR.Domain (valid for domain/permission/AF faults)
  uint32_t far = 0;             // DFAR/IFAR: the faulting VA
  int level = 1;                // ptsim level: 1 first level, 0 second level
};

struct Result {
  bool ok = false;
  Oa pa;
  unsigned size_lg2 = 0;
  int level = 0;
  Fault fault;
};

// The simplified and the full permission model (B3.7.1 Tables B3-8, B3-9):
// what the current PL may do.
struct ApGrant {
  bool read = false, write = false;
};

inline ApGrant GrantOf(unsigned ap, Pl pl, bool afe) {
  const bool pl1 = pl == Pl::kPl1;
  if (afe) {
    // Table B3-9: AP[2] disables writes, AP[1] enables PL0 access; AP[0] is
    // the Access flag, checked separately.
    const bool ap2 = (ap & 0b100) != 0, ap1 = (ap & 0b010) != 0;
    if (!pl1 && !ap1) return {};
    return {true, !ap2};
  }
  // Table B3-8.
  switch (ap) {
    case 0b000:
      return {};  // no access
    case 0b001:
      return pl1 ? ApGrant{true, true} : ApGrant{};  // PL1 RW
    case 0b010:
      return pl1 ? ApGrant{true, true} : ApGrant{true, false};  // PL1 RW, PL0 RO
    case 0b011:
      return {true, true};  // full access
    case 0b100:
      return {};  // reserved (UNPREDICTABLE): ptsim grants nothing
    case 0b101:
      return pl1 ? ApGrant{true, false} : ApGrant{};  // PL1 RO
    case 0b110:   // PL1/PL0 RO (deprecated encoding)
    case 0b111:
      return {true, false};
  }
  return {};
}

// The short-descriptor rules of the one walker (src/walk/walk.h), for the
// walk from the 16 KiB first-level table (TTBR0 with TTBCR.N = 0).
// Descriptor fields per B3.5.1; they are decoded here from the raw bits, not
// through the format's Classify, because the format refuses encodings
// (reserved AP, supersection PA[35:32]) that the walk must still report as
// the hardware does.
class Rules {
 public:
  using F = fmt::ArmV7Short;
  using Fault = armv7::Fault;
  // What a first-level page table descriptor passes to its second level:
  // the domain (bits 8:5) and PXN (bit 2).
  struct Path {
    unsigned domain = 0;
    bool table_pxn = false;
  };

  Rules(Access acc, const Mode& mode) : acc_(acc), mode_(mode) {}

  // A 32-bit VA always translates; a wider one cannot come from the core.
  Fault NonCanonical(const F&, Va va) const { return Make(Fs::kTranslationSection, 0, va, 1); }
  // The descriptor read aborts: synchronous external abort on the walk, at
  // the first or the second level (with the domain the first level named).
  Fault OutsideMemory(const F&, Va va, Level l, const Path& p) const {
    return l.IsBottom() ? Make(Fs::kExternalAbortWalkL2, p.domain, va, 0) : Make(Fs::kExternalAbortWalkL1, 0, va, 1);
  }

  Step<Fault> Entry(const F& f, uint64_t raw, Level l, Va va, Path& path) const {
    namespace d = fmt::armv7_desc;  // the bit positions, declared once
    const auto desc = static_cast<uint32_t>(raw);
    const uint64_t type = d::Type::Get(desc);
    bool xn = false, pxn = false;
    unsigned ap = 0;
    unsigned domain = 0;
    if (!l.IsBottom()) {
      // B3.5.1: bits[1:0] = 00 is a fault entry (translation fault, section).
      if (type == d::kL1Fault) return Step<Fault>::Stop(Make(Fs::kTranslationSection, 0, va, 1));
      if (type == d::kL1PageTable) {
        // Page table descriptor: domain, PXN, the second-level table.
        path.domain = static_cast<unsigned>(d::Domain::Get(desc));
        path.table_pxn = d::PxnTable::Test(desc);
        return Step<Fault>::Table(raw);
      }
      // Section or supersection; bits[1:0] = 11 is a section with PXN = 1
      // (implementations with the PXN extension, B3.5.1 note).
      // B3.5.1: a supersection has no domain field (bits 8:5 hold extended
      // base address bits); it is in domain 0.
      domain = d::Super::Test(desc) ? 0 : static_cast<unsigned>(d::Domain::Get(desc));
      xn = d::XnSection::Test(desc);
      pxn = type == d::kL1SectionPxn;
      ap = static_cast<unsigned>(d::ApOf(desc, false));
    } else {
      domain = path.domain;
      // B3.5.1: second-level bits[1:0] = 00 is a fault (translation, page).
      if (type == d::kL2Fault) return Step<Fault>::Stop(Make(Fs::kTranslationPage, domain, va, 0));
      // Large page and small page have XN in different places; AP in the
      // same.
      xn = type == d::kL2Large ? d::LargeXn::Test(desc) : d::SmallXn::Test(desc);
      pxn = path.table_pxn;
      ap = static_cast<unsigned>(d::ApOf(desc, true));
    }
    const bool page_level = l.IsBottom();
    const int level = l.value();
    const Fs domain_fs = page_level ? Fs::kDomainPage : Fs::kDomainSection;
    const Fs af_fs = page_level ? Fs::kAccessFlagPage : Fs::kAccessFlagSection;
    const Fs perm_fs = page_level ? Fs::kPermissionPage : Fs::kPermissionSection;
    auto fail = [&](Fs fs) { return Step<Fault>::Stop(Make(fs, domain, va, level)); };
    // B3.7.3: DACR field of the descriptor's domain. No access (and the
    // reserved 10, which ptsim treats as No access) is a domain fault.
    const unsigned da = (mode_.dacr >> (2 * domain)) & 0b11;
    if (da == static_cast<unsigned>(DomainAccess::kNoAccess) || da == static_cast<unsigned>(DomainAccess::kReserved)) {
      return fail(domain_fs);
    }
    // B3.7.1 "The Access flag": with SCTLR.AFE = 1, AP[0] = 0 means the
    // Access flag is clear and the access faults (no hardware management).
    if (mode_.afe && (ap & 1) == 0) return fail(af_fs);
    // B3.7.3: a Manager domain is not checked against the permission bits
    // (AP, XN, PXN).
    if (da == static_cast<unsigned>(DomainAccess::kClient)) {
      const ApGrant g = GrantOf(ap, mode_.pl, mode_.afe);
      switch (acc_) {
        case Access::kRead:
          if (!g.read) return fail(perm_fs);
          break;
        case Access::kWrite:
          if (!g.write) return fail(perm_fs);
          break;
        case Access::kFetch:
          // B3.7.2: XN forbids execution at every PL, PXN at PL1; a location
          // without read access at the current PL is not executable.
          if (!g.read || xn || (pxn && mode_.pl == Pl::kPl1)) return fail(perm_fs);
          break;
      }
    }
    return Step<Fault>::Leaf(raw, f.DecodeAttrs(desc, l));
  }

 private:
  Fault Make(Fs fs, unsigned domain, Va va, int level) const {
    return {fs, acc_ == Access::kFetch, acc_ == Access::kWrite, static_cast<uint8_t>(domain),
            static_cast<uint32_t>(va.value()), level};
  }

  Access acc_;
  Mode mode_;
};

// The walk for `va` from the 16 KiB first-level table at `ttb`.
inline Result Walk(const fmt::ArmV7Short& f, PhysMem* mem, Oa ttb, uint32_t va, Access acc, const Mode& mode) {
  const auto w = ptsim::Walk(f, mem, ttb, Va(va), Rules(acc, mode));
  Result res;
  if (!w.ok) {
    res.fault = w.fault;
    return res;
  }
  res.ok = true;
  res.pa = w.t.oa;
  res.size_lg2 = w.t.size_lg2;
  res.level = w.t.level.value();
  return res;
}

inline const char* FsName(Fs fs) {
  switch (fs) {
    case Fs::kAccessFlagSection:
      return "access-flag-section";
    case Fs::kTranslationSection:
      return "translation-section";
    case Fs::kAccessFlagPage:
      return "access-flag-page";
    case Fs::kTranslationPage:
      return "translation-page";
    case Fs::kDomainSection:
      return "domain-section";
    case Fs::kDomainPage:
      return "domain-page";
    case Fs::kExternalAbortWalkL1:
      return "external-abort-walk-l1";
    case Fs::kExternalAbortWalkL2:
      return "external-abort-walk-l2";
    case Fs::kPermissionSection:
      return "permission-section";
    case Fs::kPermissionPage:
      return "permission-page";
  }
  return "?";
}

}  // namespace ptsim::hw::armv7

#endif  // PTSIM_HW_ARMV7_H_
