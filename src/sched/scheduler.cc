#include "src/sched/scheduler.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/base/hash.h"
#include "src/sched/fiber.h"

namespace ptsim {

uint64_t RunLength(unsigned k) {
  if (k < 32) return k + 1;
  if (k < 56) return 40 + 8 * (k - 32);
  if (k < 63) return uint64_t{256} << (k - 56);
  return kRunForever;
}

int RunFieldFor(uint64_t points) {
  for (unsigned k = 0; k < 64; ++k)
    if (RunLength(k) == points) return static_cast<int>(k);
  return -1;
}

const char* PointKindName(PointKind k) {
  switch (k) {
    case PointKind::kLoad: return "load";
    case PointKind::kStore: return "store";
    case PointKind::kCas: return "cas";
    case PointKind::kLock: return "lock";
    case PointKind::kUnlock: return "unlock";
    case PointKind::kRcuEnter: return "rcu-enter";
    case PointKind::kRcuExit: return "rcu-exit";
    case PointKind::kIrqOff: return "irq-off";
    case PointKind::kIrqOn: return "irq-on";
    case PointKind::kShootdownSend: return "shootdown-send";
    case PointKind::kShootdownAck: return "shootdown-ack";
    case PointKind::kRef: return "ref";
    case PointKind::kAlloc: return "alloc";
    case PointKind::kFree: return "free";
    case PointKind::kOpBegin: return "op-begin";
    case PointKind::kOpEnd: return "op-end";
  }
  return "?";
}

const char* WaitKindName(WaitKind k) {
  switch (k) {
    case WaitKind::kNone: return "nothing";
    case WaitKind::kLock: return "lock";
    case WaitKind::kShootdownAck: return "shootdown ack from cpu";
    case WaitKind::kGracePeriod: return "grace period";
  }
  return "?";
}

std::string WaitDesc::ToString() const { return absl::StrFormat("%s 0x%x", WaitKindName(kind), object); }

const char* RunEndName(RunEnd e) {
  switch (e) {
    case RunEnd::kCompleted: return "completed";
    case RunEnd::kFinding: return "finding";
    case RunEnd::kDeadlock: return "deadlock";
    case RunEnd::kLivelock: return "livelock";
  }
  return "?";
}

Scheduler::Scheduler(int ncpus, absl::Span<const uint8_t> tape, SchedOptions opt)
    : ncpus_(ncpus), tape_(tape.begin(), tape.end()), opt_(opt) {
  PTSIM_CHECK(ncpus >= 1 && ncpus <= kMaxCpus, "%d CPUs", ncpus);
}

int Scheduler::current() const { return running_; }

bool Scheduler::Unwinding() const { return aborted_ && std::uncaught_exceptions() > 0; }

bool Scheduler::Runnable(int c) const {
  const Cpu& cpu = cpus_[c];
  if (cpu.finished) return false;
  return cpu.wait.kind == WaitKind::kNone || (*cpu.ready)();
}

int Scheduler::Choose(int self, bool may_stay) {
  const auto allowed = [&](int c) { return (c != self || may_stay) && Runnable(c); };
  if (may_stay && quantum_ > 0 && allowed(self)) return self;
  int n = 0, only = -1;
  for (int c = 0; c < ncpus_; ++c) {
    if (allowed(c)) {
      ++n;
      if (only < 0) only = c;
    }
  }
  if (n <= 1) {
    // Nothing to decide, so no byte is used; a CPU switched to this way
    // asks the tape at its first point where another CPU could run.
    if (only != self && quantum_ != kRunForever) quantum_ = 0;
    return only;
  }
  const auto decided = [&](int byte, int c) {
    if (opt_.keep_trace) decisions_.push_back({steps_, byte, c});
    return c;
  };
  if (tape_pos_ < tape_.size()) {
    const int byte = static_cast<int>(tape_pos_);
    const uint8_t b = tape_[tape_pos_++];
    quantum_ = RunLength(b >> 2);
    for (int i = 0, c = (b & 3) % ncpus_; i < ncpus_; ++i, c = (c + 1) % ncpus_)
      if (allowed(c)) return decided(byte, c);
  }
  // Tape exhausted: keep running, else the lowest-numbered runnable CPU.
  quantum_ = kRunForever;
  return decided(-1, may_stay && allowed(self) ? self : only);
}

void Scheduler::SwitchTo(int self, int next) {
  if (next == self) return;
  ++switches_;
  if (on_switch_) on_switch_(cpus_[self].last, cpus_[next].last);
  running_ = next;
  fibers_->Switch(self, next);
  // Back on `self`: whoever switched here set running_ to it.
  if (aborted_) throw SimAbort{};
}

void Scheduler::Record(int cpu, PointKind kind, uint64_t object) {
  ++steps_;
  const TraceEvent e{static_cast<uint8_t>(cpu), kind, object};
  cpus_[cpu].last = e;
  hash_.Add((uint64_t{e.cpu} << 8) | static_cast<uint8_t>(kind));
  hash_.Add(object);
  if (opt_.keep_trace) trace_.push_back(e);
}

void Scheduler::Point(PointKind kind, uint64_t object) {
  if (Unwinding()) return;
  const int self = running_;
  Record(self, kind, object);
  if (quantum_ != kRunForever && quantum_ > 0) --quantum_;
  if (steps_ > opt_.step_budget) {
    Abandon(RunEnd::kLivelock,
            absl::StrFormat("step budget of %d scheduling points exhausted (livelock?)\n%s", opt_.step_budget,
                            WaitStates()));
  }
  SwitchTo(self, Choose(self, /*may_stay=*/true));
}

void Scheduler::WaitUntil(const WaitDesc& what, absl::FunctionRef<bool()> ready) {
  if (Unwinding()) return;
  const int self = running_;
  while (!ready()) {
    cpus_[self].wait = what;
    cpus_[self].ready = &ready;
    const int next = Choose(self, /*may_stay=*/false);
    if (next < 0) Abandon(RunEnd::kDeadlock, absl::StrCat("no CPU can run\n", WaitStates()));
    SwitchTo(self, next);
    cpus_[self].wait = {};
    cpus_[self].ready = nullptr;
  }
}

std::string Scheduler::WaitStates() const {
  std::string s;
  for (int c = 0; c < ncpus_; ++c) {
    const Cpu& cpu = cpus_[c];
    if (cpu.finished) {
      absl::StrAppendFormat(&s, "  cpu%d: finished\n", c);
    } else if (cpu.wait.kind != WaitKind::kNone) {
      absl::StrAppendFormat(&s, "  cpu%d: waits for %s (last: %s 0x%x)\n", c, cpu.wait.ToString(),
                            PointKindName(cpu.last.kind), cpu.last.object);
    } else {
      absl::StrAppendFormat(&s, "  cpu%d: runnable (last: %s 0x%x)\n", c, PointKindName(cpu.last.kind),
                            cpu.last.object);
    }
  }
  return s;
}

void Scheduler::Abandon(RunEnd why, std::string message) {
  if (!aborted_) {
    aborted_ = true;
    end_ = why;
    message_ = std::move(message);
  }
  throw SimAbort{};
}

int Scheduler::Finish(int self) {
  cpus_[self].finished = true;
  cpus_[self].wait = {};
  cpus_[self].ready = nullptr;
  int next = -1;
  if (aborted_) {
    // Unwind the others one at a time, so their destructors never race.
    for (int c = 0; c < ncpus_ && next < 0; ++c)
      if (!cpus_[c].finished) next = c;
  } else {
    next = Choose(self, /*may_stay=*/false);
    bool others_left = false;
    for (int c = 0; c < ncpus_; ++c) others_left |= !cpus_[c].finished;
    if (next < 0 && others_left) {
      aborted_ = true;
      end_ = RunEnd::kDeadlock;
      message_ = absl::StrCat("no CPU can run\n", WaitStates());
      for (int c = 0; c < ncpus_ && next < 0; ++c)
        if (!cpus_[c].finished) next = c;
    }
  }
  return next;  // -1: everyone is done
}

void Scheduler::CpuMain(void* scheduler, int cpu) noexcept {
  Scheduler& s = *static_cast<Scheduler*>(scheduler);
  // A CPU first switched to after the run was abandoned has nothing to
  // unwind.
  if (!s.aborted_) {
    try {
      (*s.body_)(cpu);
    } catch (const SimAbort&) {
    }
  }
  // Nothing with a destructor is alive on this stack past this point: the
  // fiber never resumes after Exit.
  const int next = s.Finish(cpu);
  s.running_ = next;
  s.fibers_->Exit(cpu, next < 0 ? FiberSet::kMain : next);
}

void Scheduler::Run(const std::function<void(int cpu)>& body) {
  FiberSet fibers(ncpus_, &Scheduler::CpuMain, this);
  fibers_ = &fibers;
  body_ = &body;
  running_ = Choose(/*self=*/-1, /*may_stay=*/false);  // the first byte picks the first CPU
  fibers.Run(running_);
  // Every CPU has finished and unwound; the last one switched back here.
  running_ = -1;
  body_ = nullptr;
  fibers_ = nullptr;
}

}  // namespace ptsim
