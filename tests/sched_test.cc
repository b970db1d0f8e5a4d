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

TEST(Scheduler, LowBytesKeepTheCurrentCpuAndHighBytesSwitch) {
  // Point 1 on cpu0: 0x00 stays. Point 2: 0xc1 picks runnable[1] = cpu1.
  EXPECT_EQ(Order(2, {0x00, 0xc1}, 2), (std::vector<int>{0, 1, 1, 0}));
}

TEST(Scheduler, SameTapeSameTraceHash) {
  auto hash = [](std::vector<uint8_t> tape) {
    Scheduler s(3, tape);
    s.Run([&](int c) {
      for (int i = 0; i < 5; ++i) s.Point(PointKind::kStore, static_cast<uint64_t>(c * 10 + i));
    });
    return s.trace_hash();
  };
  const std::vector<uint8_t> tape = {0xc1, 0x10, 0xc2, 0xff, 0xc0, 0x33};
  EXPECT_EQ(hash(tape), hash(tape));
  EXPECT_NE(hash(tape), hash({}));
}

TEST(Scheduler, ReportsADeadlockWithEveryCpusWaitState) {
  // cpu0 takes a, then is preempted; cpu1 takes b and blocks on a.
  Scheduler s(2, {0x00, 0xc1});
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

TEST(Sync, IpiShootdownWaitsForInterruptsOnBroadcastDoesNot) {
  for (ShootdownStyle style : {ShootdownStyle::kIpi, ShootdownStyle::kBroadcast}) {
    // cpu1 disables interrupts first; cpu0 then shoots down. (Scheduling
    // points come before the state change they announce.)
    Scheduler s(2, {0xc1, 0x00, 0xc0});
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
  Scheduler s(2, {0xc1, 0x00, 0xc0});
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
