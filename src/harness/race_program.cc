#include "src/harness/race_program.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/base/log2.h"
#include "src/base/strings.h"
#include "src/harness/codec.h"

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

Layout LayoutOf(const AnyFormat& f, bool replicated) {
  const FormatInfo& info = f.Info();
  Layout l;
  unsigned b = std::min(info.oa_bits, 32u);
  for (const LevelInfo& li : info.levels)
    if (li.can_leaf) b = std::min(b, li.leaf_oa_bits);
  l.data_lg2 = b;
  l.data_base = uint64_t{1} << (b - 2);
  const unsigned cap = std::min(30u, b - 2);
  const LevelInfo& top = info.levels.front();
  l.covered_lg2 = top.item_lg2 + top.index_lg2;
  // One-entry leaf sizes (all that version 3 read) and, from version 4,
  // replicated ones small enough that the window holds two.
  for (auto it = info.leaf_sizes_lg2.rbegin(); it != info.leaf_sizes_lg2.rend(); ++it) {
    bool one_entry = false;
    for (const LevelInfo& li : info.levels) one_entry |= li.can_leaf && li.item_lg2 == *it;
    if (*it <= cap && (one_entry || (replicated && *it + 2 <= l.covered_lg2))) l.units.push_back(*it);
  }
  if (l.units.empty()) l.units.push_back(info.min_page_lg2);
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
                                   RaceOpKind::kProtect,  RaceOpKind::kRemove};

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
  // The kernel half has no top-level leaves, one-entry or replicated (see
  // race_validate.h): the largest smaller size instead.
  while (kernel && l.units[unit_index] >= l.top_item_lg2 && unit_index > 0) --unit_index;
  const unsigned unit = l.units[unit_index];
  const uint64_t base = kernel && l.units[unit_index] < l.top_item_lg2 ? l.kernel_low : 0;
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
    case RaceOpKind::kProtect:
      op.attrs = LeafAttrs::FromBits(r.attrs & 0xf);
      [[fallthrough]];
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

}  // namespace

const char* RaceOpKindName(RaceOpKind k) {
  switch (k) {
    case RaceOpKind::kPopulate: return "populate";
    case RaceOpKind::kRemove: return "remove";
    case RaceOpKind::kGup: return "gup";
    case RaceOpKind::kAccess: return "access";
    case RaceOpKind::kCopy: return "copy";
    case RaceOpKind::kUnpin: return "unpin";
    case RaceOpKind::kProtect: return "protect";
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
    case RaceOpKind::kProtect:
      return space == o.space && first == o.first && last == o.last && attrs == o.attrs;
    case RaceOpKind::kGup:
      return space == o.space && va == o.va && write == o.write && pin == o.pin;
    case RaceOpKind::kAccess:
      return space == o.space && va == o.va && access.type == o.access.type && access.user == o.access.user;
    case RaceOpKind::kUnpin:
      return true;
  }
  return false;
}

RaceProgram DecodeRace(absl::Span<const uint8_t> bytes) {
  RaceProgram p;
  ByteReader r(bytes);
  uint8_t tag = 0;
  r.U8(&tag);
  const FormatEntry& e = ReadFormatHeader(r, &p.config);
  p.format = std::string(e.name);
  if (tag == kRaceTagMode) {
    uint8_t run = 0;
    r.U8(&run);
    p.run = RunSettingsFromBits(run);
    p.run.noncoherent = false;
    if ((run & kRaceModeFollows) != 0) p.mode = ReadMode(r, e);
  }
  uint8_t setup = 0, nops = 0;
  uint64_t bugs = 0;
  r.U8(&setup);
  p.ncpus = (setup & 3) == 3 ? 2 : 2 + (setup & 3);
  constexpr FreeScheme kSchemes[4] = {FreeScheme::kIpi, FreeScheme::kRcu, FreeScheme::kImmediate, FreeScheme::kRcu};
  p.free = kSchemes[(setup >> 2) & 3];
  p.shootdown = (setup & 0x10) ? ShootdownStyle::kBroadcast : ShootdownStyle::kIpi;
  if (p.Unsafe() && !(setup & kSetupUnsafeBit)) p.free = FreeScheme::kIpi;
  if (!r.Le(2, &bugs)) return p;
  p.bugs = static_cast<uint32_t>(bugs) & ((1u << kBugCount) - 1);
  if (!r.U8(&nops)) return p;
  const std::unique_ptr<AnyFormat> f = e.make(p.config);
  const Layout l = LayoutOf(*f, tag != kRaceTagV3);
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
  const Layout l = LayoutOf(*f, /*replicated=*/true);
  if (p.run.noncoherent) return absl::InvalidArgumentError("a race program attaches no non-coherent view");
  const bool v5 = p.mode || p.run.Any();
  std::vector<uint8_t> out = {v5 ? kRaceTagMode : kRaceTag};
  WriteFormatHeader(*e, p.config, &out);
  if (v5) out.push_back(static_cast<uint8_t>(RunSettingsBits(p.run) | (p.mode ? kRaceModeFollows : 0)));
  if (p.mode) {
    if (absl::Status st = WriteMode(*e, *p.mode, &out); !st.ok()) return st;
  }
  const uint8_t scheme = p.free == FreeScheme::kIpi ? 0 : p.free == FreeScheme::kRcu ? 1 : 2;
  out.push_back(static_cast<uint8_t>((p.ncpus - 2) | scheme << 2 |
                                     (p.shootdown == ShootdownStyle::kBroadcast ? 0x10 : 0) |
                                     (p.Unsafe() ? kSetupUnsafeBit : 0)));
  PutLe(&out, p.bugs, 2);
  out.push_back(static_cast<uint8_t>(p.ops.size()));
  const uint64_t covered_mask = LowMask(l.covered_lg2);
  for (size_t n = 0; n < p.ops.size(); ++n) {
    const RaceOp& op = p.ops[n];
    const bool ranged = op.kind == RaceOpKind::kPopulate || op.kind == RaceOpKind::kRemove ||
                        op.kind == RaceOpKind::kCopy || op.kind == RaceOpKind::kProtect;
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
      case RaceOpKind::kProtect: kind = 6; break;
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
      if (op.kind == RaceOpKind::kProtect) raw.attrs = op.attrs.bits() & 0xf;
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

std::string InjectListText(uint32_t bugs) {
  std::string s;
  for (const BugInfo& b : KnownBugs()) {
    if ((bugs >> static_cast<int>(b.bug)) & 1) absl::StrAppend(&s, s.empty() ? "" : ",", Sv(b.name));
  }
  return s.empty() ? "none" : s;
}

absl::Status ParseInjectList(std::string_view list, uint32_t* bugs) {
  for (absl::string_view name : absl::StrSplit(Sv(list), ',', absl::SkipEmpty())) {
    if (name == "none") continue;
    const BugInfo* b = FindBug(StdSv(name));
    if (b == nullptr) {
      std::vector<std::string> known;
      for (const BugInfo& k : KnownBugs()) known.emplace_back(k.name);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown bug '", name, "' (known: ", absl::StrJoin(known, ", "), ", or none)"));
    }
    *bugs |= 1u << static_cast<int>(b->bug);
  }
  return absl::OkStatus();
}

bool LooksLikeRace(absl::Span<const uint8_t> bytes) {
  if (bytes.empty()) return false;
  if (IsDecodableRaceTag(bytes[0]) || bytes[0] == kRaceTagV2 || bytes[0] == kRaceTagV1) return true;
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return absl::StartsWith(Sv(s), "race ") || s.find("\nrace ") != std::string_view::npos;
}

absl::StatusOr<RaceProgram> ParseAnyRace(absl::Span<const uint8_t> bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty input");
  if (IsDecodableRaceTag(bytes[0])) return DecodeRace(bytes);
  if (bytes[0] == kRaceTagV1) {
    // Version 1 did not record the injected bugs and left the unsafe
    // pairing to a decoder option, so its bytes alone do not say how it
    // ran: guessing would replay something else.
    return absl::InvalidArgumentError(
        "a version 1 race binary (first byte 'R'); this ptsim reads versions 3 to 5 (first byte 'T', 'U' or 'V'), which record the "
        "injected bugs and the unsafe pairing in the file. Decode it to text with a ptsim from before version 2, "
        "add the settings it ran with to its 'race' line (free=, shootdown=, inject=), and encode it with this one");
  }
  if (bytes[0] == kRaceTagV2) {
    // Version 2 read op kind 6 as a populate; version 3 reads it as a protect.
    return absl::InvalidArgumentError(
        "a version 2 race binary (first byte 'S'); this ptsim reads versions 3 to 5 (first byte 'T', 'U' or 'V'), where op kind 6 is "
        "protect rather than a second populate. Decode it to text with a ptsim from before version 3 and encode the "
        "text with this one");
  }
  return ParseRaceText(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace ptsim
