#include "src/conc/history.h"

#include <algorithm>
#include <iterator>

#include "absl/container/btree_map.h"
#include "absl/strings/str_format.h"

namespace ptsim {

std::string Mapping::ToString() const {
  return absl::StrFormat("va 0x%x size 2^%u -> oa 0x%x %s", va, size_lg2, oa,
                         AttrsToString(LeafAttrs::FromBits(perms)));
}

uint8_t PermBits(LeafAttrs a) {
  LeafAttrs p;
  for (Attr x : {Attr::kRead, Attr::kWrite, Attr::kExec, Attr::kUser}) p = p.With(x, a.Has(x));
  return p.bits();
}

uint64_t History::Install(int key, uint64_t time, const Mapping& m, bool cow) {
  const uint64_t version = events_.size() + 1;
  events_.push_back({time, key, true, m, version, cow});
  return version;
}

uint64_t History::Clear(int key, uint64_t time, uint64_t va, unsigned size_lg2) {
  const uint64_t version = events_.size() + 1;
  events_.push_back({time, key, false, Mapping{va, size_lg2, 0, 0}, version});
  return version;
}

void History::Settle(uint64_t version, uint64_t time) { events_[version - 1].settled = time; }

namespace {
bool Covers(const Mapping& m, uint64_t va) {
  const uint64_t last = m.va + ((uint64_t{1} << m.size_lg2) - 1);
  return va >= m.va && va <= last;
}
}  // namespace

// Linear on purpose: programs are small, and a naive oracle is easy to trust.
const HistoryEvent* History::At(int key, uint64_t va, uint64_t time) const {
  const HistoryEvent* found = nullptr;
  for (const HistoryEvent& e : events_) {
    if (e.time > time) break;
    if (e.key == key && Covers(e.m, va)) found = &e;
  }
  return found;
}

std::vector<const HistoryEvent*> History::InForce(int key, uint64_t va, uint64_t t0, uint64_t t1) const {
  std::vector<const HistoryEvent*> out = {At(key, va, t0)};
  for (const HistoryEvent& e : events_) {
    if (e.time > t1) break;
    if (e.time > t0 && e.key == key && Covers(e.m, va)) out.push_back(&e);
  }
  std::vector<const HistoryEvent*> before;
  for (const HistoryEvent* e : out) {
    if (e == nullptr || e->settled < t0 || e->settled == 0) continue;
    const HistoryEvent* prev = nullptr;
    for (const HistoryEvent* p = events_.data(); p != e; ++p)
      if (p->key == key && Covers(p->m, va)) prev = p;
    before.push_back(prev);
  }
  out.insert(out.begin(), before.begin(), before.end());
  return out;
}

const HistoryEvent* History::Current(int key, uint64_t va) const {
  return At(key, va, UINT64_MAX);
}

std::vector<Mapping> History::Live(int key) const {
  // Replay: a leaf base maps to its mapping; a clear removes whatever it
  // covered, and an install replaces whatever it overlaps.
  absl::btree_map<uint64_t, Mapping> live;
  for (const HistoryEvent& e : events_) {
    if (e.key != key) continue;
    const uint64_t first = e.m.va;
    const uint64_t last = first + ((uint64_t{1} << e.m.size_lg2) - 1);
    // Live mappings are disjoint and sorted, so those overlapping
    // [first, last] are the ones just before the first starting after
    // `last`, back to the first that ends before `first`: a split into
    // thousands of pieces stays linear, not quadratic.
    for (auto it = live.upper_bound(last); it != live.begin();) {
      const auto prev = std::prev(it);
      const uint64_t ll = prev->second.va + ((uint64_t{1} << prev->second.size_lg2) - 1);
      if (ll < first) break;
      it = live.erase(prev);
    }
    if (e.present) live[first] = e.m;
  }
  std::vector<Mapping> out;
  for (const auto& [_, m] : live) out.push_back(m);
  return out;
}

}  // namespace ptsim
