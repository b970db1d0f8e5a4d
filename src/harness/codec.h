// What the binary and text codecs of every program kind share: a
// little-endian reader where running out is a normal end, numbers in text,
// and the binary header's format part (id, then one byte per knob).
#ifndef PTSIM_HARNESS_CODEC_H_
#define PTSIM_HARNESS_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"

namespace ptsim {

class ByteReader {
 public:
  explicit ByteReader(absl::Span<const uint8_t> b) : b_(b) {}
  bool U8(uint8_t* v) {
    if (pos_ >= b_.size()) return false;
    *v = b_[pos_++];
    return true;
  }
  // `n` bytes, little-endian, into *v.
  bool Le(int n, uint64_t* v) {
    if (pos_ + static_cast<size_t>(n) > b_.size()) return false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x |= uint64_t{b_[pos_ + i]} << (8 * i);
    pos_ += n;
    *v = x;
    return true;
  }
  absl::Span<const uint8_t> Rest() const { return b_.subspan(std::min(pos_, b_.size())); }

 private:
  absl::Span<const uint8_t> b_;
  size_t pos_ = 0;
};

void PutLe(std::vector<uint8_t>* out, uint64_t v, int n);

// One line of a text program: its number (from 1), the text without its
// '#' comment, and its words. Error() prefixes the line for messages.
struct TextLine {
  int number = 0;
  absl::string_view text;
  std::vector<absl::string_view> words;
  absl::Status Error(absl::string_view what) const;
};
// The non-blank lines of `text` (views into it).
std::vector<TextLine> TextLines(absl::string_view text);

// The statements every program text starts with: `format NAME`, once and
// before anything else, then `config K=V ...`. True when `t` is one of them
// (applied to *e, *format and *config); false when it is another statement
// and the format is known; an error for a bad header line, or for any other
// statement before the format.
absl::StatusOr<bool> ParseHeaderLine(const TextLine& t, const FormatEntry** e, std::string* format,
                                     FormatConfig* config);

// Hex with 0x, or decimal.
bool ParseU64(absl::string_view t, uint64_t* v);

// u32 format id (an unknown id picks registry[id % n]), then one byte per
// knob: min + b % (max - min + 1); knobs past the end keep their defaults.
const FormatEntry& ReadFormatHeader(ByteReader& r, FormatConfig* cfg);
void WriteFormatHeader(const FormatEntry& e, const FormatConfig& cfg, std::vector<uint8_t>* out);

// The CPU mode a program's hardware accesses walk in: values of the
// family's mode knobs (FormatEntry::mode_knobs, src/hw/family.h).
// Binary: per knob in declaration order, one byte (four for a knob wider
// than a byte: PKRU, DACR), min + v % (max - min + 1); knobs past the end
// of the input keep their defaults.
FormatConfig ReadMode(ByteReader& r, const FormatEntry& e);
// Fails for a value outside its knob's range.
absl::Status WriteMode(const FormatEntry& e, const FormatConfig& mode, std::vector<uint8_t>* out);
// Text: the line `mode KEY=VALUE[,KEY=VALUE...]`, naming the knobs that
// differ from the default (a bare `mode` is the default, said explicitly).
std::string ModeLine(const FormatEntry& e, const FormatConfig& mode);
// Reads a `mode` line into *mode; a second one is an error.
absl::Status ParseModeLine(const TextLine& t, const FormatEntry& e, std::optional<FormatConfig>* mode);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_CODEC_H_
