#include "src/conc/config.h"

#include <array>

namespace ptsim {

const char* FreeSchemeName(FreeScheme s) {
  switch (s) {
    case FreeScheme::kIpi: return "ipi";
    case FreeScheme::kRcu: return "rcu";
    case FreeScheme::kImmediate: return "immediate";
  }
  return "?";
}

std::optional<FreeScheme> FreeSchemeFromName(std::string_view s) {
  for (FreeScheme f : {FreeScheme::kIpi, FreeScheme::kRcu, FreeScheme::kImmediate})
    if (s == FreeSchemeName(f)) return f;
  return std::nullopt;
}

std::optional<ShootdownStyle> ShootdownStyleFromName(std::string_view s) {
  for (ShootdownStyle st : {ShootdownStyle::kIpi, ShootdownStyle::kBroadcast})
    if (s == ShootdownStyleName(st)) return st;
  return std::nullopt;
}

namespace {
constexpr std::array<BugInfo, kBugCount> kBugs = {{
    {Bug::kPublishBeforeZero, "publish-before-zero",
     "B1: 362a61ad6119 \"fix SMP data race in pagetable setup vs walking\" (missing smp_wmb in pmd_install)",
     "populate publishes a new table before its entries are zeroed; a lockless walker follows the pointer into "
     "garbage (history: a mapping that was never live, or an access outside any table)"},
    {Bug::kPopulateNoRecheck, "populate-no-recheck",
     "pmd_install's \"Has another populated it ?\" check (mm/memory.c), and B3's missing re-check",
     "two populates race, the loser overwrites the winner's table pointer; the winner's leaves vanish and its "
     "table leaks (quiescence: leaves differ from the history, live tables exceed reachable ones)"},
    {Bug::kFreeBeforeFlush, "free-before-flush",
     "B11: 2ba99c5e0881 \"mm/khugepaged: fix GUP-fast interaction by sending IPI\" (mmu_gather: unhook, flush, "
     "then free)",
     "remove frees an unhooked table before the shootdown and the grace period; GUP-fast or a hardware walk "
     "still inside reads a freed table"},
    {Bug::kReclaimNoRecheck, "reclaim-no-recheck",
     "B19: \"mm: pgtable: fix incorrect reclaim of non-empty PTE pages\" (Qi Zheng, 2025)",
     "remove decides a table is empty, then unhooks it under the lock without scanning again; a leaf populated "
     "in between is lost (quiescence: leaves differ from the history)"},
    {Bug::kGupNoForkSeq, "gup-no-fork-seq",
     "B7: 57efa1fe5957 \"mm/gup: prevent gup_fast from racing with COW during fork\"",
     "GUP-fast pins a page while fork decides it is unpinned and shares it copy-on-write (pin coherence)"},
    {Bug::kNoNestedFlush, "no-nested-flush",
     "B15: 7a30df49f63a \"mm: mmu_gather: remove __tlb_reset_range() for force flush\"",
     "a remove that found the range already cleared by a concurrent remove returns without flushing; a TLB "
     "still translates the range after it returned"},
    {Bug::kGupDoubleRead, "gup-double-read",
     "B4: d3f7b1bb2040 \"mm/gup: fix gup_fast with dynamic page table folding\" (each level must be read once "
     "and the next table derived from that value)",
     "GUP-fast tests an entry, then reads it again to find the next table; a remove that unhooks the table in "
     "between sends it to address 0 (an access outside any table)"},
}};
}  // namespace

std::span<const BugInfo> KnownBugs() { return kBugs; }

const BugInfo* FindBug(std::string_view name) {
  for (const BugInfo& b : kBugs)
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace ptsim
