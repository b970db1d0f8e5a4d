// Frame counts shared by concurrent operations: the FrameTable behind a
// mutex, with a scheduling point before every change (a refcount change is
// where GUP-fast and a remover race, research/concurrency.md §1.2).
#ifndef PTSIM_CONC_FRAMES_H_
#define PTSIM_CONC_FRAMES_H_

#include <cstdint>
#include <mutex>
#include <vector>

#include "src/mem/frames.h"
#include "src/sched/sync.h"

namespace ptsim {

class ConcFrames {
 public:
  void Map(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    t_.OnMap(Oa(head));
  }
  void Unmap(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    t_.OnUnmap(Oa(head));
  }
  // get_page_unless_zero: a frame nobody references any more is being freed.
  bool TryGet(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    FrameMeta& f = t_.Get(Oa(head));
    if (f.refcount <= 0) return false;
    ++f.refcount;
    return true;
  }
  void Put(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    --t_.Get(Oa(head)).refcount;
  }
  void Pin(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    ++t_.Get(Oa(head)).pincount;
  }
  void Unpin(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    --t_.Get(Oa(head)).pincount;
  }
  // folio_maybe_dma_pinned.
  bool MaybePinned(Machine& m, uint64_t head) {
    m.rt().Point(PointKind::kRef, head);
    std::lock_guard<std::mutex> lk(mu_);
    const FrameMeta* f = t_.Find(Oa(head));
    return f != nullptr && f->pincount > 0;
  }
  // Quiescent only.
  const FrameTable& table() const { return t_; }

 private:
  std::mutex mu_;
  FrameTable t_;
};

}  // namespace ptsim

#endif  // PTSIM_CONC_FRAMES_H_
