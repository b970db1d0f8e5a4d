// The packed word of one page-map slot: which frame caches a file page, whether a
// removal has marked it, and how many users hold a slot reference. The whole
// protocol between lookups and removal is carried by compare-and-swap on this one
// word (page_map.h), so the helpers here are pure functions of the value: they
// return the new word and never touch memory.
//
// Layout, low bit to high:
//   bits  0..39  frame number of the cached page, 0 = no page (40 bits: the
//                widest output address of any ptsim format is 52 bits, and file
//                pages are 4 KiB, so 52 - 12 = 40 bits name every frame);
//   bit  40      removal: set by a remover that found no users, cleared by any
//                lookup that takes a reference, which is how a lookup aborts a
//                removal in progress;
//   bits 41..63  slot references (23 bits, over eight million). A reference is
//                held only from a lookup to the matching put, by each simulated
//                CPU for the length of one operation, and there are at most
//                kMaxCpus CPUs; IncRef still refuses to reach the limit.
// The count sits in the top bits on purpose: adding or subtracting kRefOne
// changes bits 41..63 only (the arithmetic is modulo 2^64), so no count can ever
// carry into or borrow from the flag or the frame number.
#ifndef PTSIM_PAGEMAP_SLOT_WORD_H_
#define PTSIM_PAGEMAP_SLOT_WORD_H_

#include <cstdint>

#include "src/base/check.h"

namespace ptsim::slot_word {

inline constexpr unsigned kFrameBits = 40;
inline constexpr uint64_t kFrameMask = (uint64_t{1} << kFrameBits) - 1;
inline constexpr unsigned kRemovalShift = kFrameBits;
inline constexpr uint64_t kRemoval = uint64_t{1} << kRemovalShift;
inline constexpr unsigned kRefShift = kRemovalShift + 1;
inline constexpr unsigned kRefBits = 64 - kRefShift;
inline constexpr uint64_t kRefOne = uint64_t{1} << kRefShift;
inline constexpr uint64_t kMaxRefs = (uint64_t{1} << kRefBits) - 1;
inline constexpr uint64_t kRefMask = kMaxRefs << kRefShift;

// The three fields are disjoint and fill the word exactly.
static_assert((kFrameMask & kRemoval) == 0 && (kFrameMask & kRefMask) == 0 && (kRemoval & kRefMask) == 0);
static_assert((kFrameMask | kRemoval | kRefMask) == ~uint64_t{0});
static_assert(kRefBits == 23 && kRefOne > kRemoval);

// The frame number cached in the slot; 0 when the slot holds no page.
constexpr uint64_t FrameOf(uint64_t w) { return w & kFrameMask; }

// The same word with its frame replaced (0 empties the slot); flag and count
// are kept.
constexpr uint64_t WithFrame(uint64_t w, uint64_t frame) {
  PTSIM_CHECK(frame <= kFrameMask, "frame number 0x%x does not fit the slot's %u bits", frame, kFrameBits);
  return (w & ~kFrameMask) | frame;
}

constexpr bool IsMarked(uint64_t w) { return (w & kRemoval) != 0; }
constexpr uint64_t SetRemoval(uint64_t w) { return w | kRemoval; }
constexpr uint64_t ClearRemoval(uint64_t w) { return w & ~kRemoval; }

constexpr uint64_t RefsOf(uint64_t w) { return w >> kRefShift; }

constexpr uint64_t IncRef(uint64_t w) {
  PTSIM_CHECK(RefsOf(w) < kMaxRefs, "slot reference count at its limit (%u)", kMaxRefs);
  return w + kRefOne;
}

constexpr uint64_t DecRef(uint64_t w) {
  PTSIM_CHECK(RefsOf(w) > 0, "slot reference dropped below zero (frame 0x%x)", FrameOf(w));
  return w - kRefOne;
}

}  // namespace ptsim::slot_word

#endif  // PTSIM_PAGEMAP_SLOT_WORD_H_
