#include "tools/cli/core_hints.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ptsim::cli {
namespace {

uint64_t Le(const std::vector<uint8_t>& d, size_t at, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) v |= uint64_t{d[at + i]} << (8 * i);
  return v;
}

// QEMUCPUState (QEMU target/i386/arch_dump.c, QEMUCPUSTATE_VERSION 1):
// version and size (u32 each), then 16 general registers, RIP and RFLAGS
// (u64 each), ten 24-byte segment descriptors, and cr[0..4] (u64 each).
constexpr uint32_t kQemuStateVersion = 1;
constexpr size_t kCrAt = 8 + 18 * 8 + 10 * 24;
constexpr size_t kQemuStateBytes = kCrAt + 5 * 8;

// Intel SDM Vol. 3A §2.5 "Control Registers".
constexpr uint64_t kCr0Wp = uint64_t{1} << 16, kCr0Pg = uint64_t{1} << 31;
constexpr unsigned kCr4Pse = 4, kCr4Pae = 5, kCr4La57 = 12, kCr4Smep = 20, kCr4Smap = 21, kCr4Pke = 22, kCr4Pks = 24;

unsigned Bit(uint64_t v, unsigned b) { return static_cast<unsigned>((v >> b) & 1); }

// The paging registers of the x86 CPU `cpu`, from QEMU's notes (one per
// CPU, in CPU order).
void FromQemuX86(const ElfCore& core, const std::vector<const CoreNote*>& states, uint64_t cpu, CoreHints* h) {
  const std::vector<uint8_t>& d = states[cpu]->desc;
  const std::string who = absl::StrFormat("cpu%d", cpu);
  if (d.size() < kQemuStateBytes || Le(d, 0, 4) != kQemuStateVersion || Le(d, 4, 4) < kQemuStateBytes) {
    h->no_root =
        absl::StrFormat("%s's QEMU note is not a version-%d QEMUCPUState of at least %d bytes (version %d, %d bytes)",
                        who, kQemuStateVersion, kQemuStateBytes, d.size() >= 4 ? Le(d, 0, 4) : 0, d.size());
    h->no_format = h->no_root;
    return;
  }
  const uint64_t cr0 = Le(d, kCrAt, 8), cr3 = Le(d, kCrAt + 24, 8), cr4 = Le(d, kCrAt + 32, 8);
  if ((cr0 & kCr0Pg) == 0) {
    h->no_root = absl::StrFormat("%s has paging off (CR0 0x%x: PG=0), so its CR3 0x%x is no root", who, cr0, cr3);
    h->no_format = h->no_root;
    return;
  }
  // SDM Vol. 3A §4.1.1 "Four Paging Modes": PAE=0 is 32-bit paging; with
  // PAE, IA-32e (4- or 5-level by LA57) when long mode is active, which
  // QEMU writes as EM_X86_64 (cpu_get_dump_info: EFER.LMA of the first
  // CPU; EFER itself is not in the note).
  const bool pae = Bit(cr4, kCr4Pae) != 0, lma = core.machine == kEmX86_64;
  int variant = 0;
  uint64_t root = 0;
  if (!pae) {
    variant = 0;
    root = cr3 & 0xfffff000u;  // §4.3: CR3[31:12] is the page directory
    h->config.push_back(absl::StrFormat("pse=%d", Bit(cr4, kCr4Pse)));
  } else if (!lma) {
    variant = 1;
    root = cr3 & 0xffffffe0u;  // §4.4.1: CR3[31:5] is the PDPT
  } else {
    variant = Bit(cr4, kCr4La57) ? 3 : 2;
    root = cr3 & 0x000ffffffffff000ull;  // §4.5: CR3[51:12]; the low bits are PCID or flags
  }
  h->paging = {QemuMachine::kX86, variant};
  h->format_source = absl::StrFormat("%s with CR0.PG=1 CR4.PAE=%d LA57=%d of %s in the ELF note%s",
                                     MachineName(core.machine), Bit(cr4, kCr4Pae), Bit(cr4, kCr4La57), who,
                                     pae ? " (EFER is not in it: nxe is the format's default)" : "");
  h->root = root;
  h->root_source = absl::StrFormat("CR3 of %s in the ELF note", who);
  // The mode knobs the registers hold. CPL stays the commands' (dump
  // shows both privilege levels), EFLAGS.AC stays 0 (it is set around
  // single user accesses, not a mode), PKRU and IA32_PKRS are not in the
  // note.
  h->mode = absl::StrFormat("wp=%d,smep=%d,smap=%d,pke=%d,pks=%d", (cr0 & kCr0Wp) != 0 ? 1 : 0, Bit(cr4, kCr4Smep),
                            Bit(cr4, kCr4Smap), Bit(cr4, kCr4Pke), Bit(cr4, kCr4Pks));
  h->mode_source = absl::StrFormat("CR0 0x%x and CR4 0x%x of %s in the ELF note", cr0, cr4, who);
}

}  // namespace

absl::StatusOr<CoreHints> ReadCoreHints(const ElfCore& core, uint64_t cpu) {
  CoreHints h;
  std::vector<const CoreNote*> qemu_states, prstatus;
  for (const CoreNote& n : core.notes) {
    if (n.name == "QEMU" && n.type == 0) qemu_states.push_back(&n);
    if (n.name == "CORE" && n.type == 1) prstatus.push_back(&n);  // NT_PRSTATUS
  }
  const size_t cpus = std::max(qemu_states.size(), prstatus.size());
  if (cpus > 0 && cpu >= cpus) {
    return absl::InvalidArgumentError(absl::StrFormat("--cpu %d: the core's notes describe %d CPU%s (0 to %d)", cpu,
                                                      cpus, cpus == 1 ? "" : "s", cpus - 1));
  }
  const bool x86 = core.machine == kEm386 || core.machine == kEmX86_64;
  if (x86 && !qemu_states.empty()) {
    FromQemuX86(core, qemu_states, cpu, &h);
  } else if (x86) {
    h.no_root = "the core has no QEMU note with CR3 (QEMU's dump-guest-memory writes one per CPU)";
  } else {
    h.no_root = absl::StrFormat(
        "the notes of an %s core hold no page-table root: QEMU writes general registers only (NT_PRSTATUS%s), no %s",
        MachineName(core.machine), core.machine == kEmAarch64 ? ", NT_PRFPREG" : "",
        core.machine == kEmRiscv     ? "satp"
        : core.machine == kEmAarch64 ? "TTBR0_EL1/TTBR1_EL1"
                                     : "TTBR");
  }
  if (h.no_format.empty() && h.paging.machine == QemuMachine::kNone) h.no_format = h.no_root;
  if (!core.note_error.empty()) {
    h.no_root = absl::StrCat(h.no_root, " (and the notes are damaged: ", core.note_error, ")");
  }
  // The kernel's own tables, when no CPU register gave a root.
  if (!h.root) ReadVmcoreinfo(core, &h);
  return h;
}

absl::StatusOr<std::unique_ptr<AnyFormat>> MakeCoreFormat(const CoreHints& hints,
                                                          const std::vector<std::string>& config) {
  const FormatEntry* match = nullptr;
  for (const FormatEntry& e : Registry()) {
    const QemuTarget t = e.make(FormatConfig::Defaults(e.knobs))->Info().qemu;
    if (t.machine == hints.paging.machine && t.variant == hints.paging.variant) {
      match = &e;
      break;
    }
  }
  if (match == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "no registered format has the paging mode the core's notes give (%s); give --format", hints.format_source));
  }
  std::vector<std::string> settings = hints.config;
  settings.insert(settings.end(), config.begin(), config.end());
  auto f = MakeFormat(match->name, settings);
  if (!f.ok()) {
    return absl::Status(f.status().code(),
                        absl::StrFormat("%s with the settings %s from the core's notes (%s): %s", match->name,
                                        absl::StrJoin(hints.config, ","), hints.format_source, f.status().message()));
  }
  return f;
}

}  // namespace ptsim::cli
