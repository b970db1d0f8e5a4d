// The page map's data structures on one CPU: the packed slot word, lookups
// against removal, loading, regions and write-back. The same protocol under
// concurrent schedules is in page_map_race_test.cc.
#include "src/pagemap/page_map.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"
#include "src/sched/scheduler.h"

namespace ptsim {

// Field by field, so a failed comparison does not print padding bytes.
void PrintTo(const SlotCensus& c, std::ostream* os) {
  *os << "{index " << c.index << ", frame 0x" << std::hex << c.frame << std::dec << ", refs " << c.refs
      << (c.marked ? ", marked}" : "}");
}

namespace {

namespace sw = slot_word;

constexpr uint64_t kIndex = 5;
constexpr uint64_t kFrame = 0x42;

TEST(SlotWord, FieldsChangeIndependently) {
  uint64_t w = sw::WithFrame(0, kFrame);
  EXPECT_EQ(sw::FrameOf(w), kFrame);
  EXPECT_FALSE(sw::IsMarked(w));
  EXPECT_EQ(sw::RefsOf(w), 0u);
  w = sw::IncRef(sw::IncRef(w));
  w = sw::SetRemoval(w);
  EXPECT_EQ(sw::FrameOf(w), kFrame);
  EXPECT_TRUE(sw::IsMarked(w));
  EXPECT_EQ(sw::RefsOf(w), 2u);
  w = sw::ClearRemoval(sw::DecRef(w));
  EXPECT_EQ(w, sw::IncRef(sw::WithFrame(0, kFrame)));
  EXPECT_EQ(sw::WithFrame(w, 0), sw::kRefOne);
}

TEST(SlotWord, FullFieldsDoNotSpillIntoEachOther) {
  static_assert(sw::kFrameBits + 1 + sw::kRefBits == 64);
  // The largest frame, the flag and the largest count all fit at once.
  uint64_t w = sw::SetRemoval(sw::WithFrame(0, sw::kFrameMask));
  for (int i = 0; i < 3; ++i) w = sw::IncRef(w);
  w += (sw::kMaxRefs - 3) * sw::kRefOne;
  EXPECT_EQ(w, ~uint64_t{0});
  EXPECT_EQ(sw::FrameOf(w), sw::kFrameMask);
  EXPECT_TRUE(sw::IsMarked(w));
  EXPECT_EQ(sw::RefsOf(w), sw::kMaxRefs);
  // Dropping the last reference leaves frame and flag untouched.
  w = sw::DecRef(sw::SetRemoval(sw::IncRef(sw::WithFrame(0, sw::kFrameMask))));
  EXPECT_EQ(w, sw::kRemoval | sw::kFrameMask);
}

// Runs `body` on a one-CPU machine under the deterministic scheduler.
void OnOneCpu(const std::function<void(Machine&)>& body) {
  Scheduler s(1, {});
  Machine m(&s, 1);
  s.Run([&](int) { body(m); });
  ASSERT_EQ(s.end(), RunEnd::kCompleted) << s.message();
}

class PageMapTest : public ::testing::Test {
 protected:
  FileFrames frames_;
  BackingStore store_;
  PageMap pm_{0x100, &frames_, &store_};
  uint64_t next_frame_ = kFrame;
  std::vector<uint64_t> freed_;

  absl::StatusOr<PageRef> Load(Machine& m, uint64_t index) {
    return pm_.Load(m, index, [&] { return next_frame_++; }, [&](uint64_t f) { freed_.push_back(f); });
  }
  // Caches kFrame at kIndex with no reference left.
  void Cache(Machine& m) {
    absl::StatusOr<PageRef> r = pm_.Insert(m, kIndex, kFrame);
    ASSERT_TRUE(r.ok()) << r.status();
    pm_.Put(m, *r);
  }
  bool Mark(Machine& m, uint64_t index) {
    pm_.LockMap(m);
    const bool marked = pm_.MarkForRemoval(m, index);
    pm_.UnlockMap(m);
    return marked;
  }
  std::optional<uint64_t> Remove(Machine& m, uint64_t index) {
    pm_.LockMap(m);
    std::optional<uint64_t> removed = pm_.RemoveIfMarked(m, index);
    pm_.UnlockMap(m);
    return removed;
  }
  SlotCensus SlotAt(uint64_t index) const {
    for (const SlotCensus& s : pm_.Census()) {
      if (s.index == index) return s;
    }
    return {};
  }
};

TEST_F(PageMapTest, InsertTakesOneReferenceAndRefusesASecondPage) {
  OnOneCpu([&](Machine& m) {
    EXPECT_FALSE(pm_.Find(m, kIndex).has_value());
    absl::StatusOr<PageRef> r = pm_.Insert(m, kIndex, kFrame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->frame(), kFrame);
    EXPECT_EQ(SlotAt(kIndex), (SlotCensus{kIndex, kFrame, 1, false}));
    absl::StatusOr<PageRef> again = pm_.Insert(m, kIndex, kFrame + 1);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
    // The refused frame is still the caller's, not part of the map.
    EXPECT_FALSE(frames_.Get(kFrame + 1).in_map.load());
    pm_.Put(m, *r);
  });
  EXPECT_EQ(SlotAt(kIndex).refs, 0u);
  EXPECT_EQ(pm_.CachedPages(), (absl::btree_map<uint64_t, uint64_t>{{kIndex, kFrame}}));
}

TEST_F(PageMapTest, FindTakesAReferenceAndClearsTheRemovalMark) {
  OnOneCpu([&](Machine& m) {
    Cache(m);
    ASSERT_TRUE(Mark(m, kIndex));
    EXPECT_TRUE(frames_.Get(kFrame).removal.load());
    std::optional<PageRef> r = pm_.Find(m, kIndex);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->frame(), kFrame);
    EXPECT_EQ(SlotAt(kIndex), (SlotCensus{kIndex, kFrame, 1, false}));
    pm_.Put(m, *r);
  });
  EXPECT_EQ(SlotAt(kIndex), (SlotCensus{kIndex, kFrame, 0, false}));
}

TEST_F(PageMapTest, MarkRefusesAReferencedOrEmptySlot) {
  OnOneCpu([&](Machine& m) {
    EXPECT_FALSE(Mark(m, kIndex));  // never cached
    Cache(m);
    std::optional<PageRef> r = pm_.Find(m, kIndex);
    EXPECT_FALSE(Mark(m, kIndex));
    EXPECT_FALSE(frames_.Get(kFrame).removal.load());
    pm_.Put(m, *r);
    EXPECT_TRUE(Mark(m, kIndex));
  });
}

TEST_F(PageMapTest, AFindAbortsARemovalInProgress) {
  OnOneCpu([&](Machine& m) {
    Cache(m);
    ASSERT_TRUE(Mark(m, kIndex));
    pm_.LockMap(m);
    EXPECT_TRUE(pm_.StillMarked(m, kIndex));
    pm_.UnlockMap(m);
    // A fault finds the page and is done with it before the remover returns.
    pm_.Put(m, *pm_.Find(m, kIndex));
    pm_.LockMap(m);
    EXPECT_FALSE(pm_.StillMarked(m, kIndex));
    EXPECT_FALSE(pm_.RemoveIfMarked(m, kIndex).has_value());
    pm_.UnlockMap(m);
  });
  EXPECT_EQ(pm_.CachedPages().size(), 1u);
  EXPECT_FALSE(frames_.Get(kFrame).removal.load());
  EXPECT_TRUE(frames_.Get(kFrame).in_map.load());
}

TEST_F(PageMapTest, RemoveEmptiesAMarkedUnusedSlotAndTheIndexCanBeCachedAgain) {
  OnOneCpu([&](Machine& m) {
    Cache(m);
    ASSERT_TRUE(Mark(m, kIndex));
    EXPECT_EQ(Remove(m, kIndex), kFrame);
    EXPECT_FALSE(pm_.Find(m, kIndex).has_value());
    EXPECT_FALSE(frames_.Get(kFrame).in_map.load());
    absl::StatusOr<PageRef> r = pm_.Insert(m, kIndex, kFrame + 1);
    ASSERT_TRUE(r.ok());
    pm_.Put(m, *r);
  });
  EXPECT_EQ(SlotAt(kIndex), (SlotCensus{kIndex, kFrame + 1, 0, false}));
}

TEST_F(PageMapTest, OnlyOneRemovalRunsAtATime) {
  OnOneCpu([&](Machine& m) {
    EXPECT_TRUE(pm_.BeginRemoval(m));
    EXPECT_FALSE(pm_.BeginRemoval(m));
    pm_.EndRemoval(m);
    EXPECT_TRUE(pm_.BeginRemoval(m));
    pm_.EndRemoval(m);
  });
}

TEST_F(PageMapTest, LoadFillsOnceAndThenFindsTheCachedPage) {
  OnOneCpu([&](Machine& m) {
    absl::StatusOr<PageRef> a = Load(m, kIndex);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->meta().up_to_date.load());
    absl::StatusOr<PageRef> b = Load(m, kIndex);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->frame(), a->frame());
    EXPECT_EQ(SlotAt(kIndex).refs, 2u);
    pm_.Put(m, *a);
    pm_.Put(m, *b);
    EXPECT_EQ(pm_.Load(m, 9, [] { return uint64_t{0}; }, [](uint64_t) {}).status().code(),
              absl::StatusCode::kResourceExhausted);
  });
  EXPECT_EQ(store_.fills(), 1u);
  EXPECT_EQ(next_frame_, kFrame + 1);
}

TEST_F(PageMapTest, WriteBackKeepsEveryWriteAndAReloadSeesIt) {
  OnOneCpu([&](Machine& m) {
    absl::StatusOr<PageRef> r = Load(m, kIndex);
    ASSERT_TRUE(r.ok());
    FileFrame& f = r->meta();
    f.WriteContents(m);
    f.WriteContents(m);
    f.MarkDirty(m);
    EXPECT_FALSE(store_.NoWriteLost(kIndex, f));
    store_.WriteBack(m, kIndex, f);
    EXPECT_FALSE(f.dirty.load());
    EXPECT_EQ(store_.VersionOf(kIndex), 2u);
    EXPECT_TRUE(store_.NoWriteLost(kIndex, f));
    pm_.Put(m, *r);
    // Removed and cached again in another frame, the page holds the last
    // version written back.
    ASSERT_TRUE(Mark(m, kIndex));
    ASSERT_EQ(Remove(m, kIndex), r->frame());
    absl::StatusOr<PageRef> again = Load(m, kIndex);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(again->frame(), r->frame());
    EXPECT_EQ(again->meta().version.load(), 2u);
    again->meta().WriteContents(m);
    EXPECT_FALSE(store_.NoWriteLost(kIndex, again->meta()));
    pm_.Put(m, *again);
  });
}

TEST(Region, IndicesAndAddressesAgree) {
  Region r{.id = 1, .base = Va(0x10000), .length = 3 * kFilePageSize, .file_offset = 2 * kFilePageSize};
  ASSERT_TRUE(RegionValid(r));
  EXPECT_EQ(FirstIndex(r), 2u);
  EXPECT_EQ(EndIndex(r), 5u);
  EXPECT_FALSE(HoldsIndex(r, 1));
  EXPECT_TRUE(HoldsIndex(r, 2));
  EXPECT_TRUE(HoldsIndex(r, 4));
  EXPECT_FALSE(HoldsIndex(r, 5));
  EXPECT_EQ(VaOfIndex(r, 3), Va(0x11000));
  for (uint64_t i = FirstIndex(r); i < EndIndex(r); ++i) {
    EXPECT_EQ(IndexOfVa(r, VaOfIndex(r, i)), i);
    EXPECT_EQ(IndexOfVa(r, VaOfIndex(r, i) + (kFilePageSize - 1)), i);
  }
  EXPECT_EQ(IndexOfVa(r, Va(0xffff)), std::nullopt);
  EXPECT_EQ(IndexOfVa(r, Va(0x13000)), std::nullopt);
  EXPECT_TRUE(OverlapsIndices(r, 0, 2));
  EXPECT_TRUE(OverlapsIndices(r, 4, 100));
  EXPECT_FALSE(OverlapsIndices(r, 5, 100));
  EXPECT_FALSE(OverlapsIndices(r, 0, 1));
}

TEST(Region, ValidityNeedsAlignmentLengthAndNoWrap) {
  const Region ok{.base = Va(0x1000), .length = kFilePageSize};
  EXPECT_TRUE(RegionValid(ok));
  Region r = ok;
  r.length = 0;
  EXPECT_FALSE(RegionValid(r));
  r = ok;
  r.base = Va(0x1800);
  EXPECT_FALSE(RegionValid(r));
  r = ok;
  r.file_offset = 0x10;
  EXPECT_FALSE(RegionValid(r));
  r = ok;
  r.base = Va(~uint64_t{0} - kFilePageSize + 1);
  r.length = 2 * kFilePageSize;
  EXPECT_FALSE(RegionValid(r));
}

TEST_F(PageMapTest, RegionsOverlappingARangeAreWalkedUnderTheMapLock) {
  auto region = [](uint64_t id, uint64_t first_index, uint64_t pages) {
    return Region{.id = id,
                  .base = Va(id << 20),
                  .length = pages * kFilePageSize,
                  .file_offset = first_index * kFilePageSize};
  };
  std::vector<uint64_t> seen;
  OnOneCpu([&](Machine& m) {
    pm_.AddRegion(m, region(1, 0, 4));    // pages 0..3
    pm_.AddRegion(m, region(2, 4, 4));    // pages 4..7
    pm_.AddRegion(m, region(3, 2, 10));   // pages 2..11
    EXPECT_TRUE(pm_.RemoveRegion(m, 2));
    EXPECT_FALSE(pm_.RemoveRegion(m, 2));
    pm_.LockMap(m);
    pm_.ForEachRegionOverlapping(m, 3, 5, [&](const Region& r) { seen.push_back(r.id); });
    pm_.UnlockMap(m);
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(pm_.regions().size(), 2u);
}

}  // namespace
}  // namespace ptsim
