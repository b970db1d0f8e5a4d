// The type-erased façade: one virtual call per operation (never per entry),
// so one fuzzer binary and one CLI serve every registered format, chosen at
// run time by name or by stable ID.
//
// It lives above ops/ and mmu/ because it wraps them; pt/ stays the
// vocabulary that everything else includes (see docs/architecture.md).
#ifndef PTSIM_ANY_ANY_FORMAT_H_
#define PTSIM_ANY_ANY_FORMAT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/hw/family.h"
#include "src/mmu/mmu.h"
#include "src/ops/inspect.h"
#include "src/ops/space.h"

namespace ptsim {

struct LevelInfo {
  int level;
  std::string name;       // the architecture's name (PML4, L1, ...)
  unsigned index_lg2;     // entries in a table at this level
  unsigned item_lg2;      // bytes one entry maps
  unsigned table_size_lg2;
  bool can_leaf;
  bool can_table;
  unsigned leaf_oa_bits;  // output address bits a leaf here can hold
  // Leaf sizes built from this level's entries, bit n = 2^n: the one-entry
  // leaf (item_lg2, if can_leaf) and replicated ones (geometry.h).
  uint64_t leaf_sizes_mask;
};

// Everything about a configured format that code outside the templates
// needs: derived once from the traits.
struct FormatInfo {
  std::string name;
  uint32_t id;
  unsigned entry_bytes;
  unsigned va_bits;
  unsigned oa_bits;
  VaExtension va_ext;
  std::vector<LevelInfo> levels;  // top level first
  std::span<const ConfigKnob> knobs;
  // The CPU mode the format's hardware rules read (src/hw/family.h), and
  // the mode setting that makes an access a user-mode one (empty when the
  // hardware has no privilege levels, as an IOMMU).
  std::span<const ConfigKnob> mode_knobs;
  std::string_view user_mode;
  bool has_exec = true;  // the hardware makes instruction fetches
  bool has_invalidator = false;  // the family models its TLB invalidations
  QemuTarget qemu;               // the QEMU oracle's machine for it, if any
  std::span<const NamedBit> named_bits;
  std::vector<unsigned> leaf_sizes_lg2;  // every leaf size, replicated ones included, largest first
  unsigned min_page_lg2;
  PartialLeaf partial_leaf;
};

class AnySpace {
 public:
  virtual ~AnySpace() = default;
  virtual absl::Status Init() = 0;
  virtual Oa root() const = 0;
  virtual uint64_t leaves() const = 0;
  virtual absl::Status Map(VaRange r, Oa oa, LeafAttrs attrs, unsigned force_lg2) = 0;
  virtual absl::Status Unmap(VaRange r) = 0;
  virtual absl::Status Protect(VaRange r, LeafAttrs attrs) = 0;
  virtual void Destroy() = 0;
};

class AnyFormat {
 public:
  virtual ~AnyFormat() = default;
  virtual const FormatInfo& Info() const = 0;
  virtual const FormatConfig& Config() const = 0;
  virtual std::unique_ptr<AnySpace> NewSpace(const SpaceEnv& env) const = 0;
  // The walk under the neutral rules, which the reference model follows.
  virtual WalkResult Translate(PhysMem* mem, Oa root, Va va, Access acc, MmuOptions opt,
                               WalkTrace* trace) const = 0;
  // The walk under the architecture's own rules, for an access of type `t`
  // in CPU `mode` (values of Info().mode_knobs); `write_back` false walks
  // without setting accessed/dirty.
  virtual HwWalkResult HwTranslate(PhysMem* mem, Oa root, Va va, AccessType t, const FormatConfig& mode,
                                   WalkTrace* trace, bool write_back) const = 0;
  // "rwx" with '-' for each access the architecture's rules refuse at `va`
  // in `mode` (HwPermsAt in src/hw/family.h). Reads only.
  virtual std::string HwPerms(PhysMem* mem, Oa root, Va va, const FormatConfig& mode) const = 0;
  // The family's verdict on neutral leaf attributes (HwRules<F>::Verdict):
  // nullopt when an access of type `t` in `mode` goes through.
  virtual std::optional<FaultKind> HwVerdict(LeafAttrs a, AccessType t, const FormatConfig& mode) const = 0;
  // `span` (low VAs) limits a walk or a check to the entries overlapping it.
  virtual void ForEachLeaf(PhysMem* mem, Oa root, const std::function<bool(const LeafInfo&)>& on_leaf,
                           const std::function<bool(const TreeProblem&)>& on_problem, LowSpan span = {}) const = 0;
  // The same walk, also reporting each table as it is entered.
  virtual void ForEachTableAndLeaf(PhysMem* mem, Oa root, const std::function<bool(const TableInfo&)>& on_table,
                                   const std::function<bool(const LeafInfo&)>& on_leaf,
                                   const std::function<bool(const TreeProblem&)>& on_problem) const = 0;
  virtual absl::StatusOr<TreeStats> CheckTree(PhysMem* mem, const TableAllocator& alloc, Oa root, uint32_t owner,
                                              LowSpan span = {}) const = 0;
  virtual LeafAttrs Canonical(LeafAttrs a) const = 0;
  virtual Va CanonicalVa(uint64_t low) const = 0;
  virtual bool IsCanonical(Va va) const = 0;
  // A non-empty run of canonical addresses on one side of the hole.
  virtual bool IsValidRange(VaRange r) const = 0;
  // True when hardware would not change this entry again for such an access
  // (accessed, and dirty after a write, are already set).
  virtual bool IsHwMarked(uint64_t raw, Level l, bool write) const = 0;
  // "leaf present write user accessed" style: the entry's kind, then the
  // named bits that are set; for a table entry that skips levels, the
  // level it points to and the levels it skips.
  virtual std::string DescribeEntry(uint64_t raw, Level l) const = 0;
};

struct FormatEntry {
  std::string_view name;
  uint32_t id;
  std::span<const ConfigKnob> knobs;
  std::span<const ConfigKnob> mode_knobs;  // the family's CPU mode (src/hw/family.h)
  std::unique_ptr<AnyFormat> (*make)(const FormatConfig& cfg);
};

// Every registered format, in registry order.
std::span<const FormatEntry> Registry();
const FormatEntry* FindFormat(std::string_view name);
// The format with this exact ID, or, for an unknown ID, registry[id % size]:
// every 32-bit value picks some format, which is what a fuzzer needs.
const FormatEntry& FormatById(uint32_t id, bool* exact = nullptr);
// "name" plus "key=value" settings; unknown names and bad settings are
// errors that list what is accepted.
absl::StatusOr<std::unique_ptr<AnyFormat>> MakeFormat(std::string_view name,
                                                      const std::vector<std::string>& settings);
std::string KnownFormatNames();

}  // namespace ptsim

#endif  // PTSIM_ANY_ANY_FORMAT_H_
