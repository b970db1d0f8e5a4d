// A table walker that is not cache-coherent with the CPU (DESIGN.md §4;
// seed 003, generic_pt's "incoherent" IOMMU tables, managed through the
// DMA API; the Arm SMMU without coherent table walks, SMMU_IDR0.COHACC = 0,
// and VT-d without ECAP.C "Page-walk Coherency", which makes software
// write back every table update, VT-d spec §6.6 / §9.x "Caching Mode").
//
// Model: the CPU's stores land in its view of memory (the ordinary PhysMem
// that Space writes); the walker reads a separate device view that changes
// only when software writes a range back (Space's TableFlusher calls,
// issued when a flusher is installed in its SpaceEnv). Write-back is by
// 64-byte cache line. After an operation, a walk that reads a line whose
// CPU bytes differ from the device's (written but not written back) is a
// finding: the device may act on stale or half-made tables.
#ifndef PTSIM_HW_NONCOHERENT_H_
#define PTSIM_HW_NONCOHERENT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "src/mmu/mmu.h"
#include "src/ops/space.h"

namespace ptsim::hw {

class DeviceView : public TableFlusher {
 public:
  static constexpr unsigned kLineLg2 = 6;

  // Injected bugs: flushes the view silently drops.
  struct Drop {
    bool new_tables = false;     // never write back a freshly zeroed table
    uint64_t every_nth_entry = 0;  // drop every nth entry write-back (0: none)
  };

  explicit DeviceView(PhysMem* cpu) : cpu_(cpu), device_(cpu->base(), cpu->size()) {}

  void set_drop(Drop d) { drop_ = d; }
  PhysMem& device() { return device_; }
  uint64_t flushes() const { return flushes_; }
  uint64_t lines() const { return lines_; }
  uint64_t dropped() const { return dropped_; }

  void Flush(Oa addr, uint64_t bytes, FlushKind kind) override {
    ++flushes_;
    if (kind == FlushKind::kNewTable && drop_.new_tables) {
      ++dropped_;
      return;
    }
    if (kind == FlushKind::kEntry && drop_.every_nth_entry != 0 && ++entry_flushes_ % drop_.every_nth_entry == 0) {
      ++dropped_;
      return;
    }
    const uint64_t first = AlignDown(addr.value(), kLineLg2);
    const uint64_t last = AlignDown(addr.value() + bytes - 1, kLineLg2);
    for (uint64_t line = first;; line += uint64_t{1} << kLineLg2) {
      std::memcpy(device_.Writable(Oa(line)), cpu_->Readable(Oa(line)), size_t{1} << kLineLg2);
      ++lines_;
      if (line == last) break;
    }
  }

  // A write-back the program did not ask for: caches evict dirty lines
  // whenever they like, so memory may see any CPU write early. Harmless
  // when the data is consistent; it is what makes stale bytes in reused
  // memory (the poison of a freed table) reach the device. Ignores Drop.
  void Evict(Oa line) {
    line = Oa(AlignDown(line.value(), kLineLg2));
    if (!cpu_->Contains(line, uint64_t{1} << kLineLg2)) return;
    std::memcpy(device_.Writable(line), cpu_->Readable(line), size_t{1} << kLineLg2);
  }

  // Whether the line holding `addr` has CPU writes the device has not seen.
  bool LineDirty(Oa addr) const {
    const Oa line(AlignDown(addr.value(), kLineLg2));
    if (!cpu_->Contains(line, uint64_t{1} << kLineLg2)) return false;
    return std::memcmp(device_.Readable(line), cpu_->Readable(line), size_t{1} << kLineLg2) != 0;
  }

  uint64_t CpuRaw(Oa addr, unsigned bytes) const { return Raw(*cpu_, addr, bytes); }
  uint64_t DeviceRaw(Oa addr, unsigned bytes) const { return Raw(device_, addr, bytes); }

 private:
  static uint64_t Raw(const PhysMem& m, Oa addr, unsigned bytes) {
    uint64_t v = 0;
    std::memcpy(&v, m.Readable(addr), bytes);  // little-endian host, as the arena
    return v;
  }

  PhysMem* cpu_;
  PhysMem device_;
  Drop drop_;
  uint64_t flushes_ = 0, lines_ = 0, dropped_ = 0, entry_flushes_ = 0;
};

struct NoncoherentFinding {
  Va va;
  Level level;
  Oa entry_addr;
  uint64_t cpu = 0;     // the entry as the CPU wrote it
  uint64_t device = 0;  // the entry as the walker read it
  std::string ToString() const {
    return absl::StrFormat(
        "va %#x: the walker read the level-%d entry at %#x (as %#x; the CPU has %#x) from a cache line "
        "with CPU writes not flushed",
        va.value(), level.value(), entry_addr.value(), device, cpu);
  }
};

// Walks each VA over the device view with the generic walker and reports
// the first entry per VA read from a dirty line.
template <PageTableFormat F>
std::vector<NoncoherentFinding> CheckWalker(const F& f, DeviceView& dv, Oa root, const std::vector<Va>& vas) {
  std::vector<NoncoherentFinding> out;
  constexpr unsigned kBytes = 1u << F::kEntryLg2;
  if (dv.LineDirty(root)) {
    out.push_back({Va(0), f.TopLevel(), root, dv.CpuRaw(root, kBytes), dv.DeviceRaw(root, kBytes)});
  }
  for (Va va : vas) {
    WalkTrace trace;
    (void)Translate(f, &dv.device(), root, va, Access{}, MmuOptions{.update_ad = false}, &trace);
    for (int i = 0; i < trace.count; ++i) {
      const WalkStep& s = trace.steps[i];
      if (dv.LineDirty(s.entry_addr)) {
        out.push_back({va, s.level, s.entry_addr, dv.CpuRaw(s.entry_addr, kBytes), s.raw});
        break;
      }
    }
  }
  return out;
}

}  // namespace ptsim::hw

#endif  // PTSIM_HW_NONCOHERENT_H_
