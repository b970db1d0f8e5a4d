#include "src/sched/sync.h"

#include "src/base/check.h"

namespace ptsim {

const char* ShootdownStyleName(ShootdownStyle s) {
  switch (s) {
    case ShootdownStyle::kIpi: return "ipi";
    case ShootdownStyle::kBroadcast: return "broadcast";
  }
  return "?";
}

Machine::Machine(Runtime* rt, int ncpus) : rt_(rt), ncpus_(ncpus) {
  PTSIM_CHECK(ncpus >= 1 && ncpus <= kMaxCpus, "%d CPUs", ncpus);
}

// Protocol: a reader publishes the epoch it entered with, then re-reads the
// epoch; if a grace period began in between it re-publishes. All seq_cst: a
// synchroniser that bumps the epoch and then sees rcu_since == 0 is ordered
// before the reader's publication, so the reader cannot still hold a
// pointer it loaded before the synchroniser unhooked it.
void Machine::EnterReadSide(CpuState& me) {
  if (me.rcu_nesting++ > 0) return;
  for (;;) {
    const uint64_t e = rcu_epoch_.load(std::memory_order_seq_cst);
    me.rcu_since.store(e, std::memory_order_seq_cst);
    if (rcu_epoch_.load(std::memory_order_seq_cst) == e) return;
  }
}

void Machine::ExitReadSide(CpuState& me) {
  PTSIM_CHECK(me.rcu_nesting > 0, "unbalanced RCU read-side exit");
  if (--me.rcu_nesting == 0) me.rcu_since.store(0, std::memory_order_seq_cst);
}

void Machine::IrqOff() {
  rt_->Point(PointKind::kIrqOff, 0);
  CpuState& me = cpus_[self()];
  PTSIM_CHECK(!me.irq_off.load(std::memory_order_relaxed), "interrupts disabled twice");
  me.irq_off.store(true, std::memory_order_seq_cst);
  EnterReadSide(me);
}

void Machine::IrqOn() {
  CpuState& me = cpus_[self()];
  ExitReadSide(me);
  me.irq_off.store(false, std::memory_order_seq_cst);
  me.irq_enables.fetch_add(1, std::memory_order_seq_cst);
  rt_->Point(PointKind::kIrqOn, 0);
}

void Machine::RcuReadLock() {
  rt_->Point(PointKind::kRcuEnter, 0);
  EnterReadSide(cpus_[self()]);
}

void Machine::RcuReadUnlock() {
  ExitReadSide(cpus_[self()]);
  rt_->Point(PointKind::kRcuExit, 0);
}

void Machine::SynchronizeRcu() {
  const int me = self();
  PTSIM_CHECK(cpus_[me].rcu_nesting == 0, "synchronize_rcu inside a read-side section");
  const uint64_t gp = rcu_epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
  for (int c = 0; c < ncpus_; ++c) {
    if (c == me) continue;
    CpuState& t = cpus_[c];
    rt_->WaitUntil({WaitKind::kGracePeriod, gp}, [&] {
      const uint64_t since = t.rcu_since.load(std::memory_order_seq_cst);
      return since == 0 || since >= gp;
    });
  }
}

void Machine::HwWalkBegin() { cpus_[self()].hw_walk.store(true, std::memory_order_seq_cst); }

void Machine::HwWalkEnd() {
  CpuState& me = cpus_[self()];
  me.hw_walk.store(false, std::memory_order_seq_cst);
  me.hw_walks_done.fetch_add(1, std::memory_order_seq_cst);
}

// Waits until `target` could take an interrupt: no hardware walk in flight
// (or one finished since), and, for an IPI, interrupts enabled now or at
// some instant since the call.
void Machine::WaitInterruptible(int target, bool for_irqs) {
  CpuState& t = cpus_[target];
  const uint64_t enables = t.irq_enables.load(std::memory_order_seq_cst);
  const uint64_t walks = t.hw_walks_done.load(std::memory_order_seq_cst);
  rt_->WaitUntil({WaitKind::kShootdownAck, static_cast<uint64_t>(target)}, [&] {
    const bool walk_ok = !t.hw_walk.load(std::memory_order_seq_cst) ||
                         t.hw_walks_done.load(std::memory_order_seq_cst) != walks;
    if (!walk_ok) return false;
    if (!for_irqs) return true;
    return !t.irq_off.load(std::memory_order_seq_cst) ||
           t.irq_enables.load(std::memory_order_seq_cst) != enables;
  });
}

void Machine::Shootdown(ShootdownStyle style, absl::FunctionRef<void(int target)> flush) {
  const int me = self();
  flush(me);
  for (int c = 0; c < ncpus_; ++c) {
    if (c == me) continue;
    rt_->Point(PointKind::kShootdownSend, static_cast<uint64_t>(c));
    WaitInterruptible(c, style == ShootdownStyle::kIpi);
    flush(c);
    rt_->Point(PointKind::kShootdownAck, static_cast<uint64_t>(c));
  }
}

void Machine::SyncIpi() {
  const int me = self();
  for (int c = 0; c < ncpus_; ++c) {
    if (c == me) continue;
    rt_->Point(PointKind::kShootdownSend, static_cast<uint64_t>(c));
    WaitInterruptible(c, /*for_irqs=*/true);
  }
}

void SpinLock::Lock(Machine& m) {
  const int me = m.self();
  for (;;) {
    m.rt().Point(PointKind::kLock, id_);
    int expected = -1;
    if (owner_.compare_exchange_strong(expected, me, std::memory_order_acquire)) return;
    PTSIM_CHECK(expected != me, "cpu%d takes lock 0x%x it already holds", me, id_);
    m.rt().WaitUntil({WaitKind::kLock, id_}, [&] { return owner_.load(std::memory_order_relaxed) == -1; });
  }
}

void SpinLock::Unlock(Machine& m) {
  PTSIM_CHECK(owner_.load(std::memory_order_relaxed) == m.self(), "cpu%d unlocks 0x%x it does not hold",
              m.self(), id_);
  owner_.store(-1, std::memory_order_release);
  m.rt().Point(PointKind::kUnlock, id_);
}

void RwLock::ReadLock(Machine& m) {
  for (;;) {
    m.rt().Point(PointKind::kLock, id_);
    int cur = state_.load(std::memory_order_relaxed);
    if (cur >= 0 && state_.compare_exchange_strong(cur, cur + 1, std::memory_order_acquire)) return;
    m.rt().WaitUntil({WaitKind::kLock, id_}, [&] { return state_.load(std::memory_order_relaxed) >= 0; });
  }
}

void RwLock::ReadUnlock(Machine& m) {
  PTSIM_CHECK(state_.load(std::memory_order_relaxed) > 0, "read-unlock of 0x%x without readers", id_);
  state_.fetch_sub(1, std::memory_order_release);
  m.rt().Point(PointKind::kUnlock, id_);
}

void RwLock::WriteLock(Machine& m) {
  for (;;) {
    m.rt().Point(PointKind::kLock, id_);
    int expected = 0;
    if (state_.compare_exchange_strong(expected, -1, std::memory_order_acquire)) return;
    m.rt().WaitUntil({WaitKind::kLock, id_}, [&] { return state_.load(std::memory_order_relaxed) == 0; });
  }
}

void RwLock::WriteUnlock(Machine& m) {
  PTSIM_CHECK(state_.load(std::memory_order_relaxed) == -1, "write-unlock of 0x%x not held", id_);
  state_.store(0, std::memory_order_release);
  m.rt().Point(PointKind::kUnlock, id_);
}

}  // namespace ptsim
