// A file's backing store, reduced to what the page-map oracles need: for each
// page index, the content version last written back (0 for a page never
// written, the file's initial contents). Filling a cached page copies the
// store's version into the frame; writing it back copies the frame's version
// into the store. A page freed with a version the store does not have is a
// write that was lost.
#ifndef PTSIM_PAGEMAP_BACKING_STORE_H_
#define PTSIM_PAGEMAP_BACKING_STORE_H_

#include <cstdint>
#include <mutex>

#include "absl/container/btree_map.h"
#include "src/base/check.h"
#include "src/pagemap/file_frame.h"
#include "src/sched/sync.h"

namespace ptsim {

class BackingStore {
 public:
  uint64_t VersionOf(uint64_t index) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = versions_.find(index);
    return it == versions_.end() ? 0 : it->second;
  }

  // readpage: the frame now holds what the store has. The caller holds the
  // page lock and has checked the page is not up to date, so a page is filled
  // once and a fill never overwrites a write made after it.
  void Fill(Machine& m, uint64_t index, FileFrame& f) {
    PTSIM_CHECK(f.locked.load(std::memory_order_relaxed), "frame 0x%x filled without its page lock", f.frame());
    PTSIM_CHECK(!f.up_to_date.load(std::memory_order_relaxed), "frame 0x%x filled twice", f.frame());
    m.rt().Point(PointKind::kStore, f.frame());
    f.version.store(VersionOf(index), std::memory_order_release);
    f.up_to_date.store(true, std::memory_order_release);
    std::lock_guard<std::mutex> lk(mu_);
    ++fills_;
  }

  // writepage, under the page lock so two write-backs of one page cannot
  // store their versions out of order. The dirty flag is cleared before the
  // version is read: a write landing after the read marks the page dirty again
  // and is written back later, so clearing it can cost an extra write-back but
  // never a write.
  void WriteBack(Machine& m, uint64_t index, FileFrame& f) {
    f.Lock(m);
    m.rt().Point(PointKind::kStore, f.frame());
    f.dirty.store(false, std::memory_order_release);
    m.rt().Point(PointKind::kStore, f.frame());
    const uint64_t v = f.version.load(std::memory_order_acquire);
    {
      std::lock_guard<std::mutex> lk(mu_);
      versions_[index] = v;
      ++write_backs_;
    }
    f.Unlock(m);
  }

  // Quiescent check for a page about to be freed: the store holds every write
  // the page received. A page never written since its fill holds the store's
  // version already, which is why no separate "clean" case is needed.
  bool NoWriteLost(uint64_t index, const FileFrame& f) const {
    return f.version.load(std::memory_order_acquire) == VersionOf(index);
  }

  // Quiescent counters, for oracles and tests.
  uint64_t fills() const {
    std::lock_guard<std::mutex> lk(mu_);
    return fills_;
  }
  uint64_t write_backs() const {
    std::lock_guard<std::mutex> lk(mu_);
    return write_backs_;
  }

 private:
  mutable std::mutex mu_;
  absl::btree_map<uint64_t, uint64_t> versions_;
  uint64_t fills_ = 0;
  uint64_t write_backs_ = 0;
};

}  // namespace ptsim

#endif  // PTSIM_PAGEMAP_BACKING_STORE_H_
