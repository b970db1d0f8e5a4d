#include "src/hw/invalidate.h"

namespace ptsim::hw {

const char* BugName(Bug b) {
  switch (b) {
    case Bug::kNone:
      return "none";
    case Bug::kLeafOnly:
      return "leaf_only";
    case Bug::kForgetGlobal:
      return "forget_global";
    case Bug::kWrongAsid:
      return "wrong_asid";
  }
  return "?";
}

void X86Invalidator::InvalidateRange(Va first, Va last, bool table) {
  ++calls_;
  const bool current = tlb_->current() == asid_ || o_.bug == Bug::kWrongAsid;
  if (table) {
    if (o_.bug == Bug::kLeafOnly) return;  // "the leaves were flushed already"
    // One INVLPG (current PCID) or INVPCID type 0 (another PCID) drops every
    // paging-structure-cache entry of the PCID (SDM Vol. 3A §4.10.4.1), so
    // one instruction for any address of the span suffices.
    if (current) {
      x86::Invlpg(*tlb_, first);
    } else {
      x86::Invpcid(*tlb_, x86::InvpcidType::kAddress, asid_, first);
    }
    return;
  }
  const bool forget = o_.bug == Bug::kForgetGlobal;
  if (Pages(first, last) > o_.full_flush_pages) {
    if (o_.may_global && !forget) {
      // Globals survive every PCID-scoped flush (SDM §4.10.4.1): type 2.
      x86::Invpcid(*tlb_, x86::InvpcidType::kAllIncludingGlobal, 0);
    } else if (current && !forget) {
      x86::MovCr3(*tlb_, tlb_->current(), /*noflush=*/false);  // reload: non-global entries of the PCID
    } else {
      x86::Invpcid(*tlb_, x86::InvpcidType::kSingleContext, current ? tlb_->current() : asid_);
    }
    return;
  }
  EachPage(first, last, [&](Va va) {
    if (forget) {
      x86::Invpcid(*tlb_, x86::InvpcidType::kAddress, current ? tlb_->current() : asid_, va);
    } else if (current) {
      x86::Invlpg(*tlb_, va);  // the page in this PCID, and global entries for it
    } else {
      x86::Invpcid(*tlb_, x86::InvpcidType::kAddress, asid_, va);
      if (o_.may_global) x86::Invlpg(*tlb_, va);  // globals of the page, any PCID
    }
  });
}

void ArmInvalidator::InvalidateRange(Va first, Va last, bool table) {
  ++calls_;
  const Asid asid = Operand();
  if (table) {
    // TLBI VAE1 at any VA of the span removes every cached descriptor used
    // to translate it, the one pointing to the freed table included (Arm
    // ARM D8 "TLB maintenance"). VALE1 would keep it: the kLeafOnly bug.
    if (o_.bug == Bug::kLeafOnly) {
      arm::TlbiVale1(*tlb_, asid, first);
    } else {
      arm::TlbiVae1(*tlb_, asid, first);
    }
    return;
  }
  if (Pages(first, last) > o_.full_flush_pages) {
    if (o_.may_global && o_.bug != Bug::kForgetGlobal) {
      arm::TlbiVmalle1(*tlb_);
    } else {
      arm::TlbiAside1(*tlb_, asid);  // never global entries (TLBI ASIDE1, DDI 0601)
    }
    return;
  }
  // Only leaves changed: the last-level form is enough.
  EachPage(first, last, [&](Va va) { arm::TlbiVale1(*tlb_, asid, va); });
}

void RiscvInvalidator::InvalidateRange(Va first, Va last, bool table) {
  ++calls_;
  const Asid asid = Operand();
  const bool global = o_.may_global && o_.bug != Bug::kForgetGlobal;
  if (table) {
    // A changed non-leaf PTE needs rs1 = x0 (privileged spec, SFENCE.VMA
    // commentary); rs1 = va covers only leaf PTEs: the kLeafOnly bug.
    if (o_.bug == Bug::kLeafOnly) {
      riscv::SfenceVma(*tlb_, first, asid);
    } else if (global) {
      riscv::SfenceVma(*tlb_, std::nullopt, std::nullopt);
    } else {
      riscv::SfenceVma(*tlb_, std::nullopt, asid);
    }
    return;
  }
  if (Pages(first, last) > o_.full_flush_pages) {
    riscv::SfenceVma(*tlb_, std::nullopt, global ? std::nullopt : std::optional<Asid>(asid));
    return;
  }
  // rs2 = x0 is the only form that orders global mappings.
  EachPage(first, last, [&](Va va) {
    riscv::SfenceVma(*tlb_, va, global ? std::nullopt : std::optional<Asid>(asid));
  });
}

namespace {

// The smallest naturally aligned block of 2^lg2 bytes (lg2 >= page) that
// holds [first, last].
unsigned CoverLg2(uint64_t first, uint64_t last, unsigned page) {
  unsigned lg2 = page;
  while (lg2 < 64 && AlignDown(first, lg2) != AlignDown(last, lg2)) ++lg2;
  return lg2;
}

}  // namespace

void VtdInvalidator::InvalidateRange(Va first, Va last, bool table) {
  ++calls_;
  const Asid did = Operand();
  const unsigned am = CoverLg2(first.value(), last.value(), 12) - 12;
  if (am > o_.vtd_max_am) {
    vtd::IotlbDomain(*tlb_, did);
    return;
  }
  // IH=1 only when no non-leaf entry changed (VT-d §6.5.2.3).
  vtd::IotlbPage(*tlb_, did, first, am, /*ih=*/!table || o_.bug == Bug::kLeafOnly);
}

void AmdInvalidator::InvalidateRange(Va first, Va last, bool table) {
  ++calls_;
  const Asid dom = Operand();
  const bool pde = table && o_.bug != Bug::kLeafOnly;
  const unsigned lg2 = CoverLg2(first.value(), last.value(), 12);
  if (lg2 == 12) {
    amd::InvalidatePages(*tlb_, dom, first.value(), /*s=*/false, pde);
  } else if (lg2 >= 63) {
    amd::InvalidatePages(*tlb_, dom, 0x7fff'ffff'ffff'f000, /*s=*/true, pde);
  } else {
    // S=1: the range's size is 2^lg2, encoded by setting address bits
    // [lg2-2 : 12] and leaving bit lg2-1 clear (AMD IOMMU spec §2.4.3).
    const uint64_t a = AlignDown(first.value(), lg2) | (LowMask(lg2 - 1) & ~LowMask(12));
    amd::InvalidatePages(*tlb_, dom, a, /*s=*/true, pde);
  }
}

}  // namespace ptsim::hw
