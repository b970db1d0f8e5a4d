// The deterministic scheduler and the primitives built on it.
#include "src/sched/scheduler.h"

#include <atomic>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/sched/sync.h"

namespace ptsim {
namespace {

using ::testing::HasSubstr;

// Each CPU records its id at every point; returns the order seen.
std::vector<int> Order(int ncpus, std::vector<uint8_t> tape, int points_per_cpu) {
  Scheduler s(ncpus, tape);
  std::vector<int> seen;
  s.Run([&](int c) {
    for (int i = 0; i < points_per_cpu; ++i) {
      s.Point(PointKind::kLoad, static_cast<uint64_t>(i));
      seen.push_back(c);
    }
  });
  EXPECT_EQ(s.end(), RunEnd::kCompleted);
  return seen;
}

TEST(Scheduler, WithoutTapeEachCpuRunsToCompletionInOrder) {
  EXPECT_EQ(Order(3, {}, 2), (std::vector<int>{0, 0, 1, 1, 2, 2}));
}

TEST(Scheduler, EachByteNamesACpuAndHowManyPointsItRuns) {
  // cpu0 runs 1 point, cpu1 2 points, then cpu0 until it finishes; cpu1
  // ends alone without using the tape.
  EXPECT_EQ(Order(2, {TapeByte(0, 0), TapeByte(1, 1), TapeByte(0, 63)}, 3), (std::vector<int>{1, 0, 0, 0, 1, 1}));
}

TEST(Scheduler, AByteForACpuThatCannotRunPicksTheNextOne) {
  // cpu2 runs to its end; the next byte names cpu2 again, which has
  // finished, so cpu0 (the next one up, wrapping) runs; cpu numbers wrap
  // modulo the CPU count (7 & 3 = 3 -> cpu0 of 3).
  EXPECT_EQ(Order(3, {TapeByte(2, 63), TapeByte(2, 63)}, 1), (std::vector<int>{2, 0, 1}));
  EXPECT_EQ(Order(3, {TapeByte(3, 63)}, 1), (std::vector<int>{0, 1, 2}));
}

TEST(Scheduler, ALoneCpuDoesNotUseTheTape) {
  Scheduler s(1, {TapeByte(0, 0), TapeByte(0, 0)});
  s.Run([&](int) {
    for (int i = 0; i < 5; ++i) s.Point(PointKind::kLoad, 0);
  });
  EXPECT_EQ(s.tape_used(), 0u);
}

TEST(Scheduler, RunLengthsCoverShortAndLongRuns) {
  EXPECT_EQ(RunLength(0), 1u);
  EXPECT_EQ(RunLength(31), 32u);
  EXPECT_EQ(RunLength(32), 40u);
  EXPECT_EQ(RunLength(55), 224u);
  EXPECT_EQ(RunLength(56), 256u);
  EXPECT_EQ(RunLength(62), 16384u);
  EXPECT_EQ(RunLength(63), kRunForever);
  for (unsigned k = 0; k < 63; ++k) {
    EXPECT_EQ(RunFieldFor(RunLength(k)), static_cast<int>(k));
    if (k > 0) {
      EXPECT_LT(RunLength(k - 1), RunLength(k));
    }
  }
  EXPECT_EQ(RunFieldFor(33), -1);
}

TEST(Scheduler, SameTapeSameTraceHash) {
  auto hash = [](std::vector<uint8_t> tape) {
    Scheduler s(3, tape);
    s.Run([&](int c) {
      for (int i = 0; i < 5; ++i) s.Point(PointKind::kStore, static_cast<uint64_t>(c * 10 + i));
    });
    return s.trace_hash();
  };
  const std::vector<uint8_t> tape = {TapeByte(1, 0), TapeByte(2, 3), TapeByte(0, 1), 0xff, 0x33};
  EXPECT_EQ(hash(tape), hash(tape));
  EXPECT_NE(hash(tape), hash({}));
}

TEST(Scheduler, ReportsADeadlockWithEveryCpusWaitState) {
  // cpu0 takes a, then is preempted (2 points: the lock, the load); cpu1
  // takes b and blocks on a.
  Scheduler s(2, {TapeByte(0, 1), TapeByte(1, 63)});
  Machine m(&s, 2);
  SpinLock a(0xa), b(0xb);
  s.Run([&](int c) {
    SpinLock& first = c == 0 ? a : b;
    SpinLock& second = c == 0 ? b : a;
    first.Lock(m);
    s.Point(PointKind::kLoad, 0);
    second.Lock(m);
    second.Unlock(m);
    first.Unlock(m);
  });
  EXPECT_EQ(s.end(), RunEnd::kDeadlock);
  EXPECT_THAT(s.message(), HasSubstr("cpu0: waits for lock 0xb"));
  EXPECT_THAT(s.message(), HasSubstr("cpu1: waits for lock 0xa"));
}

TEST(Scheduler, EndsALivelockAtTheStepBudget) {
  Scheduler s(1, {}, SchedOptions{.step_budget = 100});
  s.Run([&](int) {
    for (;;) s.Point(PointKind::kLoad, 0);
  });
  EXPECT_EQ(s.end(), RunEnd::kLivelock);
}

TEST(Scheduler, CurrentIsTheRunningCpuInsideRunAndNoneOutside) {
  Scheduler s(3, {TapeByte(2, 0), TapeByte(0, 0), TapeByte(1, 63)});
  std::vector<int> mismatches;
  s.Run([&](int c) {
    for (int i = 0; i < 3; ++i) {
      if (s.current() != c) mismatches.push_back(c);
      s.Point(PointKind::kLoad, 0);
    }
  });
  EXPECT_EQ(s.end(), RunEnd::kCompleted);
  EXPECT_THAT(mismatches, ::testing::IsEmpty());
  EXPECT_EQ(s.current(), -1);
}

// Counts its destruction; its destructor reaches a scheduling point, as an
// operation's unlock in a destructor would.
struct Unwound {
  Scheduler& s;
  int cpu;
  std::vector<int>& log;
  ~Unwound() {
    s.Point(PointKind::kUnlock, 0);  // returns at once while unwinding
    log.push_back(cpu * 10 + s.current());
  }
};

TEST(Scheduler, AnAbandonedRunUnwindsEveryCpuOneAtATime) {
  // cpu0 and cpu1 stop inside a point each, holding an object; cpu2 ends
  // the run with a finding. cpu3 never started.
  Scheduler s(4, {TapeByte(0, 0), TapeByte(1, 0), TapeByte(2, 63)});
  std::vector<int> log;
  bool ran_after_abort = false;
  s.Run([&](int c) {
    if (c == 3) {
      ran_after_abort = true;
      return;
    }
    Unwound u{s, c, log};
    s.Point(PointKind::kLoad, 0);
    s.Point(PointKind::kLoad, 1);
    if (c == 2) s.Abandon(RunEnd::kFinding, "found");
    for (;;) s.Point(PointKind::kLoad, 2);
  });
  EXPECT_EQ(s.end(), RunEnd::kFinding);
  EXPECT_EQ(s.message(), "found");
  // Each destructor ran on its own CPU: the finder first, then the others
  // in CPU order.
  EXPECT_EQ(log, (std::vector<int>{22, 0, 11}));
  EXPECT_FALSE(ran_after_abort);
}

TEST(Scheduler, RunsAgainAndAgainOnOneThread) {
  // Each run maps and unmaps its stacks; sanitizer state (ASan's shadow,
  // TSan's fibers) must not leak from one run into the next.
  for (int i = 0; i < 200; ++i) {
    Scheduler s(2, {TapeByte(i & 1, static_cast<unsigned>(i % 5)), TapeByte(1 - (i & 1), 63)});
    Machine m(&s, 2);
    SpinLock a(0xa), b(0xb);
    s.Run([&](int c) {
      SpinLock& first = c == 0 ? a : b;
      SpinLock& second = c == 0 ? b : a;
      first.Lock(m);
      std::vector<int> on_the_heap(16, c);
      second.Lock(m);
      second.Unlock(m);
      first.Unlock(m);
    });
    ASSERT_TRUE(s.end() == RunEnd::kCompleted || s.end() == RunEnd::kDeadlock) << RunEndName(s.end());
  }
}

TEST(Sync, IpiShootdownWaitsForInterruptsOnBroadcastDoesNot) {
  for (ShootdownStyle style : {ShootdownStyle::kIpi, ShootdownStyle::kBroadcast}) {
    // cpu1 disables interrupts first; cpu0 then shoots down. (Scheduling
    // points come before the state change they announce.)
    Scheduler s(2, {TapeByte(1, 1), TapeByte(0, 63)});
    Machine m(&s, 2);
    std::vector<std::string> events;
    s.Run([&](int c) {
      if (c == 0) {
        s.Point(PointKind::kLoad, 0);
        m.Shootdown(style, [&](int t) { events.push_back("flush" + std::to_string(t)); });
        events.push_back("done");
      } else {
        m.IrqOff();
        events.push_back("off");
        s.Point(PointKind::kLoad, 1);
        events.push_back("on");
        m.IrqOn();
      }
    });
    ASSERT_EQ(s.end(), RunEnd::kCompleted);
    const auto flush1 = std::find(events.begin(), events.end(), "flush1");
    const auto on = std::find(events.begin(), events.end(), "on");
    if (style == ShootdownStyle::kIpi) {
      EXPECT_LT(on, flush1) << "an IPI cannot be taken with interrupts off";
    } else {
      EXPECT_LT(flush1, on) << "a broadcast flush does not wait";
    }
  }
}

// cpu1 enters a read-side section (by RCU or by disabling interrupts) and
// is preempted inside it; cpu0 then waits for a grace period.
std::vector<std::string> GracePeriodOrder(bool by_irqs) {
  Scheduler s(2, {TapeByte(1, 1), TapeByte(0, 63)});
  Machine m(&s, 2);
  std::vector<std::string> events;
  s.Run([&](int c) {
    if (c == 0) {
      s.Point(PointKind::kLoad, 0);
      m.SynchronizeRcu();
      events.push_back("gp");
      return;
    }
    by_irqs ? m.IrqOff() : m.RcuReadLock();
    s.Point(PointKind::kLoad, 1);
    events.push_back("reader done");
    by_irqs ? m.IrqOn() : m.RcuReadUnlock();
  });
  EXPECT_EQ(s.end(), RunEnd::kCompleted);
  return events;
}

TEST(Sync, GracePeriodWaitsForReadersThatBeganBeforeIt) {
  EXPECT_EQ(GracePeriodOrder(false), (std::vector<std::string>{"reader done", "gp"}));
}

TEST(Sync, InterruptsOffCountsAsAReadSideSection) {
  EXPECT_EQ(GracePeriodOrder(true), (std::vector<std::string>{"reader done", "gp"}));
}

}  // namespace
}  // namespace ptsim
