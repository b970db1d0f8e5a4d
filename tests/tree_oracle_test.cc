// The per-operation oracles check only what an operation could change
// (src/harness/tree_oracle.h); the whole tree is checked at the end of a
// run and every k operations. A corruption planted between two operations
// (through the observer, after the first one's checks held) is caught by
// the next operation when it lies in that operation's span, and otherwise
// by the whole-tree check: nothing goes unreported, only later.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "src/harness/executor.h"

namespace ptsim {
namespace {

// After operation 2, changes an entry on the walk of `va`, `up` levels
// above its leaf (0: the leaf itself): clears it, or flips the bits of
// `flip`.
class Plant : public ExecObserver {
 public:
  Plant(Va va, std::optional<uint64_t> flip, int up = 0) : va_(va), flip_(flip), up_(up) {}
  void AfterOp(int index, const Op&, const StepRecord&, const TablesView& t) override {
    if (index != 2) return;
    WalkTrace trace;
    const WalkResult w = t.format.Translate(t.mem, t.root, va_, Access{}, MmuOptions{.update_ad = false}, &trace);
    if (!w.ok) return;
    const WalkStep& at = trace.steps[trace.count - 1 - up_];
    const uint64_t raw = flip_ ? at.raw ^ *flip_ : 0;
    std::memcpy(t.mem->Writable(at.entry_addr), &raw, sizeof raw);
  }

 private:
  Va va_;
  std::optional<uint64_t> flip_;
  int up_;
};

// x86-64 entry bits (Intel SDM Vol. 3A, 4.5): U/S is bit 2, PS bit 7.
constexpr uint64_t kUserBit = uint64_t{1} << 2;
constexpr uint64_t kPageSizeBit = uint64_t{1} << 7;

// Two 4 KiB pages and a 2 MiB leaf in one 1 GiB region, two pages in
// another, the plant, then `last_op`.
ExecResult RunPlanted(Plant plant, const char* last_op, int whole_every = 0) {
  const auto p = ParseText(absl::StrCat(R"(
format x86_64_4level
map 0x0 0x1fff oa=0x100000 attrs=rw-u
map 0x200000 0x3fffff oa=0x400000 attrs=rw-u
map 0x80000000 0x80001fff oa=0x200000 attrs=rw-u
)",
                                        last_op, "\n"));
  EXPECT_TRUE(p.ok()) << p.status();
  Arena arena;
  ExecOptions opt;
  opt.observer = &plant;
  opt.whole_tree_every = whole_every;
  // One sampled translation per operation (of the first leaf), so the
  // tree checks, not the samples, are what find the planted change.
  opt.samples_per_op = 1;
  return Execute(*p, arena, opt);
}

constexpr const char* kProtectLow = "protect 0x1000 0x1fff attrs=r--u";

TEST(TreeOracle, ACorruptionInTheNextOperationsSpanIsCaughtThere) {
  const ExecResult r = RunPlanted(Plant(Va(0x1000), std::nullopt), kProtectLow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 3);
  EXPECT_EQ(r.divergence->check, "leaves");
}

TEST(TreeOracle, ACorruptionOutsideEverySpanIsCaughtByTheWholeTreeCheckAtTheEnd) {
  const ExecResult r = RunPlanted(Plant(Va(0x80001000), std::nullopt), kProtectLow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
  EXPECT_EQ(r.divergence->op_text, "whole-tree check at the end");
  EXPECT_EQ(r.divergence->check, "structure") << "the frames count a leaf the tables no longer have";
}

TEST(TreeOracle, AWholeTreeCheckEveryOperationCatchesItAtOnce) {
  const ExecResult r = RunPlanted(Plant(Va(0x80001000), std::nullopt), kProtectLow, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 3);
}

// An operation that changes nothing the model does not expect still has
// its span checked: the unmap of a leaf that was dropped under it agrees
// with the model, and the end's whole-tree check finds the frame that was
// never unmapped.
TEST(TreeOracle, AnAgreeingSpanDoesNotHideAMiscountedFrame) {
  const ExecResult r = RunPlanted(Plant(Va(0x1000), std::nullopt), "unmap 0x1000 0x1fff");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
  EXPECT_EQ(r.divergence->check, "structure");
}

// A leaf with the wrong U/S encoding: the leaves differ from the model's,
// in the span (a split passes it on to the pieces the protect keeps) or at
// the end.
TEST(TreeOracle, AWrongUserBitIsCaughtInTheSpanOrAtTheEnd) {
  ExecResult r = RunPlanted(Plant(Va(0x200000), kUserBit), "protect 0x200000 0x200fff attrs=r--u");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 3);
  EXPECT_EQ(r.divergence->check, "leaves");
  r = RunPlanted(Plant(Va(0x80001000), kUserBit), kProtectLow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
  EXPECT_EQ(r.divergence->check, "leaves");
}

// PS moved into the directory entry above a page table: the entry becomes
// a 2 MiB leaf, and the page table is live but no longer reachable.
TEST(TreeOracle, AMovedPageSizeBitIsCaughtInTheSpanOrAtTheEnd) {
  ExecResult r = RunPlanted(Plant(Va(0x1000), kPageSizeBit, /*up=*/1), kProtectLow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 3);
  r = RunPlanted(Plant(Va(0x80001000), kPageSizeBit, /*up=*/1), kProtectLow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
}

TEST(TreeOracle, WithoutCorruptionEveryCheckHolds) {
  const ExecResult r = RunPlanted(Plant(Va(0x5000) /* never mapped: nothing planted */, std::nullopt),
                                  "unmap 0x1000 0x1fff");
  EXPECT_TRUE(r.ok()) << r.divergence->check;
}

}  // namespace
}  // namespace ptsim
