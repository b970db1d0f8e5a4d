// The three things Andy Lutomirski asked to keep apart (seed 001 review):
//   TablePtr<F>  one table: where it is, its level, its size;
//   EntryPtr<F>  where one entry lives; never dereferenced;
//   EntryVal<F>  an immutable snapshot of an entry's bits and its level.
// A value cannot be written, a pointer cannot be decoded without a load, and
// every load names its memory order. All table memory is touched here and
// nowhere else, through std::atomic_ref over the simulated bytes.
#ifndef PTSIM_PT_ENTRY_H_
#define PTSIM_PT_ENTRY_H_

#include <atomic>
#include <bit>
#include <cstdint>

#include "src/base/addr.h"
#include "src/mem/phys_mem.h"
#include "src/pt/level.h"

namespace ptsim {

static_assert(std::endian::native == std::endian::little,
              "table bytes are stored as little-endian hardware reads them");

enum class EntryKind : uint8_t {
  kEmpty,    // not present: the walk stops with a not-present fault
  kTable,    // points to the next-level table
  kLeaf,     // maps an output range
  kInvalid,  // present but a reserved or impossible encoding
};
const char* EntryKindName(EntryKind k);

template <typename F>
struct EntryVal {
  using Raw = typename F::Raw;
  Raw raw = 0;
  Level level;

  bool operator==(const EntryVal&) const = default;
};

template <typename F>
class EntryPtr {
 public:
  using Raw = typename F::Raw;

  EntryPtr(PhysMem* mem, Oa addr, Level level) : mem_(mem), addr_(addr), level_(level) {}

  Oa addr() const { return addr_; }
  Level level() const { return level_; }

  EntryVal<F> Load(std::memory_order order) const {
    Notify(MemAccess::kLoad);
    // The chunk may be the shared zero chunk, which is never written.
    auto* p = const_cast<Raw*>(reinterpret_cast<const Raw*>(mem_->Readable(addr_)));
    return {std::atomic_ref<Raw>(*p).load(order), level_};
  }

  void Store(EntryVal<F> v, std::memory_order order) const {
    Notify(MemAccess::kStore);
    std::atomic_ref<Raw>(*Host()).store(v.raw, order);
  }

  // On failure `expected` receives the current value, as with std::atomic.
  bool CompareExchange(EntryVal<F>& expected, EntryVal<F> desired, std::memory_order order) const {
    Notify(MemAccess::kCompareExchange);
    return std::atomic_ref<Raw>(*Host()).compare_exchange_strong(expected.raw, desired.raw, order);
  }

 private:
  Raw* Host() const { return reinterpret_cast<Raw*>(mem_->Writable(addr_)); }
  void Notify(MemAccess kind) const {
    if (MemObserver* o = mem_->observer()) o->OnAccess(addr_, sizeof(Raw), kind);
  }

  PhysMem* mem_;
  Oa addr_;
  Level level_;
};

template <typename F>
struct TablePtr {
  Oa base;
  Level level;

  EntryPtr<F> At(PhysMem* mem, uint64_t index) const {
    return EntryPtr<F>(mem, base + (index << F::kEntryLg2), level);
  }
};

}  // namespace ptsim

#endif  // PTSIM_PT_ENTRY_H_
