// The text form of ops programs: one statement a line (format, config,
// caches, mode, then the operations), as ToText writes and ParseText reads.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"
#include "src/harness/codec.h"
#include "src/harness/program.h"

namespace ptsim {
namespace {

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

}  // namespace

std::string OpToText(const Op& op) {
  switch (op.kind) {
    case OpKind::kMap:
      return absl::StrCat("map ", Hex(op.range.first.value()), " ", Hex(op.range.last.value()), " oa=",
                          Hex(op.oa.value()), " attrs=", AttrsToString(op.attrs),
                          op.force_lg2 ? absl::StrCat(" size_lg2=", op.force_lg2) : "");
    case OpKind::kUnmap:
      return absl::StrCat("unmap ", Hex(op.range.first.value()), " ", Hex(op.range.last.value()));
    case OpKind::kProtect:
      return absl::StrCat("protect ", Hex(op.range.first.value()), " ", Hex(op.range.last.value()),
                          " attrs=", AttrsToString(op.attrs));
    case OpKind::kAccess:
      return absl::StrCat("access ", Hex(op.va.value()), " ", AccessTypeName(op.access.type),
                          op.access.user ? " user" : "");
  }
  return "?";
}

std::string ToText(const Program& p) {
  const uint8_t version = p.mode ? kProgramVersionMode : p.run.Any() ? kProgramVersionSettings : kProgramVersion;
  std::string s = absl::StrCat("# ptsim program v", version, "\nformat ", p.format, "\n");
  const FormatEntry* e = FindFormat(p.format);
  if (e != nullptr && !e->knobs.empty()) absl::StrAppend(&s, "config ", ConfigToString(e->knobs, p.config), "\n");
  if (e != nullptr && p.mode) absl::StrAppend(&s, ModeLine(*e, *p.mode));
  absl::StrAppend(&s, CachesLine(p.run));
  for (const Op& op : p.ops) absl::StrAppend(&s, OpToText(op), "\n");
  return s;
}

absl::StatusOr<Program> ParseText(std::string_view text) {
  Program p;
  const FormatEntry* e = nullptr;
  for (const TextLine& t : TextLines(Sv(text))) {
    const std::vector<absl::string_view>& w = t.words;
    auto err = [&](const std::string& what) { return t.Error(what); };
    auto header = ParseHeaderLine(t, &e, &p.format, &p.config);
    if (!header.ok()) return header.status();
    if (*header) continue;
    if (w[0] == "mode") {
      if (absl::Status st = ParseModeLine(t, *e, &p.mode); !st.ok()) return st;
      continue;
    }
    if (w[0] == "caches") {
      if (absl::Status st = ParseCachesLine(t, &p.run); !st.ok()) return st;
      continue;
    }
    Op op;
    // Positional numbers first, then key=value options.
    std::vector<uint64_t> nums;
    std::vector<absl::string_view> opts;
    for (size_t i = 1; i < w.size(); ++i) {
      uint64_t v;
      if (w[i].find('=') == absl::string_view::npos && ParseU64(w[i], &v)) {
        nums.push_back(v);
      } else {
        opts.push_back(w[i]);
      }
    }
    auto take_opts = [&](bool want_oa, bool want_attrs, bool want_size) -> absl::Status {
      bool have_oa = false, have_attrs = false;
      for (absl::string_view o : opts) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(o, absl::MaxSplits('=', 1));
        uint64_t v = 0;
        if (want_oa && kv.first == "oa" && ParseU64(kv.second, &v)) {
          op.oa = Oa(v);
          have_oa = true;
        } else if (want_attrs && kv.first == "attrs" && AttrsFromString(StdSv(kv.second), &op.attrs)) {
          have_attrs = true;
        } else if (want_size && kv.first == "size_lg2" && ParseU64(kv.second, &v) && v > 0 && v < 64) {
          op.force_lg2 = static_cast<unsigned>(v);
        } else {
          return err(absl::StrCat("bad option '", o, "'"));
        }
      }
      if (want_oa && !have_oa) return err("missing oa=ADDR");
      if (want_attrs && !have_attrs) return err("missing attrs=LETTERS (from rwxugad)");
      return absl::OkStatus();
    };
    if (w[0] == "map" || w[0] == "unmap" || w[0] == "protect") {
      if (nums.size() != 2) return err("expected FIRST LAST addresses");
      op.range = {Va(nums[0]), Va(nums[1])};
      if (w[0] == "map") {
        op.kind = OpKind::kMap;
        if (auto st = take_opts(true, true, true); !st.ok()) return st;
      } else if (w[0] == "unmap") {
        op.kind = OpKind::kUnmap;
        if (auto st = take_opts(false, false, false); !st.ok()) return st;
      } else {
        op.kind = OpKind::kProtect;
        if (auto st = take_opts(false, true, false); !st.ok()) return st;
      }
    } else if (w[0] == "access") {
      op.kind = OpKind::kAccess;
      if (nums.size() != 1) return err("expected one address");
      op.va = Va(nums[0]);
      bool have_type = false;
      for (absl::string_view o : opts) {
        if (o == "user") {
          op.access.user = true;
        } else if (o == "read" || o == "write" || o == "exec") {
          op.access.type = o == "read" ? AccessType::kRead : o == "write" ? AccessType::kWrite : AccessType::kExec;
          have_type = true;
        } else {
          return err(absl::StrCat("bad access word '", o, "' (read|write|exec [user])"));
        }
      }
      if (!have_type) return err("missing read|write|exec");
    } else {
      return err("unknown statement (format, config, caches, mode, map, unmap, protect, access)");
    }
    p.ops.push_back(op);
  }
  if (e == nullptr) return absl::InvalidArgumentError("no 'format NAME' line: not a ptsim text program");
  return p;
}

}  // namespace ptsim
