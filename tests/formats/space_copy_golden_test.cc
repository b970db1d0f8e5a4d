// fork's source side as a sequential Space operation (src/ops/space.h's
// Copy, space_leaves.h's CopyLeaf): the leaves handed to the child, the
// write protection left in the parent, and the frames the child shares.
// The racing side is the same code under ConcSync (tests/race_test.cc).
// Exact leaves of two formats, hence among the golden tests.
#include <gtest/gtest.h>

#include <vector>

#include "src/formats/armv8.h"
#include "src/formats/x86_64.h"
#include "src/harness/executor.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/ops/space.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using golden::Attrs;
using golden::Make;
using fmt::ArmV8S1_4K;
using fmt::X86_64L4;

template <typename F>
std::vector<CopiedLeaf> CopyOf(Space<F>& s, uint64_t first, uint64_t last) {
  std::vector<CopiedLeaf> out;
  EXPECT_TRUE(s.Copy({Va(first), Va(last)}, [&](const CopiedLeaf& c) { out.push_back(c); }).ok());
  return out;
}

// A range that covers a 2 MiB leaf in part hands it over whole; a writable
// leaf is write-protected in the parent and shared, a read-only one shared
// as it is, and a leaf outside the range is left alone.
TEST(SpaceCopy, LeavesGoWholeWritableOnesAreWriteProtectedInTheParent) {
  Arena arena;
  const auto f = Make<X86_64L4>();
  Space<X86_64L4> s(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(s.Init().ok());
  ASSERT_TRUE(s.Map({Va(0x200000), Va(0x3fffff)}, Oa(0x40000000), Attrs("rw-u")).ok());
  ASSERT_TRUE(s.Map({Va(0x400000), Va(0x401fff)}, Oa(0x50000000), Attrs("r--u")).ok());
  ASSERT_TRUE(Translate(f, &arena.mem(), s.root(), Va(0x200000), Access{AccessType::kWrite, true}).ok);

  const std::vector<CopiedLeaf> got = CopyOf(s, 0x300000, 0x400fff);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].va, Va(0x200000));
  EXPECT_EQ(got[0].size_lg2, 21u);
  EXPECT_EQ(got[0].oa, Oa(0x40000000));
  EXPECT_FALSE(got[0].attrs.Has(Attr::kWrite));
  EXPECT_TRUE(got[0].attrs.Has(Attr::kUser));
  EXPECT_TRUE(got[0].ref_taken);
  EXPECT_EQ(got[1].va, Va(0x400000));
  EXPECT_EQ(got[1].size_lg2, 12u);
  EXPECT_EQ(got[1].oa, Oa(0x50000000));

  const WalkResult w = Translate(f, &arena.mem(), s.root(), Va(0x3ff000), Access{AccessType::kWrite, true});
  EXPECT_FALSE(w.ok) << "the parent's leaf is read-only until the copy-on-write fault";
  EXPECT_TRUE(Translate(f, &arena.mem(), s.root(), Va(0x3ff000), Access{AccessType::kRead, true}).ok);
  // The child's references: one more map of each shared frame, none of the
  // leaf outside the range.
  EXPECT_EQ(arena.frames().Find(Oa(0x40000000))->mapcount, 2);
  EXPECT_EQ(arena.frames().Find(Oa(0x50000000))->mapcount, 2);
  EXPECT_EQ(arena.frames().Find(Oa(0x50001000))->mapcount, 1);
  EXPECT_TRUE(CheckTree(f, &arena.mem(), arena.alloc(), s.root(), 1).ok());
  s.Destroy();
}

// An ARM contiguous group is copied once and all its entries are
// write-protected together, each keeping its own accessed/dirty state, so
// the group stays consistent.
TEST(SpaceCopy, AGroupIsWriteProtectedWholeAndKeepsItsEntriesOwnBits) {
  Arena arena;
  const auto f = Make<ArmV8S1_4K>({"va_bits=39", "contig=1"});
  Space<ArmV8S1_4K> s(f, SpaceEnv{&arena.mem(), &arena.alloc(), &arena.frames(), nullptr, 1});
  ASSERT_TRUE(s.Init().ok());
  ASSERT_TRUE(s.Map({Va(0x40010000), Va(0x4001ffff)}, Oa(0x80000000), Attrs("rw-u")).ok());
  // A write through entry 5 sets its own access flag and dirty state.
  ASSERT_TRUE(Translate(f, &arena.mem(), s.root(), Va(0x40015000), Access{AccessType::kWrite, true},
                        MmuOptions{.update_ad = true})
                  .ok);

  const std::vector<CopiedLeaf> got = CopyOf(s, 0x40014000, 0x40014fff);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].va, Va(0x40010000));
  EXPECT_EQ(got[0].size_lg2, 16u);
  EXPECT_FALSE(got[0].attrs.Has(Attr::kWrite));

  auto stats = CheckTree(f, &arena.mem(), arena.alloc(), s.root(), 1);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->leaves, 1u);
  for (uint64_t va = 0x40010000; va < 0x40020000; va += 0x1000) {
    WalkTrace trace;
    const WalkResult w = Translate(f, &arena.mem(), s.root(), Va(va), Access{AccessType::kRead, true},
                                   MmuOptions{.update_ad = false}, &trace);
    ASSERT_TRUE(w.ok);
    EXPECT_FALSE(w.t.attrs.Has(Attr::kWrite)) << std::hex << va;
    const LeafAttrs own = f.DecodeAttrs(trace.steps[trace.count - 1].raw, Level(0));
    EXPECT_EQ(own.Has(Attr::kAccessed), va == 0x40015000) << std::hex << va;
  }
  s.Destroy();
}

}  // namespace
}  // namespace ptsim
