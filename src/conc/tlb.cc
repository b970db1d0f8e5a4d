#include "src/conc/tlb.h"

#include <algorithm>

namespace ptsim {
namespace {

uint64_t LastOf(const Mapping& m) { return m.va + ((uint64_t{1} << m.size_lg2) - 1); }

bool Overlaps(const TlbEntry& e, int key, uint64_t first, uint64_t last) {
  return e.key == key && e.m.va <= last && first <= LastOf(e.m);
}

}  // namespace

std::optional<TlbEntry> Tlb::Lookup(int key, uint64_t va) const {
  std::lock_guard<std::mutex> lk(mu_);
  for (const TlbEntry& e : entries_)
    if (Overlaps(e, key, va, va)) return e;
  return std::nullopt;
}

void Tlb::Insert(const TlbEntry& e) {
  std::lock_guard<std::mutex> lk(mu_);
  std::erase_if(entries_, [&](const TlbEntry& o) { return Overlaps(o, e.key, e.m.va, LastOf(e.m)); });
  if (entries_.size() >= kCapacity) entries_.erase(entries_.begin());
  entries_.push_back(e);
}

void Tlb::FlushRange(int key, uint64_t first, uint64_t last) {
  std::lock_guard<std::mutex> lk(mu_);
  std::erase_if(entries_, [&](const TlbEntry& o) { return Overlaps(o, key, first, last); });
}

void Tlb::FlushAll() {
  std::lock_guard<std::mutex> lk(mu_);
  entries_.clear();
}

std::vector<TlbEntry> Tlb::Entries() const {
  std::lock_guard<std::mutex> lk(mu_);
  return entries_;
}

}  // namespace ptsim
