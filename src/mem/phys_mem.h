// Simulated physical memory: the bytes of page tables exactly as hardware
// reads them (little-endian), at their output addresses.
//
// Memory is a window [base, base + size) carved into 4 KiB chunks that are
// allocated on first write. Reset() zeroes only the chunks written since the
// last reset, so a fuzz input pays for what it touched, not for the arena.
// Every entry access from page-table code goes through EntryPtr (pt/entry.h),
// which calls the observer installed here: that is the one hook where a
// scheduler or a freed-table detector takes control.
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

class PhysMem {
 public:
  static constexpr unsigned kChunkLg2 = 12;

  // A window of exactly `size` bytes (a memory image need not end on a
  // chunk boundary); chunks cover it rounded up. Nothing is allocated yet.
  PhysMem(Oa base, uint64_t size);
  PhysMem(const PhysMem&) = delete;
  PhysMem& operator=(const PhysMem&) = delete;
  ~PhysMem();

  Oa base() const { return base_; }
  uint64_t size() const { return size_; }
  // True when [addr, addr + len) lies inside the window; len > 0.
  bool Contains(Oa addr, uint64_t len) const {
    const uint64_t off = addr.value() - base_.value();
    return addr >= base_ && off < size_ && len <= size_ - off;
  }

  // Host address of `addr` for writing; allocates the chunk. Precondition:
  // Contains(addr, 1).
  uint8_t* Writable(Oa addr);
  // Host address of `addr` for reading; an untouched chunk reads as zeros
  // without being allocated. Precondition: Contains(addr, 1).
  const uint8_t* Readable(Oa addr) const {
    const uint8_t* chunk = chunks_[ChunkIndex(addr)].get();
    return (chunk ? chunk : zero_chunk_) + addr.Mod(kChunkLg2);
  }

  void Fill(Oa addr, uint64_t len, uint8_t byte);
  // Copies `bytes` to `addr`; fails if it does not fit.
  absl::Status Write(Oa addr, absl::Span<const uint8_t> bytes);
  void Read(Oa addr, absl::Span<uint8_t> out) const;

  // Zeroes every chunk written since the last Reset.
  void Reset();
  uint64_t touched_chunks() const { return touched_.size(); }

  MemObserver* observer() const { return observer_; }
  void set_observer(MemObserver* o) { observer_ = o; }

 private:
  struct ChunkDeleter {
    void operator()(uint8_t* p) const;
  };
  using Chunk = std::unique_ptr<uint8_t, ChunkDeleter>;

  size_t ChunkIndex(Oa addr) const { return (addr.value() - base_.value()) >> kChunkLg2; }

  // Untouched memory reads as zeros. Never written: atomic loads from it
  // are loads of constant data.
  alignas(4096) static uint8_t zero_chunk_[4096];

  Oa base_;
  uint64_t size_;
  std::vector<Chunk> chunks_;
  std::vector<uint8_t> dirty_;      // per chunk: written since last Reset
  std::vector<uint32_t> touched_;   // indices with dirty_ set
  MemObserver* observer_ = nullptr;
};

}  // namespace ptsim

#endif  // PTSIM_MEM_PHYS_MEM_H_
