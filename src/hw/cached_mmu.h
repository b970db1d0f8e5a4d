// One CPU's (or IOMMU's) translation front end over the TLB model of
// src/hw/tlb.h: lookups served by the leaf TLB, by the paging-structure
// cache (the rest of the walk read from memory, whatever is there now), or
// by a fresh walk, each filling the caches as hardware does; and the check
// that no cache serves a translation a fresh walk of the current tables
// would not. Walks are the one walker's (src/walk/walk.h), under the neutral
// rules. docs/hw/tlb.md cites the manual sections.
#ifndef PTSIM_HW_CACHED_MMU_H_
#define PTSIM_HW_CACHED_MMU_H_

#include <optional>
#include <string>
#include <vector>

#include "src/hw/tlb.h"
#include "src/mmu/mmu.h"
#include "src/walk/walk.h"

namespace ptsim::hw {

// What a walk through the caches gives: a leaf (regardless of permissions:
// the cached translation itself), or where the walk faults.
struct Outcome {
  bool mapped = false;
  Oa oa;
  unsigned size_lg2 = 0;
  Level level;
  LeafAttrs attrs;  // effective, A/D included as read
  Fault fault{};

  // Same translation: output address, permission and global bits (A/D are
  // history, not translation).
  bool SameAs(const Outcome& o) const {
    if (mapped != o.mapped) return false;
    if (!mapped) return true;  // every fault is a miss for a cache
    // The size is not compared: a large leaf split into smaller ones that
    // map the same bytes the same way still translates every VA alike.
    return oa == o.oa && attrs.Permissions() == o.attrs.Permissions();
  }
  std::string ToString() const {
    if (!mapped) return absl::StrFormat("fault %s at level %d", FaultKindName(fault.kind), fault.level.value());
    return absl::StrFormat("oa %#x size 2^%d level %d %s", oa.value(), size_lg2, level.value(),
                           AttrsToString(attrs));
  }
};

enum class ServedBy : uint8_t { kLeafTlb, kWalkCache, kWalk };
const char* ServedByName(ServedBy s);

// One CPU's (or IOMMU's) translation front end for format F: caches first,
// then the tables.
template <PageTableFormat F>
class CachedMmu {
 public:
  CachedMmu(const F& f, PhysMem* mem, Tlb* tlb) : f_(f), mem_(mem), tlb_(tlb) {}

  struct Result {
    Outcome out;
    ServedBy by = ServedBy::kWalk;
  };

  // Translates `va` in address space `asid` whose root is `root`, filling
  // the caches as hardware does.
  Result Lookup(Oa root, Asid asid, Va va) {
    Result r;
    if (!IsCanonical(f_, va)) {
      r.out.fault = {FaultKind::kNonCanonical, f_.TopLevel()};
      return r;
    }
    if (const LeafEntry* e = tlb_->FindLeaf(asid, va.value())) {
      tlb_->Touch(e);
      ++tlb_->stats().leaf_hits;
      r.by = ServedBy::kLeafTlb;
      r.out = FromLeaf(*e, va);
      return r;
    }
    if (const WalkEntry* w = tlb_->FindWalk(asid, va.value())) {
      tlb_->Touch(w);
      ++tlb_->stats().walk_hits;
      r.by = ServedBy::kWalkCache;
      const WalkEntry hit = *w;  // fills below may evict it
      r.out = WalkFrom(root, asid, va, hit.next_table, hit.level, hit.next_level, hit.path);
      return r;
    }
    ++tlb_->stats().misses;
    WalkTrace trace;
    r.out = Fresh(root, va, &trace);
    Fill(root, asid, va, trace);
    return r;
  }

  // The fresh walk of the current tables, with the generic walker.
  Outcome Fresh(Oa root, Va va, WalkTrace* trace) const {
    const WalkResult w = Translate(f_, mem_, root, va, Access{}, MmuOptions{.update_ad = false}, trace);
    Outcome o;
    if (trace->count > 0 && trace->steps[trace->count - 1].kind == EntryKind::kLeaf) {
      // Permission faults still found the leaf: a cache holds it regardless.
      const WalkStep& s = trace->steps[trace->count - 1];
      PathBits path;
      for (int i = 0; i + 1 < trace->count; ++i) {
        path.Add(RestrictingBits(f_, Raw(trace->steps[i].raw), trace->steps[i].level));
      }
      o.mapped = true;
      o.size_lg2 = LeafSizeLg2(f_, Raw(s.raw), s.level);
      o.oa = f_.LeafOa(Raw(s.raw), s.level) + va.Mod(o.size_lg2);
      o.level = s.level;
      o.attrs = EffectiveAttrs(f_.DecodeAttrs(Raw(s.raw), s.level), PermsOf(f_.Restrictions(), path));
      return o;
    }
    o.fault = w.fault;
    return o;
  }

  const F& format() const { return f_; }
  Tlb* tlb() const { return tlb_; }

 private:
  using Raw = typename F::Raw;

  Outcome FromLeaf(const LeafEntry& e, Va va) const {
    Outcome o;
    o.mapped = true;
    o.oa = e.oa_base + (va.value() - e.va_base);
    o.size_lg2 = e.size_lg2;
    o.level = e.level;
    o.attrs = e.attrs;
    return o;
  }

  LeafEntry MakeLeaf(Oa root, Asid asid, Va va, Raw raw, Level l, PathBits path) const {
    LeafEntry e;
    e.size_lg2 = LeafSizeLg2(f_, raw, l);
    e.va_base = AlignDown(va.value(), e.size_lg2);
    e.level = l;
    e.oa_base = f_.LeafOa(raw, l);
    e.attrs = EffectiveAttrs(f_.DecodeAttrs(raw, l), PermsOf(f_.Restrictions(), path));
    // x86 G needs CR4.PGE (SDM §4.10.2.4); ARM nG=0 and RISC-V G always count.
    e.global = e.attrs.Has(Attr::kGlobal) && tlb_->config().global_pages;
    e.asid = asid;
    e.source_root = root;
    e.dirty = f_.MarkAccessed(raw, l, /*write=*/true) == raw;
    return e;
  }

  WalkEntry MakeWalk(Oa root, Asid asid, Va va, const WalkStep& s, Level next, PathBits path) const {
    WalkEntry w;
    w.asid = asid;
    w.level = s.level;
    w.span_lg2 = f_.ItemLg2(s.level);
    w.va_base = AlignDown(va.value(), w.span_lg2);
    w.next_table = f_.TableOa(Raw(s.raw), s.level);
    w.next_level = next;
    w.path = path;
    w.entry_addr = s.entry_addr;
    w.raw = s.raw;
    w.source_root = root;
    return w;
  }

  // Fills from a walk's trace: every table entry on the way (with what the
  // levels above folded, starting from `path`), then the leaf, which it
  // returns.
  std::optional<LeafEntry> Fill(Oa root, Asid asid, Va va, const WalkTrace& trace, PathBits path = {}) {
    for (int i = 0; i < trace.count; ++i) {
      const WalkStep& s = trace.steps[i];
      if (s.kind == EntryKind::kTable) {
        path.Add(RestrictingBits(f_, Raw(s.raw), s.level));
        if (i + 1 < trace.count) tlb_->InsertWalk(MakeWalk(root, asid, va, s, trace.steps[i + 1].level, path));
      } else if (s.kind == EntryKind::kLeaf) {
        const LeafEntry e = MakeLeaf(root, asid, va, Raw(s.raw), s.level, path);
        tlb_->InsertLeaf(e);
        return e;
      }
    }
    return std::nullopt;
  }

  // The rest of a walk from a walk-cache hit: the levels below the cached
  // entry are read from memory (SDM §4.10.3.2), whatever is there now; the
  // cached table may have been freed and reused, which is the bug this
  // model exists to show.
  Outcome WalkFrom(Oa root, Asid asid, Va va, Oa table, Level cached_level, Level next, PathBits path) {
    Outcome o;
    if ((va.value() & SkippedVaMask(f_, cached_level, next)) != 0) {
      o.fault = {FaultKind::kNotPresent, SkipFaultLevel(f_, va, cached_level, next)};
      return o;
    }
    // The one walker, resumed below the cached entry under the neutral
    // rules; every table entry it reads is cached on the way, and the leaf
    // (whatever the access: a cache holds it regardless of permissions).
    WalkTrace trace;
    const WalkResult w = ptsim::WalkFrom(f_, mem_, WalkStart<PathBits>{table, next, path}, va,
                                         NeutralRules{Access{}, MmuOptions{.update_ad = false}}, &trace,
                                         /*write_back=*/false);
    if (const std::optional<LeafEntry> e = Fill(root, asid, va, trace, path)) return FromLeaf(*e, va);
    o.fault = w.fault;
    return o;
  }

  F f_;
  PhysMem* mem_;
  Tlb* tlb_;
};

// A translation a cache would serve differently from a fresh walk of the
// current tables: the finding of DESIGN.md §6.
struct Finding {
  Va va;
  Asid asid = 0;
  ServedBy by = ServedBy::kLeafTlb;
  std::string stale;   // the cache entry that serves it
  std::string served;  // what the caches give
  std::string fresh;   // what the tables give now
  std::string ToString() const;
};

// Checks every VA a cache entry of `asid` (or a global one filled from
// `root`) would serve, plus `probes`, against a fresh walk from `root`.
// Global entries are taken to belong to the space that filled them (a
// kernel half shared by every space), so they are checked only against it.
// Lookups here do not fill or reorder the caches.
template <PageTableFormat F>
std::vector<Finding> CheckCaches(const CachedMmu<F>& mmu, Oa root, Asid asid, const std::vector<Va>& probes) {
  std::vector<Finding> out;
  const Tlb& t = *mmu.tlb();
  const F& f = mmu.format();
  std::vector<uint64_t> vas;
  for (const LeafEntry& e : t.leaves()) {
    if ((e.global && e.source_root == root) || (!e.global && e.asid == asid)) vas.push_back(e.va_base);
  }
  for (const WalkEntry& w : t.walks()) {
    if (w.asid == asid) vas.push_back(w.va_base);
  }
  for (Va p : probes) vas.push_back(p.value());
  std::sort(vas.begin(), vas.end());
  vas.erase(std::unique(vas.begin(), vas.end()), vas.end());
  for (uint64_t v : vas) {
    const Va va(v);
    if (!IsCanonical(f, va)) continue;
    WalkTrace trace;
    const Outcome fresh = mmu.Fresh(root, va, &trace);
    if (const LeafEntry* e = t.FindLeaf(asid, v)) {
      if (e->global && e->source_root != root) continue;  // another space's kernel half
      Outcome served;
      served.mapped = true;
      served.oa = e->oa_base + (v - e->va_base);
      served.size_lg2 = e->size_lg2;
      served.level = e->level;
      served.attrs = e->attrs;
      if (!served.SameAs(fresh)) {
        out.push_back({va, asid, ServedBy::kLeafTlb, DescribeLeaf(*e), served.ToString(), fresh.ToString()});
      }
      continue;
    }
    const WalkEntry* w = t.FindWalk(asid, v);
    if (!w) continue;
    // The cached entry must be the one a walk reads now at its level:
    // same next table, same level below, same restrictions so far.
    bool same = false;
    PathBits path;
    for (int i = 0; i < trace.count; ++i) {
      const WalkStep& s = trace.steps[i];
      if (s.kind != EntryKind::kTable) break;
      path.Add(RestrictingBits(f, typename F::Raw(s.raw), s.level));
      if (s.level != w->level) continue;
      const Level next =
          i + 1 < trace.count ? trace.steps[i + 1].level : NextTableLevel(f, typename F::Raw(s.raw), s.level);
      same = f.TableOa(typename F::Raw(s.raw), s.level) == w->next_table && next == w->next_level &&
             PermsOf(f.Restrictions(), path) == PermsOf(f.Restrictions(), w->path);
      break;
    }
    if (!same) {
      out.push_back({va, asid, ServedBy::kWalkCache, DescribeWalk(*w),
                     absl::StrFormat("walk resumes at the level-%d table %#x", w->next_level.value(),
                                     w->next_table.value()),
                     fresh.ToString()});
    }
  }
  return out;
}

}  // namespace ptsim::hw

#endif  // PTSIM_HW_CACHED_MMU_H_
