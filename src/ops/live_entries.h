// Which entries of its tables a Space has written with a non-zero value, one
// bit per entry, kept up to date by Space's single store function. With it,
// removing a whole tree and asking whether a table has become empty cost
// what is mapped rather than every entry of every table: an ARM 64K-granule
// table has 8,192 entries, and fuzz inputs use a handful of them.
//
// The bits are exact for what Space writes. Stores that bypass Space (a
// hardware walk's accessed/dirty update, a test corrupting an entry) never
// turn an empty entry into a non-empty one or back, except in tests that
// corrupt tables on purpose, and those read the tables with the inspect.h
// walks, not with this. A table this index does not know (not allocated by
// the Space) is reported as unknown, and callers then scan all of it.
#ifndef PTSIM_OPS_LIVE_ENTRIES_H_
#define PTSIM_OPS_LIVE_ENTRIES_H_

#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "src/base/addr.h"

namespace ptsim {

class LiveEntries {
 public:
  LiveEntries() = default;
  // A copy shares nothing with the original, not even the lookup cache.
  LiveEntries(const LiveEntries& o) : tables_(o.tables_) {}
  LiveEntries& operator=(const LiveEntries& o) {
    tables_ = o.tables_;
    last_ = nullptr;
    return *this;
  }

  // A new, zeroed table of 2^index_lg2 entries of 2^entry_lg2 bytes.
  void OnAlloc(Oa table, unsigned index_lg2, unsigned entry_lg2) {
    Table& t = tables_[table.value()];
    t.base = table.value();
    t.entry_lg2 = entry_lg2;
    t.bytes = uint64_t{1} << (index_lg2 + entry_lg2);
    t.bits.assign(((uint64_t{1} << index_lg2) + 63) / 64, 0);
    t.count = 0;
    last_ = nullptr;
  }
  void OnFree(Oa table) {
    tables_.erase(table.value());
    last_ = nullptr;
  }
  // The entry at `addr` now holds a non-zero value, or zero.
  void OnStore(Oa addr, bool nonzero) {
    Table* t = Find(addr.value());
    if (t == nullptr) return;
    const uint64_t i = (addr.value() - t->base) >> t->entry_lg2;
    uint64_t& word = t->bits[i / 64];
    const uint64_t bit = uint64_t{1} << (i % 64);
    if (nonzero && (word & bit) == 0) ++t->count;
    if (!nonzero && (word & bit) != 0) --t->count;
    word = nonzero ? word | bit : word & ~bit;
  }
  // Whether every entry of `table` is zero; nullopt for an unknown table.
  std::optional<bool> Empty(Oa table) const {
    const auto it = tables_.find(table.value());
    if (it == tables_.end()) return std::nullopt;
    return it->second.count == 0;
  }
  // Calls fn(index) for every non-zero entry of `table` in ascending order,
  // as the entries were when the call began (fn may clear entries and free
  // other tables, not allocate). False, calling nothing, for an unknown table.
  template <typename Fn>
  bool ForEach(Oa table, Fn&& fn) {
    const auto it = tables_.find(table.value());
    if (it == tables_.end()) return false;
    const std::vector<uint64_t> bits = it->second.bits;  // fn changes the live ones
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t b = bits[w]; b != 0; b &= b - 1) fn(w * 64 + static_cast<uint64_t>(std::countr_zero(b)));
    }
    return true;
  }

 private:
  struct Table {
    uint64_t base = 0;
    uint64_t bytes = 0;
    unsigned entry_lg2 = 0;
    std::vector<uint64_t> bits;
    uint64_t count = 0;  // bits set
  };

  // The table holding `addr`: the last one found (stores come in runs into
  // one table), else the one with the greatest base at or below it.
  Table* Find(uint64_t addr) {
    if (last_ != nullptr && addr - last_->base < last_->bytes) return last_;
    auto it = tables_.upper_bound(addr);
    if (it == tables_.begin()) return nullptr;
    --it;
    if (addr - it->first >= it->second.bytes) return nullptr;
    last_ = &it->second;
    return last_;
  }

  std::map<uint64_t, Table> tables_;  // by base; nodes stay put while others come and go
  Table* last_ = nullptr;
};

}  // namespace ptsim

#endif  // PTSIM_OPS_LIVE_ENTRIES_H_
