#include "tools/cli/image_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace ptsim::cli {

absl::StatusOr<std::unique_ptr<ImageFile>> ImageFile::Open(const std::string& path) {
  std::unique_ptr<ImageFile> f(new ImageFile());
  f->name_ = path;
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) return absl::NotFoundError(absl::StrFormat("cannot open image '%s': %s", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(f->fd_, &st) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("cannot stat image '%s': %s", path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat("image '%s' is a directory, not a file", path));
  }
  // The size of a regular file or a block device; a pipe or a terminal has
  // none, and its bytes could not be read again on demand.
  const off_t end = lseek(f->fd_, 0, SEEK_END);
  if (end < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
    return absl::InvalidArgumentError(absl::StrFormat("image '%s' is not a seekable file", path));
  }
  f->size_ = static_cast<uint64_t>(end);
  if (f->size_ == 0) return absl::InvalidArgumentError(absl::StrFormat("image '%s' is empty", path));
  return f;
}

std::unique_ptr<ImageFile> ImageFile::FromBytes(absl::Span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<ImageFile> f(new ImageFile());
  f->name_ = std::move(name);
  f->bytes_ = bytes;
  f->size_ = bytes.size();
  return f;
}

ImageFile::~ImageFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ImageFile::ReadAt(uint64_t offset, absl::Span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return absl::OutOfRangeError(absl::StrFormat("image '%s': %d bytes at offset 0x%x are past its end (0x%x bytes)",
                                                 name_, out.size(), offset, size_));
  }
  if (fd_ < 0) {
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    return absl::OkStatus();
  }
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::DataLossError(absl::StrFormat("cannot read image '%s' at offset 0x%x: %s", name_, offset + done,
                                                 n < 0 ? std::strerror(errno) : "the file shrank while it was read"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadPiece(const ImageFile& file, const ImagePiece& p, uint64_t paddr, absl::Span<uint8_t> out) {
  const uint64_t at = paddr - p.paddr;
  const uint64_t from_file = at >= p.file_bytes ? 0 : std::min<uint64_t>(out.size(), p.file_bytes - at);
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(from_file), out.end(), uint8_t{0});
  if (from_file == 0) return absl::OkStatus();
  return file.ReadAt(p.offset + at, out.subspan(0, from_file));
}

PieceSource::PieceSource(const ImageFile* file, std::vector<ImagePiece> pieces)
    : file_(file), pieces_(std::move(pieces)) {}

void PieceSource::ReadChunk(Oa addr, absl::Span<uint8_t> out) const {
  std::fill(out.begin(), out.end(), uint8_t{0});
  const uint64_t first = addr.value();
  const uint64_t last = first + (out.size() - 1);
  // The pieces that end at or after the chunk's first byte, while they
  // start at or before its last.
  auto it = std::lower_bound(pieces_.begin(), pieces_.end(), first,
                             [](const ImagePiece& p, uint64_t a) { return p.paddr + (p.size - 1) < a; });
  for (; it != pieces_.end() && it->paddr <= last; ++it) {
    const uint64_t lo = std::max(first, it->paddr);
    const uint64_t hi = std::min(last, it->paddr + (it->size - 1));
    absl::Status st = ReadPiece(*file_, *it, lo, out.subspan(lo - first, hi - lo + 1));
    if (!st.ok() && status_.ok()) status_ = std::move(st);
  }
}

}  // namespace ptsim::cli
