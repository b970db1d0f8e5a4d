// Race programs end to end: codecs, determinism, every format and scheme
// clean without injected bugs, and the known bugs caught.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "src/harness/codec.h"
#include "src/harness/race_mutator.h"
#include "src/harness/race_options.h"
#include "src/harness/race_runner.h"
#include "src/sched/scheduler.h"

namespace ptsim {
namespace {

using ::testing::HasSubstr;

RaceProgram MustParse(const std::string& text) {
  absl::StatusOr<RaceProgram> p = ParseRaceText(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

RaceReport MustRun(const RaceProgram& p) {
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(p, arena);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// Bytes from a fixed generator: the same on every machine.
std::vector<uint8_t> Bytes(uint64_t seed, size_t n) {
  std::vector<uint8_t> out(n);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (uint8_t& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

// A random race program for registry entry `e`: the header names it, the
// rest is noise with small unit indices so that the CPUs collide.
std::vector<uint8_t> RandomProgram(const FormatEntry& e, uint64_t seed, uint8_t setup) {
  std::vector<uint8_t> b = {kRaceTag};
  const std::vector<uint8_t> noise = Bytes(seed, 400);
  PutLe(&b, e.id, 4);
  for (size_t i = 0; i < e.knobs.size(); ++i) b.push_back(noise[i]);
  b.push_back(setup);
  PutLe(&b, 0, 2);  // no bugs
  b.push_back(12);
  for (size_t i = 0; i < 12 * 8; ++i) {
    uint8_t v = noise[16 + i];
    if (i % 8 == 2) v &= 0x1f;
    if (i % 8 == 3) v &= 0x80;
    if (i % 8 == 4) v &= 0x03;
    b.push_back(v);
  }
  b.insert(b.end(), noise.begin() + 200, noise.end());
  return b;
}

TEST(RaceProgram, TextAndBinaryRoundTrip) {
  const RaceProgram p = MustParse(R"(
format x86_64_4level
race cpus=3 free=ipi shootdown=broadcast
cpu0 populate s0 0x0 0xffff oa=0x40000000 attrs=rw-u size_lg2=12
cpu1 remove s1 0x0 0xfff
cpu2 gup s0 0x1000 write pin
cpu1 access s0 0xffff800000001000 exec
cpu0 copy s0 0x0 0x3fffff
cpu2 unpin
schedule cpu1:3 cpu2:40 cpu0:*
schedule c1 00
)");
  EXPECT_EQ(p.schedule, (std::vector<uint8_t>{TapeByte(1, 2), TapeByte(2, 32), TapeByte(0, 63), 0xc1, 0x00}));
  EXPECT_THAT(ToRaceText(p), HasSubstr("schedule cpu1:3 cpu2:40 cpu0:* cpu1:168 cpu0:1\n"));
  EXPECT_EQ(MustParse(ToRaceText(p)), p);
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ(DecodeRace(*bin), p);
}

TEST(RaceProgram, ErrorsNameTheLine) {
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace cpus=9\n").status().message()),
              HasSubstr("line 2"));
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace\ncpu3 unpin\n").status().message()),
              HasSubstr("cpu3"));
  EXPECT_THAT(std::string(ParseRaceText("format nope\n").status().message()), HasSubstr("unknown format"));
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace\nschedule cpu1:33\n").status().message()),
              HasSubstr("bad schedule entry 'cpu1:33': run lengths are 1..32"));
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace\nschedule cpu4:1\n").status().message()),
              HasSubstr("the CPU must be 0 to 3"));
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace\nschedule zz\n").status().message()),
              HasSubstr("expected cpuN:POINTS"));
}

// The bytes decide: broadcast + immediate is honoured only with the unsafe
// bit, so random setup bytes rarely make the seed 004 bug.
TEST(RaceProgram, BroadcastWithImmediateFreeingNeedsTheUnsafeBit) {
  std::vector<uint8_t> b = RandomProgram(Registry()[0], 1, 0x0b | 0x10);  // immediate + broadcast
  EXPECT_EQ(DecodeRace(b).free, FreeScheme::kIpi);
  b = RandomProgram(Registry()[0], 1, 0x2b | 0x10);  // ... + the unsafe bit
  EXPECT_EQ(DecodeRace(b).free, FreeScheme::kImmediate);
}

// The settings a run depends on (the injected bugs, the freeing scheme and
// shootdown style, the unsafe pairing) survive text and binary.
TEST(RaceProgram, SettingsRoundTripInTextAndBinary) {
  for (const char* race : {"race cpus=2 free=immediate shootdown=broadcast inject=free-before-flush,gup-no-fork-seq",
                           "race cpus=4 free=rcu shootdown=ipi inject=gup-double-read",
                           "race cpus=3 free=immediate shootdown=ipi", "race cpus=2 free=ipi shootdown=broadcast"}) {
    SCOPED_TRACE(race);
    const RaceProgram p =
        MustParse(absl::StrCat("format x86_64_4level\n", race, "\ncpu0 remove s0 0x0 0xfff\nschedule cpu1:3\n"));
    EXPECT_THAT(ToRaceText(p), HasSubstr(absl::StrCat(race, "\n")));
    EXPECT_EQ(MustParse(ToRaceText(p)), p);
    absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
    ASSERT_TRUE(bin.ok()) << bin.status();
    EXPECT_EQ((*bin)[0], kRaceTag);
    EXPECT_EQ(DecodeRace(*bin), p);
    absl::StatusOr<RaceProgram> any = ParseAnyRace(*bin);
    ASSERT_TRUE(any.ok()) << any.status();
    EXPECT_EQ(*any, p);
  }
  const RaceProgram p = MustParse("format x86_64_4level\nrace inject=gup-no-fork-seq,free-before-flush\n");
  EXPECT_EQ(p.bugs, (1u << static_cast<int>(Bug::kGupNoForkSeq)) | (1u << static_cast<int>(Bug::kFreeBeforeFlush)));
  // Printed in catalogue order, whatever order the text had.
  EXPECT_EQ(InjectListText(p.bugs), "free-before-flush,gup-no-fork-seq");
  EXPECT_EQ(InjectListText(0), "none");
  EXPECT_EQ(MustParse("format x86_64_4level\nrace inject=none\n").bugs, 0u);
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace inject=nope\n").status().message()),
              HasSubstr("line 2: unknown bug 'nope' (known: publish-before-zero"));
}

// Version 1 binaries ('R') did not record the bugs or the unsafe pairing:
// replaying one would guess, so the strict reader refuses it by version;
// the fuzzer's decoder still turns any bytes into a runnable program.
TEST(RaceProgram, Version1BinaryIsAnErrorNamingTheVersion) {
  std::vector<uint8_t> v1 = RandomProgram(Registry()[0], 2, 0x05);
  v1[0] = kRaceTagV1;
  EXPECT_TRUE(LooksLikeRace(v1));
  const absl::StatusOr<RaceProgram> p = ParseAnyRace(v1);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("version 1 race binary"));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("version 2"));
  Arena arena;
  EXPECT_TRUE(RunRace(DecodeRace(v1), arena).ok());
}

TEST(RaceProgram, Version2BinaryIsAnErrorNamingTheVersion) {
  std::vector<uint8_t> v2 = RandomProgram(Registry()[0], 3, 0x05);
  v2[0] = kRaceTagV2;
  EXPECT_TRUE(LooksLikeRace(v2));
  const absl::StatusOr<RaceProgram> p = ParseAnyRace(v2);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("version 2 race binary"));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("protect"));
}

// Version 4 added replicated leaf sizes to the unit list; a version 3 file
// ('T') still decodes as it always did: the same for a format without
// them, one-entry sizes only for a format with them.
TEST(RaceProgram, Version3BinaryDecodesAsItDid) {
  const RaceProgram x86 = MustParse(
      "format x86_64_4level\nrace cpus=2\n"
      "cpu0 populate s0 0x0 0x1fffff oa=0x40000000 attrs=rw-u size_lg2=21\ncpu1 gup s0 0x1000 write\n");
  absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(x86);
  ASSERT_TRUE(bin.ok()) << bin.status();
  ASSERT_EQ((*bin)[0], kRaceTag);
  (*bin)[0] = kRaceTagV3;
  absl::StatusOr<RaceProgram> back = ParseAnyRace(*bin);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, x86);

  const RaceProgram arm = MustParse(
      "format armv8_s1_4k\nconfig contig=1\nrace cpus=2\n"
      "cpu0 populate s0 0x0 0xffff oa=0x40000000 attrs=rw-u size_lg2=16\n");
  bin = EncodeRace(arm);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ(DecodeRace(*bin), arm);
  (*bin)[0] = kRaceTagV3;
  const RaceProgram old = DecodeRace(*bin);
  ASSERT_EQ(old.ops.size(), 1u);
  EXPECT_NE(old.ops[0].size_lg2, 16u);
  Arena arena;
  EXPECT_TRUE(RunRace(old, arena).ok());
}

TEST(RaceProgram, ProtectRoundTripsInTextAndBinary) {
  const RaceProgram p = MustParse(
      "format x86_64_4level\nrace cpus=2\n"
      "cpu0 populate s0 0x0 0x1fffff oa=0x40000000 attrs=rw-u size_lg2=21\n"
      "cpu1 protect s1 0x1000 0x1fff attrs=r--u\n");
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[1].kind, RaceOpKind::kProtect);
  EXPECT_EQ(RaceOpToText(p.ops[1]), "cpu1 protect s1 0x1000 0x1fff attrs=r--u---");
  EXPECT_EQ(MustParse(ToRaceText(p)), p);
  const absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ(DecodeRace(*bin), p);
  EXPECT_THAT(std::string(ParseRaceText("format x86_64_4level\nrace\ncpu0 protect s0 0x0 0xfff\n").status().message()),
              HasSubstr("protect needs attrs="));
  EXPECT_THAT(
      std::string(ParseRaceText("format x86_64_4level\nrace\ncpu0 protect s0 0x0 0xfff attrs=r-- oa=0x0\n").status().message()),
      HasSubstr("bad option 'oa=0x0'"));
}

// Run in order (no schedule: cpu0's ops, then cpu1's): protect and remove
// each split the 2 MiB leaf and change only what they cover.
TEST(RaceRunner, ProtectAndRemoveSplitAHugeLeafAndLeaveTheRestAsItWas) {
  std::ifstream in(std::filesystem::path(PTSIM_SOURCE_DIR) /
                   "corpus/race_fuzzer/protect_and_remove_split_huge_leaf.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const RaceProgram p = MustParse(text);
  const RaceReport r = MustRun(p);
  ASSERT_TRUE(r.ok()) << FormatRaceReport(p, r);
  std::vector<std::string> result(p.ops.size());
  for (const RaceOpOutcome& o : r.outcomes) result[o.op] = o.result;
  EXPECT_EQ(result[2], "protected");
  EXPECT_EQ(result[4], "removed");
  EXPECT_EQ(result[1], "fault: permission at level 0");    // the protected 4 KiB piece
  EXPECT_EQ(result[3], "pinned");
  EXPECT_EQ(result[5], "fault: permission at level 0");
  EXPECT_EQ(result[6], "fault: not-present at level 0");   // removed
  EXPECT_EQ(result[7], "oa 0x4001f000");                    // untouched, still writable
}

TEST(RaceMutator, SplitAndJoinAreInverse) {
  for (const FormatEntry& e : Registry()) {
    const std::vector<uint8_t> b = RandomProgram(e, 3, 0x05);
    RaceBytes r;
    ASSERT_TRUE(SplitRace(b, &r)) << e.name;
    EXPECT_EQ(r.ops.size(), 12u);
    EXPECT_EQ(JoinRace(r), b) << e.name;
  }
  RaceBytes r;
  EXPECT_FALSE(SplitRace(std::vector<uint8_t>{'x', 1, 2}, &r));
  EXPECT_FALSE(SplitRace(std::vector<uint8_t>{kRaceTag}, &r));
}

// A version 1 input still seeds the search: it splits as the version 2
// program it ran as (no bugs, the unsafe pairing not honoured).
TEST(RaceMutator, SplitReadsVersion1AsTheProgramItRanAs) {
  std::vector<uint8_t> v2 = RandomProgram(Registry()[0], 4, 0x2b | 0x10);
  std::vector<uint8_t> v1 = v2;
  v1[0] = kRaceTagV1;
  const size_t setup_at = 5 + Registry()[0].knobs.size();
  v1.erase(v1.begin() + static_cast<ptrdiff_t>(setup_at) + 1, v1.begin() + static_cast<ptrdiff_t>(setup_at) + 3);
  RaceBytes r;
  ASSERT_TRUE(SplitRace(v1, &r));
  EXPECT_EQ(r.bugs, 0);
  EXPECT_EQ(r.setup, 0x0b | 0x10);
  v2[setup_at] = 0x0b | 0x10;
  EXPECT_EQ(JoinRace(r), v2);
}

// Stands in for libFuzzer's own mutations: rewrites bytes anywhere,
// the settings included.
size_t Scribble(uint8_t* data, size_t size, size_t max_size) {
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(data[i] * 37 + i);
  return std::min(size, max_size);
}

// race_fuzzer's flags restrict the search: every mutant carries them, and
// what no flag names is inherited from the input, so a bug-free safe seed
// only ever yields bug-free safe mutants and a crash file being minimised
// keeps its settings.
TEST(RaceMutator, StampsTheFlagsIntoEveryMutant) {
  const RaceProgram clean = MustParse(
      "format x86_64_4level\nrace cpus=2 free=ipi shootdown=broadcast\ncpu0 populate s0 0x0 0xfff oa=0x40000000 "
      "attrs=rw-u size_lg2=12\ncpu0 remove s0 0x0 0xfff\ncpu1 gup s0 0x0\nschedule cpu0:9 cpu1:4 cpu0:*\n");
  RaceProgram buggy = clean;
  buggy.bugs = 1u << static_cast<int>(Bug::kGupDoubleRead);
  RaceProgram unsafe = clean;
  unsafe.free = FreeScheme::kImmediate;
  const uint32_t reclaim = 1u << static_cast<int>(Bug::kReclaimNoRecheck);
  RaceProgram cached = clean;  // version 5: paging-structure caches and a mode
  cached.run.tlb = true;
  cached.mode = FormatConfig::Defaults(FindFormat("x86_64_4level")->mode_knobs);
  RaceProgram cached_buggy = cached;
  cached_buggy.run.invalidator_bug = 1;
  struct Case {
    const char* what;
    RaceProgram start;
    RaceSettingFlags flags;
    std::function<bool(const RaceProgram&)> holds;
  };
  const std::vector<Case> cases = {
      {"no flags: a clean seed stays clean and safe", clean, {},
       [](const RaceProgram& p) { return p.bugs == 0 && !p.Unsafe(); }},
      {"no flags: a crash keeps its bug", buggy, {}, [&](const RaceProgram& p) { return p.bugs == buggy.bugs; }},
      {"no flags: an unsafe crash stays decodable as unsafe", unsafe, {}, [](const RaceProgram& p) {
         return p.bugs == 0;
       }},
      {"--inject", clean, {.bugs = reclaim}, [&](const RaceProgram& p) { return p.bugs == reclaim && !p.Unsafe(); }},
      {"--inject=none", buggy, {.bugs = 0u}, [](const RaceProgram& p) { return p.bugs == 0; }},
      {"--free --shootdown", clean, {.free = FreeScheme::kRcu, .shootdown = ShootdownStyle::kIpi},
       [](const RaceProgram& p) { return p.free == FreeScheme::kRcu && p.shootdown == ShootdownStyle::kIpi; }},
      {"the unsafe pairing named", clean,
       {.free = FreeScheme::kImmediate, .shootdown = ShootdownStyle::kBroadcast},
       [](const RaceProgram& p) { return p.Unsafe(); }},
      {"no flags: caches stay free of an invalidator bug", cached, {},
       [](const RaceProgram& p) { return p.bugs == 0 && p.run.invalidator_bug == 0; }},
      {"no flags: a crash keeps its invalidator bug", cached_buggy, {},
       [](const RaceProgram& p) { return p.run.invalidator_bug == 1; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<std::vector<uint8_t>> start = EncodeRace(c.start);
    ASSERT_TRUE(start.ok()) << start.status();
    int unsafe_seen = 0;
    for (uint32_t seed = 0; seed < 300; ++seed) {
      for (const ByteMutator& fallback : {ByteMutator{}, ByteMutator{Scribble}}) {
        std::vector<uint8_t> a = *start;
        a.resize(320);
        a.resize(MutateRace(a.data(), start->size(), 320, seed, fallback, {}, c.flags));
        ASSERT_FALSE(a.empty());
        ASSERT_EQ(a[0], (*start)[0]) << "seed " << seed;
        const RaceProgram p = DecodeRace(a);
        ASSERT_TRUE(c.holds(p)) << "seed " << seed << "\n" << ToRaceText(p);
        unsafe_seen += p.Unsafe();
      }
    }
    // The setup mutation varies the scheme; an unsafe start keeps the pairing reachable.
    if (c.start.Unsafe()) {
      EXPECT_GT(unsafe_seen, 0);
    }
  }
}

// Whatever it starts from, the mutator returns a bounded race program, the
// same one for the same seed, and over many seeds it aims ops at each other
// and moves preemptions.
TEST(RaceMutator, ResultsAreBoundedRaceProgramsAndDeterministic) {
  const std::vector<uint8_t> start = RandomProgram(Registry()[0], 9, 0x05);
  int aimed = 0, nudged = 0;
  for (uint32_t seed = 0; seed < 400; ++seed) {
    std::vector<uint8_t> a = start, b = start;
    a.resize(320);
    b.resize(320);
    const size_t na = MutateRace(a.data(), start.size(), 320, seed, {});
    const size_t nb = MutateRace(b.data(), start.size(), 320, seed, {});
    ASSERT_EQ(na, nb);
    a.resize(na);
    b.resize(nb);
    ASSERT_EQ(a, b) << "seed " << seed;
    ASSERT_LE(na, 320u);
    ASSERT_TRUE(LooksLikeRace(a)) << "seed " << seed;
    RaceBytes before, after;
    ASSERT_TRUE(SplitRace(start, &before));
    ASSERT_TRUE(SplitRace(a, &after));
    if (after.ops.size() == before.ops.size() && after.tape.size() == before.tape.size()) {
      for (size_t i = 0; i < after.ops.size(); ++i) {
        if (after.ops[i] == before.ops[i]) continue;
        for (size_t j = 0; j < after.ops.size(); ++j)
          aimed += j != i && std::equal(after.ops[i].begin() + 1, after.ops[i].begin() + 5, after.ops[j].begin() + 1);
      }
      for (size_t i = 0; i < after.tape.size(); ++i)
        nudged += (after.tape[i] & 3) == (before.tape[i] & 3) && after.tape[i] != before.tape[i];
    }
  }
  EXPECT_GT(aimed, 20);
  EXPECT_GT(nudged, 20);
  // Not yet a race program: it becomes one.
  std::vector<uint8_t> junk(100, 0x41);
  const size_t n = MutateRace(junk.data(), 5, 100, 7, {});
  junk.resize(n);
  EXPECT_TRUE(LooksLikeRace(junk));
}

TEST(RaceRunner, AddressesOffTheFormatAreInputErrors) {
  const RaceProgram p = MustParse(
      "format x86_64_4level\nrace cpus=2\ncpu0 populate s0 0x1000 0x1fff oa=0x1000 attrs=rw size_lg2=21\n");
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(p, arena);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("op 1"));
}

// Found by race_fuzzer: a top-level leaf in the kernel half was installed
// in one address space before sync_global copied it to the other, and a
// GUP there reported a lost mapping. Kernels share the kernel half through
// tables, so such programs are input errors and binary ones never make them.
TEST(RaceRunner, KernelHalfTopLevelLeavesAreInputErrors) {
  const RaceProgram p = MustParse(
      "format armv8_s1_64k\nconfig va_bits=40\nrace cpus=2\n"
      "cpu0 populate s0 0x8000000000 0x801fffffff oa=0x60000000 attrs=r--u size_lg2=29\n");
  Arena arena;
  absl::StatusOr<RaceReport> r = RunRace(p, arena);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("kernel half of the top-level table"));
  for (const FormatEntry& e : Registry()) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const RaceProgram q = DecodeRace(RandomProgram(e, seed, 0x05));
      ASSERT_TRUE(RunRace(q, arena).ok()) << ToRaceText(q);
    }
  }
}

// Every registered format, every safe configuration, random programs and
// schedules: no violation, and the same trace twice.
TEST(RaceRunner, EveryFormatAndSafeSchemeRunsCleanAndDeterministically) {
  Arena arena;
  int runs = 0;
  for (const FormatEntry& e : Registry()) {
    for (uint8_t setup : {0x00, 0x05, 0x09, 0x12, 0x16, 0x1a}) {
      for (uint64_t seed = 0; seed < 3; ++seed) {
        const RaceProgram p = DecodeRace(RandomProgram(e, seed * 7 + setup, setup));
        ASSERT_FALSE(p.Unsafe());
        absl::StatusOr<RaceReport> a = RunRace(p, arena);
        ASSERT_TRUE(a.ok()) << a.status() << "\n" << ToRaceText(p);
        ASSERT_TRUE(a->ok()) << FormatRaceReport(p, *a);
        absl::StatusOr<RaceReport> b = RunRace(p, arena);
        ASSERT_EQ(a->trace_hash, b->trace_hash) << ToRaceText(p);
        ++runs;
      }
    }
  }
  EXPECT_EQ(runs, static_cast<int>(Registry().size()) * 18);
}

// Every text program under corpus/race_fuzzer/ runs twice with the same
// trace. A file may say what it must report:
//   # expect: CHECK           the run must end with this check failing
// and a program whose `race` line switches known bugs on (inject=NAME)
// must pass without them.
struct CorpusCase {
  std::string path;
  std::string text;
  std::string expect;  // empty: every check holds
  std::string inject;  // the program's inject= list, empty for none
};

std::vector<CorpusCase> RaceCorpus() {
  std::vector<CorpusCase> out;
  const std::filesystem::path root = std::filesystem::path(PTSIM_SOURCE_DIR) / "corpus" / "race_fuzzer";
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.path().extension() != ".txt") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    CorpusCase c{e.path().string(), ss.str(), "", ""};
    std::istringstream lines(c.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("# expect: ", 0) == 0) c.expect = line.substr(10);
    }
    if (const RaceProgram p = MustParse(c.text); p.bugs != 0) c.inject = InjectListText(p.bugs);
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const CorpusCase& a, const CorpusCase& b) { return a.path < b.path; });
  return out;
}

TEST(RaceCorpus, EveryProgramIsDeterministicAndReportsWhatItSays) {
  const std::vector<CorpusCase> corpus = RaceCorpus();
  ASSERT_GE(corpus.size(), 3u);
  for (const CorpusCase& c : corpus) {
    SCOPED_TRACE(c.path);
    const RaceProgram p = MustParse(c.text);
    const RaceReport a = MustRun(p);
    const RaceReport b = MustRun(p);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.check, c.expect) << FormatRaceReport(p, a);
    if (p.bugs != 0) {
      RaceProgram without = p;
      without.bugs = 0;
      const RaceReport clean = MustRun(without);
      EXPECT_TRUE(clean.ok()) << "without the bug:\n" << FormatRaceReport(p, clean);
    }
  }
}

TEST(RaceCorpus, Seed004IsReportedAndEverySafeSchemeSurvivesTheSameInterleaving) {
  const std::vector<CorpusCase> corpus = RaceCorpus();
  const auto it = std::find_if(corpus.begin(), corpus.end(),
                               [](const CorpusCase& c) { return c.path.find("seed004") != std::string::npos; });
  ASSERT_NE(it, corpus.end());
  RaceProgram p = MustParse(it->text);
  ASSERT_TRUE(p.Unsafe());
  const RaceReport bad = MustRun(p);
  EXPECT_EQ(bad.Signature(p), "x86_64_4level-gup-freed-table") << FormatRaceReport(p, bad);
  for (auto [free, shootdown] : {std::pair{FreeScheme::kIpi, ShootdownStyle::kBroadcast},
                                 std::pair{FreeScheme::kRcu, ShootdownStyle::kBroadcast},
                                 std::pair{FreeScheme::kImmediate, ShootdownStyle::kIpi}}) {
    p.free = free;
    p.shootdown = shootdown;
    const RaceReport r = MustRun(p);
    EXPECT_TRUE(r.ok()) << FreeSchemeName(free) << "/" << ShootdownStyleName(shootdown) << "\n"
                        << FormatRaceReport(p, r);
  }
}

// Each catalogued bug's program names its bug in the file: it reports its
// finding from the text and from the binary compiled from it, with nothing
// else given, and the same program with the bug set empty is silent.
TEST(RaceCorpus, EveryCataloguedBugReplaysFromItsOwnSettings) {
  for (const BugInfo& b : KnownBugs()) {
    SCOPED_TRACE(std::string(b.name));
    const std::vector<CorpusCase> corpus = RaceCorpus();
    const auto it = std::find_if(corpus.begin(), corpus.end(), [&](const CorpusCase& c) {
      return std::filesystem::path(c.path).filename() == std::string(b.name) + ".txt";
    });
    ASSERT_NE(it, corpus.end()) << "no corpus/race_fuzzer/bugs/" << b.name << ".txt";
    ASSERT_FALSE(it->expect.empty());
    const RaceProgram p = MustParse(it->text);
    EXPECT_EQ(p.bugs, 1u << static_cast<int>(b.bug));
    absl::StatusOr<std::vector<uint8_t>> bin = EncodeRace(p);
    ASSERT_TRUE(bin.ok()) << bin.status();
    absl::StatusOr<RaceProgram> q = ParseAnyRace(*bin);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(*q, p);
    const RaceReport from_text = MustRun(p);
    const RaceReport from_binary = MustRun(*q);
    EXPECT_EQ(from_text.check, it->expect) << FormatRaceReport(p, from_text);
    EXPECT_EQ(from_binary.check, it->expect) << FormatRaceReport(*q, from_binary);
    EXPECT_EQ(from_binary.trace_hash, from_text.trace_hash);
    RaceProgram without = *q;
    without.bugs = 0;
    const RaceReport clean = MustRun(without);
    EXPECT_TRUE(clean.ok()) << FormatRaceReport(without, clean);
  }
}

ScheduleLog LogOf(const RaceReport& r) {
  ScheduleLog log;
  for (const TraceEvent& e : r.trace) log.cpu_of_step.push_back(e.cpu);
  log.decisions = r.decisions;
  return log;
}

TEST(RaceMutator, EncodeRunGrantsExactlyThePoints) {
  for (uint64_t n : {1, 31, 32, 33, 49, 224, 225, 300, 16384, 20000}) {
    uint64_t sum = 0;
    for (uint8_t b : EncodeRun(2, n)) {
      EXPECT_EQ(b & 3, 2);
      sum += RunLength(b >> 2);
    }
    EXPECT_EQ(sum, n);
  }
  EXPECT_THAT(EncodeRun(1, 49), ::testing::ElementsAre(TapeByte(1, 33), TapeByte(1, 0)));  // 48 + 1
}

// The preempting mutation's promise: the new tape replays the first `step`
// points of the old run, then another CPU runs. Over every point of a run
// of the corpus's racing pairs.
TEST(RaceMutator, PreemptAtReplaysThePrefixThenSwitches) {
  int points = 0, switched = 0;
  for (const CorpusCase& c : RaceCorpus()) {
    if (!c.inject.empty() || c.path.find("regressions") != std::string::npos) continue;
    SCOPED_TRACE(c.path);
    const RaceProgram p = MustParse(c.text);
    const RaceReport base = MustRun(p);
    const ScheduleLog log = LogOf(base);
    for (uint64_t step : PreemptionPoints(log)) {
      const unsigned to = (log.cpu_of_step[step - 1] + 1u) % static_cast<unsigned>(p.ncpus);
      RaceProgram q = p;
      q.schedule = PreemptAt(p.schedule, log, step, to, 63);
      ASSERT_FALSE(q.schedule.empty()) << "step " << step;
      const RaceReport r = MustRun(q);
      ASSERT_GT(r.trace.size(), step);
      for (uint64_t s = 0; s < step; ++s) {
        ASSERT_EQ(r.trace[s].cpu, base.trace[s].cpu) << "step " << step << " point " << s + 1;
        ASSERT_EQ(r.trace[s].object, base.trace[s].object) << "step " << step << " point " << s + 1;
      }
      ++points;
      switched += r.trace[step].cpu != base.trace[step - 1].cpu;
    }
  }
  std::printf("preemption points replayed: %d, switched there: %d\n", points, switched);
  EXPECT_GT(points, 200);
  // A CPU that cannot run at that point (it waits for a lock) is skipped.
  EXPECT_GT(switched, points * 3 / 4);
}

// The fuzzer's probe: runs the input, keeps its trace, counts the runs.
ScheduleProbe CountingProbe(int* runs) {
  return [runs](absl::Span<const uint8_t> b, ScheduleLog* log) {
    ++*runs;
    const RaceReport r = MustRun(DecodeRace(b));
    *log = LogOf(r);
    for (const TraceEvent& e : r.trace) log->kind_of_step.push_back(e.kind);
    return true;
  };
}

// The binary of the corpus program whose path contains `part`.
absl::StatusOr<std::vector<uint8_t>> EncodedCorpusProgram(std::string_view part) {
  const std::vector<CorpusCase> corpus = RaceCorpus();
  const auto it = std::find_if(corpus.begin(), corpus.end(),
                               [&](const CorpusCase& c) { return c.path.find(part) != std::string::npos; });
  if (it == corpus.end()) return absl::NotFoundError(absl::StrCat("no corpus program named like ", std::string(part)));
  return EncodeRace(MustParse(it->text));
}

// With a probe (the fuzzer's: run the input, keep its trace), the mutator
// writes preempting tapes, deterministically per seed.
TEST(RaceMutator, WithAProbeItPreemptsAtExactPoints) {
  const absl::StatusOr<std::vector<uint8_t>> start = EncodedCorpusProgram("fork_vs_gup");
  ASSERT_TRUE(start.ok()) << start.status();
  int probes = 0;
  const ScheduleProbe probe = CountingProbe(&probes);
  int preempted = 0;
  for (uint32_t seed = 0; seed < 200; ++seed) {
    std::vector<uint8_t> a = *start, b = *start;
    a.resize(320);
    b.resize(320);
    const int before = probes;
    a.resize(MutateRace(a.data(), start->size(), 320, seed, {}, probe));
    const bool probed = probes > before;
    b.resize(MutateRace(b.data(), start->size(), 320, seed, {}, probe));
    ASSERT_EQ(a, b) << "seed " << seed;
    RaceBytes r;
    ASSERT_TRUE(SplitRace(a, &r));
    preempted += probed && !r.tape.empty();
  }
  EXPECT_GT(preempted, 20);
}

// The cached probe runs each program once, and the mutants are the ones
// the probe itself gives: a run is deterministic, so remembering it changes
// nothing but the time.
TEST(RaceMutator, ACachedProbeRunsEachParentOnceAndChangesNoMutant) {
  const absl::StatusOr<std::vector<uint8_t>> start = EncodedCorpusProgram("fork_vs_gup");
  ASSERT_TRUE(start.ok()) << start.status();
  int runs = 0;
  const ScheduleProbe probe = CountingProbe(&runs);
  CachedProbe cached(probe, 16);
  for (uint32_t seed = 0; seed < 100; ++seed) {
    std::vector<uint8_t> a = *start, b = *start;
    a.resize(320);
    b.resize(320);
    a.resize(MutateRace(a.data(), start->size(), 320, seed, {}, probe));
    b.resize(MutateRace(b.data(), start->size(), 320, seed, {}, std::ref(cached)));
    ASSERT_EQ(a, b) << "seed " << seed;
  }
  EXPECT_GT(runs, 20);  // the uncached probe ran the parent for every preempting mutation
  EXPECT_EQ(cached.runs(), 1u);

  // Beyond its capacity the oldest program is forgotten and run again.
  CachedProbe one(probe, 1);
  std::vector<uint8_t> other = *start;
  other.push_back(TapeByte(0, 3));
  ScheduleLog log;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(one(*start, &log));
    ASSERT_TRUE(one(other, &log));
  }
  EXPECT_EQ(one.runs(), 6u);
  ASSERT_TRUE(one(other, &log));
  EXPECT_EQ(one.runs(), 6u);
}

// Each catalogued bug's program, with its schedule removed, is one
// preemption away from its report: the mutation above reaches it in one
// step, with the probability printed here.
TEST(RaceMutator, EveryCataloguedBugIsOnePreemptionFromItsProgram) {
  for (const CorpusCase& c : RaceCorpus()) {
    if (c.inject.empty()) continue;
    SCOPED_TRACE(c.path);
    RaceProgram p = MustParse(c.text);
    p.schedule.clear();
    const RaceReport base = MustRun(p);
    if (base.check == c.expect) continue;  // found in program order
    const ScheduleLog log = LogOf(base);
    const std::vector<uint64_t> points = PreemptionPoints(log);
    int hits = 0, tries = 0;
    for (uint64_t step : points) {
      for (unsigned to = 0; to < static_cast<unsigned>(p.ncpus); ++to) {
        if (to == log.cpu_of_step[step - 1]) continue;
        for (unsigned run : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 11u, 15u, 31u, 63u}) {
          RaceProgram q = p;
          q.schedule = PreemptAt(p.schedule, log, step, to, run);
          ++tries;
          hits += MustRun(q).check == c.expect;
        }
      }
    }
    std::printf("%s: %d of %d single preemptions report %s\n", c.inject.c_str(), hits, tries, c.expect.c_str());
    EXPECT_GT(hits, 0) << "no single preemption reports " << c.expect;
  }
}

// A pin released before quiescence is checked when it is released: fork
// write-protecting the page while it was pinned is reported then, and the
// same program without the bug passes.
TEST(RaceOracle, PinCoherenceIsCheckedWhenThePinIsReleased) {
  const std::vector<CorpusCase> corpus = RaceCorpus();
  const auto it = std::find_if(corpus.begin(), corpus.end(),
                               [](const CorpusCase& c) { return c.inject == "gup-no-fork-seq"; });
  ASSERT_NE(it, corpus.end());
  std::string text = it->text;
  const size_t at = text.find("schedule ");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "cpu1 unpin\n");
  const RaceProgram p = MustParse(text);
  ASSERT_EQ(InjectListText(p.bugs), "gup-no-fork-seq");
  const RaceReport bad = MustRun(p);
  EXPECT_EQ(bad.check, "pin-coherence") << FormatRaceReport(p, bad);
  EXPECT_THAT(bad.message, HasSubstr("while it held the pin"));
  RaceProgram without = p;
  without.bugs = 0;
  const RaceReport clean = MustRun(without);
  EXPECT_TRUE(clean.ok()) << FormatRaceReport(p, clean);
}

// Found by race_fuzzer: pinning a frame that two populates mapped at two
// addresses (legal) was reported as a fork sharing a pinned page. Pin
// coherence is about the mapping a pin was taken through staying writable.
TEST(Regression, PinnedFrameMappedTwiceByPopulatesIsNotAPinCoherenceViolation) {
  for (const char* name : {"pinned_frame_mapped_twice_by_populates.txt"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::filesystem::path(PTSIM_SOURCE_DIR) / "corpus/race_fuzzer/regressions" / name);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty());
    const absl::StatusOr<RaceProgram> parsed = ParseRaceText(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const RaceProgram& p = *parsed;
    const RaceReport r = MustRun(p);
    EXPECT_TRUE(r.ok()) << FormatRaceReport(p, r);
    EXPECT_TRUE(std::any_of(r.outcomes.begin(), r.outcomes.end(),
                            [](const RaceOpOutcome& o) { return o.result == "pinned"; }))
        << "the program no longer pins anything, so it no longer tests the oracle";
  }
}

// A populate whose table is unhooked under it (a remove reclaimed it) starts
// again from the root at the first address it has not done, never before
// the range it was given: in every single preemption of this program, cpu0
// installs its one leaf or finds it present, and the run passes.
TEST(RacePopulate, AnUnhookedTableRestartsWhereThePopulateWas) {
  RaceProgram p = MustParse(R"(format x86_64_4level
race cpus=2 free=rcu shootdown=ipi
cpu1 populate s0 0x0 0xfff oa=0x40000000 attrs=rw-u size_lg2=12
cpu0 populate s0 0x1000 0x1fff oa=0x40001000 attrs=rw-u size_lg2=12
cpu1 remove s0 0x0 0x1fff
cpu0 copy s0 0x0 0x1fff
)");
  const RaceReport base = MustRun(p);
  const ScheduleLog log = LogOf(base);
  int runs = 0;
  for (uint64_t step : PreemptionPoints(log)) {
    for (unsigned to = 0; to < 2; ++to) {
      if (to == log.cpu_of_step[step - 1]) continue;
      for (unsigned run : {0u, 1u, 2u, 3u, 5u, 8u, 13u, 21u, 34u}) {
        RaceProgram q = p;
        q.schedule = PreemptAt(p.schedule, log, step, to, run);
        const RaceReport r = MustRun(q);
        ++runs;
        EXPECT_TRUE(r.ok()) << FormatRaceReport(q, r);
        for (const RaceOpOutcome& o : r.outcomes) {
          if (o.op != 1) continue;
          EXPECT_THAT(o.result, ::testing::AnyOf("1 installed, 0 already present", "0 installed, 1 already present"))
              << FormatRaceReport(q, r);
        }
      }
    }
  }
  EXPECT_GT(runs, 50);
}

}  // namespace
}  // namespace ptsim

namespace ptsim {
namespace {

// A TLB entry holds the dirty flag: a write through an entry a read filled
// walks again and sets the leaf's dirty bit (one more compare-and-swap); a
// second write hits the entry the first one refilled.
TEST(RaceTlb, AWriteThroughACleanEntryWalksAndSetsDirty) {
  auto cas_count = [](const std::string& accesses) {
    const RaceProgram p = MustParse("format x86_64_4level\nrace cpus=2\n"
                                    "cpu0 populate s0 0x0 0xfff oa=0x40000000 attrs=rw-u size_lg2=12\n" +
                                    accesses);
    const RaceReport r = MustRun(p);
    EXPECT_TRUE(r.ok()) << FormatRaceReport(p, r);
    return std::count_if(r.trace.begin(), r.trace.end(), [](const TraceEvent& e) { return e.kind == PointKind::kCas; });
  };
  const auto read = cas_count("cpu0 access s0 0x0 read user\n");
  EXPECT_EQ(cas_count("cpu0 access s0 0x0 read user\ncpu0 access s0 0x0 write user\n"), read + 1);
  EXPECT_EQ(cas_count("cpu0 access s0 0x0 read user\ncpu0 access s0 0x0 write user\ncpu0 access s0 0x0 write user\n"),
            read + 1);
}

}  // namespace
}  // namespace ptsim
