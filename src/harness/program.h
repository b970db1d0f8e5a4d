// A program: format + configuration + operations (DESIGN.md §9). It has a
// versioned binary encoding, which fuzzers mutate, and a text form that
// round-trips, which people read and write.
//
// A program may also say how it runs beyond its operations (RunSettings:
// caches attached to the walker and a planted invalidator bug, what
// tlb_fuzzer checks), so that its file replays the same with no options.
// Text: a line `caches tlb noncoherent [bug=leaf_only|forget_global|wrong_asid]`
// after the format (either word alone attaches only that one).
//
// A program also carries the CPU mode the architecture's rules walk in
// (values of the family's mode knobs, src/hw/family.h): text `mode
// KEY=VALUE[,KEY=VALUE...]` (a bare `mode` is the family's default mode,
// said explicitly); without the line, the default mode. A user access runs
// in this mode with the family's user setting applied on top.
//
// Binary v1, v2 and v3 (all integers little-endian):
//   u8  version: 1 plain, 2 with run settings, 3 with run settings and a
//       mode (EncodeBinary writes the smallest that holds the program; all
//       three are read)
//   u32 format id (FormatIdOf(name); an unknown id picks registry[id % n])
//   u8  one byte per configuration knob of that format: min + b % (max-min+1)
//   v2, v3: u8 run settings: bit 0 TLB, bit 1 non-coherent walker view,
//       bits 3:2 invalidator bug (none, leaf_only, forget_global,
//       wrong_asid; read only with the TLB), bits 7:4 ignored
//   v3 only: per mode knob of the family, in declaration order, one byte
//       (u32 for a knob wider than a byte, e.g. PKRU or DACR): min + v %
//       (max-min+1); knobs past the end keep their defaults
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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"
#include "src/harness/run_settings.h"

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
  // Values of the family's mode knobs (FormatEntry::mode_knobs); nullopt
  // is the family's default mode.
  std::optional<FormatConfig> mode;
  RunSettings run;
  std::vector<Op> ops;
  bool operator==(const Program&) const = default;
};

inline constexpr uint8_t kProgramVersion = 1;          // no run settings
inline constexpr uint8_t kProgramVersionSettings = 2;  // with run settings
inline constexpr uint8_t kProgramVersionMode = 3;      // with run settings and a CPU mode
inline constexpr bool IsProgramVersion(uint8_t v) { return v >= kProgramVersion && v <= kProgramVersionMode; }

// The mode a program's accesses run in: its own, or the family's default.
FormatConfig ModeOf(const Program& p, const FormatEntry& e);
// Limits applied when decoding binary programs, so one fuzz input stays
// cheap; a text program may ask for more and gets it.
inline constexpr size_t kMaxBinaryOps = 64;

// Never fails: any bytes decode to some program (possibly with no ops).
// An empty or unknown-version input decodes to a program with no ops; `why`
// (when given) says so.
Program DecodeBinary(absl::Span<const uint8_t> bytes, std::string* why = nullptr);
// Fails when a value cannot be represented (unaligned or non-canonical
// addresses, a forced size the format lacks): binary is the narrower form.
absl::StatusOr<std::vector<uint8_t>> EncodeBinary(const Program& p);

std::string ToText(const Program& p);
// Errors name the line number and what is wrong with it.
absl::StatusOr<Program> ParseText(std::string_view text);

// Applies a map, unmap or protect to `space` (a Space<F> or an AnySpace);
// nullopt for an access, which changes no table.
template <typename S>
std::optional<absl::Status> ApplyTableOp(S& space, const Op& op) {
  switch (op.kind) {
    case OpKind::kMap:
      return space.Map(op.range, op.oa, op.attrs, op.force_lg2);
    case OpKind::kUnmap:
      return space.Unmap(op.range);
    case OpKind::kProtect:
      return space.Protect(op.range, op.attrs);
    case OpKind::kAccess:
      break;
  }
  return std::nullopt;
}

// One operation in text form, as it appears in ToText.
std::string OpToText(const Op& op);

// Decides whether a file is a text program (printable, starts with '#' or a
// keyword) and parses it either way.
absl::StatusOr<Program> ParseAny(absl::Span<const uint8_t> bytes);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_PROGRAM_H_
