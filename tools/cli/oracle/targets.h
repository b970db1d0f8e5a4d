// What the oracle knows about QEMU per page-table format: which
// qemu-system binary and machine, where guest RAM is, which paging
// registers to write (through the gdb stub) for a root table, which
// privilege modes to translate in, and how to read permissions from the
// monitor's text.
//
// QEMU 7.2 (Debian 12) paths the oracle reaches, and what they check:
//   x86   HMP gva2gpa -> x86_cpu_get_phys_page_attrs_debug (target/i386/
//         helper.c): a debug walk of its own that checks P, PS, the
//         canonical form and CR4.PSE, but no reserved bit and no
//         permission. HMP "info mem" (target/i386/monitor.c) walks again
//         and prints the user and write permissions ANDed over all levels;
//         it shows no execute-disable.
//   RISC-V HMP gva2gpa -> riscv_cpu_get_phys_page_debug -> the TCG walker
//         get_physical_address (target/riscv/cpu_helper.c) for a load in
//         the current privilege mode, with SUM forced on for debug
//         accesses: reserved encodings, misaligned superpages, the
//         canonical check, U against the mode and R all fault. "info mem"
//         (target/riscv/monitor.c) prints each leaf's R/W/X/U bits.
// Neither architecture exposes store or fetch permissions through a debug
// path, so writes and instruction fetches are compared only where "info
// mem" shows the bit.
#ifndef PTSIM_TOOLS_CLI_ORACLE_TARGETS_H_
#define PTSIM_TOOLS_CLI_ORACLE_TARGETS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/any/any_format.h"
#include "tools/cli/oracle/qemu_process.h"

namespace ptsim::oracle {

// One privilege mode the oracle translates in: the ptsim access that QEMU's
// debug translation in that mode corresponds to, and the CPU mode it is in,
// in the family's own mode keys (`ptsim formats NAME`), for the walk under
// the architecture's rules.
struct Mode {
  std::string name;  // "supervisor", "user"
  Access access;
  std::string hw_mode;  // e.g. "priv=0,svadu=1"
};

// A run of VAs with the permissions QEMU's monitor shows for it.
struct PermRange {
  uint64_t first = 0;
  uint64_t last = 0;
  bool has_oa = false;  // RISC-V prints the output address, x86 does not
  uint64_t oa = 0;      // of `first`
  uint8_t attrs = 0;    // LeafAttrs bits
};

// "gpa: 0x1234" -> mapped at 0x1234; "Unmapped" -> not mapped.
struct Gva2Gpa {
  bool mapped = false;
  uint64_t pa = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual QemuLaunch Launch(const AnyFormat& f) const = 0;
  // Where ptsim builds the tables: inside guest RAM.
  virtual uint64_t TableBase() const = 0;
  virtual std::vector<Mode> Modes() const = 0;
  // The LeafAttrs bits "info mem" shows; 0: "info mem" is not used.
  virtual uint8_t PermMask() const = 0;
  // True when QEMU's reachable walker ignores reserved bits, so a ptsim
  // reserved fault has nothing to be compared with.
  virtual bool ReservedUnchecked() const = 0;
  // Paging registers for this root, and privilege mode `mode`.
  virtual absl::Status Enter(QemuProcess& q, const AnyFormat& f, Oa root, size_t mode) const = 0;
  virtual absl::StatusOr<std::vector<PermRange>> ParseInfoMem(std::string_view text) const = 0;
  // Called when ptsim's walk `r` (steps in `trace`) and QEMU's answer `q`
  // for `va` disagree: a short explanation when the walk holds something
  // QEMU is known to handle differently from the manual, and QEMU's answer
  // is the one that difference gives; "" otherwise (a real disagreement).
  virtual std::string KnownQemuDeviation(const AnyFormat&, uint64_t /*va*/, const WalkResult& /*r*/,
                                         const WalkTrace& /*trace*/, const Gva2Gpa& /*q*/) const {
    return "";
  }
  // The largest VA the guest's address registers hold (x86_32 and Sv32:
  // 32 bits); probes above it are not sent.
  virtual uint64_t MaxVa() const = 0;
};

// The formats the QEMU oracle covers, in a stable order.
std::vector<std::string> OracleFormats();
// Null for a format the oracle does not cover.
std::unique_ptr<Target> MakeTarget(std::string_view format);

absl::StatusOr<Gva2Gpa> ParseGva2Gpa(std::string_view text);

}  // namespace ptsim::oracle

#endif  // PTSIM_TOOLS_CLI_ORACLE_TARGETS_H_
