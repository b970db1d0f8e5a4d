#include "src/harness/race_mutator.h"

#include <algorithm>
#include <iterator>
#include <random>

#include "src/harness/codec.h"
#include "src/harness/race_program.h"
#include "src/sched/scheduler.h"

namespace ptsim {

bool SplitRace(absl::Span<const uint8_t> bytes, RaceBytes* out) {
  // Older versions are read too: mutating them turns them into this one
  // (version 2 has this layout; version 1 lacks the bugs field).
  if (bytes.empty() || (!IsDecodableRaceTag(bytes[0]) && bytes[0] != kRaceTagV2 && bytes[0] != kRaceTagV1)) {
    return false;
  }
  const bool v1 = bytes[0] == kRaceTagV1;
  const bool v5 = bytes[0] == kRaceTagMode;
  ByteReader r(bytes);
  uint8_t u8 = 0;
  r.U8(&u8);
  FormatConfig cfg;
  const FormatEntry& e = ReadFormatHeader(r, &cfg);
  // v5: the run settings byte and the mode it announces.
  const size_t run_at = bytes.size() - r.Rest().size();
  if (uint8_t run = 0; v5 && r.U8(&run) && (run & kRaceModeFollows) != 0) ReadMode(r, e);
  const size_t header = bytes.size() - r.Rest().size();
  uint8_t setup = 0, nops = 0;
  uint64_t bugs = 0;
  if (!r.U8(&setup) || (!v1 && !r.Le(2, &bugs)) || !r.U8(&nops)) return false;
  *out = RaceBytes{};
  out->header.assign(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(header));
  // The mode bytes, when there are, belong to the header, so every
  // mutation keeps them and libFuzzer's byte edits vary them.
  out->header[0] = v5 ? kRaceTagMode : kRaceTag;
  out->run_at = v5 && run_at < header ? run_at : 0;
  // Version 1 decoders honoured bit 5 only when told to, which the fuzzer
  // was not by default.
  out->setup = v1 ? static_cast<uint8_t>(setup & ~kSetupUnsafeBit) : setup;
  out->bugs = static_cast<uint16_t>(bugs);
  absl::Span<const uint8_t> rest = r.Rest();
  for (size_t i = 0; i < std::min<size_t>(nops, kMaxRaceOps) && rest.size() >= 8; ++i) {
    std::array<uint8_t, 8> op;
    std::copy(rest.begin(), rest.begin() + 8, op.begin());
    out->ops.push_back(op);
    rest.remove_prefix(8);
  }
  out->tape.assign(rest.begin(), rest.end());
  return true;
}

std::vector<uint8_t> JoinRace(const RaceBytes& r) {
  std::vector<uint8_t> b = r.header;
  b.push_back(r.setup);
  PutLe(&b, r.bugs, 2);
  b.push_back(static_cast<uint8_t>(r.ops.size()));
  for (const auto& op : r.ops) b.insert(b.end(), op.begin(), op.end());
  b.insert(b.end(), r.tape.begin(), r.tape.end());
  return b;
}

void StampSettings(RaceBytes* r, const RaceSettingFlags& flags, uint8_t parent_setup, uint16_t parent_bugs,
                   uint8_t parent_run) {
  if (r->run_at != 0) {
    uint8_t& run = r->header[r->run_at];
    run = static_cast<uint8_t>((run & ~kInvalidatorBugMask) | (parent_run & kInvalidatorBugMask));
  }
  r->bugs = flags.bugs ? static_cast<uint16_t>(*flags.bugs) : parent_bugs;
  uint8_t s = r->setup;
  if (flags.free) {
    const uint8_t code = *flags.free == FreeScheme::kIpi ? 0 : *flags.free == FreeScheme::kRcu ? 1 : 2;
    s = static_cast<uint8_t>((s & ~0x0c) | code << 2);
  }
  if (flags.shootdown) s = static_cast<uint8_t>((s & ~0x10) | (*flags.shootdown == ShootdownStyle::kBroadcast ? 0x10 : 0));
  const bool unsafe = flags.UnsafeAsked() || (parent_setup & kSetupUnsafeBit) != 0;
  r->setup = static_cast<uint8_t>((s & ~kSetupUnsafeBit) | (unsafe ? kSetupUnsafeBit : 0));
}

namespace {

// Field offsets in an op (race_program.h, "Binary v2").
constexpr size_t kHead = 0, kUnit = 1, kIndexLo = 2, kIndexHi = 3, kCount = 4;
constexpr uint8_t kSpaceBit = 0x20;

enum Mutation {
  kBytes,          // libFuzzer's own
  kAimOp,          // op i takes op j's address
  kOpKind,
  kOpCpu,
  kDupOp,
  kCloneOp,        // the same op on another CPU: the essence of a race
  kDropOp,
  kNudgeRun,       // a tape byte's run length +- a few points
  kTapeCpu,
  kInsertTape,
  kDropTape,
  kTruncateTape,
  kSetup,
  kPreempt,        // stop the run at one exact point (needs the probe)
};
// Relative weights: most mutations move preemptions or aim ops at each
// other; libFuzzer's own keep the rest of the input space reachable.
constexpr int kWeights[] = {4, 3, 1, 1, 1, 2, 1, 4, 1, 2, 1, 1, 1, 8};
static_assert(std::size(kWeights) == kPreempt + 1, "a weight per mutation");

class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(g_); }
  uint8_t Byte() { return static_cast<uint8_t>(Below(256)); }
  size_t Weighted(const std::vector<double>& w) {
    return static_cast<size_t>(std::discrete_distribution<int>(w.begin(), w.end())(g_));
  }
  Mutation Pick() {
    std::discrete_distribution<int> d(std::begin(kWeights), std::end(kWeights));
    return static_cast<Mutation>(d(g_));
  }

 private:
  std::mt19937 g_;
};

// Replaces the bits of *b under `mask` with those of `value`.
void SetBits(uint8_t* b, uint8_t mask, uint8_t value) { *b = static_cast<uint8_t>((*b & ~mask) | (value & mask)); }

bool MutateStructure(RaceBytes& r, Mutation m, Rng& rng) {
  const size_t nops = r.ops.size();
  switch (m) {
    case kBytes:
      return false;
    case kAimOp: {
      if (nops < 2) return false;
      const size_t i = rng.Below(nops), j = rng.Below(nops);
      if (i == j) return false;
      for (size_t f : {kUnit, kIndexLo, kIndexHi, kCount}) r.ops[i][f] = r.ops[j][f];
      SetBits(&r.ops[i][kHead], kSpaceBit, r.ops[j][kHead]);
      return true;
    }
    case kOpKind:
      if (nops == 0) return false;
      SetBits(&r.ops[rng.Below(nops)][kHead], 0x1c, static_cast<uint8_t>(rng.Below(8) << 2));
      return true;
    case kOpCpu:
      if (nops == 0) return false;
      SetBits(&r.ops[rng.Below(nops)][kHead], 0x03, static_cast<uint8_t>(rng.Below(4)));
      return true;
    case kDupOp: {
      if (nops == 0 || nops >= kMaxRaceOps) return false;
      std::array<uint8_t, 8> op = r.ops[rng.Below(nops)];
      SetBits(&op[kHead], 0x03, static_cast<uint8_t>(rng.Below(4)));
      SetBits(&op[kHead], 0x1c, static_cast<uint8_t>(rng.Below(8) << 2));
      r.ops.insert(r.ops.begin() + static_cast<ptrdiff_t>(rng.Below(nops + 1)), op);
      return true;
    }
    case kCloneOp: {
      if (nops == 0 || nops >= kMaxRaceOps) return false;
      std::array<uint8_t, 8> op = r.ops[rng.Below(nops)];
      SetBits(&op[kHead], 0x03, static_cast<uint8_t>((op[kHead] & 3) + 1 + rng.Below(3)));
      r.ops.insert(r.ops.begin() + static_cast<ptrdiff_t>(rng.Below(nops + 1)), op);
      return true;
    }
    case kDropOp:
      if (nops == 0) return false;
      r.ops.erase(r.ops.begin() + static_cast<ptrdiff_t>(rng.Below(nops)));
      return true;
    case kNudgeRun: {
      if (r.tape.empty()) return false;
      uint8_t& b = r.tape[rng.Below(r.tape.size())];
      const int delta = static_cast<int>(rng.Below(4)) + 1;
      const int k = std::clamp((b >> 2) + (rng.Below(2) ? delta : -delta), 0, 63);
      b = TapeByte(b & 3, static_cast<unsigned>(k));
      return true;
    }
    case kTapeCpu:
      if (r.tape.empty()) return false;
      SetBits(&r.tape[rng.Below(r.tape.size())], 0x03, static_cast<uint8_t>(rng.Below(4)));
      return true;
    case kInsertTape:
      r.tape.insert(r.tape.begin() + static_cast<ptrdiff_t>(rng.Below(r.tape.size() + 1)), rng.Byte());
      return true;
    case kDropTape:
      if (r.tape.empty()) return false;
      r.tape.erase(r.tape.begin() + static_cast<ptrdiff_t>(rng.Below(r.tape.size())));
      return true;
    case kTruncateTape:
      if (r.tape.empty()) return false;
      r.tape.resize(rng.Below(r.tape.size()));
      return true;
    case kSetup:
      r.setup = rng.Byte();  // StampSettings then restores what it must
      return true;
    case kPreempt:
      return false;  // MutateSchedule: it needs the whole input
  }
  return false;
}

// kPreempt: a point uniformly over the run, another CPU that still has work
// after it, and a run for that CPU that is, half of the time, "until it
// finishes or blocks" (the shape of most races: one operation stopped at
// one point while another runs whole).
bool MutateSchedule(absl::Span<const uint8_t> input, RaceBytes& r, Rng& rng, const ScheduleProbe& probe) {
  ScheduleLog log;
  if (!probe || !probe(input, &log)) return false;
  const std::vector<uint64_t> points = PreemptionPoints(log);
  if (points.empty()) return false;
  // Stopping a CPU just before it writes, locks, takes a reference or
  // frees is where atomicity breaks; a stop before a plain load (walks
  // are mostly loads) is as likely to matter only a third as often.
  std::vector<double> weight(points.size(), 1.0);
  for (size_t i = 0; i < points.size() && log.kind_of_step.size() == log.cpu_of_step.size(); ++i)
    weight[i] = log.kind_of_step[points[i]] == PointKind::kLoad ? 1.0 : 3.0;
  const uint64_t step = points[rng.Weighted(weight)];
  const unsigned running = log.cpu_of_step[step - 1];
  std::array<bool, kMaxCpus> later{};
  for (size_t s = step; s < log.cpu_of_step.size(); ++s) later[log.cpu_of_step[s]] = true;
  std::vector<unsigned> others;
  for (int c = 0; c < kMaxCpus; ++c)
    if (later[c] && c != static_cast<int>(running)) others.push_back(static_cast<unsigned>(c));
  if (others.empty()) return false;
  const unsigned run = rng.Below(2) ? 63 : static_cast<unsigned>(rng.Below(32));
  std::vector<uint8_t> tape = PreemptAt(r.tape, log, step, others[rng.Below(others.size())], run);
  if (tape.empty()) return false;
  r.tape = std::move(tape);
  return true;
}

size_t Store(const std::vector<uint8_t>& b, uint8_t* data, size_t max_size) {
  const size_t n = std::min(b.size(), max_size);
  std::copy(b.begin(), b.begin() + static_cast<ptrdiff_t>(n), data);
  return n;
}

}  // namespace

bool CachedProbe::operator()(absl::Span<const uint8_t> program, ScheduleLog* log) {
  std::string key(program.begin(), program.end());
  if (const auto it = seen_.find(key); it != seen_.end()) {
    *log = it->second.log;
    return it->second.ok;
  }
  ++runs_;
  Entry e;
  e.ok = probe_ && probe_(program, &e.log);
  *log = e.log;
  if (capacity_ == 0) return e.ok;
  if (seen_.size() >= capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  const bool ok = e.ok;
  seen_.emplace(std::move(key), std::move(e));
  return ok;
}

std::vector<uint8_t> EncodeRun(unsigned cpu, uint64_t points) {
  std::vector<uint8_t> out;
  while (points > 0) {
    unsigned k = 0;
    while (k + 1 < 63 && RunLength(k + 1) <= points) ++k;
    out.push_back(TapeByte(cpu, k));
    points -= RunLength(k);
  }
  return out;
}

std::vector<uint64_t> PreemptionPoints(const ScheduleLog& log) {
  std::vector<uint64_t> out;
  const uint64_t total = log.cpu_of_step.size();
  for (size_t j = 0; j < log.decisions.size(); ++j) {
    const Decision& d = log.decisions[j];
    const uint64_t end = j + 1 < log.decisions.size() ? log.decisions[j + 1].step : total;
    // Points d.step + 1 ... while the decided CPU keeps running, short of
    // the last point of the run (nothing is left to preempt there).
    for (uint64_t s = d.step + 1; s <= end && s < total; ++s) {
      if (log.cpu_of_step[s - 1] != d.cpu) break;
      out.push_back(s);
    }
  }
  return out;
}

std::vector<uint8_t> PreemptAt(absl::Span<const uint8_t> tape, const ScheduleLog& log, uint64_t step, unsigned cpu,
                               unsigned run) {
  if (step == 0 || step >= log.cpu_of_step.size()) return {};
  // The last decision before the point, whose run must reach it.
  size_t j = log.decisions.size();
  while (j > 0 && log.decisions[j - 1].step >= step) --j;
  if (j == 0) return {};
  const Decision& last = log.decisions[--j];
  for (uint64_t s = last.step; s < step; ++s)
    if (log.cpu_of_step[s] != last.cpu) return {};
  std::vector<uint8_t> out;
  for (size_t i = 0; i < j; ++i) {
    const Decision& d = log.decisions[i];
    // Past the tape's end the scheduler ran the chosen CPU until it
    // finished or blocked: a byte that says exactly that.
    const bool read = d.byte >= 0 && static_cast<size_t>(d.byte) < tape.size();
    out.push_back(read ? tape[static_cast<size_t>(d.byte)] : TapeByte(static_cast<unsigned>(d.cpu), 63));
  }
  const std::vector<uint8_t> head = EncodeRun(static_cast<unsigned>(last.cpu), step - last.step);
  out.insert(out.end(), head.begin(), head.end());
  out.push_back(TapeByte(cpu, run));
  // A bounded run hands the processor back to the preempted CPU: the other
  // common race shape, one op stopped for a few points of another.
  if (RunLength(run) != kRunForever) out.push_back(TapeByte(static_cast<unsigned>(last.cpu), 63));
  return out;
}

size_t MutateRace(uint8_t* data, size_t size, size_t max_size, uint32_t seed, const ByteMutator& fallback,
                  const ScheduleProbe& probe, const RaceSettingFlags& flags) {
  Rng rng(seed);
  RaceBytes r;
  if (max_size == 0) return 0;
  if (!SplitRace(absl::MakeConstSpan(data, size), &r)) {
    // Not a race program yet: a random one, so no execution is spent on
    // inputs the fuzzer ignores; with no bugs and the unsafe pairing not
    // honoured unless the flags say otherwise.
    std::vector<uint8_t> b(std::min<size_t>(max_size, 64));
    for (uint8_t& x : b) x = rng.Byte();
    // Half of them with a CPU mode (random bytes too).
    b[0] = (b[0] & 1) != 0 ? kRaceTagMode : kRaceTag;
    if (SplitRace(b, &r)) {
      StampSettings(&r, flags, 0, 0);
      b = JoinRace(r);
    }
    return Store(b, data, max_size);
  }
  const uint8_t parent_setup = r.setup;
  const uint16_t parent_bugs = r.bugs;
  const uint8_t parent_run = r.run_at != 0 ? r.header[r.run_at] : 0;
  StampSettings(&r, flags, parent_setup, parent_bugs, parent_run);
  const std::vector<uint8_t> stamped = JoinRace(r);
  const Mutation m = rng.Pick();
  const bool done = m == kPreempt ? MutateSchedule(stamped, r, rng, probe) : MutateStructure(r, m, rng);
  if (!done) {
    if (fallback) {
      size_t n = fallback(data, Store(stamped, data, max_size), max_size);
      if (n == 0) return 0;
      data[0] = stamped[0];  // stay a race program of the same version
      // libFuzzer's byte edits may land on the settings: stamp them again.
      RaceBytes f;
      if (SplitRace(absl::MakeConstSpan(data, n), &f)) {
        StampSettings(&f, flags, parent_setup, parent_bugs, parent_run);
        n = Store(JoinRace(f), data, max_size);
      }
      return n;
    }
    r.tape.push_back(rng.Byte());
  }
  StampSettings(&r, flags, parent_setup, parent_bugs, parent_run);
  return Store(JoinRace(r), data, max_size);
}

}  // namespace ptsim
