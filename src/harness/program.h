// A program: format + configuration + operations (DESIGN.md §9). It has a
// versioned binary encoding, which fuzzers mutate, and a text form that
// round-trips, which people read and write.
//
// Binary v1 (all integers little-endian):
//   u8  version (= 1)
//   u32 format id (FormatIdOf(name); an unknown id picks registry[id % n])
//   u8  one byte per configuration knob of that format: min + b % (max-min+1)
//   ops until the bytes run out (a truncated op is dropped; that is a
//   normal end, not an error):
//     u8 opcode: low two bits = kind (0 map, 1 unmap, 2 protect, 3 access)
//     map:     u64 first page, u64 pages-1, u64 oa page, u8 attrs, u8 size
//     unmap:   u64 first page, u64 pages-1
//     protect: u64 first page, u64 pages-1, u8 attrs
//     access:  u64 address (byte granular), u8 access: bits 1:0 = read,
//              write, exec (3 reads as read), bit 2 = user, bit 3 = keep the
//              address as given (else it is made canonical)
//   "page" is the format's smallest leaf; a page number is taken modulo the
//   translated VA bits and made canonical. attrs: bit n = Attr(n). size 0 is
//   "best fit", otherwise leaf_sizes[(size-1) % count].
#ifndef PTSIM_HARNESS_PROGRAM_H_
#define PTSIM_HARNESS_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"

namespace ptsim {

enum class OpKind : uint8_t { kMap, kUnmap, kProtect, kAccess };
const char* OpKindName(OpKind k);

struct Op {
  OpKind kind = OpKind::kMap;
  VaRange range{};       // map, unmap, protect
  Oa oa;                 // map
  LeafAttrs attrs;       // map, protect
  unsigned force_lg2 = 0;  // map: 0 = best fit
  Va va;                 // access
  Access access;         // access
  bool operator==(const Op& o) const;
};

struct Program {
  std::string format;  // registered name
  FormatConfig config;
  std::vector<Op> ops;
  bool operator==(const Program&) const = default;
};

inline constexpr uint8_t kProgramVersion = 1;
// Limits applied when decoding binary programs, so one fuzz input stays
// cheap; a text program may ask for more and gets it.
inline constexpr size_t kMaxBinaryOps = 64;

// Never fails: any bytes decode to some program (possibly with no ops).
// An empty or wrong-version input decodes to a program with no ops; `why`
// (when given) says so.
Program DecodeBinary(absl::Span<const uint8_t> bytes, std::string* why = nullptr);
// Fails when a value cannot be represented (unaligned or non-canonical
// addresses, a forced size the format lacks): binary is the narrower form.
absl::StatusOr<std::vector<uint8_t>> EncodeBinary(const Program& p);

std::string ToText(const Program& p);
// Errors name the line number and what is wrong with it.
absl::StatusOr<Program> ParseText(std::string_view text);

// One operation in text form, as it appears in ToText.
std::string OpToText(const Op& op);

// Decides whether a file is a text program (printable, starts with '#' or a
// keyword) and parses it either way.
absl::StatusOr<Program> ParseAny(absl::Span<const uint8_t> bytes);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_PROGRAM_H_
