#include "src/harness/race_program.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "src/base/check.h"
#include "src/base/log2.h"
#include "src/base/strings.h"
#include "src/harness/codec.h"
#include "src/sched/scheduler.h"

namespace ptsim {
namespace {

// Where binary programs put things, derived from the format: a small VA
// window at the bottom of each half (so CPUs collide), leaf sizes up to
// 1 GiB, and output addresses in a region of their own.
struct Layout {
  std::vector<unsigned> units;  // usable leaf sizes, ascending
  unsigned window_lg2 = 0;
  unsigned covered_lg2 = 0;     // VA bits the top level translates
  uint64_t kernel_low = 0;
  unsigned top_item_lg2 = 0;    // a leaf of the top-level table
  uint64_t data_base = 0;
  unsigned data_lg2 = 0;

  uint64_t DataSpan(unsigned unit) const { return uint64_t{1} << std::min(data_lg2 - 2, unit + 16); }
};

Layout LayoutOf(const AnyFormat& f) {
  const FormatInfo& info = f.Info();
  Layout l;
  unsigned b = std::min(info.oa_bits, 32u);
  for (const LevelInfo& li : info.levels)
    if (li.can_leaf) b = std::min(b, li.leaf_oa_bits);
  l.data_lg2 = b;
  l.data_base = uint64_t{1} << (b - 2);
  const unsigned cap = std::min(30u, b - 2);
  // One-entry leaves only: the concurrent operations do not build
  // replicated leaves (leaf_sizes_lg2 has those too).
  for (auto it = info.levels.rbegin(); it != info.levels.rend(); ++it)
    if (it->can_leaf && it->item_lg2 <= cap) l.units.push_back(it->item_lg2);
  if (l.units.empty()) l.units.push_back(info.min_page_lg2);
  const LevelInfo& top = info.levels.front();
  l.covered_lg2 = top.item_lg2 + top.index_lg2;
  l.window_lg2 = std::min(l.units.back() + 1, l.covered_lg2 - 1);
  l.kernel_low = uint64_t{1} << (l.covered_lg2 - 1);
  l.top_item_lg2 = top.item_lg2;
  return l;
}

// Few distinct addresses and short ranges: random inputs then make CPUs
// meet on the same entries often, which is where races are.
constexpr unsigned kIndexMask = 0x1f;
constexpr unsigned kCountMask = 0x0f;

constexpr RaceOpKind kKindOf[8] = {RaceOpKind::kPopulate, RaceOpKind::kRemove, RaceOpKind::kGup,
                                   RaceOpKind::kAccess,   RaceOpKind::kCopy,   RaceOpKind::kUnpin,
                                   RaceOpKind::kPopulate, RaceOpKind::kRemove};

struct RawOp {
  uint8_t head = 0, unit = 0, count = 0, attrs = 0;
  uint16_t index = 0, salt = 0;
};

RaceOp DecodeOp(const RawOp& r, int ncpus, const AnyFormat& f, const Layout& l) {
  RaceOp op;
  op.kind = kKindOf[(r.head >> 2) & 7];
  op.cpu = (r.head & 3) % ncpus;
  op.space = (r.head >> 5) & 1;
  const unsigned flags = r.head >> 6;
  unsigned unit_index = r.unit % l.units.size();
  const bool kernel = (r.index >> 15) != 0;
  // The kernel half has no top-level leaves (see Validate in race_runner.cc):
  // the next smaller size instead.
  if (kernel && l.units[unit_index] == l.top_item_lg2 && unit_index > 0) --unit_index;
  const unsigned unit = l.units[unit_index];
  const uint64_t base = kernel && l.units[unit_index] != l.top_item_lg2 ? l.kernel_low : 0;
  const uint64_t off = (uint64_t{r.index & kIndexMask} << unit) & LowMask(l.window_lg2);
  const uint64_t last_low =
      std::min(base + off + ((uint64_t{r.count & kCountMask} + 1) << unit) - 1, base + LowMask(l.window_lg2));
  switch (op.kind) {
    case RaceOpKind::kPopulate: {
      op.first = f.CanonicalVa(base + off);
      op.last = f.CanonicalVa(last_low);
      op.size_lg2 = unit;
      const uint64_t span = l.DataSpan(unit);
      op.oa = Oa(l.data_base + ((((off >> unit) + r.salt) << unit) & (span - 1)));
      op.attrs = LeafAttrs::FromBits(r.attrs & 0xf);
      break;
    }
    case RaceOpKind::kRemove:
    case RaceOpKind::kCopy:
      op.first = f.CanonicalVa(base + off);
      op.last = f.CanonicalVa(last_low);
      break;
    case RaceOpKind::kGup:
      op.va = f.CanonicalVa(base + off);
      op.write = flags & 1;
      op.pin = flags & 2;
      break;
    case RaceOpKind::kAccess:
      op.va = f.CanonicalVa(base + off);
      op.access = {(flags & 1) ? AccessType::kWrite : (flags & 2) ? AccessType::kExec : AccessType::kRead,
                   (r.attrs & 1) != 0};
      break;
    case RaceOpKind::kUnpin:
      break;
  }
  if (op.kind == RaceOpKind::kUnpin) op.space = 0;
  return op;
}

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

}  // namespace

const char* RaceOpKindName(RaceOpKind k) {
  switch (k) {
    case RaceOpKind::kPopulate: return "populate";
    case RaceOpKind::kRemove: return "remove";
    case RaceOpKind::kGup: return "gup";
    case RaceOpKind::kAccess: return "access";
    case RaceOpKind::kCopy: return "copy";
    case RaceOpKind::kUnpin: return "unpin";
  }
  return "?";
}

bool RaceOp::operator==(const RaceOp& o) const {
  if (kind != o.kind || cpu != o.cpu) return false;
  switch (kind) {
    case RaceOpKind::kPopulate:
      return space == o.space && first == o.first && last == o.last && size_lg2 == o.size_lg2 && oa == o.oa &&
             attrs == o.attrs;
    case RaceOpKind::kRemove:
    case RaceOpKind::kCopy:
      return space == o.space && first == o.first && last == o.last;
    case RaceOpKind::kGup:
      return space == o.space && va == o.va && write == o.write && pin == o.pin;
    case RaceOpKind::kAccess:
      return space == o.space && va == o.va && access.type == o.access.type && access.user == o.access.user;
    case RaceOpKind::kUnpin:
      return true;
  }
  return false;
}

RaceProgram DecodeRace(absl::Span<const uint8_t> bytes, const RaceDecodeOptions& opt) {
  RaceProgram p;
  ByteReader r(bytes);
  uint8_t tag = 0;
  r.U8(&tag);
  const FormatEntry& e = ReadFormatHeader(r, &p.config);
  p.format = std::string(e.name);
  uint8_t setup = 0, nops = 0;
  r.U8(&setup);
  p.ncpus = (setup & 3) == 3 ? 2 : 2 + (setup & 3);
  constexpr FreeScheme kSchemes[4] = {FreeScheme::kIpi, FreeScheme::kRcu, FreeScheme::kImmediate, FreeScheme::kRcu};
  p.free = kSchemes[(setup >> 2) & 3];
  p.shootdown = (setup & 0x10) ? ShootdownStyle::kBroadcast : ShootdownStyle::kIpi;
  if (p.free == FreeScheme::kImmediate && p.shootdown == ShootdownStyle::kBroadcast &&
      !((setup & 0x20) && opt.allow_unsafe)) {
    p.free = FreeScheme::kIpi;
  }
  if (!r.U8(&nops)) return p;
  const std::unique_ptr<AnyFormat> f = e.make(p.config);
  const Layout l = LayoutOf(*f);
  for (size_t i = 0; i < std::min<size_t>(nops, kMaxRaceOps); ++i) {
    RawOp raw;
    uint64_t index = 0, salt = 0;
    if (!r.U8(&raw.head) || !r.U8(&raw.unit) || !r.Le(2, &index) || !r.U8(&raw.count) || !r.U8(&raw.attrs) ||
        !r.Le(2, &salt)) {
      return p;
    }
    raw.index = static_cast<uint16_t>(index);
    raw.salt = static_cast<uint16_t>(salt);
    p.ops.push_back(DecodeOp(raw, p.ncpus, *f, l));
  }
  const absl::Span<const uint8_t> rest = r.Rest();
  p.schedule.assign(rest.begin(), rest.end());
  return p;
}

absl::StatusOr<std::vector<uint8_t>> EncodeRace(const RaceProgram& p) {
  const FormatEntry* e = FindFormat(p.format);
  if (e == nullptr) return absl::NotFoundError(absl::StrFormat("unknown format '%s'", p.format));
  if (p.ops.size() > kMaxRaceOps) {
    return absl::InvalidArgumentError(absl::StrFormat("%d ops; binary race programs hold at most %d", p.ops.size(),
                                                      kMaxRaceOps));
  }
  const std::unique_ptr<AnyFormat> f = e->make(p.config);
  const Layout l = LayoutOf(*f);
  std::vector<uint8_t> out = {kRaceTag};
  WriteFormatHeader(*e, p.config, &out);
  const uint8_t scheme = p.free == FreeScheme::kIpi ? 0 : p.free == FreeScheme::kRcu ? 1 : 2;
  out.push_back(static_cast<uint8_t>((p.ncpus - 2) | scheme << 2 |
                                     (p.shootdown == ShootdownStyle::kBroadcast ? 0x10 : 0) |
                                     (p.free == FreeScheme::kImmediate ? 0x20 : 0)));
  out.push_back(static_cast<uint8_t>(p.ops.size()));
  const uint64_t covered_mask = LowMask(l.covered_lg2);
  for (size_t n = 0; n < p.ops.size(); ++n) {
    const RaceOp& op = p.ops[n];
    const bool ranged = op.kind == RaceOpKind::kPopulate || op.kind == RaceOpKind::kRemove || op.kind == RaceOpKind::kCopy;
    const uint64_t start = (ranged ? op.first : op.va).value() & covered_mask;
    const bool kernel = start >= l.kernel_low;
    const uint64_t off = start - (kernel ? l.kernel_low : 0);
    uint8_t kind = 0;
    uint8_t flags = 0;
    switch (op.kind) {
      case RaceOpKind::kPopulate: kind = 0; break;
      case RaceOpKind::kRemove: kind = 1; break;
      case RaceOpKind::kGup: kind = 2; flags = (op.write ? 1 : 0) | (op.pin ? 2 : 0); break;
      case RaceOpKind::kAccess:
        kind = 3;
        flags = op.access.type == AccessType::kWrite ? 1 : op.access.type == AccessType::kExec ? 2 : 0;
        break;
      case RaceOpKind::kCopy: kind = 4; break;
      case RaceOpKind::kUnpin: kind = 5; break;
    }
    bool done = false;
    for (size_t u = 0; u < l.units.size() && !done; ++u) {
      const unsigned unit = l.units[u];
      if (op.kind == RaceOpKind::kPopulate && unit != op.size_lg2) continue;
      RawOp raw;
      raw.head = static_cast<uint8_t>(op.cpu | kind << 2 | op.space << 5 | flags << 6);
      raw.unit = static_cast<uint8_t>(u);
      raw.index = static_cast<uint16_t>(((off >> unit) & kIndexMask) | (kernel ? 0x8000 : 0));
      if (ranged) {
        const uint64_t units = ((op.last.value() - op.first.value()) >> unit) + 1;
        raw.count = static_cast<uint8_t>(std::min<uint64_t>(units - 1, kCountMask));
      }
      if (op.kind == RaceOpKind::kPopulate) {
        raw.attrs = op.attrs.bits() & 0xf;
        const uint64_t span_units = l.DataSpan(unit) >> unit;
        raw.salt = static_cast<uint16_t>((((op.oa.value() - l.data_base) >> unit) - (off >> unit)) & (span_units - 1));
      }
      if (op.kind == RaceOpKind::kAccess) raw.attrs = op.access.user ? 1 : 0;
      if (DecodeOp(raw, p.ncpus, *f, l) == op) {
        for (uint8_t b : {raw.head, raw.unit, static_cast<uint8_t>(raw.index), static_cast<uint8_t>(raw.index >> 8),
                          raw.count, raw.attrs, static_cast<uint8_t>(raw.salt), static_cast<uint8_t>(raw.salt >> 8)}) {
          out.push_back(b);
        }
        done = true;
      }
    }
    if (!done) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "op %d (%s) has no binary form: binary programs place addresses on a grid of leaf-sized units in a "
          "2^%d-byte window at the bottom of each half, with output addresses from 0x%x",
          n + 1, RaceOpToText(op), l.window_lg2, l.data_base));
    }
  }
  out.insert(out.end(), p.schedule.begin(), p.schedule.end());
  return out;
}

std::string RaceOpToText(const RaceOp& op) {
  std::string s = absl::StrCat("cpu", op.cpu, " ", RaceOpKindName(op.kind));
  const std::string sp = absl::StrCat(" s", op.space, " ");
  switch (op.kind) {
    case RaceOpKind::kPopulate:
      absl::StrAppend(&s, sp, Hex(op.first.value()), " ", Hex(op.last.value()), " oa=", Hex(op.oa.value()),
                      " attrs=", AttrsToString(op.attrs), " size_lg2=", op.size_lg2);
      break;
    case RaceOpKind::kRemove:
    case RaceOpKind::kCopy:
      absl::StrAppend(&s, sp, Hex(op.first.value()), " ", Hex(op.last.value()));
      break;
    case RaceOpKind::kGup:
      absl::StrAppend(&s, sp, Hex(op.va.value()), op.write ? " write" : "", op.pin ? " pin" : "");
      break;
    case RaceOpKind::kAccess:
      absl::StrAppend(&s, sp, Hex(op.va.value()), " ", AccessTypeName(op.access.type), op.access.user ? " user" : "");
      break;
    case RaceOpKind::kUnpin:
      break;
  }
  return s;
}

std::string ScheduleTokenOf(uint8_t b) {
  const unsigned k = b >> 2;
  return k == 63 ? absl::StrCat("cpu", b & 3, ":*") : absl::StrCat("cpu", b & 3, ":", RunLength(k));
}

absl::StatusOr<uint8_t> ParseScheduleToken(std::string_view token) {
  const absl::string_view t = Sv(token);
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad schedule entry '", t, "': ", Sv(why)));
  };
  uint64_t cpu = 0, points = 0;
  const size_t colon = t.find(':');
  if (!absl::StartsWith(t, "cpu") || colon == absl::string_view::npos) {
    // A raw tape byte, in hex.
    if (t.size() == 2 && absl::SimpleHexAtoi(t, &points)) return static_cast<uint8_t>(points);
    return bad("expected cpuN:POINTS, cpuN:* or a hex byte");
  }
  if (!absl::SimpleAtoi(t.substr(3, colon - 3), &cpu) || cpu >= kMaxCpus) return bad("the CPU must be 0 to 3");
  const absl::string_view run = t.substr(colon + 1);
  if (run == "*") return TapeByte(static_cast<unsigned>(cpu), 63);
  int k = -1;
  if (absl::SimpleAtoi(run, &points)) k = RunFieldFor(points);
  if (k < 0) return bad("run lengths are 1..32, 40..224 in steps of 8, 256..16384 doubling, or *");
  return TapeByte(static_cast<unsigned>(cpu), static_cast<unsigned>(k));
}

std::string ToRaceText(const RaceProgram& p) {
  std::string s = absl::StrCat("# ptsim race program\nformat ", p.format, "\n");
  if (const FormatEntry* e = FindFormat(p.format); e != nullptr && !e->knobs.empty()) {
    absl::StrAppend(&s, "config ", ConfigToString(e->knobs, p.config), "\n");
  }
  absl::StrAppend(&s, "race cpus=", p.ncpus, " free=", FreeSchemeName(p.free),
                  " shootdown=", ShootdownStyleName(p.shootdown), "\n");
  for (const RaceOp& op : p.ops) absl::StrAppend(&s, RaceOpToText(op), "\n");
  for (size_t i = 0; i < p.schedule.size(); i += 12) {
    absl::StrAppend(&s, "schedule");
    for (size_t j = i; j < std::min(p.schedule.size(), i + 12); ++j)
      absl::StrAppend(&s, " ", ScheduleTokenOf(p.schedule[j]));
    absl::StrAppend(&s, "\n");
  }
  return s;
}

absl::StatusOr<RaceProgram> ParseRaceText(std::string_view text) {
  RaceProgram p;
  const FormatEntry* e = nullptr;
  bool have_race = false;
  for (const TextLine& t : TextLines(Sv(text))) {
    const std::vector<absl::string_view>& w = t.words;
    auto err = [&](const std::string& what) { return t.Error(what); };
    if (w[0] == "format") {
      if (w.size() != 2 || e != nullptr) return err("expected one 'format NAME'");
      e = FindFormat(StdSv(w[1]));
      if (e == nullptr) return err(absl::StrCat("unknown format (known: ", KnownFormatNames(), ")"));
      p.format = std::string(w[1]);
      p.config = FormatConfig::Defaults(e->knobs);
      continue;
    }
    if (e == nullptr) return err("the first statement must be 'format NAME'");
    if (w[0] == "config") {
      for (size_t i = 1; i < w.size(); ++i) {
        if (auto st = ApplyConfigSetting(e->knobs, StdSv(w[i]), &p.config); !st.ok()) return err(std::string(st.message()));
      }
      continue;
    }
    if (w[0] == "race") {
      have_race = true;
      for (size_t i = 1; i < w.size(); ++i) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(w[i], absl::MaxSplits('=', 1));
        uint64_t v = 0;
        if (kv.first == "cpus" && absl::SimpleAtoi(kv.second, &v) && v >= 2 && v <= kMaxCpus) {
          p.ncpus = static_cast<int>(v);
        } else if (kv.first == "free" && FreeSchemeFromName(StdSv(kv.second))) {
          p.free = *FreeSchemeFromName(StdSv(kv.second));
        } else if (kv.first == "shootdown" && ShootdownStyleFromName(StdSv(kv.second))) {
          p.shootdown = *ShootdownStyleFromName(StdSv(kv.second));
        } else {
          return err(absl::StrCat("bad setting '", w[i], "' (cpus=2..4 free=ipi|rcu|immediate shootdown=ipi|broadcast)"));
        }
      }
      continue;
    }
    if (w[0] == "schedule") {
      for (size_t i = 1; i < w.size(); ++i) {
        absl::StatusOr<uint8_t> b = ParseScheduleToken(StdSv(w[i]));
        if (!b.ok()) return err(std::string(b.status().message()));
        p.schedule.push_back(*b);
      }
      continue;
    }
    uint64_t cpu = 0;
    if (!absl::StartsWith(w[0], "cpu") || !absl::SimpleAtoi(w[0].substr(3), &cpu) || cpu >= kMaxCpus) {
      return err("unknown statement (format, config, race, cpuN OP ..., schedule)");
    }
    if (w.size() < 2) return err("expected an operation after the CPU");
    RaceOp op;
    op.cpu = static_cast<int>(cpu);
    std::vector<uint64_t> nums;
    std::vector<absl::string_view> words;
    for (size_t i = 2; i < w.size(); ++i) {
      uint64_t v = 0;
      if (w[i].size() == 2 && w[i][0] == 's' && (w[i][1] == '0' || w[i][1] == '1')) {
        op.space = w[i][1] - '0';
      } else if (w[i].find('=') == absl::string_view::npos && ParseU64(w[i], &v)) {
        nums.push_back(v);
      } else {
        words.push_back(w[i]);
      }
    }
    const absl::string_view kind = w[1];
    if (kind == "populate" || kind == "remove" || kind == "copy") {
      if (nums.size() != 2) return err("expected FIRST LAST addresses");
      op.first = Va(nums[0]);
      op.last = Va(nums[1]);
      op.kind = kind == "populate" ? RaceOpKind::kPopulate : kind == "remove" ? RaceOpKind::kRemove : RaceOpKind::kCopy;
      bool have_oa = false, have_attrs = false, have_size = false;
      for (absl::string_view o : words) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(o, absl::MaxSplits('=', 1));
        uint64_t v = 0;
        if (op.kind != RaceOpKind::kPopulate) return err(absl::StrCat("bad option '", o, "'"));
        if (kv.first == "oa" && ParseU64(kv.second, &v)) {
          op.oa = Oa(v);
          have_oa = true;
        } else if (kv.first == "attrs" && AttrsFromString(StdSv(kv.second), &op.attrs)) {
          have_attrs = true;
        } else if (kv.first == "size_lg2" && ParseU64(kv.second, &v) && v > 0 && v < 64) {
          op.size_lg2 = static_cast<unsigned>(v);
          have_size = true;
        } else {
          return err(absl::StrCat("bad option '", o, "'"));
        }
      }
      if (op.kind == RaceOpKind::kPopulate && !(have_oa && have_attrs && have_size)) {
        return err("populate needs oa=ADDR attrs=LETTERS size_lg2=N");
      }
    } else if (kind == "gup" || kind == "access") {
      if (nums.size() != 1) return err("expected one address");
      op.va = Va(nums[0]);
      op.kind = kind == "gup" ? RaceOpKind::kGup : RaceOpKind::kAccess;
      bool have_type = op.kind == RaceOpKind::kGup;
      for (absl::string_view o : words) {
        if (op.kind == RaceOpKind::kGup && o == "write") {
          op.write = true;
        } else if (op.kind == RaceOpKind::kGup && o == "pin") {
          op.pin = true;
        } else if (op.kind == RaceOpKind::kAccess && o == "user") {
          op.access.user = true;
        } else if (op.kind == RaceOpKind::kAccess && (o == "read" || o == "write" || o == "exec")) {
          op.access.type = o == "read" ? AccessType::kRead : o == "write" ? AccessType::kWrite : AccessType::kExec;
          have_type = true;
        } else {
          return err(absl::StrCat("bad word '", o, "'"));
        }
      }
      if (!have_type) return err("missing read|write|exec");
    } else if (kind == "unpin") {
      op.kind = RaceOpKind::kUnpin;
    } else {
      return err("unknown operation (populate, remove, gup, access, copy, unpin)");
    }
    p.ops.push_back(op);
  }
  if (e == nullptr) return absl::InvalidArgumentError("no 'format NAME' line: not a ptsim race program");
  if (!have_race) return absl::InvalidArgumentError("no 'race ...' line: not a race program");
  for (const RaceOp& op : p.ops) {
    if (op.cpu >= p.ncpus) {
      return absl::InvalidArgumentError(absl::StrFormat("'%s' names cpu%d, but the race has %d CPUs",
                                                        RaceOpToText(op), op.cpu, p.ncpus));
    }
  }
  return p;
}

bool LooksLikeRace(absl::Span<const uint8_t> bytes) {
  if (bytes.empty()) return false;
  if (bytes[0] == kRaceTag) return true;
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return absl::StartsWith(Sv(s), "race ") || s.find("\nrace ") != std::string_view::npos;
}

absl::StatusOr<RaceProgram> ParseAnyRace(absl::Span<const uint8_t> bytes, const RaceDecodeOptions& opt) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty input");
  if (bytes[0] == kRaceTag) return DecodeRace(bytes, opt);
  return ParseRaceText(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace ptsim
