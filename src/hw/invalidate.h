// Invalidators: what an operation of ops/space.h issues, translated into
// one architecture's instructions on the TLB model (src/hw/tlb.h), the way
// a kernel or IOMMU driver does it; plus switchable bugs that mirror real
// ones, so the finding of CheckCaches() can be shown to catch them.
//
// Space calls InvalidateRange(first, last, table) after it clears or
// rewrites leaves in [first, last] (table = false), and after it unhooks a
// table whose entry spanned [first, last] (table = true; the leaves below
// it were each invalidated before). See ops/space.h, "Protocol".
#ifndef PTSIM_HW_INVALIDATE_H_
#define PTSIM_HW_INVALIDATE_H_

#include <cstdint>

#include "src/hw/tlb.h"
#include "src/ops/space.h"

namespace ptsim::hw {

enum class Bug : uint8_t {
  kNone,
  // Last-level-only invalidation after a table was freed: ARM TLBI VALE1,
  // VT-d PSI with IH=1, AMD PDE=0, RISC-V SFENCE.VMA with rs1 = va, and on
  // x86 no INVLPG at all for the table. The freed table stays in the walk
  // cache (the classic "freed page table still in the walk cache" bug).
  kLeafOnly,
  // Global entries are not covered: x86 INVPCID type 0/1 instead of INVLPG
  // or a global flush, ARM TLBI ASIDE1 for a large range, RISC-V
  // SFENCE.VMA with rs2 = asid.
  kForgetGlobal,
  // The right instruction for the wrong address space: x86 INVLPG while
  // another PCID is current, the other ASID / domain id in the operand.
  kWrongAsid,
};
const char* BugName(Bug b);

struct InvalidatorOptions {
  Bug bug = Bug::kNone;
  // Above this many pages a leaf range gets one full flush of the address
  // space instead of one instruction per page (Linux's
  // tlb_single_page_flush_ceiling is 33 on x86; arm64 uses a similar cap).
  uint64_t full_flush_pages = 33;
  // VT-d: the largest address mask (2^am pages) one page-selective
  // invalidation may carry (CAP_REG.MAMV); above it, domain-selective.
  unsigned vtd_max_am = 9;
  // The space may hold global leaves, so full flushes must include them.
  bool may_global = false;
  // The id kWrongAsid puts in the operand instead of the space's own.
  Asid wrong_asid = 0;
};

class ArchInvalidator : public Invalidator {
 public:
  ArchInvalidator(Tlb* tlb, Asid asid, unsigned page_lg2, InvalidatorOptions o)
      : tlb_(tlb), asid_(asid), page_lg2_(page_lg2), o_(o) {}
  Asid asid() const { return asid_; }
  uint64_t calls() const { return calls_; }
  void set_bug(Bug b) { o_.bug = b; }

 protected:
  // How many pages [first, last] covers, saturated just above the cap.
  uint64_t Pages(Va first, Va last) const {
    const uint64_t n = (last.value() - first.value()) >> page_lg2_;
    return n >= o_.full_flush_pages ? o_.full_flush_pages + 1 : n + 1;
  }
  Asid Operand() const { return o_.bug == Bug::kWrongAsid ? o_.wrong_asid : asid_; }
  template <typename Fn>
  void EachPage(Va first, Va last, Fn fn) const {
    for (uint64_t v = first.value();; v += uint64_t{1} << page_lg2_) {
      fn(Va(v));
      if (last.value() - v < (uint64_t{1} << page_lg2_)) break;
    }
  }

  Tlb* tlb_;
  Asid asid_;
  unsigned page_lg2_;
  InvalidatorOptions o_;
  uint64_t calls_ = 0;
};

// x86-64 with PCIDs and INVPCID (Linux's flush_tlb_mm_range shape).
class X86Invalidator : public ArchInvalidator {
 public:
  using ArchInvalidator::ArchInvalidator;
  void InvalidateRange(Va first, Va last, bool table) override;
};

// ARMv8-A EL1&0 (Linux arm64 __flush_tlb_range shape).
class ArmInvalidator : public ArchInvalidator {
 public:
  using ArchInvalidator::ArchInvalidator;
  void InvalidateRange(Va first, Va last, bool table) override;
};

// RISC-V Sv39/48/57 with ASIDs.
class RiscvInvalidator : public ArchInvalidator {
 public:
  using ArchInvalidator::ArchInvalidator;
  void InvalidateRange(Va first, Va last, bool table) override;
};

// Intel VT-d second stage: the domain id is the address-space id.
class VtdInvalidator : public ArchInvalidator {
 public:
  using ArchInvalidator::ArchInvalidator;
  void InvalidateRange(Va first, Va last, bool table) override;
};

// AMD IOMMU: INVALIDATE_IOMMU_PAGES by domain.
class AmdInvalidator : public ArchInvalidator {
 public:
  using ArchInvalidator::ArchInvalidator;
  void InvalidateRange(Va first, Va last, bool table) override;
};

}  // namespace ptsim::hw

#endif  // PTSIM_HW_INVALIDATE_H_
