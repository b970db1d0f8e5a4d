#include "src/harness/program.h"

#include <cctype>

#include "absl/strings/str_format.h"
#include "src/base/strings.h"
#include "src/harness/codec.h"

namespace ptsim {
namespace {


const FormatInfo& InfoOf(const Program& p, std::unique_ptr<AnyFormat>* holder) {
  const FormatEntry* e = FindFormat(p.format);
  PTSIM_CHECK(e != nullptr, "program names unregistered format %s", p.format);
  *holder = e->make(p.config);
  return (*holder)->Info();
}

}  // namespace

const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kMap:
      return "map";
    case OpKind::kUnmap:
      return "unmap";
    case OpKind::kProtect:
      return "protect";
    case OpKind::kAccess:
      return "access";
  }
  return "?";
}

bool Op::operator==(const Op& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case OpKind::kMap:
      return range.first == o.range.first && range.last == o.range.last && oa == o.oa && attrs == o.attrs &&
             force_lg2 == o.force_lg2;
    case OpKind::kUnmap:
      return range.first == o.range.first && range.last == o.range.last;
    case OpKind::kProtect:
      return range.first == o.range.first && range.last == o.range.last && attrs == o.attrs;
    case OpKind::kAccess:
      return va == o.va && access.type == o.access.type && access.user == o.access.user;
  }
  return false;
}

FormatConfig ModeOf(const Program& p, const FormatEntry& e) {
  return p.mode.value_or(FormatConfig::Defaults(e.mode_knobs));
}

Program DecodeBinary(absl::Span<const uint8_t> bytes, std::string* why) {
  Program p;
  ByteReader r(bytes);
  uint8_t version = 0;
  const bool known = r.U8(&version) && IsProgramVersion(version);
  if (!known && why) {
    *why = absl::StrFormat("not a v%d to v%d binary program (first byte %d)", kProgramVersion, kProgramVersionMode,
                           version);
  }
  const FormatEntry& e = ReadFormatHeader(r, &p.config);
  p.format = std::string(e.name);
  if (!known) return p;
  if (version >= kProgramVersionSettings) {
    uint8_t run = 0;
    if (!r.U8(&run)) return p;
    p.run = RunSettingsFromBits(run);
  }
  if (version == kProgramVersionMode) p.mode = ReadMode(r, e);
  const std::unique_ptr<AnyFormat> f = e.make(p.config);
  const FormatInfo& info = f->Info();
  const unsigned pg = info.min_page_lg2;
  const uint64_t va_pages_mask = LowMask(info.va_bits - pg);
  auto range = [&](uint64_t first_page, uint64_t pages_m1) {
    const Va first = f->CanonicalVa((first_page & va_pages_mask) << pg);
    return VaRange{first, first + ((pages_m1 << pg) | LowMask(pg))};
  };
  while (p.ops.size() < kMaxBinaryOps) {
    uint8_t opcode;
    if (!r.U8(&opcode)) break;
    Op op;
    op.kind = static_cast<OpKind>(opcode & 3);
    uint64_t a = 0, n = 0, o = 0;
    uint8_t attrs = 0, size = 0;
    switch (op.kind) {
      case OpKind::kMap:
        if (!r.Le(8, &a) || !r.Le(8, &n) || !r.Le(8, &o) || !r.U8(&attrs) || !r.U8(&size)) return p;
        op.range = range(a, n);
        op.oa = Oa(o << pg);
        op.attrs = LeafAttrs::FromBits(attrs);
        op.force_lg2 = size == 0 ? 0 : info.leaf_sizes_lg2[(size - 1) % info.leaf_sizes_lg2.size()];
        break;
      case OpKind::kUnmap:
        if (!r.Le(8, &a) || !r.Le(8, &n)) return p;
        op.range = range(a, n);
        break;
      case OpKind::kProtect:
        if (!r.Le(8, &a) || !r.Le(8, &n) || !r.U8(&attrs)) return p;
        op.range = range(a, n);
        op.attrs = LeafAttrs::FromBits(attrs);
        break;
      case OpKind::kAccess:
        if (!r.Le(8, &a) || !r.U8(&attrs)) return p;
        // Bit 3 keeps the address as written, so non-canonical accesses
        // stay expressible; otherwise it is made canonical.
        op.va = (attrs & 8) != 0 ? Va(a) : f->CanonicalVa(a);
        op.access = {static_cast<AccessType>((attrs & 3) % 3), (attrs & 4) != 0};
        break;
    }
    p.ops.push_back(op);
  }
  return p;
}

absl::StatusOr<std::vector<uint8_t>> EncodeBinary(const Program& p) {
  std::unique_ptr<AnyFormat> holder;
  const FormatEntry* e = FindFormat(p.format);
  if (e == nullptr) return absl::NotFoundError(absl::StrFormat("unknown format '%s'", p.format));
  const FormatInfo& info = InfoOf(p, &holder);
  const unsigned pg = info.min_page_lg2;
  if (p.run.invalidator_bug >= kInvalidatorBugCount || (p.run.invalidator_bug != 0 && !p.run.tlb)) {
    return absl::InvalidArgumentError("an invalidator bug needs the TLB attached");
  }
  std::vector<uint8_t> out;
  const uint8_t version = p.mode ? kProgramVersionMode : p.run.Any() ? kProgramVersionSettings : kProgramVersion;
  out.push_back(version);
  WriteFormatHeader(*e, p.config, &out);
  if (version >= kProgramVersionSettings) {
    out.push_back(RunSettingsBits(p.run));
  }
  if (version == kProgramVersionMode) {
    if (absl::Status st = WriteMode(*e, *p.mode, &out); !st.ok()) return st;
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrFormat("op %d (%s): %s; the binary form cannot hold it", i + 1, OpToText(op), why));
    };
    auto put_range = [&](VaRange r) -> absl::Status {
      if (!holder->IsCanonical(r.first) || !r.first.IsAligned(pg) || (r.last.value() & LowMask(pg)) != LowMask(pg) ||
          r.first > r.last) {
        return bad(absl::StrFormat("range is not page aligned and canonical (page = %d bytes)", uint64_t{1} << pg));
      }
      PutLe(&out, (r.first.value() & LowMask(info.va_bits)) >> pg, 8);
      PutLe(&out, r.SizeMinusOne() >> pg, 8);
      return absl::OkStatus();
    };
    out.push_back(static_cast<uint8_t>(op.kind));
    switch (op.kind) {
      case OpKind::kMap: {
        if (auto st = put_range(op.range); !st.ok()) return st;
        if (!op.oa.IsAligned(pg)) return bad("oa is not page aligned");
        PutLe(&out, op.oa.value() >> pg, 8);
        out.push_back(op.attrs.bits());
        uint8_t size = 0;
        for (size_t s = 0; s < info.leaf_sizes_lg2.size() && op.force_lg2 != 0; ++s) {
          if (info.leaf_sizes_lg2[s] == op.force_lg2) size = static_cast<uint8_t>(s + 1);
        }
        if (op.force_lg2 != 0 && size == 0) return bad("the format has no leaf of that size");
        out.push_back(size);
        break;
      }
      case OpKind::kUnmap:
        if (auto st = put_range(op.range); !st.ok()) return st;
        break;
      case OpKind::kProtect:
        if (auto st = put_range(op.range); !st.ok()) return st;
        out.push_back(op.attrs.bits());
        break;
      case OpKind::kAccess:
        PutLe(&out, op.va.value(), 8);
        out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(op.access.type) | (op.access.user ? 4 : 0) |
                                           (holder->IsCanonical(op.va) ? 0 : 8)));
        break;
    }
  }
  return out;
}

absl::StatusOr<Program> ParseAny(absl::Span<const uint8_t> bytes) {
  bool text = !bytes.empty();
  for (uint8_t b : bytes) {
    if (!(std::isprint(b) || b == '\n' || b == '\r' || b == '\t')) {
      text = false;
      break;
    }
  }
  if (text) return ParseText(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (bytes.empty()) return absl::InvalidArgumentError("empty input");
  if (!IsProgramVersion(bytes[0])) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "not a ptsim program: binary programs start with version byte %d to %d, this one with %d, and it is not "
        "text",
        kProgramVersion, kProgramVersionMode, bytes[0]));
  }
  return DecodeBinary(bytes);
}

}  // namespace ptsim
