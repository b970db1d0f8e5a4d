// Pairwise comparison of normalised observations. Everything that may
// differ between two formats is derived here from what both declare (see
// diff.h); nothing depends on which formats they are.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "src/harness/diff_internal.h"

namespace ptsim {
namespace {

// What two formats have in common, from their declarations.
class CommonGround {
 public:
  CommonGround(const AnyFormat& a, const AnyFormat& b) : a_(a), b_(b) {
    for (unsigned s : a.Info().leaf_sizes_lg2) {
      const auto& bs = b.Info().leaf_sizes_lg2;
      if (std::find(bs.begin(), bs.end(), s) != bs.end()) shared_sizes_.push_back(s);
    }
  }

  bool CompareSizes() const { return !shared_sizes_.empty(); }
  // The largest leaf size both formats have that is not larger than
  // `size_lg2`. Both formats choose the largest leaf that alignment and the
  // range allow from their own sizes, so projected onto the sizes they
  // share the choices must agree.
  unsigned ProjectSize(unsigned size_lg2) const {
    for (unsigned s : shared_sizes_) {  // largest first
      if (s <= size_lg2) return s;
    }
    return 0;
  }
  // Attributes as neither format can tell apart: what one cannot express
  // takes the value it forces in the other too.
  LeafAttrs Attrs(LeafAttrs x) const { return a_.Canonical(b_.Canonical(x)).Permissions(); }

 private:
  const AnyFormat& a_;
  const AnyFormat& b_;
  std::vector<unsigned> shared_sizes_;
};

std::string AccessOutcome(const OpObservations& o) {
  return o.access_ok ? "access ok" : absl::StrFormat("access fault %s", FaultKindName(o.access_fault));
}

// Fills `d` and returns true when the two observations of one address
// differ in a way no declaration explains.
bool DifferAt(const CommonGround& g, const Observation& a, const Observation& b, Difference* d) {
  if (!a.canonical || !b.canonical) return false;  // VA width / canonical form differ
  // A leaf no access may use (possible where a format has no "always
  // readable" rule) hides its mapping from the probes; ops_fuzzer compares
  // such leaves against the model instead.
  if ((!a.mapped && a.fault == FaultKind::kPermission) || (!b.mapped && b.fault == FaultKind::kPermission)) return false;
  if (a.mapped != b.mapped) {
    d->kind = "presence";
  } else if (!a.mapped) {
    if (a.fault == b.fault) return false;
    d->kind = "fault";
  } else if (a.oa != b.oa) {
    d->kind = "oa";
  } else if (g.CompareSizes() && g.ProjectSize(a.size_lg2) != g.ProjectSize(b.size_lg2)) {
    d->kind = "size";
  } else if (g.Attrs(a.attrs) != g.Attrs(b.attrs)) {
    d->kind = "attrs";
  } else {
    return false;
  }
  d->a = DescribeObservation(a);
  d->b = DescribeObservation(b);
  return true;
}

// The verdict of an access may differ only where each format's verdict
// follows from its own attributes of the address (an execute-only RISC-V
// leaf refuses a read that x86, always readable, allows).
bool AccessDiffers(const OpObservations& a, const OpObservations& b, const Observation& pa, const Observation& pb,
                   Access acc) {
  if (!pa.canonical || !pb.canonical) return false;
  if (a.access_ok == b.access_ok && (a.access_ok || a.access_fault == b.access_fault)) return false;
  auto follows_attrs = [&](const OpObservations& o, const Observation& p) {
    // A leaf no access may use (an AMD IOMMU page without IR/IW) refuses this one too.
    if (!p.mapped && p.fault == FaultKind::kPermission) return !o.access_ok && o.access_fault == FaultKind::kPermission;
    return p.mapped && (o.access_ok || o.access_fault == FaultKind::kPermission) && o.access_ok == Permits(p.attrs, acc);
  };
  return !(follows_attrs(a, pa) && follows_attrs(b, pb));
}

}  // namespace

std::string DescribeObservation(const Observation& o) {
  if (!o.canonical) return "non-canonical here";
  if (!o.mapped) return absl::StrFormat("fault %s", FaultKindName(o.fault));
  return absl::StrFormat("oa %#x size 2^%d attrs %s", o.oa.value(), o.size_lg2, AttrsToString(o.attrs));
}

void CompareRuns(const Program& frame, const std::vector<std::unique_ptr<AnyFormat>>& fs, size_t max_differences,
                 DiffResult* r) {
  const size_t n = r->runs.size();
  for (size_t k = 0; k < frame.ops.size(); ++k) {
    const Op& op = frame.ops[k];
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        const FormatRun& a = r->runs[i];
        const FormatRun& b = r->runs[j];
        if (static_cast<int>(k) >= a.comparable_ops || static_cast<int>(k) >= b.comparable_ops) continue;
        if (r->differences.size() >= max_differences) return;
        const OpObservations& oa = a.ops[k];
        const OpObservations& ob = b.ops[k];
        const CommonGround g(*fs[i], *fs[j]);
        Difference d{static_cast<int>(k), static_cast<int>(i), static_cast<int>(j), "", std::nullopt, "", ""};
        if (op.kind != OpKind::kAccess && a.inexpressible[k].empty() && b.inexpressible[k].empty() &&
            oa.step.code != ob.step.code) {
          d.kind = "status";
          d.va = op.range.first;
          d.a = oa.step.outcome;
          d.b = ob.step.outcome;
          r->differences.push_back(d);
          continue;
        }
        for (size_t p = 0; p < r->probes[k].size(); ++p) {
          if (!DifferAt(g, oa.probes[p], ob.probes[p], &d)) continue;
          d.va = r->probes[k][p];
          r->differences.push_back(d);
          break;
        }
        if (!d.kind.empty() || op.kind != OpKind::kAccess) continue;
        if (AccessDiffers(oa, ob, oa.probes[0], ob.probes[0], op.access)) {
          d.kind = "access";
          d.va = op.va;
          d.a = AccessOutcome(oa);
          d.b = AccessOutcome(ob);
          r->differences.push_back(d);
        }
      }
    }
  }
}

}  // namespace ptsim
