// Where a memory image's bytes come from: a file read with pread on demand
// (or bytes already in memory, for the fuzz target), and the map from
// physical addresses to file offsets that PhysMem reads chunks through.
// Nothing is read until a walk reads it, so a multi-GiB dump costs the
// pages its tables occupy.
#ifndef PTSIM_TOOLS_CLI_IMAGE_SOURCE_H_
#define PTSIM_TOOLS_CLI_IMAGE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/mem/phys_mem.h"

namespace ptsim::cli {

class ImageFile {
 public:
  // Errors name the path: missing, a directory, not seekable, empty.
  static absl::StatusOr<std::unique_ptr<ImageFile>> Open(const std::string& path);
  // `bytes` must outlive the ImageFile.
  static std::unique_ptr<ImageFile> FromBytes(absl::Span<const uint8_t> bytes, std::string name);
  ~ImageFile();
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;

  uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }
  // Exactly out.size() bytes at `offset`; an error names the file, the
  // offset and the cause (a file that shrank since it was opened, EIO).
  absl::Status ReadAt(uint64_t offset, absl::Span<uint8_t> out) const;

 private:
  ImageFile() = default;
  std::string name_;
  int fd_ = -1;
  absl::Span<const uint8_t> bytes_;
  uint64_t size_ = 0;
};

// Physical [paddr, paddr + size) reads the file's [offset, offset +
// file_bytes) and zeros after it (an ELF segment's p_memsz beyond its
// p_filesz).
struct ImagePiece {
  uint64_t paddr = 0;
  uint64_t size = 0;
  uint64_t offset = 0;
  uint64_t file_bytes = 0;
};

// PhysMem's source for an image: pieces sorted by address and disjoint.
class PieceSource final : public MemSource {
 public:
  PieceSource(const ImageFile* file, std::vector<ImagePiece> pieces);
  void ReadChunk(Oa addr, absl::Span<uint8_t> out) const override;
  // The first read that failed (reported once the walk is over), or OK.
  const absl::Status& status() const { return status_; }
  const std::vector<ImagePiece>& pieces() const { return pieces_; }

 private:
  const ImageFile* file_;
  std::vector<ImagePiece> pieces_;
  mutable absl::Status status_;
};

// The bytes of physical [paddr, paddr + out.size()) inside `p` (which must
// hold them): the file's, then zeros.
absl::Status ReadPiece(const ImageFile& file, const ImagePiece& p, uint64_t paddr, absl::Span<uint8_t> out);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_IMAGE_SOURCE_H_
