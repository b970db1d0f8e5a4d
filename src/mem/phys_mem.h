// Simulated physical memory: the bytes of page tables exactly as hardware
// reads them (little-endian), at their output addresses.
//
// Memory is a window [base, base + size) carved into 4 KiB chunks that are
// allocated on first write. Reset() zeroes only the chunks written since the
// last reset, so a fuzz input pays for what it touched, not for the arena.
// Every entry access from page-table code goes through EntryPtr (pt/entry.h),
// which calls the observer installed here: that is the one hook where a
// scheduler or a freed-table detector takes control.
//
// A memory image (a dump file) is the same window with two additions
// (SetImage): the ranges of the window the image holds, so that an address
// in a hole between them is outside memory as one past the window is, and a
// source that supplies a chunk's bytes the first time it is read. Only the
// chunks read cost memory: the per-chunk arrays are mapped lazily zeroed,
// and a chunk that reads as all zeros is not allocated at all.
#ifndef PTSIM_MEM_PHYS_MEM_H_
#define PTSIM_MEM_PHYS_MEM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "src/base/addr.h"

namespace ptsim {

enum class MemAccess : uint8_t { kLoad, kStore, kCompareExchange };

// Sees every table-entry access. Installed by schedulers and checkers; null
// (the default) costs one predictable branch per access.
class MemObserver {
 public:
  virtual ~MemObserver() = default;
  virtual void OnAccess(Oa addr, unsigned size, MemAccess kind) = 0;
};

// Supplies an image's bytes, one chunk at a time, the first time a chunk is
// read. It cannot fail towards PhysMem: a source that cannot read fills
// zeros and keeps the error for its owner to report.
class MemSource {
 public:
  virtual ~MemSource() = default;
  // Fills `out` (one chunk) with the bytes at `addr`; bytes outside the
  // image's ranges are zeros.
  virtual void ReadChunk(Oa addr, absl::Span<uint8_t> out) const = 0;
};

class PhysMem {
 public:
  static constexpr unsigned kChunkLg2 = 12;
  // At most 2^28 chunks: a 1 TiB window.
  static constexpr uint64_t kMaxChunks = uint64_t{1} << 28;

  // A window of exactly `size` bytes (a memory image need not end on a
  // chunk boundary); chunks cover it rounded up. Nothing is allocated yet.
  PhysMem(Oa base, uint64_t size);
  PhysMem(const PhysMem&) = delete;
  PhysMem& operator=(const PhysMem&) = delete;
  ~PhysMem();

  // Makes this memory an image: only `ranges` (at least one; sorted,
  // disjoint, inside the window) hold bytes, and `source` (null: none; it
  // must outlive this memory) supplies them on first read. Call before any
  // access. A memory with a source is for one thread: a first read fills a
  // chunk.
  void SetImage(std::vector<OaRange> ranges, const MemSource* source);

  Oa base() const { return base_; }
  uint64_t size() const { return size_; }
  // True when [addr, addr + len) lies inside the window, and inside one of
  // the image's ranges when it has some; len > 0.
  bool Contains(Oa addr, uint64_t len) const {
    const uint64_t off = addr.value() - base_.value();
    if (!(addr >= base_ && off < size_ && len <= size_ - off)) return false;
    return ranges_.empty() || InRanges(addr, len);
  }

  // Host address of `addr` for writing; allocates the chunk. Precondition:
  // Contains(addr, 1).
  uint8_t* Writable(Oa addr);
  // Host address of `addr` for reading; an untouched chunk reads as zeros
  // (or as its source gives it) without being allocated. Precondition:
  // Contains(addr, 1).
  const uint8_t* Readable(Oa addr) const {
    const size_t i = ChunkIndex(addr);
    const uint8_t* chunk = chunks_[i];
    if (chunk == nullptr) chunk = source_ == nullptr ? zero_chunk_ : Fetch(i);
    return chunk + addr.Mod(kChunkLg2);
  }

  void Fill(Oa addr, uint64_t len, uint8_t byte);
  // Copies `bytes` to `addr`; fails if it does not fit.
  absl::Status Write(Oa addr, absl::Span<const uint8_t> bytes);
  void Read(Oa addr, absl::Span<uint8_t> out) const;

  // Zeroes every chunk written since the last Reset. Not for an image with
  // a source (there is no state to go back to but the file's).
  void Reset();
  uint64_t touched_chunks() const { return touched_.size(); }
  // Chunks that hold memory of their own: written, or read from a source
  // and not all zeros. What an image costs beyond the window's bookkeeping.
  uint64_t allocated_chunks() const { return allocated_.size(); }

  MemObserver* observer() const { return observer_; }
  void set_observer(MemObserver* o) { observer_ = o; }

 private:
  size_t ChunkIndex(Oa addr) const { return (addr.value() - base_.value()) >> kChunkLg2; }
  bool InRanges(Oa addr, uint64_t len) const;
  // A chunk's first read from the source: its own memory, or zero_chunk_.
  // Const because reading fills a cache: the bytes it returns are the ones
  // the memory always held.
  const uint8_t* Fetch(size_t i) const;
  uint8_t* NewChunk() const;

  // Untouched memory reads as zeros. Never written: atomic loads from it
  // are loads of constant data. Also stands in chunks_ for a chunk that the
  // source gave as all zeros.
  alignas(4096) static uint8_t zero_chunk_[4096];

  Oa base_;
  uint64_t size_;
  uint64_t n_chunks_;
  // Per chunk, lazily zeroed (see AllocZeroed in phys_mem.cc): the chunk's
  // memory, zero_chunk_ (its source gave zeros) or null (not read or
  // written yet); written since the last Reset.
  uint8_t** chunks_;
  uint8_t* dirty_;
  std::vector<uint32_t> touched_;  // indices with dirty_ set
  // Indices whose chunks_ entry is memory of their own, to free.
  mutable std::vector<uint32_t> allocated_;
  std::vector<OaRange> ranges_;  // empty: the whole window
  const MemSource* source_ = nullptr;
  MemObserver* observer_ = nullptr;
};

}  // namespace ptsim

#endif  // PTSIM_MEM_PHYS_MEM_H_
