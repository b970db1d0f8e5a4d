// ELF core files (ET_CORE: QEMU's dump-guest-memory, kdump's /proc/vmcore
// and makedumpfile -E) as physical-memory images: the header checks, the
// PT_LOAD segments as physical ranges with holes between them, and the
// notes of the PT_NOTE segments.
//
// References: System V ABI, "ELF Header", "Program Header" and "Note
// Section" (gABI 4.1; 64-bit layouts from the ELF-64 Object File Format
// 1.5). Linux and QEMU write core notes 4-byte aligned in both classes.
// Nothing in the file is trusted: every offset and size is checked against
// the file's size before it is read, and every failure is an error naming
// the header field and its value.
#ifndef PTSIM_TOOLS_CLI_ELF_CORE_H_
#define PTSIM_TOOLS_CLI_ELF_CORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/image_source.h"

namespace ptsim::cli {

// e_machine values (gABI "ELF Header", the registry of machines).
inline constexpr uint16_t kEm386 = 3;
inline constexpr uint16_t kEmArm = 40;
inline constexpr uint16_t kEmX86_64 = 62;
inline constexpr uint16_t kEmAarch64 = 183;
inline constexpr uint16_t kEmRiscv = 243;

// "EM_X86_64" style, or "e_machine 1234".
std::string MachineName(uint16_t machine);

// True when the file starts with the ELF magic (gABI: EI_MAG0-3).
bool IsElf(const ImageFile& file);

struct CoreSegment {
  int index = 0;  // in the program header table
  uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0;
};

struct CoreNote {
  std::string name;  // without the terminating NUL
  uint32_t type = 0;
  std::vector<uint8_t> desc;
};

struct ElfCore {
  bool elf64 = true;
  uint16_t machine = 0;
  std::vector<CoreSegment> loads;  // PT_LOAD with a non-zero p_memsz, in table order
  // Physical memory: the PT_LOAD ranges, sorted and disjoint. Where two
  // segments overlap their bytes are the same (kdump writes the kernel's
  // text twice: as itself and inside its RAM range); the first one in
  // address order serves them.
  std::vector<ImagePiece> pieces;
  std::vector<CoreNote> notes;
  // Why the notes could not all be read ("" when they could): the memory
  // is still usable with --format and --root.
  std::string note_error;
};

// Errors (each an input error naming the value): a truncated header, a
// class or byte order ptsim does not read, a file that is not ET_CORE, a
// program header table or a segment's file bytes past the end of the
// file, a segment that wraps the address space, no PT_LOAD with memory,
// overlapping PT_LOADs whose bytes differ.
absl::StatusOr<ElfCore> ReadElfCore(const ImageFile& file);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_ELF_CORE_H_
