#include "tools/cli/oracle/engine.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/harness/executor.h"
#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"
#include "tools/cli/oracle/qemu_process.h"
#include "tools/cli/oracle/targets.h"

namespace ptsim::oracle {
namespace {

constexpr uint64_t kTableWindow = uint64_t{16} << 20;

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t Next() { return g_(); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : g_() % n; }
  bool Chance(unsigned percent) { return Below(100) < percent; }

 private:
  std::mt19937_64 g_;
};

// SplitMix64 of (seed, image): independent, reproducible per-image seeds.
uint64_t ImageSeed(uint64_t seed, uint64_t image) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (image + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Guest memory as ptsim sees it: all of QEMU's RAM (so a corrupted pointer
// that lands in RAM reads the same zeros on both sides), with tables
// allocated from a window inside it.
struct Image {
  Image(uint64_t ram_base, uint64_t ram_size, uint64_t table_base)
      : mem(Oa(ram_base), ram_size), alloc(&mem, OaRange{Oa(table_base), Oa(table_base + kTableWindow - 1)}) {}
  PhysMem mem;
  TableAllocator alloc;
  FrameTable frames;
  std::unique_ptr<AnySpace> space;
  std::vector<VaRange> mapped;
  std::vector<std::string> corrupted;
};

unsigned LeafOaBitsFor(const FormatInfo& info, unsigned size_lg2) {
  for (const LevelInfo& l : info.levels) {
    if ((l.leaf_sizes_mask >> size_lg2) & 1) return l.leaf_oa_bits;
  }
  return info.oa_bits;
}

uint8_t RandomAttrs(Rng& rng) {
  // r w x u g a d: mostly readable, the rest even odds.
  uint8_t bits = rng.Chance(85) ? 1 : 0;
  for (int b = 1; b < kNumAttrs; ++b) bits |= static_cast<uint8_t>(rng.Below(2) << b);
  return bits;
}

// Random map, protect and unmap operations through ptsim's own ops, so the
// tables are ones ptsim builds. Clusters of nearby addresses share tables;
// scattered ones spread over the whole VA space, both halves.
absl::Status BuildTables(const AnyFormat& f, Image& img, Rng& rng) {
  const FormatInfo& info = f.Info();
  const std::vector<unsigned>& sizes = info.leaf_sizes_lg2;
  const unsigned ops = 6 + static_cast<unsigned>(rng.Below(14));
  for (unsigned i = 0; i < ops; ++i) {
    absl::Status st;
    if (img.mapped.empty() || rng.Chance(70)) {
      // Smaller leaves are likelier: they need the deeper tables.
      size_t idx = sizes.size() - 1;
      while (idx > 0 && rng.Chance(35)) --idx;
      const unsigned s = sizes[idx];
      const uint64_t n = s >= 30 ? 1 : 1 + rng.Below(4);
      const uint64_t span_lg2 = info.va_bits;
      uint64_t low;
      if (!img.mapped.empty() && rng.Chance(50)) {
        const VaRange& near = img.mapped[rng.Below(img.mapped.size())];
        const uint64_t base = near.first.value() & LowMask(span_lg2);
        low = AlignDown(base, s) + ((rng.Below(16) - 8) << s);
      } else {
        low = rng.Next();
      }
      low = AlignDown(low & LowMask(span_lg2), s);
      if (low + (n << s) - 1 > LowMask(span_lg2)) continue;
      const VaRange r{f.CanonicalVa(low), f.CanonicalVa(low + (n << s) - 1)};
      if (!f.IsValidRange(r)) continue;
      const unsigned oa_bits = std::min(LeafOaBitsFor(info, s), 52u);
      const uint64_t oa = AlignDown(rng.Next() & LowMask(oa_bits), s) & ~LowMask(s);
      st = img.space->Map(r, Oa(oa), LeafAttrs::FromBits(RandomAttrs(rng)), s);
      if (st.ok()) img.mapped.push_back(r);
    } else {
      // A page-aligned piece of an earlier mapping.
      const VaRange& m = img.mapped[rng.Below(img.mapped.size())];
      const unsigned p = info.min_page_lg2;
      const uint64_t pages = (m.SizeMinusOne() >> p) + 1;
      const uint64_t first = rng.Below(pages);
      const uint64_t count = 1 + rng.Below(std::min<uint64_t>(pages - first, 16));
      const VaRange r{m.first + (first << p), m.first + ((first + count) << p) - 1};
      st = rng.Chance(50) ? img.space->Protect(r, LeafAttrs::FromBits(RandomAttrs(rng))) : img.space->Unmap(r);
    }
    if (st.code() == absl::StatusCode::kResourceExhausted) break;
  }
  return absl::OkStatus();
}

std::vector<LeafInfo> Leaves(const AnyFormat& f, Image& img) {
  std::vector<LeafInfo> leaves;
  f.ForEachLeaf(
      &img.mem, img.space->root(),
      [&](const LeafInfo& l) {
        leaves.push_back(l);
        return leaves.size() < 100000;
      },
      [](const TreeProblem&) { return true; });
  return leaves;
}

// In a leaf (first byte, last byte, anywhere), just outside one, anywhere
// canonical, or anywhere at all (mostly non-canonical in 64-bit modes).
uint64_t PickProbe(const AnyFormat& f, const std::vector<LeafInfo>& leaves, Rng& rng) {
  const unsigned va_bits = f.Info().va_bits;
  const uint64_t pick = rng.Below(10);
  if (!leaves.empty() && pick < 7) {
    const LeafInfo& l = leaves[rng.Below(leaves.size())];
    const uint64_t size = uint64_t{1} << l.size_lg2;
    switch (rng.Below(4)) {
      case 0:
        return l.va.value();
      case 1:
        return l.va.value() + size - 1;
      case 2:
        return pick == 6 ? l.va.value() + size : l.va.value() - 1;
      default:
        return l.va.value() + rng.Below(size);
    }
  }
  if (pick < 9) return f.CanonicalVa(rng.Next() & LowMask(va_bits)).value();
  return rng.Next();
}

// Flips one random bit of one entry on the walk of a probe that
// translates: the walkers then disagree or agree on what the broken entry
// means (reserved bits, P/V, PS, addresses, permissions).
void Corrupt(const AnyFormat& f, Image& img, const std::vector<uint64_t>& probes, Rng& rng) {
  const unsigned entry_bits = f.Info().entry_bytes * 8;
  for (int tries = 0; tries < 8 && !probes.empty(); ++tries) {
    const uint64_t va = probes[rng.Below(probes.size())];
    WalkTrace trace;
    const WalkResult r = f.Translate(&img.mem, img.space->root(), Va(va), Access{}, MmuOptions{.update_ad = false}, &trace);
    if (!r.ok || trace.count == 0) continue;
    const WalkStep& s = trace.steps[static_cast<size_t>(rng.Below(static_cast<uint64_t>(trace.count)))];
    const unsigned bit = static_cast<unsigned>(rng.Below(entry_bits));
    const uint64_t raw = s.raw ^ (uint64_t{1} << bit);
    uint8_t bytes[8];
    for (unsigned i = 0; i < f.Info().entry_bytes; ++i) bytes[i] = static_cast<uint8_t>(raw >> (8 * i));
    if (!img.mem.Write(s.entry_addr, absl::MakeConstSpan(bytes, f.Info().entry_bytes)).ok()) continue;
    img.corrupted.push_back(absl::StrFormat("level %d entry at 0x%x: 0x%x -> 0x%x (bit %d)", s.level.value(),
                                            s.entry_addr.value(), s.raw, raw, bit));
    return;
  }
}

std::string Describe(const WalkResult& r) {
  if (r.ok) {
    return absl::StrFormat("oa 0x%x (%d-bit leaf at level %d) attrs %s", r.t.oa.value(), r.t.size_lg2,
                           r.t.level.value(), AttrsToString(r.t.attrs));
  }
  return absl::StrFormat("fault %s at level %d", FaultKindName(r.fault.kind), r.fault.level.value());
}

std::string AttrLetters(uint8_t bits, uint8_t mask) {
  std::string s;
  static constexpr char kLetters[] = "rwxugad";
  for (int b = 0; b < kNumAttrs; ++b) {
    if (!((mask >> b) & 1)) continue;
    s.push_back(((bits >> b) & 1) ? kLetters[b] : '-');
  }
  return s;
}

const PermRange* FindRange(const std::vector<PermRange>& ranges, uint64_t va) {
  for (const PermRange& r : ranges) {
    if (r.first <= va && va <= r.last) return &r;
  }
  return nullptr;
}

class Runner {
 public:
  Runner(const AnyFormat& f, const Target& t, QemuProcess& q, const OracleOptions& o, FormatReport& rep)
      : f_(f), t_(t), q_(q), o_(o), rep_(rep) {}

  absl::Status RunImage(uint64_t index) {
    Rng rng(ImageSeed(o_.seed, index));
    Image img(q_.ram_base(), q_.ram_size(), t_.TableBase());
    const SpaceEnv env{&img.mem, &img.alloc, &img.frames, nullptr, 1};
    img.space = f_.NewSpace(env);
    if (auto st = img.space->Init(); !st.ok()) return st;
    if (auto st = BuildTables(f_, img, rng); !st.ok()) return st;
    const std::vector<LeafInfo> leaves = Leaves(f_, img);
    rep_.leaves += leaves.size();
    rep_.tables += img.alloc.stats().live;

    std::vector<uint64_t> probes;
    for (unsigned i = 0; i < o_.probes; ++i) probes.push_back(PickProbe(f_, leaves, rng) & t_.MaxVa());
    for (unsigned i = 0; i < o_.corrupt; ++i) Corrupt(f_, img, probes, rng);
    std::sort(probes.begin(), probes.end());
    probes.erase(std::unique(probes.begin(), probes.end()), probes.end());

    if (auto st = Load(img); !st.ok()) return st;
    const std::vector<Mode> modes = t_.Modes();
    for (size_t m = 0; m < modes.size(); ++m) {
      if (auto st = t_.Enter(q_, f_, img.space->root(), m); !st.ok()) return st;
      std::vector<std::string> cmds;
      for (uint64_t va : probes) cmds.push_back(absl::StrFormat("gva2gpa 0x%x", va));
      auto answers = q_.qmp().Hmp(cmds);
      if (!answers.ok()) return answers.status();
      std::vector<PermRange> perms;
      if (m == 0 && t_.PermMask() != 0) {
        auto text = q_.qmp().Hmp("info mem");
        if (!text.ok()) return text.status();
        auto parsed = t_.ParseInfoMem(*text);
        if (!parsed.ok()) return parsed.status();
        perms = std::move(*parsed);
      }
      for (size_t i = 0; i < probes.size(); ++i) {
        auto a = ParseGva2Gpa((*answers)[i]);
        if (!a.ok()) return a.status();
        Compare(index, img, modes[m], probes[i], *a, m == 0 ? &perms : nullptr);
      }
    }
    ++rep_.images;
    return absl::OkStatus();
  }

 private:
  // Zeroes what the previous image left in guest RAM, then copies this
  // image's table window.
  absl::Status Load(Image& img) {
    uint64_t end = t_.TableBase();
    for (Oa t : img.alloc.LiveTables()) {
      end = std::max(end, t.value() + (uint64_t{1} << img.alloc.Find(t)->size_lg2));
    }
    const uint64_t off = t_.TableBase() - q_.ram_base();
    std::memset(q_.ram() + off, 0, loaded_);
    loaded_ = end - t_.TableBase();
    img.mem.Read(Oa(t_.TableBase()), absl::MakeSpan(q_.ram() + off, loaded_));
    return absl::OkStatus();
  }

  void Compare(uint64_t index, Image& img, const Mode& mode, uint64_t va, const Gva2Gpa& q,
               const std::vector<PermRange>* perms) {
    const Oa root = img.space->root();
    WalkTrace trace;
    // The walk QEMU's is compared with: the architecture's rules in the
    // target's CPU mode. The neutral walk still gives the effective
    // permissions that `info mem` shows (ANDed over the levels).
    FormatConfig hw_mode = FormatConfig::Defaults(f_.Info().mode_knobs);
    if (auto st = ApplySettingList("mode", f_.Info().mode_knobs, mode.hw_mode, &hw_mode); !st.ok()) {
      PTSIM_CHECK(false, "oracle mode '%s' for %s: %s", mode.hw_mode, f_.Info().name, st.ToString());
    }
    const HwWalkResult h = f_.HwTranslate(&img.mem, root, Va(va), mode.access.type, hw_mode, &trace, false);
    const WalkResult r{h.ok, h.t, h.fault, h.restarts};
    const WalkResult neutral =
        f_.Translate(&img.mem, root, Va(va), mode.access, MmuOptions{.update_ad = false}, nullptr);
    Counts& c = rep_.translations[mode.name];
    const std::string qemu_text = q.mapped ? absl::StrFormat("gpa 0x%x", q.pa) : "unmapped";
    auto disagree = [&](std::string kind, std::string qemu) {
      Disagreement d;
      d.image = index;
      d.mode = mode.name;
      d.va = va;
      d.kind = std::move(kind);
      d.ptsim = Describe(r) + (h.detail.empty() ? "" : ": " + h.detail);
      d.qemu = std::move(qemu);
      d.walk = FormatWalk(f_, &img.mem, root, Va(va), mode.access);
      d.corrupted = absl::StrJoin(img.corrupted, "; ");
      rep_.disagreements.push_back(std::move(d));
    };
    if (!r.ok && r.fault.kind == FaultKind::kReserved && t_.ReservedUnchecked()) {
      ++rep_.reserved_not_checked_by_qemu;
      return;
    }
    if (r.ok != q.mapped || (r.ok && r.t.oa.value() != q.pa)) {
      // Where QEMU is known to depart from the manual (or the manual leaves
      // the answer open), the walk is counted, not compared.
      // An entry the format refuses (neutral: reserved) but the
      // architecture's rules decode (ARMv7 supersections with PA[39:32],
      // which ptsim's core ignores) is judged as the format reads it.
      std::string why = t_.KnownQemuDeviation(f_, va, r, trace, q);
      if (why.empty() && !neutral.ok && neutral.fault.kind == FaultKind::kReserved) {
        why = t_.KnownQemuDeviation(f_, va, neutral, trace, q);
      }
      if (!why.empty()) {
        ++rep_.known_qemu_deviations[why];
        return;
      }
    }
    ++c.compared;
    if (r.ok != q.mapped) {
      disagree(r.ok ? "qemu-faults" : "ptsim-faults", qemu_text);
      return;
    }
    if (r.ok && r.t.oa.value() != q.pa) {
      disagree("translation", qemu_text);
      return;
    }
    ++c.agree;
    if (r.ok) ++c.agree_mapped;
    if (!r.ok || !neutral.ok || perms == nullptr || t_.PermMask() == 0) return;

    ++rep_.permissions.compared;
    const uint8_t mask = t_.PermMask();
    const PermRange* pr = FindRange(*perms, va);
    if (pr == nullptr) {
      disagree("info-mem-missing", "no 'info mem' range holds the VA");
      return;
    }
    const uint8_t mine = neutral.t.attrs.bits() & mask;
    const uint8_t theirs = pr->attrs & mask;
    if (mine != theirs) {
      disagree("permissions", absl::StrFormat("info mem %s (ptsim %s)", AttrLetters(theirs, mask), AttrLetters(mine, mask)));
      return;
    }
    if (pr->has_oa && pr->oa + (va - pr->first) != r.t.oa.value()) {
      disagree("info-mem-oa", absl::StrFormat("info mem maps it to 0x%x", pr->oa + (va - pr->first)));
      return;
    }
    ++rep_.permissions.agree;
  }

  const AnyFormat& f_;
  const Target& t_;
  QemuProcess& q_;
  const OracleOptions& o_;
  FormatReport& rep_;
  uint64_t loaded_ = 0;
};

}  // namespace

absl::StatusOr<FormatReport> RunOracle(const std::string& format, const OracleOptions& o, const Progress& progress) {
  std::unique_ptr<Target> target = MakeTarget(format);
  if (target == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat("the QEMU oracle does not cover format '%s' (it covers: %s)",
                                                      format, absl::StrJoin(OracleFormats(), ", ")));
  }
  auto f = MakeFormat(format, o.config);
  if (!f.ok()) return f.status();
  QemuLaunch launch = target->Launch(**f);
  launch.timeout = o.timeout;
  auto q = QemuProcess::Start(launch);
  if (!q.ok()) return q.status();

  FormatReport rep;
  rep.format = format;
  rep.config = {};
  const auto knobs = (*f)->Info().knobs;
  for (size_t i = 0; i < knobs.size(); ++i) {
    rep.config.push_back(absl::StrFormat("%s=%d", knobs[i].name, (*f)->Config().Get(static_cast<int>(i))));
  }
  // What decides QEMU's behaviour; ports and temporary paths vary by run.
  rep.qemu_command = absl::StrFormat("%s -machine %s %s", launch.binary, launch.machine, absl::StrJoin(launch.args, " "));
  Runner runner(**f, *target, **q, o, rep);
  for (uint64_t i = 0; i < o.count; ++i) {
    if (auto st = runner.RunImage(i); !st.ok()) {
      return absl::Status(st.code(), absl::StrFormat("%s, image %d: %s", format, i, st.message()));
    }
    if (progress) progress(i + 1, rep);
  }
  return rep;
}

}  // namespace ptsim::oracle
