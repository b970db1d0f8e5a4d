// Frame metadata for data pages: the `struct page` analogue. Only leaves'
// output frames have it; table frames are the allocator's business.
//
// Counts are kept per leaf head frame (a 2 MiB leaf is one compound frame,
// as a huge page is one folio), which keeps a 1 GiB mapping O(1). What a
// page cache keeps of a frame (dirty, locked, content version) is
// src/pagemap/file_frame.h's, for the frames that cache file pages.
#ifndef PTSIM_MEM_FRAMES_H_
#define PTSIM_MEM_FRAMES_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "src/base/addr.h"

namespace ptsim {

struct FrameMeta {
  int64_t refcount = 0;  // references: mappings, GUP references, pins
  int64_t mapcount = 0;  // leaves mapping it
  int64_t pincount = 0;  // FOLL_PIN-style pins
};

class FrameTable {
 public:
  FrameMeta& Get(Oa head) { return frames_[head.value()]; }
  const FrameMeta* Find(Oa head) const {
    auto it = frames_.find(head.value());
    return it == frames_.end() ? nullptr : &it->second;
  }
  void OnMap(Oa head) {
    FrameMeta& f = Get(head);
    if (++f.mapcount == 0) --negative_maps_;
    ++f.refcount;
    ++total_mapcount_;
  }
  void OnUnmap(Oa head) {
    FrameMeta& f = Get(head);
    if (--f.mapcount == -1) ++negative_maps_;
    --f.refcount;
    --total_mapcount_;
  }
  // Sum of map counts over all frames: equals the number of leaves mapped.
  // Kept as it changes, so checking it after every operation costs nothing.
  int64_t TotalMapcount() const { return total_mapcount_; }
  // Whether some frame was unmapped more often than mapped.
  bool AnyMapcountNegative() const { return negative_maps_ != 0; }
  bool AnyNegative() const {
    for (const auto& [_, f] : frames_) {
      if (f.mapcount < 0 || f.refcount < 0 || f.pincount < 0) return true;
    }
    return false;
  }
  // Unordered; callers that print sort first.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [head, f] : frames_) fn(Oa(head), f);
  }
  void Reset() {
    frames_.clear();
    total_mapcount_ = 0;
    negative_maps_ = 0;
  }

 private:
  absl::flat_hash_map<uint64_t, FrameMeta> frames_;
  int64_t total_mapcount_ = 0;  // map counts change only through OnMap / OnUnmap
  int64_t negative_maps_ = 0;   // frames whose map count is below zero
};

}  // namespace ptsim

#endif  // PTSIM_MEM_FRAMES_H_
