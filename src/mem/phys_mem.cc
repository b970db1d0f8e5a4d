#include "src/mem/phys_mem.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace ptsim {
namespace {

constexpr uint64_t kChunkSize = uint64_t{1} << PhysMem::kChunkLg2;

// Arrays at least this big are mapped rather than taken from the heap.
constexpr size_t kMapThreshold = size_t{1} << 20;

// `bytes` of zeros that cost nothing until written: a private anonymous
// mapping for a large array (the kernel supplies a page on its first
// write, so a 1 TiB window's 2 GiB of chunk pointers costs the pages that
// hold the pointers of chunks actually used), the heap for a small one.
void* AllocZeroed(size_t bytes) {
  if (bytes < kMapThreshold) {
    void* p = std::calloc(bytes, 1);
    PTSIM_CHECK(p != nullptr, "cannot allocate %d bytes of chunk bookkeeping", bytes);
    return p;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  PTSIM_CHECK(p != MAP_FAILED, "cannot map %d bytes of chunk bookkeeping", bytes);
  return p;
}

void FreeZeroed(void* p, size_t bytes) {
  if (bytes < kMapThreshold) {
    std::free(p);
  } else {
    munmap(p, bytes);
  }
}

bool AllZero(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  return acc == 0;
}

}  // namespace

alignas(4096) uint8_t PhysMem::zero_chunk_[4096];

PhysMem::PhysMem(Oa base, uint64_t size) : base_(base) {
  PTSIM_CHECK(base.IsAligned(kChunkLg2), "memory base %#x not chunk aligned", base.value());
  const uint64_t chunks = size / kChunkSize + (size % kChunkSize != 0 ? 1 : 0);
  PTSIM_CHECK(chunks > 0 && chunks <= kMaxChunks, "memory size %#x out of range", size);
  size_ = size;
  n_chunks_ = chunks;
  chunks_ = static_cast<uint8_t**>(AllocZeroed(chunks * sizeof(uint8_t*)));
  dirty_ = static_cast<uint8_t*>(AllocZeroed(chunks));
}

PhysMem::~PhysMem() {
  for (uint32_t i : allocated_) ::operator delete[](chunks_[i], std::align_val_t(kChunkSize));
  FreeZeroed(chunks_, n_chunks_ * sizeof(uint8_t*));
  FreeZeroed(dirty_, n_chunks_);
}

void PhysMem::SetImage(std::vector<OaRange> ranges, const MemSource* source) {
  PTSIM_CHECK(allocated_.empty() && touched_.empty(), "SetImage after memory was used");
  PTSIM_CHECK(!ranges.empty(), "an image with no ranges");
  for (size_t i = 0; i < ranges.size(); ++i) {
    const OaRange& r = ranges[i];
    PTSIM_CHECK(r.first <= r.last && r.first >= base_ && r.last - base_ < size_,
                "image range [%#x, %#x] outside [%#x, +%#x)", r.first.value(), r.last.value(), base_.value(), size_);
    PTSIM_CHECK(i == 0 || ranges[i - 1].last < r.first, "image ranges out of order at [%#x, %#x]", r.first.value(),
                r.last.value());
  }
  // One range that is the whole window needs no lookup.
  const bool whole = ranges.size() == 1 && ranges[0].first == base_ && ranges[0].last - base_ == size_ - 1;
  ranges_ = whole ? std::vector<OaRange>{} : std::move(ranges);
  source_ = source;
}

bool PhysMem::InRanges(Oa addr, uint64_t len) const {
  // The last range starting at or below addr is the only candidate.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr, [](Oa a, const OaRange& r) { return a < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return addr <= it->last && len - 1 <= it->last - addr;
}

uint8_t* PhysMem::NewChunk() const {
  return static_cast<uint8_t*>(::operator new[](kChunkSize, std::align_val_t(kChunkSize)));
}

const uint8_t* PhysMem::Fetch(size_t i) const {
  uint8_t* p = NewChunk();
  source_->ReadChunk(base_ + (uint64_t{i} << kChunkLg2), absl::MakeSpan(p, kChunkSize));
  if (AllZero(p, kChunkSize)) {
    ::operator delete[](p, std::align_val_t(kChunkSize));
    chunks_[i] = zero_chunk_;
    return zero_chunk_;
  }
  chunks_[i] = p;
  allocated_.push_back(static_cast<uint32_t>(i));
  return p;
}

uint8_t* PhysMem::Writable(Oa addr) {
  const size_t i = ChunkIndex(addr);
  if (chunks_[i] == nullptr || chunks_[i] == zero_chunk_) {
    // A chunk not yet read from the source gets the source's bytes first:
    // a write changes only the bytes it writes.
    const bool from_source = chunks_[i] == nullptr && source_ != nullptr;
    uint8_t* p = NewChunk();
    if (from_source) {
      source_->ReadChunk(base_ + (uint64_t{i} << kChunkLg2), absl::MakeSpan(p, kChunkSize));
    } else {
      std::memset(p, 0, kChunkSize);
    }
    chunks_[i] = p;
    allocated_.push_back(static_cast<uint32_t>(i));
  }
  if (!dirty_[i]) {
    dirty_[i] = 1;
    touched_.push_back(static_cast<uint32_t>(i));
  }
  return chunks_[i] + addr.Mod(kChunkLg2);
}

void PhysMem::Fill(Oa addr, uint64_t len, uint8_t byte) {
  PTSIM_CHECK(len == 0 || Contains(addr, len), "fill [%#x, +%#x) outside memory", addr.value(), len);
  while (len > 0) {
    const uint64_t n = std::min<uint64_t>(len, kChunkSize - addr.Mod(kChunkLg2));
    std::memset(Writable(addr), byte, n);
    addr = addr + n;
    len -= n;
  }
}

absl::Status PhysMem::Write(Oa addr, absl::Span<const uint8_t> bytes) {
  if (bytes.empty()) return absl::OkStatus();
  if (!Contains(addr, bytes.size())) {
    return absl::OutOfRangeError(absl::StrFormat("write of %u bytes at %#x does not fit memory [%#x, %#x]",
                                                 bytes.size(), addr.value(), base_.value(), base_.value() + size_ - 1));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const Oa at = addr + done;
    const uint64_t n = std::min<uint64_t>(bytes.size() - done, kChunkSize - at.Mod(kChunkLg2));
    std::memcpy(Writable(at), bytes.data() + done, n);
    done += n;
  }
  return absl::OkStatus();
}

void PhysMem::Read(Oa addr, absl::Span<uint8_t> out) const {
  PTSIM_CHECK(out.empty() || Contains(addr, out.size()), "read at %#x outside memory", addr.value());
  size_t done = 0;
  while (done < out.size()) {
    const Oa at = addr + done;
    const uint64_t n = std::min<uint64_t>(out.size() - done, kChunkSize - at.Mod(kChunkLg2));
    std::memcpy(out.data() + done, Readable(at), n);
    done += n;
  }
}

void PhysMem::Reset() {
  PTSIM_CHECK(source_ == nullptr, "Reset of a memory image");
  for (uint32_t i : touched_) {
    std::memset(chunks_[i], 0, kChunkSize);
    dirty_[i] = 0;
  }
  touched_.clear();
}

}  // namespace ptsim
