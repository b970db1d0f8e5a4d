// The synchronisation primitives of the simulated machine, written once
// over a Runtime: spinlocks, interrupt-disabled sections, RCU, and the wait
// half of TLB shootdowns in both styles (seed 004).
//
// Protocols, in the words the kernel uses (research/concurrency.md §1.4):
//   * An IPI shootdown completes only after every target CPU has had
//     interrupts enabled at some instant since it was sent; a CPU inside an
//     interrupts-off section (GUP-fast) therefore holds it up.
//   * A broadcast shootdown (a hypervisor's flush hypercall, INVLPGB) does
//     not interrupt anyone and completes regardless of interrupts.
//   * Both wait for a hardware walk in flight on the target: interrupts and
//     invalidations are taken between instructions, never inside one walk.
//   * An RCU grace period ends when every CPU that was in a read-side
//     section when it began has left it. Interrupts-off sections count as
//     read-side sections (RCU-sched), which is why RCU-deferred table freeing
//     protects GUP-fast even when shootdowns do not interrupt.
#ifndef PTSIM_SCHED_SYNC_H_
#define PTSIM_SCHED_SYNC_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "src/sched/runtime.h"

namespace ptsim {

enum class ShootdownStyle : uint8_t { kIpi, kBroadcast };
const char* ShootdownStyleName(ShootdownStyle s);

// What other CPUs may look at of one CPU.
struct CpuState {
  std::atomic<bool> irq_off{false};
  std::atomic<uint64_t> irq_enables{0};  // bumped whenever interrupts are enabled
  std::atomic<uint64_t> rcu_since{0};    // 0 outside read-side sections, else the epoch at entry
  int rcu_nesting = 0;                   // read-side nesting; touched by this CPU only
  std::atomic<bool> hw_walk{false};
  std::atomic<uint64_t> hw_walks_done{0};
};

class Machine {
 public:
  Machine(Runtime* rt, int ncpus);

  Runtime& rt() const { return *rt_; }
  int ncpus() const { return ncpus_; }
  int self() const { return rt_->current(); }
  CpuState& cpu(int c) { return cpus_[c]; }

  void IrqOff();
  void IrqOn();
  bool IrqsOff() { return cpus_[self()].irq_off.load(std::memory_order_relaxed); }

  void RcuReadLock();
  void RcuReadUnlock();
  // Waits for every read-side section (and interrupts-off section) that
  // began before the call to end.
  void SynchronizeRcu();

  // Marks a hardware walk in flight on this CPU.
  void HwWalkBegin();
  void HwWalkEnd();

  // Runs `flush(target)` for every CPU: at once for this one, and for each
  // other after waiting as `style` requires. `flush` must only touch the
  // target's TLB (under that TLB's own lock).
  void Shootdown(ShootdownStyle style, absl::FunctionRef<void(int target)> flush);
  // An empty IPI to every other CPU: returns once each has had interrupts
  // enabled since (tlb_remove_table_sync_one).
  void SyncIpi();

 private:
  void EnterReadSide(CpuState& me);
  void ExitReadSide(CpuState& me);
  void WaitInterruptible(int target, bool for_irqs);

  Runtime* rt_;
  int ncpus_;
  std::array<CpuState, kMaxCpus> cpus_;
  std::atomic<uint64_t> rcu_epoch_{1};
};

// A spinlock as the kernel's: no owner recursion, no fairness. Waiting is a
// Runtime wait, so a deadlock is reported instead of spun out.
class SpinLock {
 public:
  explicit SpinLock(uint64_t id = 0) : id_(id) {}
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void Lock(Machine& m);
  void Unlock(Machine& m);
  bool HeldBySelf(const Machine& m) const { return owner_.load(std::memory_order_relaxed) == m.self(); }
  uint64_t id() const { return id_; }

 private:
  uint64_t id_;
  std::atomic<int> owner_{-1};
};

// A reader-writer lock with no preference, as mmap_lock is used here:
// operations that walk and change tables take it shared; freeing tables
// without RCU takes it exclusive, so no software walker that might sleep
// is left inside them (free_pgtables under an exclusive mmap_lock).
class RwLock {
 public:
  explicit RwLock(uint64_t id = 0) : id_(id) {}
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void ReadLock(Machine& m);
  void ReadUnlock(Machine& m);
  void WriteLock(Machine& m);
  void WriteUnlock(Machine& m);

 private:
  uint64_t id_;
  std::atomic<int> state_{0};  // readers, or -1 while written
};

}  // namespace ptsim

#endif  // PTSIM_SCHED_SYNC_H_
