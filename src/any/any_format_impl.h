// The template behind AnyFormat, instantiated once per registered format in
// registry.cc.
#ifndef PTSIM_ANY_ANY_FORMAT_IMPL_H_
#define PTSIM_ANY_ANY_FORMAT_IMPL_H_

#include "absl/strings/str_cat.h"
#include "src/any/any_format.h"
#include "src/base/strings.h"
#include "src/hw/all_families.h"
#include "src/pt/format_list.h"

namespace ptsim {

template <PageTableFormat F>
class SpaceImpl final : public AnySpace {
 public:
  SpaceImpl(const F& f, const SpaceEnv& env) : s_(f, env) {}
  absl::Status Init() override { return s_.Init(); }
  Oa root() const override { return s_.root(); }
  uint64_t leaves() const override { return s_.leaves(); }
  absl::Status Map(VaRange r, Oa oa, LeafAttrs a, unsigned force_lg2) override { return s_.Map(r, oa, a, force_lg2); }
  absl::Status Unmap(VaRange r) override { return s_.Unmap(r); }
  absl::Status Protect(VaRange r, LeafAttrs a) override { return s_.Protect(r, a); }
  void Destroy() override { s_.Destroy(); }

 private:
  Space<F> s_;
};

template <PageTableFormat F>
FormatInfo MakeInfo(const F& f) {
  FormatInfo info;
  info.name = std::string(F::kName);
  info.id = FormatIdOf(F::kName);
  info.entry_bytes = 1u << F::kEntryLg2;
  info.va_bits = f.VaBits();
  info.oa_bits = f.OaBits();
  info.va_ext = f.VaExt();
  info.knobs = std::span<const ConfigKnob>(F::kKnobs);
  info.mode_knobs = ModeKnobsOf<F>();
  info.user_mode = HwRules<F>::kUserSetting;
  info.has_exec = HwRules<F>::kHasExec;
  info.has_invalidator = HwRules<F>::kHasInvalidator;
  info.qemu = HwRules<F>::kQemu;
  info.named_bits = std::span<const NamedBit>(F::kNamedBits);
  for (Level l = f.TopLevel();; l = l.Below()) {
    const uint64_t sizes = LeafSizesLg2(f, l);
    info.levels.push_back({l.value(), std::string(f.LevelName(l)), f.IndexLg2(l), f.ItemLg2(l),
                           TableSizeLg2(f, l), f.CanLeaf(l), f.CanTable(l), LeafOaBits(f, l), sizes});
    // Levels run top down and a level's sizes lie below the level above's.
    for (unsigned s = 64; s-- > 0;) {
      if ((sizes >> s) & 1) info.leaf_sizes_lg2.push_back(s);
    }
    if (l.IsBottom()) break;
  }
  info.min_page_lg2 = f.ItemLg2(Level(0));
  info.partial_leaf = PartialLeafPolicyOf(f);
  return info;
}

template <PageTableFormat F>
class FormatImpl final : public AnyFormat {
 public:
  explicit FormatImpl(const FormatConfig& cfg) : cfg_(cfg), f_(cfg), info_(MakeInfo(f_)) {}

  const FormatInfo& Info() const override { return info_; }
  const FormatConfig& Config() const override { return cfg_; }
  std::unique_ptr<AnySpace> NewSpace(const SpaceEnv& env) const override {
    return std::make_unique<SpaceImpl<F>>(f_, env);
  }
  WalkResult Translate(PhysMem* mem, Oa root, Va va, Access acc, MmuOptions opt, WalkTrace* trace) const override {
    return ptsim::Translate(f_, mem, root, va, acc, opt, trace);
  }
  HwWalkResult HwTranslate(PhysMem* mem, Oa root, Va va, AccessType t, const FormatConfig& mode, WalkTrace* trace,
                           bool write_back) const override {
    return ptsim::HwTranslate(f_, mem, root, va, t, mode, trace, write_back);
  }
  std::string HwPerms(PhysMem* mem, Oa root, Va va, const FormatConfig& mode) const override {
    return HwPermsAt(f_, mem, root, va, mode);
  }
  std::optional<FaultKind> HwVerdict(LeafAttrs a, AccessType t, const FormatConfig& mode) const override {
    return HwRules<F>::Verdict(f_, a, t, mode);
  }
  void ForEachLeaf(PhysMem* mem, Oa root, const std::function<bool(const LeafInfo&)>& on_leaf,
                   const std::function<bool(const TreeProblem&)>& on_problem, LowSpan span) const override {
    ptsim::ForEachLeaf(f_, mem, root, on_leaf, on_problem, [](const TableInfo&) { return true; }, span);
  }
  void ForEachTableAndLeaf(PhysMem* mem, Oa root, const std::function<bool(const TableInfo&)>& on_table,
                           const std::function<bool(const LeafInfo&)>& on_leaf,
                           const std::function<bool(const TreeProblem&)>& on_problem) const override {
    ptsim::ForEachLeaf(f_, mem, root, on_leaf, on_problem, on_table);
  }
  absl::StatusOr<TreeStats> CheckTree(PhysMem* mem, const TableAllocator& alloc, Oa root, uint32_t owner,
                                      LowSpan span) const override {
    return ptsim::CheckTree(f_, mem, alloc, root, owner, span);
  }
  LeafAttrs Canonical(LeafAttrs a) const override { return f_.Canonical(a); }
  Va CanonicalVa(uint64_t low) const override { return ptsim::CanonicalVa(f_, low); }
  bool IsCanonical(Va va) const override { return ptsim::IsCanonical(f_, va); }
  bool IsValidRange(VaRange r) const override { return ptsim::IsValidRange(f_, r); }
  bool IsHwMarked(uint64_t raw, Level l, bool write) const override {
    const auto r = static_cast<typename F::Raw>(raw);
    return f_.MarkAccessed(r, l, write) == r;
  }
  std::string DescribeEntry(uint64_t raw, Level l) const override {
    const auto r = static_cast<typename F::Raw>(raw);
    const EntryKind kind = f_.Classify(r, l);
    std::string s = EntryKindName(kind);
    for (const NamedBit& b : F::kNamedBits) {
      if ((raw >> b.bit) & 1) absl::StrAppend(&s, " ", Sv(b.name));
    }
    if (kind == EntryKind::kTable) {
      if (const Level next = NextTableLevel(f_, r, l); next != l.Below()) {
        absl::StrAppend(&s, " -> level ", next.value(), " ", Sv(f_.LevelName(next)), " (skips levels ",
                        l.value() - 1, "..", next.value() + 1, ")");
      }
    }
    return s;
  }

 private:
  FormatConfig cfg_;
  F f_;
  FormatInfo info_;
};

template <PageTableFormat F>
std::unique_ptr<AnyFormat> MakeFormatImpl(const FormatConfig& cfg) {
  return std::make_unique<FormatImpl<F>>(cfg);
}

}  // namespace ptsim

#endif  // PTSIM_ANY_ANY_FORMAT_IMPL_H_
