#include "src/mem/phys_mem.h"

#include <cstring>
#include <new>

#include "src/base/check.h"

namespace ptsim {
namespace {
constexpr uint64_t kChunkSize = uint64_t{1} << PhysMem::kChunkLg2;
}  // namespace

alignas(4096) uint8_t PhysMem::zero_chunk_[4096];

void PhysMem::ChunkDeleter::operator()(uint8_t* p) const {
  ::operator delete[](p, std::align_val_t(kChunkSize));
}

PhysMem::PhysMem(Oa base, uint64_t size) : base_(base) {
  PTSIM_CHECK(base.IsAligned(kChunkLg2), "memory base %#x not chunk aligned", base.value());
  const uint64_t chunks = (size + kChunkSize - 1) >> kChunkLg2;
  PTSIM_CHECK(chunks > 0 && chunks <= (uint64_t{1} << 28), "memory size %#x out of range", size);
  size_ = size;
  chunks_.resize(chunks);
  dirty_.resize(chunks);
}

PhysMem::~PhysMem() = default;

uint8_t* PhysMem::Writable(Oa addr) {
  const size_t i = ChunkIndex(addr);
  if (!chunks_[i]) {
    auto* p = static_cast<uint8_t*>(::operator new[](kChunkSize, std::align_val_t(kChunkSize)));
    std::memset(p, 0, kChunkSize);
    chunks_[i].reset(p);
  }
  if (!dirty_[i]) {
    dirty_[i] = 1;
    touched_.push_back(static_cast<uint32_t>(i));
  }
  return chunks_[i].get() + addr.Mod(kChunkLg2);
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
    return absl::OutOfRangeError(absl::StrFormat(
        "write of %u bytes at %#x does not fit memory [%#x, %#x]", bytes.size(), addr.value(),
        base_.value(), base_.value() + size_ - 1));
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
  for (uint32_t i : touched_) {
    std::memset(chunks_[i].get(), 0, kChunkSize);
    dirty_[i] = 0;
  }
  touched_.clear();
}

}  // namespace ptsim
