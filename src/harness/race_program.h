// A race program: format + configuration + a concurrency setup + one
// operation list per simulated CPU + schedule bytes (DESIGN.md §9).
//
// Text form (round-trips through ToRaceText / ParseRaceText):
//   format x86_64_4level
//   config nxe=1                               # optional
//   mode smep=1,smap=1                         # optional: the CPU mode (below)
//   caches tlb bug=leaf_only                   # optional: paging-structure caches too
//   race cpus=3 free=rcu shootdown=ipi         # free: ipi|rcu|immediate; shootdown: ipi|broadcast
//                                              # inject=NAME[,NAME]: known bugs on (ptsim bugs)
//   cpu0 populate s0 0x200000 0x3fffff oa=0x40000000 attrs=rw-u size_lg2=12
//   cpu1 remove s0 0x200000 0x3fffff
//   cpu2 gup s0 0x201000 write pin             # [write] [pin]
//   cpu2 access s0 0x201000 write user         # a hardware access: TLB, walk, A/D
//   cpu0 copy s0 0x0 0x3fffff                  # fork the range of s0 into s1
//   cpu1 protect s0 0x200000 0x200fff attrs=r--u  # mprotect; splits what it covers in part
//   cpu2 unpin                                 # drop this CPU's GUP references
//   schedule cpu0:12 cpu2:3 cpu1:*             # any number of lines; see below
// Each CPU runs its own lines in order; `s0`/`s1` name the two address
// spaces; addresses in the upper half of the top-level table are the shared
// kernel half. Each schedule entry is one tape byte (sched/scheduler.h):
// `cpuN:P` lets CPU N (modulo the CPU count) run P scheduling points before
// the next entry decides, `cpuN:*` until it finishes or blocks; P is one of
// 1..32, 40..224 by 8, 256..16384 doubling. A two-digit hex byte is read as
// the raw tape byte.
//
// The program carries every setting its run depends on (free scheme,
// shootdown style, the known bugs switched on, the CPU mode), so a file
// replays the same with no options anywhere.
//
// Every CPU has a leaf TLB (src/hw/tlb.h); `caches tlb` attaches its
// paging-structure caches too, and may plant a bug in the family's
// invalidation instructions (run_settings.h; `noncoherent` is for ops
// programs only).
//
// The CPU mode is what every hardware access walks in, under the family's
// own rules (src/hw/family.h): values of the family's mode knobs, written
// as in ops programs (`mode KEY=VALUE[,...]`; without the line, the
// family's default mode). An access marked `user` runs in it with the
// family's user setting on top (x86 cpl=3, Arm el=0, RISC-V priv=0).
//
// Binary v4 and v5 (what race_fuzzer mutates; any bytes with either tag
// decode; EncodeRace writes v5 only for a program with a mode or caches
// line):
//   u8  version tag: 'U' (0x55) v4, 'V' (0x56) v5 (version 1 was 'R' and
//       did not carry the bugs; version 2 was 'S' and read op kind 6 as
//       populate; ParseAnyRace refuses both, naming the version. Version 3,
//       'T', is v4 with one-entry leaf sizes only in the unit list; it
//       still decodes, as it always did)
//   u32 format id; u8 per knob (as in ops programs)
//   v5 only: u8 run settings (run_settings.h: bit 0 paging-structure
//       caches, bits 3:2 the invalidator bug; bit 1 ignored), bit 7 a mode
//       follows: one byte per mode knob (four for a wide one), as in ops
//       programs (harness/codec.h ReadMode)
//   u8  setup: bits 1:0 CPUs-2 (3 reads as 2), bits 3:2 free scheme
//       (ipi, rcu, immediate, rcu), bit 4 broadcast shootdowns, bit 5 the
//       unsafe pairing is meant: broadcast + immediate decodes as such only
//       with bit 5 set, as ipi freeing without it (so that random setup
//       bytes rarely make the seed 004 bug), bits 7:6 ignored
//   u16 bugs: bit n switches Bug(n) on (conc/config.h); unknown bits ignored
//   u8  number of ops (at most kMaxRaceOps)
//   ops, 8 bytes each:
//     u8  bits 1:0 CPU (mod CPUs), bits 4:2 kind (populate, remove, gup,
//         access, copy, unpin, protect, then remove again), bit 5 space,
//         bits 7:6 flags (gup: write, pin; access: write, exec)
//     u8  unit: index into the layout's leaf sizes up to 1 GiB, ascending,
//         one-entry and replicated (ARM contiguous, RISC-V NAPOT) alike
//         (mod count)
//     u16 first unit index: bits 4:0 index, bit 15 kernel half (others
//         ignored: few addresses, so that CPUs meet)
//     u8  units - 1, bits 3:0
//     u8  attrs (populate, protect: r w x u bits; access: bit 0 user)
//     u16 output salt (populate)
//   the rest: schedule bytes.
#ifndef PTSIM_HARNESS_RACE_PROGRAM_H_
#define PTSIM_HARNESS_RACE_PROGRAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/any/any_format.h"
#include "src/conc/config.h"
#include "src/harness/run_settings.h"

namespace ptsim {

enum class RaceOpKind : uint8_t { kPopulate, kRemove, kGup, kAccess, kCopy, kUnpin, kProtect };
const char* RaceOpKindName(RaceOpKind k);

struct RaceOp {
  RaceOpKind kind = RaceOpKind::kPopulate;
  int cpu = 0;
  int space = 0;
  Va first, last;          // populate, remove, copy, protect
  unsigned size_lg2 = 0;   // populate
  Oa oa;                   // populate: output of `first`
  LeafAttrs attrs;         // populate, protect
  Va va;                   // gup, access
  bool write = false;      // gup
  bool pin = false;        // gup
  Access access;           // access
  bool operator==(const RaceOp&) const;
};

struct RaceProgram {
  std::string format;
  FormatConfig config;
  int ncpus = 2;
  FreeScheme free = FreeScheme::kRcu;
  ShootdownStyle shootdown = ShootdownStyle::kIpi;
  uint32_t bugs = 0;  // bit n = Bug(n): known bugs switched on for this run
  // Values of the family's mode knobs; nullopt is the family's default.
  std::optional<FormatConfig> mode;
  // The paging-structure caches and an invalidator bug (never noncoherent).
  RunSettings run;
  std::vector<RaceOp> ops;
  std::vector<uint8_t> schedule;
  bool operator==(const RaceProgram&) const = default;
  // Broadcast shootdowns with immediate freeing: the seed 004 bug.
  bool Unsafe() const { return shootdown == ShootdownStyle::kBroadcast && free == FreeScheme::kImmediate; }
};

inline constexpr uint8_t kRaceTagMode = 'V';  // binary version 5: v4 with run settings and a CPU mode
inline constexpr uint8_t kRaceModeFollows = 0x80;  // v5 run settings byte: a mode follows
inline constexpr uint8_t kRaceTag = 'U';    // binary version 4
inline constexpr uint8_t kRaceTagV3 = 'T';  // binary version 3: read, never written
inline constexpr uint8_t kRaceTagV2 = 'S';  // binary version 2: refused
inline constexpr uint8_t kRaceTagV1 = 'R';  // binary version 1: refused
inline constexpr size_t kMaxRaceOps = 24;
// Setup byte bit 5 and the bugs field: the settings part of a binary.
inline constexpr uint8_t kSetupUnsafeBit = 0x20;

// True for the tags DecodeRace reads (versions 3, 4 and 5).
inline bool IsDecodableRaceTag(uint8_t tag) { return tag == kRaceTagMode || tag == kRaceTag || tag == kRaceTagV3; }

// Never fails: any bytes decode (the first byte is taken to be the tag,
// whatever it is).
RaceProgram DecodeRace(absl::Span<const uint8_t> bytes);
// Fails when a value has no binary form (addresses off the layout's grid).
absl::StatusOr<std::vector<uint8_t>> EncodeRace(const RaceProgram& p);
// "name,name" for a bug mask (KnownBugs order); "none" when empty.
std::string InjectListText(uint32_t bugs);
// "name,name" (or "none") into *bugs (added to what is there); unknown
// names are errors listing the known ones.
absl::Status ParseInjectList(std::string_view list, uint32_t* bugs);
std::string ToRaceText(const RaceProgram& p);
std::string RaceOpToText(const RaceOp& op);
// One schedule entry in text ("cpu1:8", "cpu0:*") and back.
std::string ScheduleTokenOf(uint8_t b);
absl::StatusOr<uint8_t> ParseScheduleToken(std::string_view token);
absl::StatusOr<RaceProgram> ParseRaceText(std::string_view text);
// True for race binaries of any version and for text with a `race` line.
bool LooksLikeRace(absl::Span<const uint8_t> bytes);
// A v3 binary or text; an older binary is an error that names its version.
absl::StatusOr<RaceProgram> ParseAnyRace(absl::Span<const uint8_t> bytes);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_RACE_PROGRAM_H_
