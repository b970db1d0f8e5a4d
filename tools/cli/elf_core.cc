#include "tools/cli/elf_core.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <map>

#include "absl/strings/str_format.h"
#include "src/mem/phys_mem.h"

namespace ptsim::cli {
namespace {

// gABI "ELF Header": e_ident indexes and values.
constexpr size_t kIdentBytes = 16;
constexpr size_t kEiClass = 4, kEiData = 5;
constexpr uint8_t kClass32 = 1, kClass64 = 2, kData2Lsb = 1;
constexpr uint16_t kEtCore = 4;
constexpr uint32_t kPtLoad = 1, kPtNote = 4;
// e_phnum of a file with more program headers than fit: the count is
// sh_info of section header 0 (gABI "Program Header", PN_XNUM).
constexpr uint16_t kPnXnum = 0xffff;

// More program headers than any core has (Linux limits a process to 65530
// mappings; a vmcore has one segment per RAM range), and more note bytes
// than thousands of CPUs write: refused rather than read.
constexpr uint64_t kMaxPhdrs = uint64_t{1} << 20;
constexpr uint64_t kMaxNoteBytes = uint64_t{64} << 20;
// Bytes compared where PT_LOADs overlap, over the whole file (a kernel's
// text is tens of MiB); more is refused, so a hostile file of segments
// that all cover the same bytes cannot keep the loader reading.
constexpr uint64_t kMaxCompareBytes = uint64_t{1} << 30;
// Overlapping pairs looked at, over the whole file, for the same reason.
constexpr uint64_t kMaxOverlaps = uint64_t{1} << 16;

uint64_t Le(const uint8_t* p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// The class-dependent offsets and sizes of the header fields read.
struct Layout {
  size_t ehdr, phoff_at, shoff_at, phentsize_at, phnum_at, word;
  size_t phdr, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
  size_t shdr, sh_info;
};
constexpr Layout k64 = {64, 32, 40, 54, 56, 8, 56, 8, 16, 24, 32, 40, 48, 64, 44};
constexpr Layout k32 = {52, 28, 32, 42, 44, 4, 32, 4, 8, 12, 16, 20, 28, 40, 28};

std::string Bytes(uint64_t n) { return absl::StrFormat("0x%x bytes", n); }

absl::Status ReadNotes(const ImageFile& file, const std::vector<std::array<uint64_t, 4>>& segs, ElfCore* core) {
  uint64_t total = 0;
  for (const auto& [index, offset, filesz, align] : segs) {
    if (offset > file.size() || filesz > file.size() - offset) {
      return absl::OutOfRangeError(
          absl::StrFormat("PT_NOTE %d: its bytes [0x%x, 0x%x) run past the end of the file (%s)", index, offset,
                          offset + filesz, Bytes(file.size())));
    }
    total += filesz;
    if (total > kMaxNoteBytes) {
      return absl::OutOfRangeError(
          absl::StrFormat("the PT_NOTE segments hold more than %s of notes", Bytes(kMaxNoteBytes)));
    }
    std::vector<uint8_t> buf(filesz);
    if (auto st = file.ReadAt(offset, absl::MakeSpan(buf)); !st.ok()) return st;
    // gABI "Note Section": namesz, descsz, type, then the name and the
    // descriptor, each padded to the alignment.
    const uint64_t a = align == 8 ? 8 : 4;
    auto pad = [a](uint64_t n) { return (n + a - 1) / a * a; };
    uint64_t at = 0;
    while (filesz - at >= 12) {
      const uint64_t namesz = Le(&buf[at], 4), descsz = Le(&buf[at + 4], 4);
      const uint32_t type = static_cast<uint32_t>(Le(&buf[at + 8], 4));
      const uint64_t name_at = at + 12, desc_at = name_at + pad(namesz);
      if (pad(namesz) > filesz - name_at || descsz > filesz - desc_at) {
        return absl::OutOfRangeError(absl::StrFormat(
            "PT_NOTE %d: the note at offset 0x%x (namesz %d, descsz %d) runs past the segment's end (%s)", index,
            offset + at, namesz, descsz, Bytes(filesz)));
      }
      CoreNote n;
      n.name.assign(reinterpret_cast<const char*>(&buf[name_at]), namesz);
      while (!n.name.empty() && n.name.back() == '\0') n.name.pop_back();
      n.type = type;
      n.desc.assign(buf.begin() + static_cast<std::ptrdiff_t>(desc_at),
                    buf.begin() + static_cast<std::ptrdiff_t>(desc_at + descsz));
      core->notes.push_back(std::move(n));
      at = desc_at + std::min(pad(descsz), filesz - desc_at);
    }
  }
  return absl::OkStatus();
}

std::string SegmentText(const CoreSegment& s) {
  return absl::StrFormat("PT_LOAD %d [0x%x, 0x%x]", s.index, s.paddr, s.paddr + (s.memsz - 1));
}

ImagePiece PieceOf(const CoreSegment& s, uint64_t first, uint64_t last) {
  const uint64_t skip = first - s.paddr;
  const uint64_t size = last - first + 1;
  return {first, size, s.offset + std::min(skip, s.filesz), skip >= s.filesz ? 0 : std::min(s.filesz - skip, size)};
}

// Compares physical [first, last] as piece `p` (placed from segment
// `owner`) and as segment `s` holds it.
absl::Status SameBytes(const ImageFile& file, const ImagePiece& p, const CoreSegment& owner, const CoreSegment& s,
                       uint64_t first, uint64_t last, uint64_t* budget) {
  const uint64_t n = last - first + 1;
  if (n > *budget) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s overlaps %s, and the overlapping PT_LOADs cover more than %s twice: the image is ambiguous",
                        SegmentText(s), SegmentText(owner), Bytes(kMaxCompareBytes)));
  }
  *budget -= n;
  const ImagePiece mine = PieceOf(s, s.paddr, s.paddr + (s.memsz - 1));
  std::vector<uint8_t> a(64 << 10), b(64 << 10);
  for (uint64_t at = first;; at += a.size()) {
    const uint64_t len = std::min<uint64_t>(a.size(), last - at + 1);
    if (auto st = ReadPiece(file, p, at, absl::MakeSpan(a.data(), len)); !st.ok()) return st;
    if (auto st = ReadPiece(file, mine, at, absl::MakeSpan(b.data(), len)); !st.ok()) return st;
    if (std::memcmp(a.data(), b.data(), len) != 0) {
      uint64_t i = 0;
      while (a[i] == b[i]) ++i;
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s overlaps %s and their bytes differ at physical 0x%x (0x%02x in PT_LOAD %d, 0x%02x in PT_LOAD %d): the "
          "image is ambiguous",
          SegmentText(s), SegmentText(owner), at + i, b[i], s.index, a[i], owner.index));
    }
    if (last - at < a.size()) return absl::OkStatus();
  }
}

// The segments as sorted, disjoint pieces. A segment that overlaps pieces
// already placed must hold the same bytes there; it adds only what is new.
absl::Status BuildPieces(const ImageFile& file, ElfCore* core) {
  std::vector<CoreSegment> sorted = core->loads;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const CoreSegment& x, const CoreSegment& y) { return x.paddr < y.paddr; });
  struct Placed {
    ImagePiece piece;
    const CoreSegment* owner;
  };
  std::map<uint64_t, Placed> placed;  // by address
  uint64_t budget = kMaxCompareBytes, overlaps = 0;
  for (const CoreSegment& s : sorted) {
    const uint64_t last = s.paddr + (s.memsz - 1);
    uint64_t next = s.paddr;  // the first byte of `s` not yet accounted for
    bool covered = false;
    std::vector<ImagePiece> added;
    auto it = placed.upper_bound(next);
    if (it != placed.begin() && std::prev(it)->second.piece.paddr + (std::prev(it)->second.piece.size - 1) >= next)
      --it;
    for (; it != placed.end() && it->first <= last; ++it) {
      if (++overlaps > kMaxOverlaps) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: more than %d overlaps between PT_LOAD segments: the image is ambiguous",
                            SegmentText(s), kMaxOverlaps));
      }
      const ImagePiece& p = it->second.piece;
      if (p.paddr > next) added.push_back(PieceOf(s, next, p.paddr - 1));
      const uint64_t hi = std::min(last, p.paddr + (p.size - 1));
      if (auto st = SameBytes(file, p, *it->second.owner, s, std::max(next, p.paddr), hi, &budget); !st.ok()) return st;
      if (hi == last) {
        covered = true;
        break;
      }
      next = hi + 1;
    }
    if (!covered) added.push_back(PieceOf(s, next, last));
    for (const ImagePiece& p : added) placed.emplace(p.paddr, Placed{p, &s});
  }
  for (const auto& [paddr, p] : placed) core->pieces.push_back(p.piece);
  const uint64_t first = core->pieces.front().paddr & ~((uint64_t{1} << PhysMem::kChunkLg2) - 1);
  const ImagePiece& top = core->pieces.back();
  const uint64_t span = top.paddr + (top.size - 1) - first;
  if (span >= (PhysMem::kMaxChunks << PhysMem::kChunkLg2)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the PT_LOAD segments span [0x%x, 0x%x], more than the %s ptsim can address", first,
                        first + span, Bytes(PhysMem::kMaxChunks << PhysMem::kChunkLg2)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string MachineName(uint16_t machine) {
  switch (machine) {
    case kEm386:
      return "EM_386";
    case kEmArm:
      return "EM_ARM";
    case kEmX86_64:
      return "EM_X86_64";
    case kEmAarch64:
      return "EM_AARCH64";
    case kEmRiscv:
      return "EM_RISCV";
    default:
      return absl::StrFormat("e_machine %d", machine);
  }
}

bool IsElf(const ImageFile& file) {
  uint8_t magic[4];
  return file.size() >= 4 && file.ReadAt(0, absl::MakeSpan(magic)).ok() && magic[0] == 0x7f && magic[1] == 'E' &&
         magic[2] == 'L' && magic[3] == 'F';
}

absl::StatusOr<ElfCore> ReadElfCore(const ImageFile& file) {
  ElfCore core;
  uint8_t h[64] = {};
  if (file.size() < kIdentBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "truncated ELF header: the file has %d bytes, e_ident alone needs %d", file.size(), kIdentBytes));
  }
  if (auto st = file.ReadAt(0, absl::MakeSpan(h, kIdentBytes)); !st.ok()) return st;
  if (h[kEiClass] != kClass32 && h[kEiClass] != kClass64) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ELF class (EI_CLASS) %d is neither ELFCLASS32 (1) nor ELFCLASS64 (2)", h[kEiClass]));
  }
  core.elf64 = h[kEiClass] == kClass64;
  const Layout& L = core.elf64 ? k64 : k32;
  if (h[kEiData] != kData2Lsb) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ELF byte order (EI_DATA) %d is not little-endian (ELFDATA2LSB, 1): ptsim reads little-endian tables only",
        h[kEiData]));
  }
  if (file.size() < L.ehdr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("truncated ELF header: the file has %d bytes, an ELF%d header needs %d", file.size(),
                        core.elf64 ? 64 : 32, L.ehdr));
  }
  if (auto st = file.ReadAt(0, absl::MakeSpan(h, L.ehdr)); !st.ok()) return st;
  const uint64_t type = Le(h + 16, 2);
  core.machine = static_cast<uint16_t>(Le(h + 18, 2));
  if (type != kEtCore) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ELF type (e_type) %d is not a core file (ET_CORE, 4): ptsim reads memory dumps, not programs", type));
  }
  const uint64_t phoff = Le(h + L.phoff_at, L.word), phentsize = Le(h + L.phentsize_at, 2);
  uint64_t phnum = Le(h + L.phnum_at, 2);
  if (phnum == kPnXnum) {
    const uint64_t shoff = Le(h + L.shoff_at, L.word);
    uint8_t sh[64];
    if (shoff > file.size() || L.shdr > file.size() - shoff) {
      return absl::OutOfRangeError(
          absl::StrFormat("e_phnum is PN_XNUM, but section header 0 at e_shoff 0x%x is past the end of the file (%s)",
                          shoff, Bytes(file.size())));
    }
    if (auto st = file.ReadAt(shoff, absl::MakeSpan(sh, L.shdr)); !st.ok()) return st;
    phnum = Le(sh + L.sh_info, 4);
  }
  if (phnum > kMaxPhdrs) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d program headers: more than the %d ptsim reads", phnum, kMaxPhdrs));
  }
  if (phnum > 0 && phentsize != L.phdr) {
    return absl::InvalidArgumentError(absl::StrFormat("e_phentsize %d is not the ELF%d program header's size (%d)",
                                                      phentsize, core.elf64 ? 64 : 32, L.phdr));
  }
  const uint64_t table = phnum * L.phdr;
  if (phoff > file.size() || table > file.size() - phoff) {
    return absl::OutOfRangeError(absl::StrFormat(
        "the program header table [0x%x, 0x%x) (e_phoff 0x%x, %d entries) runs past the end of the file (%s)", phoff,
        phoff + table, phoff, phnum, Bytes(file.size())));
  }
  std::vector<uint8_t> ph(table);
  if (auto st = file.ReadAt(phoff, absl::MakeSpan(ph)); !st.ok()) return st;
  std::vector<std::array<uint64_t, 4>> note_segs;
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint8_t* p = &ph[i * L.phdr];
    const uint64_t ptype = Le(p, 4);
    CoreSegment s;
    s.index = static_cast<int>(i);
    s.offset = Le(p + L.p_offset, L.word);
    s.vaddr = Le(p + L.p_vaddr, L.word);
    s.paddr = Le(p + L.p_paddr, L.word);
    s.filesz = Le(p + L.p_filesz, L.word);
    s.memsz = Le(p + L.p_memsz, L.word);
    if (ptype == kPtNote) note_segs.push_back({i, s.offset, s.filesz, Le(p + L.p_align, L.word)});
    if (ptype != kPtLoad || s.memsz == 0) continue;
    if (s.filesz > s.memsz) {
      return absl::InvalidArgumentError(
          absl::StrFormat("PT_LOAD %d: p_filesz 0x%x is larger than p_memsz 0x%x", i, s.filesz, s.memsz));
    }
    // p_offset means nothing for a segment with no file bytes (all zeros).
    if (s.filesz > 0 && (s.offset > file.size() || s.filesz > file.size() - s.offset)) {
      return absl::OutOfRangeError(absl::StrFormat(
          "PT_LOAD %d: its file bytes [0x%x, 0x%x) (p_offset 0x%x + p_filesz 0x%x) run past the end of the file (%s)",
          i, s.offset, s.offset + s.filesz, s.offset, s.filesz, Bytes(file.size())));
    }
    if (s.paddr + (s.memsz - 1) < s.paddr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "PT_LOAD %d: p_paddr 0x%x + p_memsz 0x%x passes the top of the 64-bit address space", i, s.paddr, s.memsz));
    }
    core.loads.push_back(s);
  }
  if (core.loads.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the ELF core has no PT_LOAD segment with memory (%d program headers): it holds no physical memory", phnum));
  }
  if (auto st = BuildPieces(file, &core); !st.ok()) return st;
  if (auto st = ReadNotes(file, note_segs, &core); !st.ok()) core.note_error = std::string(st.message());
  return core;
}

}  // namespace ptsim::cli
