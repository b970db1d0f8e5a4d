// The concurrent runs' history (src/conc/history.h): what Live() replays,
// and which events InForce() counts for a reader's window.
#include "src/conc/history.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace ptsim {
namespace {

Mapping M(uint64_t va, unsigned lg2, uint64_t oa) { return Mapping{va, lg2, oa, 0x3}; }

// An install replaces whatever it overlaps, a clear removes what it covers;
// the others stay. Checked against the naive replay the oracle used before
// (every live mapping scanned per event), over a split into 512 pieces.
TEST(History, LiveReplaysInstallsAndClears) {
  History h;
  uint64_t t = 0;
  h.Install(0, ++t, M(0x0, 21, 0x40000000));
  h.Install(0, ++t, M(0x400000, 12, 0x50000000));
  h.Install(1, ++t, M(0x0, 12, 0x60000000));  // another key: untouched
  h.Clear(0, ++t, 0x0, 21);
  for (uint64_t i = 0; i < 512; ++i) h.Install(0, ++t, M(i << 12, 12, 0x40000000 + (i << 12)));
  h.Install(0, ++t, M(0x3000, 12, 0x70000000));  // replaces one piece
  h.Clear(0, ++t, 0x10000, 16);                  // removes sixteen
  h.Install(0, ++t, M(0x0, 21, 0x80000000));     // replaces the pieces left, not 0x400000

  std::vector<Mapping> want = {M(0x0, 21, 0x80000000), M(0x400000, 12, 0x50000000)};
  EXPECT_EQ(h.Live(0), want);
  EXPECT_EQ(h.Live(1), std::vector<Mapping>{M(0x0, 12, 0x60000000)});

  History g;
  t = 0;
  for (uint64_t i = 0; i < 512; ++i) g.Install(0, ++t, M(i << 12, 12, i << 12));
  g.Clear(0, ++t, 0x1000, 12);
  g.Clear(0, ++t, 0x1ff000, 12);
  const std::vector<Mapping> live = g.Live(0);
  ASSERT_EQ(live.size(), 510u);
  EXPECT_EQ(live.front().va, 0x0u);
  EXPECT_EQ(live[1].va, 0x2000u);
  EXPECT_EQ(live.back().va, 0x1fe000u);
}

// A replicated leaf written entry by entry: while it is unsettled, and for
// a reader whose window reaches into that span, what it replaced counts
// as in force too; after it settled, not.
TEST(History, AnUnsettledEventKeepsItsPredecessorInForce) {
  History h;
  const uint64_t old_v = h.Install(0, 10, M(0x0, 16, 0x40000000));
  const uint64_t new_v = h.Install(0, 20, Mapping{0x0, 16, 0x40000000, 0x1});
  h.Settle(new_v, UINT64_MAX);
  auto versions = [&](uint64_t t0, uint64_t t1) {
    std::vector<uint64_t> v;
    for (const HistoryEvent* e : h.InForce(0, 0x8000, t0, t1)) v.push_back(e == nullptr ? 0 : e->version);
    return v;
  };
  EXPECT_EQ(versions(25, 30), (std::vector<uint64_t>{old_v, new_v}));
  h.Settle(new_v, 28);
  EXPECT_EQ(versions(25, 30), (std::vector<uint64_t>{old_v, new_v}));
  EXPECT_EQ(versions(29, 30), std::vector<uint64_t>{new_v});
  // A first install has no predecessor: nothing (null) was in force.
  History g;
  const uint64_t first = g.Install(0, 5, M(0x0, 16, 0x40000000));
  g.Settle(first, UINT64_MAX);
  const std::vector<const HistoryEvent*> in = g.InForce(0, 0x0, 6, 7);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0], nullptr);
  EXPECT_EQ(in[1]->version, first);
}

}  // namespace
}  // namespace ptsim
