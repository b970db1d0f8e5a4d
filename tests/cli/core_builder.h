// Hand-made ELF core files for the tests: ELF64 or ELF32, little-endian,
// ET_CORE, PT_LOAD segments (sparse: only the bytes set are written, so a
// segment of several GiB costs nothing on disk) and a PT_NOTE. Layouts from
// the System V gABI ("ELF Header", "Program Header", "Note Section").
#ifndef PTSIM_TESTS_CLI_CORE_BUILDER_H_
#define PTSIM_TESTS_CLI_CORE_BUILDER_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ptsim::cli::testing {

inline void PutLe(std::vector<uint8_t>& b, size_t at, uint64_t v, unsigned bytes) {
  if (b.size() < at + bytes) b.resize(at + bytes);
  for (unsigned i = 0; i < bytes; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Segment {
  uint32_t type = 1;  // PT_LOAD
  uint64_t paddr = 0, vaddr = 0, filesz = 0, memsz = 0;
  uint64_t offset = 0;                             // 0: placed by Build after the previous segment
  std::map<uint64_t, std::vector<uint8_t>> bytes;  // offset in the segment -> bytes
  void Put64(uint64_t at, uint64_t v) {
    std::vector<uint8_t> b;
    PutLe(b, 0, v, 8);
    bytes[at] = b;
  }
};

struct Note {
  std::string name;
  uint32_t type = 0;
  std::vector<uint8_t> desc;
};

// QEMU's x86 CPU state note (QEMUCPUState, version 1, 432 bytes; QEMU's
// target/i386/arch_dump.c): cr[0..4] at offset 392.
inline Note QemuX86Note(uint64_t cr0, uint64_t cr3, uint64_t cr4) {
  Note n{"QEMU", 0, std::vector<uint8_t>(432, 0)};
  PutLe(n.desc, 0, 1, 4);
  PutLe(n.desc, 4, 432, 4);
  PutLe(n.desc, 392, cr0, 8);
  PutLe(n.desc, 416, cr3, 8);
  PutLe(n.desc, 424, cr4, 8);
  return n;
}

inline Note TextNote(std::string name, const std::string& text) {
  return {std::move(name), 0, std::vector<uint8_t>(text.begin(), text.end())};
}

struct CoreFile {
  std::vector<uint8_t> head;                    // header, program headers, notes
  std::map<uint64_t, std::vector<uint8_t>> at;  // file offset -> bytes
  uint64_t size = 0;

  // Every byte, for small cores.
  std::vector<uint8_t> Flat() const {
    std::vector<uint8_t> out(size, 0);
    std::copy(head.begin(), head.end(), out.begin());
    for (const auto& [off, b] : at) std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(off));
    return out;
  }
  bool Write(const std::string& path) const {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return false;
    bool ok = ::pwrite(fd, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size());
    for (const auto& [off, b] : at) {
      ok = ok && ::pwrite(fd, b.data(), b.size(), static_cast<off_t>(off)) == static_cast<ssize_t>(b.size());
    }
    ok = ok && ::ftruncate(fd, static_cast<off_t>(size)) == 0;
    return ::close(fd) == 0 && ok;
  }
};

struct CoreBuilder {
  bool elf64 = true;
  uint16_t machine = 62;  // EM_X86_64
  uint16_t type = 4;      // ET_CORE
  std::vector<Segment> segments;
  std::vector<Note> notes;

  CoreFile Build() const {
    const size_t ehdr = elf64 ? 64 : 52, phent = elf64 ? 56 : 32, word = elf64 ? 8 : 4;
    const size_t phnum = segments.size() + (notes.empty() ? 0 : 1);
    std::vector<uint8_t> note_bytes;
    for (const Note& n : notes) {
      const size_t at = note_bytes.size();
      PutLe(note_bytes, at, n.name.size() + 1, 4);
      PutLe(note_bytes, at + 4, n.desc.size(), 4);
      PutLe(note_bytes, at + 8, n.type, 4);
      std::vector<uint8_t> name(n.name.begin(), n.name.end());
      name.resize((name.size() + 1 + 3) / 4 * 4, 0);
      note_bytes.insert(note_bytes.end(), name.begin(), name.end());
      std::vector<uint8_t> desc = n.desc;
      desc.resize((desc.size() + 3) / 4 * 4, 0);
      note_bytes.insert(note_bytes.end(), desc.begin(), desc.end());
    }
    CoreFile f;
    std::vector<uint8_t>& h = f.head;
    h = {0x7f, 'E', 'L', 'F', static_cast<uint8_t>(elf64 ? 2 : 1), 1, 1};
    h.resize(ehdr, 0);
    PutLe(h, 16, type, 2);
    PutLe(h, 18, machine, 2);
    PutLe(h, 20, 1, 4);
    PutLe(h, elf64 ? 32 : 28, ehdr, word);  // e_phoff
    PutLe(h, elf64 ? 52 : 40, ehdr, 2);     // e_ehsize
    PutLe(h, elf64 ? 54 : 42, phent, 2);
    PutLe(h, elf64 ? 56 : 44, phnum, 2);
    const uint64_t notes_at = ehdr + phnum * phent;
    uint64_t data_at = (notes_at + note_bytes.size() + 4095) / 4096 * 4096;
    size_t ph = ehdr;
    auto phdr = [&](uint32_t ptype, uint64_t off, uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz) {
      PutLe(h, ph, ptype, 4);
      if (elf64) {
        PutLe(h, ph + 8, off, 8);
        PutLe(h, ph + 16, vaddr, 8);
        PutLe(h, ph + 24, paddr, 8);
        PutLe(h, ph + 32, filesz, 8);
        PutLe(h, ph + 40, memsz, 8);
      } else {
        PutLe(h, ph + 4, off, 4);
        PutLe(h, ph + 8, vaddr, 4);
        PutLe(h, ph + 12, paddr, 4);
        PutLe(h, ph + 16, filesz, 4);
        PutLe(h, ph + 20, memsz, 4);
      }
      ph += phent;
    };
    if (!notes.empty()) phdr(4, notes_at, 0, 0, note_bytes.size(), 0);
    h.resize(notes_at, 0);
    h.insert(h.end(), note_bytes.begin(), note_bytes.end());
    f.size = h.size();
    for (const Segment& s : segments) {
      const uint64_t off = s.offset != 0 ? s.offset : data_at;
      phdr(s.type, off, s.vaddr, s.paddr, s.filesz, s.memsz);
      for (const auto& [o, b] : s.bytes) f.at[off + o] = b;
      if (s.filesz > 0) f.size = std::max<uint64_t>(f.size, off + s.filesz);
      if (s.offset == 0) data_at = (off + s.filesz + 4095) / 4096 * 4096;
    }
    return f;
  }
};

}  // namespace ptsim::cli::testing

#endif  // PTSIM_TESTS_CLI_CORE_BUILDER_H_
