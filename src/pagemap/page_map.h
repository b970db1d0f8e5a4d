// A file's page cache: which frame holds each cached page, and the regions
// that map the file. Lookups and removal synchronise through each slot's packed
// word (slot_word.h), changed only by compare-and-swap:
//
//   * A lookup (Find, and Load, which is Find or allocate + Insert) takes a
//     slot reference and clears the slot's removal flag in one CAS.
//   * A remover marks a slot only if it has a page and no references, then
//     unmaps the page everywhere, writes it back if dirty, and finally empties
//     the slot under the map lock only if the flag is still set. A lookup in
//     between has cleared the flag, so the page stays: a fault aborts the
//     removal instead of waiting for it. A reference taken before the mark
//     makes the mark refuse.
//   * Only one removal runs per map (BeginRemoval), since the removal flags
//     are the remover's working list.
//
// Every operation takes the Machine it runs on and puts a scheduling point
// before each shared read-modify-write, so the deterministic scheduler can run
// another CPU at each of them. Slots are created on first insertion and never
// destroyed while the map lives (an emptied slot holds frame 0), so a PageRef's
// slot stays valid and Put needs no lock.
#ifndef PTSIM_PAGEMAP_PAGE_MAP_H_
#define PTSIM_PAGEMAP_PAGE_MAP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "src/pagemap/backing_store.h"
#include "src/pagemap/file_frame.h"
#include "src/pagemap/region.h"
#include "src/pagemap/slot_word.h"
#include "src/sched/sync.h"

namespace ptsim {

// Protocol steps the map can be built to get wrong, so tests (and later the
// race harness) can show their oracles catch the mistake. All off by default.
struct PageMapBugs {
  // RemoveIfMarked empties a slot whatever its removal flag and reference
  // count say: a removal that no lookup can abort and that frees pages in use.
  // It keeps the count of the users it ignores, so their Puts still balance.
  bool remove_ignores_users = false;
};

// A cached page with one slot reference held on the holder's behalf: what
// Find, Insert and Load return, and what Put takes back. The reference keeps
// the page in the map; it is not a frame reference count.
class PageRef {
 public:
  uint64_t index() const { return index_; }
  uint64_t frame() const { return frame_; }
  FileFrame& meta() const { return *meta_; }

 private:
  friend class PageMap;
  PageRef(uint64_t index, uint64_t frame, FileFrame* meta, std::atomic<uint64_t>* slot)
      : index_(index), frame_(frame), meta_(meta), slot_(slot) {}

  uint64_t index_;
  uint64_t frame_;
  FileFrame* meta_;
  std::atomic<uint64_t>* slot_;
};

// One slot as a quiescent census sees it.
struct SlotCensus {
  uint64_t index = 0;
  uint64_t frame = 0;  // 0: no page cached
  uint64_t refs = 0;
  bool marked = false;
  bool operator==(const SlotCensus&) const = default;
};

class PageMap {
 public:
  // `id` names the map lock in traces and deadlock reports, and id + 1 the
  // removal guard. `frames` and `store` outlive the map.
  PageMap(uint64_t id, FileFrames* frames, BackingStore* store, PageMapBugs bugs = {})
      : id_(id), lock_(id), frames_(frames), store_(store), bugs_(bugs) {}
  PageMap(const PageMap&) = delete;
  PageMap& operator=(const PageMap&) = delete;

  // The cached page at `index` with a slot reference taken and any removal
  // mark cleared, or none if no page is cached there.
  std::optional<PageRef> Find(Machine& m, uint64_t index);
  // Caches `frame` (freshly allocated, not in any map) at `index`, returned
  // with one slot reference and not yet up to date. AlreadyExists if a page is
  // cached there; the frame is then still the caller's.
  absl::StatusOr<PageRef> Insert(Machine& m, uint64_t index, uint64_t frame);
  // Drops the slot reference `ref` holds.
  void Put(Machine& m, const PageRef& ref);
  // The page at `index`, cached and filled from the store if it was not, with
  // a slot reference. `alloc_frame` returns a free frame number, 0 when there
  // is none (ResourceExhausted); a frame that lost the race to cache the page
  // goes back through `free_frame`. Each cached page is filled exactly once,
  // under its page lock.
  absl::StatusOr<PageRef> Load(Machine& m, uint64_t index, absl::FunctionRef<uint64_t()> alloc_frame,
                               absl::FunctionRef<void(uint64_t)> free_frame);

  // The single-remover guard: false when another removal is running.
  bool BeginRemoval(Machine& m);
  void EndRemoval(Machine& m);

  // The map lock, which a remover holds across its passes over slots and
  // regions (and drops to write pages back). MarkForRemoval, StillMarked,
  // RemoveIfMarked and ForEachRegionOverlapping require it.
  void LockMap(Machine& m) { lock_.Lock(m); }
  void UnlockMap(Machine& m) { lock_.Unlock(m); }
  bool MapLockHeld(const Machine& m) const { return lock_.HeldBySelf(m); }

  // Sets the removal flag of `index`'s slot if it caches a page nobody holds,
  // and flags the frame (FileFrame::removal) so PTE walks can tell its pages.
  bool MarkForRemoval(Machine& m, uint64_t index);
  // Whether the mark is still there: no lookup has taken the page since.
  bool StillMarked(Machine& m, uint64_t index);
  // Empties the slot if it is still marked (so still unreferenced) and returns
  // the frame removed, which the caller frees. Otherwise none, and the frame's
  // removal flag is cleared: the removal of this page is abandoned.
  std::optional<uint64_t> RemoveIfMarked(Machine& m, uint64_t index);

  // The regions mapping the file. `r.id` must be unique among them.
  void AddRegion(Machine& m, const Region& r);
  bool RemoveRegion(Machine& m, uint64_t region_id);
  // fn(const Region&) for each region mapping a page of [first, last].
  template <typename Fn>
  void ForEachRegionOverlapping(const Machine& m, uint64_t first, uint64_t last, Fn&& fn) const {
    PTSIM_CHECK(lock_.HeldBySelf(m), "page map 0x%x: regions walked without the map lock", id_);
    for (const Region& r : regions_) {
      if (OverlapsIndices(r, first, last)) fn(r);
    }
  }

  // Quiescent only (no CPU running): every slot ever created, by index, and
  // the pages cached (index -> frame). At quiescence every refs is 0.
  std::vector<SlotCensus> Census() const;
  absl::btree_map<uint64_t, uint64_t> CachedPages() const;
  const std::vector<Region>& regions() const { return regions_; }

  FileFrames& frames() const { return *frames_; }
  BackingStore& store() const { return *store_; }

 private:
  using Slot = std::atomic<uint64_t>;
  // The slot for `index` under the map lock: created when `create`, else
  // nullptr if there has never been one.
  Slot* SlotFor(const Machine& m, uint64_t index, bool create);
  PageRef Filled(Machine& m, PageRef ref);

  const uint64_t id_;
  SpinLock lock_;
  std::atomic<bool> removing_{false};
  FileFrames* frames_;
  BackingStore* store_;
  const PageMapBugs bugs_;
  absl::btree_map<uint64_t, std::unique_ptr<Slot>> slots_;  // under lock_
  std::vector<Region> regions_;                             // under lock_
};

inline PageMap::Slot* PageMap::SlotFor(const Machine& m, uint64_t index, bool create) {
  PTSIM_CHECK(lock_.HeldBySelf(m), "page map 0x%x: slot %u looked up without the map lock", id_, index);
  auto it = slots_.find(index);
  if (it != slots_.end()) return it->second.get();
  if (!create) return nullptr;
  return slots_.emplace(index, std::make_unique<Slot>(0)).first->second.get();
}

inline std::optional<PageRef> PageMap::Find(Machine& m, uint64_t index) {
  std::optional<PageRef> out;
  LockMap(m);
  if (Slot* slot = SlotFor(m, index, /*create=*/false)) {
    for (;;) {
      m.rt().Point(PointKind::kCas, index);
      uint64_t old = slot->load(std::memory_order_acquire);
      const uint64_t frame = slot_word::FrameOf(old);
      if (frame == 0) break;
      // Taking the reference and clearing the mark in one step is what makes
      // a remover that still sees its mark sure nobody took the page since.
      const uint64_t next = slot_word::ClearRemoval(slot_word::IncRef(old));
      if (slot->compare_exchange_strong(old, next, std::memory_order_acq_rel)) {
        out = PageRef(index, frame, &frames_->Get(frame), slot);
        break;
      }
    }
  }
  UnlockMap(m);
  return out;
}

inline absl::StatusOr<PageRef> PageMap::Insert(Machine& m, uint64_t index, uint64_t frame) {
  PTSIM_CHECK(frame != 0 && frame <= slot_word::kFrameMask, "frame 0x%x cannot be cached", frame);
  FileFrame& meta = frames_->Get(frame);
  PTSIM_CHECK(!meta.in_map.load(std::memory_order_acquire), "frame 0x%x inserted while it caches a page", frame);
  // The frame is the caller's alone until the CAS below publishes it.
  meta.ResetFor(index);
  LockMap(m);
  Slot* slot = SlotFor(m, index, /*create=*/true);
  for (;;) {
    m.rt().Point(PointKind::kCas, index);
    uint64_t old = slot->load(std::memory_order_acquire);
    if (slot_word::FrameOf(old) != 0) {
      UnlockMap(m);
      meta.in_map.store(false, std::memory_order_release);
      return absl::AlreadyExistsError(absl::StrFormat("file page %u is already cached", index));
    }
    const uint64_t next = slot_word::IncRef(slot_word::WithFrame(slot_word::ClearRemoval(old), frame));
    if (slot->compare_exchange_strong(old, next, std::memory_order_acq_rel)) break;
  }
  UnlockMap(m);
  return PageRef(index, frame, &meta, slot);
}

inline void PageMap::Put(Machine& m, const PageRef& ref) {
  for (;;) {
    m.rt().Point(PointKind::kCas, ref.index_);
    uint64_t old = ref.slot_->load(std::memory_order_acquire);
    if (ref.slot_->compare_exchange_strong(old, slot_word::DecRef(old), std::memory_order_acq_rel)) return;
  }
}

inline PageRef PageMap::Filled(Machine& m, PageRef ref) {
  FileFrame& meta = ref.meta();
  if (meta.up_to_date.load(std::memory_order_acquire)) return ref;
  // Whoever takes the page lock first fills; the others find it up to date
  // once they hold the lock. Filling twice could overwrite newer writes.
  meta.Lock(m);
  if (!meta.up_to_date.load(std::memory_order_acquire)) store_->Fill(m, ref.index(), meta);
  meta.Unlock(m);
  return ref;
}

inline absl::StatusOr<PageRef> PageMap::Load(Machine& m, uint64_t index, absl::FunctionRef<uint64_t()> alloc_frame,
                                             absl::FunctionRef<void(uint64_t)> free_frame) {
  for (;;) {
    if (std::optional<PageRef> found = Find(m, index)) return Filled(m, *found);
    const uint64_t frame = alloc_frame();
    if (frame == 0) return absl::ResourceExhaustedError("no free frame to cache a file page");
    absl::StatusOr<PageRef> inserted = Insert(m, index, frame);
    if (inserted.ok()) return Filled(m, *inserted);
    // Another CPU cached the page between the Find and the Insert: use its
    // page, not ours.
    free_frame(frame);
  }
}

inline bool PageMap::BeginRemoval(Machine& m) {
  m.rt().Point(PointKind::kLock, id_ + 1);
  return !removing_.exchange(true, std::memory_order_acq_rel);
}

inline void PageMap::EndRemoval(Machine& m) {
  PTSIM_CHECK(removing_.load(std::memory_order_relaxed), "page map 0x%x: removal ended twice", id_);
  removing_.store(false, std::memory_order_release);
  m.rt().Point(PointKind::kUnlock, id_ + 1);
}

inline bool PageMap::MarkForRemoval(Machine& m, uint64_t index) {
  Slot* slot = SlotFor(m, index, /*create=*/false);
  if (slot == nullptr) return false;
  for (;;) {
    m.rt().Point(PointKind::kCas, index);
    uint64_t old = slot->load(std::memory_order_acquire);
    const uint64_t frame = slot_word::FrameOf(old);
    // A page in use stays; its user will clear any mark anyway.
    if (frame == 0 || slot_word::RefsOf(old) != 0) return false;
    if (slot->compare_exchange_strong(old, slot_word::SetRemoval(old), std::memory_order_acq_rel)) {
      frames_->Get(frame).removal.store(true, std::memory_order_release);
      return true;
    }
  }
}

inline bool PageMap::StillMarked(Machine& m, uint64_t index) {
  const Slot* slot = SlotFor(m, index, /*create=*/false);
  return slot != nullptr && slot_word::IsMarked(slot->load(std::memory_order_acquire));
}

inline std::optional<uint64_t> PageMap::RemoveIfMarked(Machine& m, uint64_t index) {
  Slot* slot = SlotFor(m, index, /*create=*/false);
  if (slot == nullptr) return std::nullopt;
  for (;;) {
    m.rt().Point(PointKind::kCas, index);
    uint64_t old = slot->load(std::memory_order_acquire);
    const uint64_t frame = slot_word::FrameOf(old);
    if (frame == 0) return std::nullopt;
    FileFrame& meta = frames_->Get(frame);
    uint64_t next = 0;
    if (bugs_.remove_ignores_users) {
      next = slot_word::WithFrame(slot_word::ClearRemoval(old), 0);
    } else if (!slot_word::IsMarked(old)) {
      meta.removal.store(false, std::memory_order_release);
      return std::nullopt;
    } else {
      // Marking needs zero references and every reference clears the mark.
      PTSIM_CHECK(slot_word::RefsOf(old) == 0, "file page %u marked with %u references", index,
                  slot_word::RefsOf(old));
    }
    if (slot->compare_exchange_strong(old, next, std::memory_order_acq_rel)) {
      meta.removal.store(false, std::memory_order_release);
      meta.in_map.store(false, std::memory_order_release);
      return frame;
    }
  }
}

inline void PageMap::AddRegion(Machine& m, const Region& r) {
  PTSIM_CHECK(RegionValid(r), "region %u: not page aligned, empty or wrapping", r.id);
  LockMap(m);
  for (const Region& o : regions_) PTSIM_CHECK(o.id != r.id, "region %u added twice", r.id);
  regions_.push_back(r);
  UnlockMap(m);
}

inline bool PageMap::RemoveRegion(Machine& m, uint64_t region_id) {
  LockMap(m);
  bool found = false;
  for (auto it = regions_.begin(); it != regions_.end(); ++it) {
    if (it->id == region_id) {
      regions_.erase(it);
      found = true;
      break;
    }
  }
  UnlockMap(m);
  return found;
}

inline std::vector<SlotCensus> PageMap::Census() const {
  std::vector<SlotCensus> out;
  for (const auto& [index, slot] : slots_) {
    const uint64_t w = slot->load(std::memory_order_acquire);
    out.push_back({index, slot_word::FrameOf(w), slot_word::RefsOf(w), slot_word::IsMarked(w)});
  }
  return out;
}

inline absl::btree_map<uint64_t, uint64_t> PageMap::CachedPages() const {
  absl::btree_map<uint64_t, uint64_t> out;
  for (const SlotCensus& s : Census()) {
    if (s.frame != 0) out[s.index] = s.frame;
  }
  return out;
}

}  // namespace ptsim

#endif  // PTSIM_PAGEMAP_PAGE_MAP_H_
