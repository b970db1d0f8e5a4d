// The per-operation oracles check only what an operation could change
// (src/harness/tree_oracle.h); the whole tree is checked at the end of a
// run and every k operations. A corruption planted between two operations
// (through the observer, after the first one's checks held) is caught by
// the next operation when it lies in that operation's span, and otherwise
// by the whole-tree check: nothing goes unreported, only later.
#include <gtest/gtest.h>

#include <cstring>

#include "absl/strings/str_cat.h"

#include "src/harness/executor.h"

namespace ptsim {
namespace {

// Clears the leaf entry that maps `va`, if any, after operation `after`.
class DropLeaf : public ExecObserver {
 public:
  DropLeaf(int after, Va va) : after_(after), va_(va) {}
  void AfterOp(int index, const Op&, const StepRecord&, const TablesView& t) override {
    if (index != after_) return;
    WalkTrace trace;
    const WalkResult w = t.format.Translate(t.mem, t.root, va_, Access{}, MmuOptions{.update_ad = false}, &trace);
    if (!w.ok) return;
    std::memset(t.mem->Writable(trace.steps[trace.count - 1].entry_addr), 0, 8);
  }

 private:
  int after_;
  Va va_;
};

ExecResult RunPlanted(Va dropped, const char* last_op, int whole_every) {
  const auto p = ParseText(absl::StrCat(R"(
format x86_64_4level
map 0x0 0x1fff oa=0x100000 attrs=rw-u
map 0x40000000 0x40001fff oa=0x200000 attrs=rw-u
)",
                                        last_op, "\n"));
  EXPECT_TRUE(p.ok()) << p.status();
  Arena arena;
  DropLeaf plant(1, dropped);
  ExecOptions opt;
  opt.observer = &plant;
  opt.whole_tree_every = whole_every;
  // One sampled translation per operation (of the first leaf), so the
  // tree checks, not the samples, are what find the planted change.
  opt.samples_per_op = 1;
  return Execute(*p, arena, opt);
}

TEST(TreeOracle, ACorruptionInTheNextOperationsSpanIsCaughtThere) {
  const ExecResult r = RunPlanted(Va(0x1000), "protect 0x1000 0x1fff attrs=r--u", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 2);
  EXPECT_EQ(r.divergence->check, "leaves");
}

TEST(TreeOracle, ACorruptionOutsideEverySpanIsCaughtByTheWholeTreeCheckAtTheEnd) {
  const ExecResult r = RunPlanted(Va(0x40001000), "protect 0x1000 0x1fff attrs=r--u", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
  EXPECT_EQ(r.divergence->op_text, "whole-tree check at the end");
  EXPECT_EQ(r.divergence->check, "structure") << "the frames count a leaf the tables no longer have";
}

TEST(TreeOracle, AWholeTreeCheckEveryOperationCatchesItAtOnce) {
  const ExecResult r = RunPlanted(Va(0x40001000), "protect 0x1000 0x1fff attrs=r--u", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, 2);
}

// An operation that changes nothing the model does not expect still has
// its span checked: the unmap of a leaf that was dropped under it agrees
// with the model, and the end's whole-tree check finds the frame that was
// never unmapped.
TEST(TreeOracle, AnAgreeingSpanDoesNotHideAMiscountedFrame) {
  const ExecResult r = RunPlanted(Va(0x1000), "unmap 0x1000 0x1fff", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.divergence->op_index, -1);
  EXPECT_EQ(r.divergence->check, "structure");
}

TEST(TreeOracle, WithoutCorruptionEveryCheckHolds) {
  const ExecResult r = RunPlanted(Va(0x5000) /* never mapped: nothing dropped */, "unmap 0x1000 0x1fff", 0);
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace ptsim
