// What an ELF core's notes say about the page tables in its memory: the
// architecture's paging mode (hence the format), the root table and the
// CPU mode, each with where it came from, so `ptsim dump` and `ptsim
// translate` need neither --format nor --root when the notes say.
//
// Two kinds of notes give them:
//   * QEMU's per-CPU "QEMU" note on x86 (QEMUCPUState in QEMU's
//     target/i386/arch_dump.c, version 1): CR0, CR3, CR4 and RFLAGS.
//     QEMU writes no paging register for ARM or RISC-V (their notes are
//     NT_PRSTATUS and NT_PRFPREG: general and FP registers only).
//   * Linux's VMCOREINFO note (kdump, and QEMU dumps of a guest with the
//     vmcoreinfo device): SYMBOL(swapper_pg_dir) and what turns it into a
//     physical address, and the kernel's paging mode. That root is the
//     kernel's own tables, as crash and drgn use it.
#ifndef PTSIM_TOOLS_CLI_CORE_HINTS_H_
#define PTSIM_TOOLS_CLI_CORE_HINTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/any/any_format.h"
#include "tools/cli/elf_core.h"

namespace ptsim::cli {

struct CoreHints {
  // The paging mode as the registry's formats declare theirs
  // (FormatInfo::qemu: the machine and its variant, e.g. x86 4-level);
  // machine kNone when the notes do not say.
  QemuTarget paging;
  std::vector<std::string> config;  // format knobs the notes decide ("pse=0")
  std::string format_source;        // "EM_X86_64, CR4.PAE=1 LA57=0 of cpu0 (QEMU note)"
  std::string no_format;            // why not, when machine is kNone
  std::optional<uint64_t> root;
  std::string root_source;  // "CR3 of cpu0 in the ELF note"
  std::string no_root;      // why not, when there is no root
  std::string mode;         // "wp=1,smep=0,..." in the family's mode keys; may be empty
  std::string mode_source;
};

// `cpu` picks the CPU whose registers count; it must be one the notes
// describe when they describe any (an error names it and the count).
absl::StatusOr<CoreHints> ReadCoreHints(const ElfCore& core, uint64_t cpu);

// The registered format whose paging mode is hints.paging, configured with
// hints.config then `config` (the user's --config, which wins).
absl::StatusOr<std::unique_ptr<AnyFormat>> MakeCoreFormat(const CoreHints& hints,
                                                          const std::vector<std::string>& config);

// From the VMCOREINFO note (vmcoreinfo.cc); leaves `h` alone when the core
// has none.
void ReadVmcoreinfo(const ElfCore& core, CoreHints* h);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_CORE_HINTS_H_
