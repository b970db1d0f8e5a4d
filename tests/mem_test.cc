// Simulated memory and the table allocator, tested directly (the executor
// tests exercise them only through the operations).
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "src/mem/frames.h"
#include "src/mem/phys_mem.h"
#include "src/mem/table_allocator.h"

namespace ptsim {
namespace {

uint8_t ByteAt(const PhysMem& m, uint64_t a) { return *m.Readable(Oa(a)); }

TEST(PhysMem, UntouchedMemoryReadsZeroWithoutAllocating) {
  PhysMem m(Oa(0x10000), 1 << 20);
  EXPECT_EQ(ByteAt(m, 0x10000), 0);
  EXPECT_EQ(ByteAt(m, 0x10000 + (1 << 20) - 1), 0);
  EXPECT_EQ(m.touched_chunks(), 0u);
}

TEST(PhysMem, ContainsRejectsEverythingOutsideTheWindowIncludingWraps) {
  PhysMem m(Oa(0x10000), 0x2000);
  EXPECT_TRUE(m.Contains(Oa(0x10000), 0x2000));
  EXPECT_FALSE(m.Contains(Oa(0x10000), 0x2001));
  EXPECT_FALSE(m.Contains(Oa(0xffff), 1));
  EXPECT_FALSE(m.Contains(Oa(0x12000), 1));
  EXPECT_FALSE(m.Contains(Oa(0x11fff), ~uint64_t{0}));
}

TEST(PhysMem, ResetZeroesOnlyWhatWasTouched) {
  PhysMem m(Oa(0), 1 << 20);
  m.Fill(Oa(0x1000), 0x10, 0xab);
  m.Fill(Oa(0x5ff0), 0x20, 0xcd);  // crosses into a second chunk
  EXPECT_EQ(m.touched_chunks(), 3u);
  EXPECT_EQ(ByteAt(m, 0x600f), 0xcd);
  m.Reset();
  EXPECT_EQ(m.touched_chunks(), 0u);
  EXPECT_EQ(ByteAt(m, 0x1000), 0);
  EXPECT_EQ(ByteAt(m, 0x600f), 0);
}

TEST(PhysMem, WriteThatDoesNotFitIsAnErrorAndChangesNothing) {
  PhysMem m(Oa(0), 0x1000);
  const uint8_t bytes[4] = {1, 2, 3, 4};
  EXPECT_EQ(m.Write(Oa(0xffe), bytes).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ByteAt(m, 0xffe), 0);
  EXPECT_TRUE(m.Write(Oa(0xffc), bytes).ok());
  EXPECT_EQ(ByteAt(m, 0xfff), 4);
}

// A source whose byte at address a is (a >> 12) & 0xff, except chunk
// 0x3000's, which is zeros; counts the chunks it was asked for.
class CountingSource final : public MemSource {
 public:
  void ReadChunk(Oa addr, absl::Span<uint8_t> out) const override {
    ++reads;
    const uint8_t b = addr.value() == 0x3000 ? 0 : static_cast<uint8_t>(addr.value() >> 12);
    for (uint8_t& x : out) x = b;
  }
  mutable int reads = 0;
};

TEST(PhysMem, AnImageReadsEachChunkFromItsSourceOnceAndOnlyWhenRead) {
  CountingSource src;
  PhysMem m(Oa(0), 0x10000);
  m.SetImage({{Oa(0), Oa(0xffff)}}, &src);
  EXPECT_EQ(src.reads, 0);
  EXPECT_EQ(ByteAt(m, 0x2abc), 2);
  EXPECT_EQ(ByteAt(m, 0x2000), 2);
  EXPECT_EQ(src.reads, 1);
  EXPECT_EQ(m.allocated_chunks(), 1u);
  // A chunk the source gives as zeros costs no memory, and is not re-read.
  EXPECT_EQ(ByteAt(m, 0x3000), 0);
  EXPECT_EQ(ByteAt(m, 0x3fff), 0);
  EXPECT_EQ(src.reads, 2);
  EXPECT_EQ(m.allocated_chunks(), 1u);
  // A write keeps the source's other bytes.
  m.Fill(Oa(0x5000), 1, 0xee);
  EXPECT_EQ(ByteAt(m, 0x5000), 0xee);
  EXPECT_EQ(ByteAt(m, 0x5001), 5);
  m.Fill(Oa(0x3000), 1, 0xdd);
  EXPECT_EQ(ByteAt(m, 0x3000), 0xdd);
  EXPECT_EQ(ByteAt(m, 0x3001), 0);
  EXPECT_EQ(m.allocated_chunks(), 3u);
}

TEST(PhysMem, AddressesInTheHolesBetweenAnImagesRangesAreOutsideMemory) {
  PhysMem m(Oa(0x100000), 0x10000);
  m.SetImage({{Oa(0x100000), Oa(0x101fff)}, {Oa(0x104800), Oa(0x10ffff)}}, nullptr);
  EXPECT_TRUE(m.Contains(Oa(0x100000), 0x2000));
  EXPECT_FALSE(m.Contains(Oa(0x101ff8), 16));  // runs into the hole
  EXPECT_FALSE(m.Contains(Oa(0x102000), 8));
  EXPECT_FALSE(m.Contains(Oa(0x1047f8), 8));
  EXPECT_TRUE(m.Contains(Oa(0x104800), 8));
  EXPECT_TRUE(m.Contains(Oa(0x10fff8), 8));
  EXPECT_FALSE(m.Contains(Oa(0x10fff8), 9));
  EXPECT_FALSE(m.Contains(Oa(0xff000), 8));
}

TEST(PhysMem, ATerabyteWindowCostsOnlyTheChunksUsed) {
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  PhysMem m(Oa(0), PhysMem::kMaxChunks << PhysMem::kChunkLg2);
  for (uint64_t a = 0; a < (uint64_t{1} << 40); a += uint64_t{1} << 36) m.Fill(Oa(a), 8, 0x5a);
  EXPECT_EQ(m.allocated_chunks(), 16u);
  EXPECT_EQ(ByteAt(m, (uint64_t{1} << 40) - 1), 0);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  // The bookkeeping of 2^28 chunks would be 2.25 GiB if it were touched.
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "KiB";
}

class TableAllocatorTest : public ::testing::Test {
 protected:
  PhysMem mem_{Oa(0), 1 << 22};
  TableAllocator alloc_{&mem_, OaRange{Oa(0x100000), Oa(0x3fffff)}};
};

TEST_F(TableAllocatorTest, EverySizeFrom32BytesTo1MiBIsAlignedZeroedAndAccounted) {
  uint64_t bytes = 0;
  for (unsigned lg2 = TableAllocator::kMinSizeLg2; lg2 <= TableAllocator::kMaxSizeLg2; ++lg2) {
    auto t = alloc_.Alloc(lg2, 7, static_cast<int>(lg2 % 4));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->IsAligned(lg2)) << std::hex << t->value();
    EXPECT_EQ(ByteAt(mem_, t->value()), 0);
    const TableMeta* m = alloc_.Find(*t);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->owner, 7u);
    EXPECT_EQ(m->size_lg2, lg2);
    EXPECT_EQ(m->state, TableState::kLive);
    bytes += uint64_t{1} << lg2;
  }
  EXPECT_EQ(alloc_.stats().live, TableAllocator::kMaxSizeLg2 - TableAllocator::kMinSizeLg2 + 1);
  EXPECT_EQ(alloc_.stats().live_bytes, bytes);
}

TEST_F(TableAllocatorTest, FreePoisonsBumpsTheGenerationAndQuarantinesBeforeReuse) {
  auto t = alloc_.Alloc(12, 1, 0);
  ASSERT_TRUE(t.ok());
  mem_.Fill(*t, 8, 0x11);
  alloc_.Free(*t);
  EXPECT_EQ(ByteAt(mem_, t->value()), TableAllocator::kPoison);
  EXPECT_EQ(ByteAt(mem_, t->value() + 4095), TableAllocator::kPoison);
  EXPECT_EQ(alloc_.Find(*t)->state, TableState::kFree);
  EXPECT_EQ(alloc_.Find(*t)->generation, 1u);
  // Not handed out again until kQuarantine more tables have been freed.
  for (size_t i = 0; i < TableAllocator::kQuarantine; ++i) {
    auto u = alloc_.Alloc(12, 1, 0);
    ASSERT_TRUE(u.ok());
    EXPECT_NE(*u, *t);
    alloc_.Free(*u);
  }
  auto again = alloc_.Alloc(12, 1, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *t);
  EXPECT_EQ(ByteAt(mem_, t->value()), 0) << "a reused table is zeroed";
  EXPECT_EQ(alloc_.Find(*t)->generation, 1u) << "the generation tells it from the table it was";
}

TEST_F(TableAllocatorTest, DeferredFreeWaitsForTheGracePeriod) {
  auto t = alloc_.Alloc(12, 1, 0);
  ASSERT_TRUE(t.ok());
  alloc_.FreeDeferred(*t);
  EXPECT_EQ(alloc_.Find(*t)->state, TableState::kPendingFree);
  EXPECT_EQ(alloc_.stats().pending, 1u);
  EXPECT_EQ(alloc_.stats().live, 0u);
  EXPECT_NE(ByteAt(mem_, t->value()), TableAllocator::kPoison) << "readers may still hold it";
  alloc_.ReleaseDeferred();
  EXPECT_EQ(alloc_.Find(*t)->state, TableState::kFree);
  EXPECT_EQ(alloc_.stats().pending, 0u);
  EXPECT_EQ(ByteAt(mem_, t->value()), TableAllocator::kPoison);
}

TEST_F(TableAllocatorTest, ExhaustionIsAStatusNotACrash) {
  absl::Status last;
  for (int i = 0; i < 100 && last.ok(); ++i) last = alloc_.Alloc(16, 1, 0).status();
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(last.message()).find("exhausted"), std::string::npos);
}

TEST_F(TableAllocatorTest, LiveTablesListsWhatLeaked) {
  auto a = alloc_.Alloc(12, 1, 0);
  auto b = alloc_.Alloc(5, 1, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  alloc_.Free(*a);
  EXPECT_EQ(alloc_.LiveTables(), std::vector<Oa>{*b});
}

TEST_F(TableAllocatorTest, DoubleFreeIsABrokenInvariant) {
  auto t = alloc_.Alloc(12, 1, 0);
  ASSERT_TRUE(t.ok());
  alloc_.Free(*t);
  EXPECT_DEATH(alloc_.Free(*t), "double free");
}

TEST(FrameTable, MapCountsFollowMapAndUnmap) {
  FrameTable f;
  f.OnMap(Oa(0x1000));
  f.OnMap(Oa(0x1000));
  f.OnMap(Oa(0x200000));
  EXPECT_EQ(f.TotalMapcount(), 3);
  f.OnUnmap(Oa(0x1000));
  EXPECT_EQ(f.Find(Oa(0x1000))->mapcount, 1);
  f.OnUnmap(Oa(0x5000));
  EXPECT_TRUE(f.AnyNegative()) << "unmapping what was never mapped shows";
}

}  // namespace
}  // namespace ptsim
