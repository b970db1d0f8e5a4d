// The page map's removal protocol and its insert race under every schedule of
// a small enumeration: two simulated CPUs, the deterministic scheduler, and
// invariants checked per run. A removal built to ignore its users must be
// caught, so the invariants can fail.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "src/pagemap/page_map.h"
#include "src/sched/scheduler.h"

namespace ptsim {

// Field by field, so a failed comparison does not print padding bytes.
void PrintTo(const SlotCensus& c, std::ostream* os) {
  *os << "{index " << c.index << ", frame 0x" << std::hex << c.frame << std::dec << ", refs " << c.refs
      << (c.marked ? ", marked}" : "}");
}

namespace {

constexpr uint64_t kIndex = 5;
constexpr uint64_t kFrame = 0x42;

// Every tape of up to `max_len` bytes over `alphabet`, shortest first.
std::vector<std::vector<uint8_t>> AllTapes(const std::vector<uint8_t>& alphabet, size_t max_len) {
  std::vector<std::vector<uint8_t>> out{{}};
  for (size_t begin = 0, len = 0; len < max_len; ++len) {
    const size_t end = out.size();
    for (size_t i = begin; i < end; ++i) {
      for (uint8_t b : alphabet) {
        out.push_back(out[i]);
        out.back().push_back(b);
      }
    }
    begin = end;
  }
  return out;
}

// Two CPUs, each switching after 1 to 4 scheduling points: 4681 schedules.
std::vector<std::vector<uint8_t>> SmallSchedules() {
  std::vector<uint8_t> alphabet;
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    for (unsigned k = 0; k < 4; ++k) alphabet.push_back(TapeByte(cpu, k));
  }
  return AllTapes(alphabet, 4);
}

std::string TapeText(const std::vector<uint8_t>& tape) {
  std::string s;
  for (uint8_t b : tape) absl::StrAppendFormat(&s, "%02x ", b);
  return s;
}

struct RemovalRace {
  bool marked = false;
  bool removed = false;
  std::string violation;  // empty when the protocol held
};

// CPU 0 removes the page at kIndex (mark, then remove if still marked); CPU 1
// looks it up and puts it back. A violation is a page removed while CPU 1
// holds its slot reference, or removed although CPU 1 took it after the mark.
RemovalRace RunRemovalRace(const std::vector<uint8_t>& tape, PageMapBugs bugs) {
  FileFrames frames;
  BackingStore store;
  PageMap pm(0x100, &frames, &store, bugs);
  {
    Scheduler setup(1, {});
    Machine m(&setup, 1);
    setup.Run([&](int) { pm.Put(m, *pm.Insert(m, kIndex, kFrame)); });
  }

  RemovalRace out;
  bool holding = false;        // CPU 1 between Find's return and Put's CAS
  bool took_after_mark = false;
  Scheduler s(2, tape);
  Machine m(&s, 2);
  s.Run([&](int cpu) {
    if (cpu == 0) {
      if (!pm.BeginRemoval(m)) return;
      pm.LockMap(m);
      out.marked = pm.MarkForRemoval(m, kIndex);
      pm.UnlockMap(m);
      if (out.marked) {
        pm.LockMap(m);
        out.removed = pm.RemoveIfMarked(m, kIndex).has_value();
        if (out.removed && holding) out.violation = "removed while cpu1 held the page";
        pm.UnlockMap(m);
      }
      pm.EndRemoval(m);
      return;
    }
    std::optional<PageRef> ref = pm.Find(m, kIndex);
    if (!ref) return;
    // A mark seen now came before Find's CAS: after it, the mark would have
    // been refused, since the reference is still held.
    took_after_mark = out.marked;
    // Covers a removal between Find's CAS and its return.
    if (!ref->meta().in_map.load()) out.violation = "removed before cpu1's Find returned";
    holding = true;
    pm.Put(m, *ref);
    holding = false;
  });
  if (s.end() != RunEnd::kCompleted) out.violation = "run ended: " + s.message();
  if (out.violation.empty() && took_after_mark && out.removed) {
    out.violation = "removed although cpu1 took the page after the mark";
  }
  // At quiescence the references are back to zero and the frame is either
  // gone from the map or no longer flagged for removal.
  if (out.violation.empty()) {
    for (const SlotCensus& c : pm.Census()) {
      if (c.refs != 0) out.violation = "slot references left at quiescence";
    }
    if (pm.CachedPages().empty() != out.removed) out.violation = "cached pages disagree with the removal";
    if (frames.Get(kFrame).removal.load()) out.violation = "removal flag left on the frame";
  }
  return out;
}

TEST(PageMapRace, RemovalNeverTakesAPageInUseUnderAnySchedule) {
  int removed = 0, refused = 0, aborted = 0;
  for (const std::vector<uint8_t>& tape : SmallSchedules()) {
    const RemovalRace r = RunRemovalRace(tape, {});
    ASSERT_EQ(r.violation, "") << "tape " << TapeText(tape);
    removed += r.removed;
    refused += !r.marked;
    aborted += r.marked && !r.removed;
  }
  // The enumeration reaches all three endings: the page removed, the mark
  // refused because CPU 1 held the page, and a marked removal aborted by
  // CPU 1's lookup.
  EXPECT_GT(removed, 0);
  EXPECT_GT(refused, 0);
  EXPECT_GT(aborted, 0);
}

TEST(PageMapRace, ARemovalThatIgnoresUsersIsCaught) {
  // Each kind of violation, with the first tape that shows it.
  absl::btree_map<std::string, std::string> seen;
  for (const std::vector<uint8_t>& tape : SmallSchedules()) {
    const RemovalRace r = RunRemovalRace(tape, {.remove_ignores_users = true});
    if (!r.violation.empty()) seen.try_emplace(r.violation, TapeText(tape));
  }
  // Ignoring the count frees a page CPU 1 holds; ignoring the flag frees a
  // page CPU 1 took after the mark, even once it has put it back.
  std::string caught;
  for (const auto& [what, tape] : seen) absl::StrAppendFormat(&caught, "%s (tape %s); ", what, tape);
  EXPECT_TRUE(seen.contains("removed while cpu1 held the page")) << caught;
  EXPECT_TRUE(seen.contains("removed although cpu1 took the page after the mark")) << caught;
}

TEST(PageMapRace, TwoLoadsOfOneIndexCacheOnePageUnderAnySchedule) {
  int raced = 0;
  for (const std::vector<uint8_t>& tape : SmallSchedules()) {
    SCOPED_TRACE("tape " + TapeText(tape));
    FileFrames frames;
    BackingStore store;
    PageMap pm(0x100, &frames, &store);
    uint64_t next = kFrame;
    std::vector<uint64_t> freed;
    uint64_t got[2] = {0, 0};
    Scheduler s(2, tape);
    Machine m(&s, 2);
    s.Run([&](int cpu) {
      absl::StatusOr<PageRef> r = pm.Load(m, kIndex, [&] { return next++; }, [&](uint64_t f) { freed.push_back(f); });
      if (!r.ok()) return;
      EXPECT_TRUE(r->meta().up_to_date.load());
      got[cpu] = r->frame();
      pm.Put(m, *r);
    });
    ASSERT_EQ(s.end(), RunEnd::kCompleted) << s.message();
    ASSERT_NE(got[0], 0u);
    EXPECT_EQ(got[0], got[1]);
    EXPECT_EQ(pm.CachedPages(), (absl::btree_map<uint64_t, uint64_t>{{kIndex, got[0]}}));
    EXPECT_EQ(pm.Census(), (std::vector<SlotCensus>{{kIndex, got[0], 0, false}}));
    EXPECT_EQ(store.fills(), 1u);
    // Every frame allocated and not cached went back.
    EXPECT_EQ(freed.size(), next - kFrame - 1);
    for (uint64_t f : freed) EXPECT_NE(f, got[0]);
    raced += !freed.empty();
    if (HasFailure()) return;
  }
  EXPECT_GT(raced, 0);  // some schedule had both CPUs insert
}

}  // namespace
}  // namespace ptsim
