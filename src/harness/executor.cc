#include "src/harness/executor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/hash.h"
#include "src/harness/tree_oracle.h"
#include "src/model/ref_model.h"

namespace ptsim {
namespace {

std::string StatusText(const absl::Status& st) {
  return st.ok() ? "ok" : absl::StrCat(absl::StatusCodeToString(st.code()), ": ", st.message());
}

std::string DescribeTranslation(const WalkResult& w) {
  if (!w.ok) return absl::StrFormat("fault %s at level %d", FaultKindName(w.fault.kind), w.fault.level.value());
  return absl::StrFormat("oa %#x size 2^%d attrs %s", w.t.oa.value(), w.t.size_lg2,
                         AttrsToString(w.t.attrs.Permissions()));
}

class Run {
 public:
  Run(const Program& p, Arena& arena, const ExecOptions& opt)
      : p_(p), arena_(arena), opt_(opt) {}

  ExecResult Go() {
    arena_.Reset();
    const FormatEntry* e = FindFormat(p_.format);
    PTSIM_CHECK(e != nullptr, "program names unregistered format %s", p_.format);
    f_ = e->make(p_.config);
    const FormatInfo& info = f_->Info();
    // The architecture's rules walk in the program's CPU mode, and with the
    // family's user setting on top of it for a user access.
    priv_mode_ = user_mode_ = ModeOf(p_, *e);
    if (!info.user_mode.empty()) {
      PTSIM_CHECK(ApplySettingList("mode", info.mode_knobs, info.user_mode, &user_mode_).ok(), "%s: bad user mode",
                  info.name);
    }
    model_.emplace(info, [this](LeafAttrs a) { return f_->Canonical(a); },
                   [this](Va va) { return f_->IsCanonical(va); });
    SpaceEnv env{&arena_.mem(), &arena_.alloc(), &arena_.frames(), nullptr, 1};
    space_ = f_->NewSpace(env);
    oracle_.emplace(*f_, &arena_.mem(), arena_.alloc(), arena_.frames(), *space_, *model_);
    if (auto st = space_->Init(); !st.ok()) {
      Diverge(-1, "init", "", std::nullopt, "ok", StatusText(st));
      return std::move(res_);
    }
    for (size_t i = 0; i < p_.ops.size() && res_.ok() && !ended_early_; ++i) {
      Step(static_cast<int>(i), p_.ops[i]);
      if (opt_.observer != nullptr && res_.ok()) {
        opt_.observer->AfterOp(static_cast<int>(i), p_.ops[i], res_.steps.back(),
                               TablesView{*f_, &arena_.mem(), space_->root()});
      }
    }
    if (res_.ok() && !ended_early_ && opt_.check_whole_tree && ops_since_whole_ > 0) {
      if (const std::optional<TreeFinding> bad = oracle_->CheckWhole()) {
        Diverge(-1, bad->check, "whole-tree check at the end", bad->va, bad->expected, bad->actual);
      }
    }
    if (res_.ok()) Teardown();
    res_.trace_hash = hash_.value();
    res_.peak_tables = arena_.alloc().stats().peak_live_bytes;
    return std::move(res_);
  }

 private:
  void Diverge(int op, std::string check, std::string op_text, std::optional<Va> va, std::string expected,
               std::string actual, Access acc = {}) {
    Divergence d;
    d.op_index = op;
    d.check = std::move(check);
    d.op_text = std::move(op_text);
    d.va = va;
    d.expected = std::move(expected);
    d.actual = std::move(actual);
    if (va.has_value() && space_ && space_->root() != Oa()) {
      d.walk = FormatWalk(*f_, &arena_.mem(), space_->root(), *va, acc);
    }
    res_.divergence = std::move(d);
  }

  void Step(int i, const Op& op) {
    const std::string text = OpToText(op);
    hash_.Add(static_cast<uint64_t>(op.kind));
    if (op.kind == OpKind::kAccess) {
      DoAccess(i, op, text);
      return;
    }
    if (op.kind == OpKind::kMap && opt_.max_leaves_per_op != 0 &&
        model_->CountMapLeaves(op.range, op.oa, op.force_lg2, opt_.max_leaves_per_op) > opt_.max_leaves_per_op) {
      res_.steps.push_back({text, "skipped: more leaves than the per-op limit", absl::StatusCode::kOk, false});
      return;
    }
    if (opt_.check_whole_tree) {
      if (const std::optional<TreeFinding> bad = oracle_->Before(op.range)) {
        res_.steps.push_back({text, "not run: the tables changed since the last operation", absl::StatusCode::kOk,
                              false});
        Diverge(i, bad->check, text, bad->va, bad->expected, bad->actual);
        return;
      }
    }
    absl::Status want, got;
    switch (op.kind) {
      case OpKind::kMap:
        want = model_->Map(op.range, op.oa, op.attrs, op.force_lg2);
        got = space_->Map(op.range, op.oa, op.attrs, op.force_lg2);
        break;
      case OpKind::kUnmap:
        want = model_->Unmap(op.range);
        got = space_->Unmap(op.range);
        break;
      case OpKind::kProtect:
        want = model_->Protect(op.range, op.attrs);
        got = space_->Protect(op.range, op.attrs);
        break;
      case OpKind::kAccess:
        break;
    }
    hash_.Add(static_cast<uint64_t>(got.code()));
    if (got.code() == absl::StatusCode::kResourceExhausted) {
      // Out of simulated table memory: the model cannot follow a partly
      // applied operation, so the program ends here (not a finding).
      res_.steps.push_back({text, StatusText(got), got.code(), false});
      ended_early_ = true;
      return;
    }
    res_.steps.push_back({text, StatusText(got), got.code()});
    if (want.code() != got.code()) {
      Diverge(i, "status", text, op.range.first, StatusText(want), StatusText(got));
      return;
    }
    if (opt_.check_whole_tree) {
      ++ops_since_whole_;
      const bool whole = opt_.whole_tree_every != 0 && ops_since_whole_ >= opt_.whole_tree_every;
      if (whole) ops_since_whole_ = 0;
      const std::optional<TreeFinding> bad = whole ? oracle_->CheckWhole() : oracle_->CheckChanged();
      if (bad) {
        Diverge(i, bad->check, text, bad->va, bad->expected, bad->actual);
        return;
      }
    }
    CheckSamples(i, text, op);
  }

  void DoAccess(int i, const Op& op, const std::string& text) {
    std::string arch_note;
    if (!CheckArchRules(i, text, op, &arch_note)) return;
    const WalkResult w = f_->Translate(&arena_.mem(), space_->root(), op.va, op.access, MmuOptions{}, nullptr);
    res_.steps.push_back({text, DescribeTranslation(w)});
    res_.steps.back().architecture = std::move(arch_note);
    hash_.Add(w.ok ? w.t.oa.value() : 0xfa000000u + static_cast<uint64_t>(w.fault.kind));
    ++res_.translations_checked;
    if (!Compare(i, text, op.va, op.access, w)) return;
    if (!w.ok) return;
    // Hardware marked the leaf: walking again must find nothing to update.
    WalkTrace trace;
    const WalkResult again =
        f_->Translate(&arena_.mem(), space_->root(), op.va, op.access, MmuOptions{.update_ad = false}, &trace);
    const WalkStep& leaf = trace.steps[trace.count - 1];
    if (!again.ok || !f_->IsHwMarked(leaf.raw, leaf.level, op.access.type == AccessType::kWrite)) {
      Diverge(i, "ad", text, op.va, "accessed (and dirty after a write) set by the walk",
              absl::StrFormat("leaf entry %#x", leaf.raw), op.access);
    }
  }

  // The architecture's rules (src/hw/family.h) in the program's CPU mode
  // against the family's verdict on the leaf the neutral walk finds. Where
  // the verdict lets the access through, both translate to the same output
  // address, size and level; where it refuses, the rules fault the same
  // way (permission, or accessed/dirty left to software) at the leaf's
  // level; a not-present or non-canonical fault is the same fault at the
  // same level; and no entry the operations wrote is a reserved encoding to
  // the rules.
  // `note` receives the architecture's answer when it differs from the
  // neutral one, for the step's line in the report.
  bool CheckArchRules(int i, const std::string& text, const Op& op, std::string* note) {
    const FormatInfo& info = f_->Info();
    if (op.access.type == AccessType::kExec && !info.has_exec) return true;
    const FormatConfig& mode = op.access.user && !info.user_mode.empty() ? user_mode_ : priv_mode_;
    const HwWalkResult h =
        f_->HwTranslate(&arena_.mem(), space_->root(), op.va, op.access.type, mode, nullptr, /*write_back=*/false);
    const WalkResult n = f_->Translate(&arena_.mem(), space_->root(), op.va, op.access,
                                       MmuOptions{.update_ad = false, .check_permissions = false}, nullptr);
    bool match = h.fault.kind != FaultKind::kReserved && h.fault.kind != FaultKind::kOutsideMemory;
    std::string want = "the neutral walk's " + DescribeTranslation(n);
    if (n.ok) {
      const std::optional<FaultKind> verdict = f_->HwVerdict(n.t.attrs, op.access.type, mode);
      if (verdict) {
        want = absl::StrFormat("fault %s at level %d (the manual's verdict on leaf attrs %s)", FaultKindName(*verdict),
                               n.t.level.value(), AttrsToString(n.t.attrs));
        match = !h.ok && h.fault.kind == *verdict && h.fault.level == n.t.level;
      } else {
        want = absl::StrFormat("%s (the manual's verdict on leaf attrs %s: allowed)", DescribeTranslation(n),
                               AttrsToString(n.t.attrs));
        match = h.ok && h.t.oa == n.t.oa && h.t.size_lg2 == n.t.size_lg2 && h.t.level == n.t.level;
      }
    } else if (n.fault.kind == FaultKind::kNotPresent || n.fault.kind == FaultKind::kNonCanonical) {
      match = !h.ok && h.fault.kind == n.fault.kind && h.fault.level == n.fault.level;
    }
    if (match) {
      const WalkResult neutral = f_->Translate(&arena_.mem(), space_->root(), op.va, op.access,
                                               MmuOptions{.update_ad = false}, nullptr);
      if (h.ok != neutral.ok || (!h.ok && h.fault.kind != neutral.fault.kind)) {
        *note = h.ok ? "ok" : absl::StrFormat("fault %s (%s)", FaultKindName(h.fault.kind), h.detail);
      }
      return true;
    }
    const std::string arch = h.ok ? absl::StrFormat("oa %#x size 2^%d level %d", h.t.oa.value(), h.t.size_lg2,
                                                    h.t.level.value())
                                  : absl::StrFormat("fault %s at level %d: %s", FaultKindName(h.fault.kind),
                                                    h.fault.level.value(), h.detail);
    Diverge(i, "arch-rules", text, op.va, want, absl::StrCat(arch, " in mode ", ModeText(mode)), op.access);
    return false;
  }

  std::string ModeText(const FormatConfig& mode) const {
    const std::string diff = SettingsDiff(f_->Info().mode_knobs, mode);
    return diff.empty() ? "default" : diff;
  }

  // The MMU's answer for `va` against the model's.
  bool Compare(int i, const std::string& text, Va va, Access acc, const WalkResult& w) {
    const auto hit = model_->Lookup(va);
    std::string want;
    bool match;
    if (!f_->IsCanonical(va)) {
      want = "fault non-canonical";
      match = !w.ok && w.fault.kind == FaultKind::kNonCanonical;
    } else if (!hit.has_value()) {
      want = "fault not-present";
      match = !w.ok && w.fault.kind == FaultKind::kNotPresent;
    } else {
      const ModelLeaf& leaf = hit->second;
      const Oa oa = leaf.oa + (va - hit->first);
      if (!Permits(leaf.attrs, acc)) {
        want = absl::StrFormat("fault permission (attrs %s)", AttrsToString(leaf.attrs));
        match = !w.ok && w.fault.kind == FaultKind::kPermission;
      } else {
        want = absl::StrFormat("oa %#x size 2^%d attrs %s", oa.value(), leaf.size_lg2, AttrsToString(leaf.attrs));
        match = w.ok && w.t.oa == oa && w.t.size_lg2 == leaf.size_lg2 && w.t.attrs.Permissions() == leaf.attrs;
      }
    }
    if (match) return true;
    Diverge(i, "translate", text, va, want, DescribeTranslation(w), acc);
    return false;
  }

  void CheckSamples(int i, const std::string& text, const Op& op) {
    std::vector<Va> vas = {op.range.first, op.range.last};
    const FormatInfo& info = f_->Info();
    for (unsigned s : info.leaf_sizes_lg2) {
      // Just outside the range, at each leaf size's boundary.
      const uint64_t before = AlignDown(op.range.first.value(), s) - 1;
      const uint64_t after = BlockLast(op.range.last.value(), s) + 1;
      if (f_->IsCanonical(Va(before))) vas.push_back(Va(before));
      if (f_->IsCanonical(Va(after))) vas.push_back(Va(after));
    }
    const auto& leaves = model_->leaves();
    const size_t stride = std::max<size_t>(1, leaves.size() / static_cast<size_t>(opt_.samples_per_op));
    size_t k = 0;
    for (const auto& [va, leaf] : leaves) {
      if (k++ % stride != 0) continue;
      vas.push_back(Va(va + LowMask(leaf.size_lg2)));
    }
    for (Va va : vas) {
      const Access acc{AccessType::kRead, false};
      const WalkResult w = f_->Translate(&arena_.mem(), space_->root(), va, acc, MmuOptions{.update_ad = false}, nullptr);
      ++res_.translations_checked;
      if (!Compare(i, text, va, acc, w)) return;
    }
  }

  void Teardown() {
    space_->Destroy();
    const AllocatorStats& a = arena_.alloc().stats();
    if (a.live != 0 || a.pending != 0 || arena_.frames().TotalMapcount() != 0) {
      std::string tables;
      for (Oa t : arena_.alloc().LiveTables()) {
        const TableMeta* m = arena_.alloc().Find(t);
        absl::StrAppend(&tables, absl::StrFormat(" %#x(level %d)", t.value(), m->level));
      }
      Diverge(-1, "leak", "teardown", std::nullopt, "no live tables and no mapped frames",
              absl::StrFormat("%d live tables:%s; total map count %d", a.live, tables, arena_.frames().TotalMapcount()));
    }
    res_.steps.push_back({"teardown", ended_early_ ? "ok (program ended early: table memory exhausted)" : "ok"});
  }

  const Program& p_;
  Arena& arena_;
  const ExecOptions& opt_;
  std::unique_ptr<AnyFormat> f_;
  FormatConfig priv_mode_, user_mode_;
  std::optional<RefModel> model_;
  std::unique_ptr<AnySpace> space_;
  std::optional<TreeOracle> oracle_;
  int ops_since_whole_ = 0;  // operations checked only over what they changed
  ExecResult res_;
  Fnv1a64 hash_;
  bool ended_early_ = false;
};

}  // namespace

std::string Divergence::Signature(const std::string& format) const {
  std::string op = "teardown";
  if (op_index >= 0) op = op_text.substr(0, op_text.find(' '));
  return absl::StrCat(format, "-", op, "-", check);
}

ExecResult Execute(const Program& p, Arena& arena, const ExecOptions& opt) {
  return Run(p, arena, opt).Go();
}

std::string FormatTraceSteps(const AnyFormat& f, const WalkTrace& trace) {
  const FormatInfo& info = f.Info();
  std::string s;
  for (int i = 0; i < trace.count; ++i) {
    const WalkStep& st = trace.steps[i];
    const LevelInfo& li = info.levels[info.levels.size() - 1 - st.level.value()];
    absl::StrAppend(&s, absl::StrFormat("  level %d %-5s table %#x [%4d] entry@%#x = %0*x  %s\n", st.level.value(),
                                        li.name, st.table.value(), st.index, st.entry_addr.value(),
                                        static_cast<int>(info.entry_bytes * 2), st.raw,
                                        f.DescribeEntry(st.raw, st.level)));
  }
  return s;
}

std::string FormatWalk(const AnyFormat& f, PhysMem* mem, Oa root, Va va, Access acc) {
  WalkTrace trace;
  const WalkResult w = f.Translate(mem, root, va, acc, MmuOptions{.update_ad = false}, &trace);
  std::string s = absl::StrFormat("walk of %#x (%s%s), root %#x:\n", va.value(), AccessTypeName(acc.type),
                                  acc.user ? ", user" : "", root.value());
  absl::StrAppend(&s, FormatTraceSteps(f, trace), "  result: ", DescribeTranslation(w), "\n");
  return s;
}

std::string FormatReport(const Program& p, const ExecResult& r) {
  std::string s = "=== program\n" + ToText(p) + "=== steps\n";
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const StepRecord& st = r.steps[i];
    absl::StrAppend(&s, absl::StrFormat("%3d  %-60s -> %s%s\n", i + 1, st.op_text, st.outcome,
                                        st.architecture.empty() ? "" : "; architecture: " + st.architecture));
  }
  if (!r.divergence) {
    absl::StrAppend(&s, absl::StrFormat("=== result: every check held (%d translations checked, trace %016x)\n",
                                        r.translations_checked, r.trace_hash));
    return s;
  }
  const Divergence& d = *r.divergence;
  absl::StrAppend(&s, "=== DIVERGENCE\n");
  absl::StrAppend(&s, "check:    ", d.check, "\n");
  absl::StrAppend(&s, "op:       ", d.op_index >= 0 ? absl::StrCat("#", d.op_index + 1, " ") : "", d.op_text, "\n");
  if (d.va) absl::StrAppend(&s, absl::StrFormat("address:  %#x\n", d.va->value()));
  absl::StrAppend(&s, "expected: ", d.expected, "\n");
  absl::StrAppend(&s, "actual:   ", d.actual, "\n");
  if (!d.walk.empty()) absl::StrAppend(&s, d.walk);
  absl::StrAppend(&s, "Assertion failure: ", d.Signature(p.format), "\n");
  return s;
}

}  // namespace ptsim
