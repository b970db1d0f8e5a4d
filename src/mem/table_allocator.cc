#include "src/mem/table_allocator.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/base/log2.h"

namespace ptsim {

const char* TableStateName(TableState s) {
  switch (s) {
    case TableState::kLive:
      return "live";
    case TableState::kPendingFree:
      return "pending-free";
    case TableState::kFree:
      return "free";
  }
  return "?";
}

TableAllocator::TableAllocator(PhysMem* mem, OaRange region)
    : mem_(mem), region_(region), bump_(region.first.value()), free_lists_(kMaxSizeLg2 + 1) {
  PTSIM_CHECK(mem->Contains(region.first, region.SizeMinusOne() + 1),
              "table region [%#x, %#x] outside memory", region.first.value(), region.last.value());
}

absl::StatusOr<Oa> TableAllocator::Alloc(unsigned size_lg2, uint32_t owner, int level) {
  PTSIM_CHECK(size_lg2 >= kMinSizeLg2 && size_lg2 <= kMaxSizeLg2, "table size 2^%d unsupported", size_lg2);
  uint64_t at;
  auto& list = free_lists_[size_lg2];
  if (!list.empty()) {
    at = list.back();
    list.pop_back();
  } else {
    const uint64_t aligned = AlignDown(bump_ + LowMask(size_lg2), size_lg2);
    const uint64_t size = Lg2ToSize(size_lg2);
    if (aligned < bump_ || aligned > region_.last.value() || region_.last.value() - aligned < size - 1) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "table memory exhausted: no room for a %d-byte table in [%#x, %#x] (%d tables live)", size,
          region_.first.value(), region_.last.value(), stats_.live));
    }
    at = aligned;
    bump_ = aligned + size;
  }
  mem_->Fill(Oa(at), Lg2ToSize(size_lg2), 0);
  TableMeta& m = meta_[at];
  m.owner = owner;
  m.level = static_cast<int8_t>(level);
  m.size_lg2 = static_cast<uint8_t>(size_lg2);
  m.state = TableState::kLive;
  ++stats_.allocs;
  ++stats_.live;
  stats_.live_bytes += Lg2ToSize(size_lg2);
  stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
  return Oa(at);
}

TableMeta& TableAllocator::MustFind(Oa table, const char* what) {
  auto it = meta_.find(table.value());
  PTSIM_CHECK(it != meta_.end(), "%s of %#x: not a table", what, table.value());
  return it->second;
}

void TableAllocator::DoFree(Oa table, TableMeta& m) {
  mem_->Fill(table, Lg2ToSize(m.size_lg2), kPoison);
  m.state = TableState::kFree;
  ++m.generation;
  ++stats_.frees;
  quarantine_.push_back(table.value());
  if (quarantine_.size() > kQuarantine) {
    const uint64_t reuse = quarantine_.front();
    quarantine_.pop_front();
    free_lists_[meta_[reuse].size_lg2].push_back(reuse);
  }
}

void TableAllocator::Free(Oa table) {
  TableMeta& m = MustFind(table, "free");
  PTSIM_CHECK(m.state == TableState::kLive, "free of %#x: table is %s (double free)", table.value(),
              TableStateName(m.state));
  --stats_.live;
  stats_.live_bytes -= Lg2ToSize(m.size_lg2);
  DoFree(table, m);
}

void TableAllocator::FreeDeferred(Oa table) {
  TableMeta& m = MustFind(table, "deferred free");
  PTSIM_CHECK(m.state == TableState::kLive, "deferred free of %#x: table is %s (double free)",
              table.value(), TableStateName(m.state));
  m.state = TableState::kPendingFree;
  --stats_.live;
  stats_.live_bytes -= Lg2ToSize(m.size_lg2);
  ++stats_.pending;
  pending_.push_back(table.value());
}

void TableAllocator::ReleaseDeferred() {
  for (uint64_t t : pending_) {
    TableMeta& m = meta_[t];
    --stats_.pending;
    DoFree(Oa(t), m);
  }
  pending_.clear();
}

const TableMeta* TableAllocator::Find(Oa table) const {
  auto it = meta_.find(table.value());
  return it == meta_.end() ? nullptr : &it->second;
}

bool TableAllocator::IsLive(Oa table) const {
  const TableMeta* m = Find(table);
  return m != nullptr && m->state == TableState::kLive;
}

std::vector<Oa> TableAllocator::LiveTables() const {
  std::vector<Oa> out;
  for (const auto& [at, m] : meta_) {
    if (m.state == TableState::kLive) out.push_back(Oa(at));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void TableAllocator::Reset() {
  bump_ = region_.first.value();
  meta_.clear();
  for (auto& l : free_lists_) l.clear();
  quarantine_.clear();
  pending_.clear();
  stats_ = {};
}

}  // namespace ptsim
