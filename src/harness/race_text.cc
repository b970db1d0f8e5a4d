// The text form of race programs (race_program.h): printing and parsing,
// kept apart from the binary codec in race_program.cc.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "src/base/strings.h"
#include "src/harness/codec.h"
#include "src/harness/race_program.h"
#include "src/sched/scheduler.h"

namespace ptsim {
namespace {

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

}  // namespace

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
    case RaceOpKind::kProtect:
      absl::StrAppend(&s, sp, Hex(op.first.value()), " ", Hex(op.last.value()), " attrs=", AttrsToString(op.attrs));
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
  if (const FormatEntry* e = FindFormat(p.format); e != nullptr) {
    if (!e->knobs.empty()) absl::StrAppend(&s, "config ", ConfigToString(e->knobs, p.config), "\n");
    if (p.mode) absl::StrAppend(&s, ModeLine(*e, *p.mode));
  }
  absl::StrAppend(&s, CachesLine(p.run));
  absl::StrAppend(&s, "race cpus=", p.ncpus, " free=", FreeSchemeName(p.free),
                  " shootdown=", ShootdownStyleName(p.shootdown));
  if (p.bugs != 0) absl::StrAppend(&s, " inject=", InjectListText(p.bugs));
  absl::StrAppend(&s, "\n");
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
    auto header = ParseHeaderLine(t, &e, &p.format, &p.config);
    if (!header.ok()) return header.status();
    if (*header) continue;
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
        } else if (kv.first == "inject" && !kv.second.empty()) {
          p.bugs = 0;
          if (absl::Status st = ParseInjectList(StdSv(kv.second), &p.bugs); !st.ok()) return err(std::string(st.message()));
        } else {
          return err(absl::StrCat("bad setting '", w[i],
                                  "' (cpus=2..4 free=ipi|rcu|immediate shootdown=ipi|broadcast inject=NAME,NAME)"));
        }
      }
      continue;
    }
    if (w[0] == "mode") {
      if (absl::Status st = ParseModeLine(t, *e, &p.mode); !st.ok()) return st;
      continue;
    }
    if (w[0] == "caches") {
      if (absl::Status st = ParseCachesLine(t, &p.run); !st.ok()) return st;
      if (p.run.noncoherent) return err("a race program attaches the TLB's caches only ('caches tlb')");
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
      return err("unknown statement (format, config, mode, caches, race, cpuN OP ..., schedule)");
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
    if (kind == "populate" || kind == "remove" || kind == "copy" || kind == "protect") {
      if (nums.size() != 2) return err("expected FIRST LAST addresses");
      op.first = Va(nums[0]);
      op.last = Va(nums[1]);
      op.kind = kind == "populate" ? RaceOpKind::kPopulate
                : kind == "remove"   ? RaceOpKind::kRemove
                : kind == "copy"     ? RaceOpKind::kCopy
                                     : RaceOpKind::kProtect;
      bool have_oa = false, have_attrs = false, have_size = false;
      for (absl::string_view o : words) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(o, absl::MaxSplits('=', 1));
        uint64_t v = 0;
        const bool takes_attrs = op.kind == RaceOpKind::kPopulate || op.kind == RaceOpKind::kProtect;
        if (!takes_attrs) return err(absl::StrCat("bad option '", o, "'"));
        if (kv.first == "oa" && op.kind == RaceOpKind::kPopulate && ParseU64(kv.second, &v)) {
          op.oa = Oa(v);
          have_oa = true;
        } else if (kv.first == "attrs" && AttrsFromString(StdSv(kv.second), &op.attrs)) {
          have_attrs = true;
        } else if (kv.first == "size_lg2" && op.kind == RaceOpKind::kPopulate && ParseU64(kv.second, &v) && v > 0 &&
                   v < 64) {
          op.size_lg2 = static_cast<unsigned>(v);
          have_size = true;
        } else {
          return err(absl::StrCat("bad option '", o, "'"));
        }
      }
      if (op.kind == RaceOpKind::kPopulate && !(have_oa && have_attrs && have_size)) {
        return err("populate needs oa=ADDR attrs=LETTERS size_lg2=N");
      }
      if (op.kind == RaceOpKind::kProtect && !have_attrs) return err("protect needs attrs=LETTERS");
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
      return err("unknown operation (populate, remove, protect, gup, access, copy, unpin)");
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

}  // namespace ptsim
