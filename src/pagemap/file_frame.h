// What the simulated machine knows about a frame that caches a file page: the
// `struct page` flags a page cache uses, and a content version standing in for
// the bytes. Every simulated write bumps the version; a write-back records it in
// the backing store (backing_store.h); so "no write was lost" is an equality of
// two numbers instead of a comparison of page contents.
//
// Records live in FileFrames, keyed by frame number, and are never destroyed
// while it lives: a record is reset when its frame caches a page again. A stale
// reference (a TLB entry or a PTE outlasting the page's removal) therefore still
// reads a valid record, whose `in_map` is false, which is what an oracle looks
// for instead of a use-after-free in ptsim itself.
#ifndef PTSIM_PAGEMAP_FILE_FRAME_H_
#define PTSIM_PAGEMAP_FILE_FRAME_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/container/btree_map.h"
#include "src/base/check.h"
#include "src/sched/sync.h"

namespace ptsim {

class FileFrame {
 public:
  explicit FileFrame(uint64_t frame) : frame_(frame) {}
  FileFrame(const FileFrame&) = delete;
  FileFrame& operator=(const FileFrame&) = delete;

  uint64_t frame() const { return frame_; }

  // The page lock: held while a page is filled from, or written back to, the
  // backing store, so a fill happens once and write-backs of one page do not
  // overtake each other. A waiter is a Runtime wait, so a lost unlock shows up
  // as a deadlock report.
  void Lock(Machine& m) {
    for (;;) {
      m.rt().Point(PointKind::kLock, frame_);
      bool expected = false;
      if (locked.compare_exchange_strong(expected, true, std::memory_order_acquire)) return;
      m.rt().WaitUntil({WaitKind::kLock, frame_}, [&] { return !locked.load(std::memory_order_relaxed); });
    }
  }
  void Unlock(Machine& m) {
    PTSIM_CHECK(locked.load(std::memory_order_relaxed), "frame 0x%x unlocked while not locked", frame_);
    locked.store(false, std::memory_order_release);
    m.rt().Point(PointKind::kUnlock, frame_);
  }

  // One simulated store to the page's bytes. A store through a PTE is recorded
  // as dirty by the PTE's dirty bit, which the remover folds into `dirty`; a
  // write() system call marks the frame itself (MarkDirty).
  void WriteContents(Machine& m) {
    m.rt().Point(PointKind::kStore, frame_);
    version.fetch_add(1, std::memory_order_acq_rel);
  }
  void MarkDirty(Machine& m) {
    m.rt().Point(PointKind::kStore, frame_);
    dirty.store(true, std::memory_order_release);
  }

  // A fresh page for `index`, not yet filled. Only for a frame no one else can
  // reach yet (just allocated, not in any map).
  void ResetFor(uint64_t index) {
    file_index.store(index, std::memory_order_relaxed);
    up_to_date.store(false, std::memory_order_relaxed);
    dirty.store(false, std::memory_order_relaxed);
    removal.store(false, std::memory_order_relaxed);
    version.store(0, std::memory_order_relaxed);
    in_map.store(true, std::memory_order_release);
  }

  std::atomic<uint64_t> file_index{0};  // the file page it caches, while in_map
  std::atomic<bool> in_map{false};      // cached in a page map (a removal clears it)
  std::atomic<bool> up_to_date{false};  // filled from the backing store
  std::atomic<bool> locked{false};      // the page lock (Lock / Unlock)
  std::atomic<bool> dirty{false};       // written since its last write-back
  std::atomic<bool> removal{false};     // a remover marked it; lets PTE walks pick its pages
  std::atomic<uint64_t> version{0};     // bumped by every write to the contents

 private:
  const uint64_t frame_;
};

// Every file frame's record, by frame number. Lookups may come from any CPU at
// any time (a write through a PTE), so the index is behind a mutex; no
// scheduling point is taken while it is held. Ordered, so the quiescent walk is
// deterministic.
class FileFrames {
 public:
  FileFrame& Get(uint64_t frame) {
    PTSIM_CHECK(frame != 0, "frame 0 is never a file page");
    std::lock_guard<std::mutex> lk(mu_);
    std::unique_ptr<FileFrame>& rec = frames_[frame];
    if (rec == nullptr) rec = std::make_unique<FileFrame>(frame);
    return *rec;
  }
  FileFrame* Find(uint64_t frame) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = frames_.find(frame);
    return it == frames_.end() ? nullptr : it->second.get();
  }
  // Quiescent only: fn(const FileFrame&) in frame order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [_, rec] : frames_) fn(*rec);
  }

 private:
  mutable std::mutex mu_;
  absl::btree_map<uint64_t, std::unique_ptr<FileFrame>> frames_;
};

}  // namespace ptsim

#endif  // PTSIM_PAGEMAP_FILE_FRAME_H_
