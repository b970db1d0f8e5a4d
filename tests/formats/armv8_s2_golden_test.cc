// Golden vectors for ARMv8 stage 2 (src/formats/armv8_s2.h), derived by
// hand from DDI 0487 chapter D8. Notation: "D8 concatenation" =
// "Concatenated translation tables for the initial stage 2 lookup" with the
// pseudocode AArch64.S2StartLevel / AArch64.S2InconsistentSL (the initial
// lookup resolves 1 to stride + 4 IPA bits); "D8 S2 attributes" = the stage
// 2 block and page descriptor fields; "D8 S2 permissions" = "Data access
// permissions for stage 2" and the stage 2 execute-never rules.
//
// Leaf bits used over and over (D8 S2 attributes): valid 0x1, page 0x2,
// MemAttr[3:0] = 1111 (Normal WB) in bits 5:2 = 0x3c, S2AP[0] read 0x40,
// S2AP[1] write 0x80, SH = 11 0x300, AF 0x400, XN[0] (FEAT_XNX) bit 53 =
// 0x0020'0000'0000'0000, XN / XN[1] bit 54 = 0x0040'0000'0000'0000.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>

#include "src/formats/armv8_s2.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::ArmV8S2_16K;
using fmt::ArmV8S2_4K;
using fmt::ArmV8S2_64K;

using golden::Make;

using golden::Attrs;

template <typename F>
void Put(PhysMem* mem, uint64_t addr, int level, uint64_t raw) {
  EntryPtr<F>(mem, Oa(addr), Level(level)).Store(EntryVal<F>{raw, Level(level)}, std::memory_order_relaxed);
}

template <typename F>
uint64_t Get(PhysMem* mem, uint64_t addr, int level) {
  return EntryPtr<F>(mem, Oa(addr), Level(level)).Load(std::memory_order_relaxed).raw;
}

const Access kRead{AccessType::kRead, false};
const Access kWrite{AccessType::kWrite, false};
const Access kExec{AccessType::kExec, false};
const Access kEl0Read{AccessType::kRead, true};

TEST(ArmV8S2Golden, NamesAndKnobDefaults) {
  EXPECT_EQ(ArmV8S2_4K::kName, "armv8_s2_4k");
  EXPECT_EQ(ArmV8S2_16K::kName, "armv8_s2_16k");
  EXPECT_EQ(ArmV8S2_64K::kName, "armv8_s2_64k");
  EXPECT_EQ(ConfigToString(ArmV8S2_4K::kKnobs, FormatConfig::Defaults(ArmV8S2_4K::kKnobs)),
            "ipa_bits=40 oa_bits=48 lpa=0 concat=1 ha=1 xnx=0 contig=0");
  EXPECT_EQ(Make<ArmV8S2_4K>().VaExt(), VaExtension::kZero);
}

// ---------------------------------------------------------------------------
// Start levels and concatenation (D8 concatenation). Item sizes: 4KB L0 39,
// L1 30, L2 21 bits; 16KB L1 36, L2 25, L3 14; 64KB L1 42, L2 29, L3 16.

// 4KB, 40-bit IPA: L0 would resolve 1 bit, L1 resolves 10 = 9 + 1: two
// concatenated L1 tables, 1024 entries, 8 KiB. concat = 0 keeps L0.
// 43 bits: L1 resolves 13 = 9 + 4, the maximum: 16 tables, 64 KiB.
// 44 bits: L1 would need 14 > 13, so only L0 (5 bits) is legal.
TEST(ArmV8S2Golden, Start4K) {
  const auto f40 = Make<ArmV8S2_4K>();
  EXPECT_EQ(f40.TopLevel(), Level(2));
  EXPECT_EQ(f40.LevelName(f40.TopLevel()), "L1");
  EXPECT_EQ(f40.IndexLg2(Level(2)), 10u);
  EXPECT_EQ(TableSizeLg2(f40, Level(2)), 13u);
  const auto f40s = Make<ArmV8S2_4K>({"concat=0"});
  EXPECT_EQ(f40s.TopLevel(), Level(3));
  EXPECT_EQ(f40s.IndexLg2(Level(3)), 1u);
  const auto f43 = Make<ArmV8S2_4K>({"ipa_bits=43"});
  EXPECT_EQ(f43.TopLevel(), Level(2));
  EXPECT_EQ(TableSizeLg2(f43, Level(2)), 16u);
  const auto f44 = Make<ArmV8S2_4K>({"ipa_bits=44"});
  EXPECT_EQ(f44.TopLevel(), Level(3));
  EXPECT_EQ(f44.IndexLg2(Level(3)), 5u);
  // 25 bits: only L2 (4 bits): L3 as a start needs FEAT_TTST.
  const auto f25 = Make<ArmV8S2_4K>({"ipa_bits=25"});
  EXPECT_EQ(f25.TopLevel(), Level(1));
  EXPECT_EQ(f25.IndexLg2(Level(1)), 4u);
  // 34 bits: L2 with 13 bits (16 tables) or L1 with 4.
  EXPECT_EQ(Make<ArmV8S2_4K>({"ipa_bits=34"}).IndexLg2(Level(1)), 13u);
  EXPECT_EQ(Make<ArmV8S2_4K>({"ipa_bits=34", "concat=0"}).TopLevel(), Level(2));
}

// 16KB, 40-bit IPA: L2 resolves 15 = 11 + 4: 16 concatenated tables of
// 16 KiB = 256 KiB; concat = 0: L1 with 4 bits. 48 bits without DS: L0
// cannot start a stage 2 walk, so L1 with 12 bits (2 tables, 32 KiB)
// whatever concat says; with DS (lpa = 1) concat = 0 may start at L0.
TEST(ArmV8S2Golden, Start16K) {
  const auto f40 = Make<ArmV8S2_16K>();
  EXPECT_EQ(f40.TopLevel(), Level(1));
  EXPECT_EQ(f40.IndexLg2(Level(1)), 15u);
  EXPECT_EQ(TableSizeLg2(f40, Level(1)), 18u);
  EXPECT_EQ(Make<ArmV8S2_16K>({"concat=0"}).TopLevel(), Level(2));
  for (const char* c : {"concat=0", "concat=1"}) {
    const auto f48 = Make<ArmV8S2_16K>({"ipa_bits=48", c});
    EXPECT_EQ(f48.TopLevel(), Level(2)) << c;
    EXPECT_EQ(f48.IndexLg2(Level(2)), 12u) << c;
  }
  const auto ds = Make<ArmV8S2_16K>({"ipa_bits=48", "lpa=1", "concat=0"});
  EXPECT_EQ(ds.TopLevel(), Level(3));
  EXPECT_EQ(ds.IndexLg2(Level(3)), 1u);
}

// 64KB, 46-bit IPA: L2 resolves 17 = 13 + 4: 16 tables of 64 KiB = 1 MiB
// (TableAllocator::kMaxSizeLg2); concat = 0: L1 with 4 bits. 42 bits: L2
// with one full table. 47 bits: only L1 (5 bits).
TEST(ArmV8S2Golden, Start64K) {
  const auto f46 = Make<ArmV8S2_64K>({"ipa_bits=46"});
  EXPECT_EQ(f46.TopLevel(), Level(1));
  EXPECT_EQ(f46.IndexLg2(Level(1)), 17u);
  EXPECT_EQ(TableSizeLg2(f46, Level(1)), 20u);
  EXPECT_EQ(Make<ArmV8S2_64K>({"ipa_bits=46", "concat=0"}).TopLevel(), Level(2));
  EXPECT_EQ(Make<ArmV8S2_64K>({"ipa_bits=42"}).IndexLg2(Level(1)), 13u);
  EXPECT_EQ(Make<ArmV8S2_64K>({"ipa_bits=47"}).TopLevel(), Level(2));
  EXPECT_FALSE(Make<ArmV8S2_64K>({"ipa_bits=47"}).CanLeaf(Level(2))) << "no 4 TiB blocks without LPA";
}

// 52-bit IPA with lpa = 1: 4KB may start at L-1 (4 bits, concat = 0) or L0
// with 13 bits (16 tables, concat = 1); 64KB starts at L1 with 10 bits.
TEST(ArmV8S2Golden, Start52BitIpa) {
  const auto deep = Make<ArmV8S2_4K>({"ipa_bits=52", "lpa=1"});
  EXPECT_EQ(deep.TopLevel(), Level(3));
  EXPECT_EQ(deep.IndexLg2(Level(3)), 13u);
  const auto shallow = Make<ArmV8S2_4K>({"ipa_bits=52", "lpa=1", "concat=0"});
  EXPECT_EQ(shallow.TopLevel(), Level(4));
  EXPECT_EQ(shallow.LevelName(Level(4)), "L-1");
  EXPECT_EQ(shallow.IndexLg2(Level(4)), 4u);
  EXPECT_EQ(Make<ArmV8S2_64K>({"ipa_bits=52", "lpa=1"}).IndexLg2(Level(2)), 10u);
  EXPECT_EQ(Make<ArmV8S2_4K>({"ipa_bits=52"}).VaBits(), 48u) << "no 52-bit IPA without LPA2";
}

// ---------------------------------------------------------------------------
// Encodings (D8 S2 attributes, D8 S2 permissions).

// 4KB page at 0x8000'1000, read/write/exec, accessed:
//   0x3 | MemAttr 0x3c | S2AP 0xc0 | SH 0x300 | AF 0x400 = 0x7ff, XN = 0
//   = 0x8000'17ff
// Read-only, no exec, AF clear at 0x1234'5000: 0x3 | 0x3c | 0x40 | 0x300 =
// 0x37f, XN -> 0x0040'0000'1234'537f. Write-only: 0x3bf. No access (S2AP
// = 00, a valid leaf that faults every data access): 0x33f.
TEST(ArmV8S2Golden, EncodePages) {
  const auto f = Make<ArmV8S2_4K>();
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x80001000), Attrs("rwxa")), 0x800017ffull);
  EXPECT_EQ(f.DecodeAttrs(0x800017ffull, Level(0)), Attrs("rwxua"));
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("r")), 0x004000001234537full);
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("w")), 0x00400000123453bfull);
  EXPECT_EQ(f.DecodeAttrs(0x00400000123453bfull, Level(0)), Attrs("wu"));
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x12345000), Attrs("")), 0x004000001234533full);
  EXPECT_EQ(f.Classify(0x004000001234533full, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.DecodeAttrs(0x004000001234533full, Level(0)), Attrs("u"));
  // Stage 2 has no EL0/EL1 data split and no nG: user always, global never.
  EXPECT_EQ(f.Canonical(Attrs("rwxgd")), Attrs("rwxu"));
}

// Blocks: 4KB L2 (2 MiB) at 0x4020'0000, RWX, accessed: 0x1 | 0x3c | 0xc0 |
// 0x300 | 0x400 = 0x7fd -> 0x4020'07fd. 64KB L2 (512 MiB) at 0x1'2000'0000,
// RW, no exec, accessed -> 0x0040'0001'2000'07fd. Tables: valid|table and
// the address, 0x5003; stage 2 table descriptors restrict nothing, even
// with bits 63:59 set.
TEST(ArmV8S2Golden, EncodeBlocksAndTables) {
  EXPECT_EQ(Make<ArmV8S2_4K>().EncodeLeaf(Level(1), Oa(0x40200000), Attrs("rwxa")), 0x402007fdull);
  const auto f64 = Make<ArmV8S2_64K>({"ipa_bits=46"});
  EXPECT_EQ(f64.EncodeLeaf(Level(1), Oa(0x120000000ull), Attrs("rwa")), 0x00400001200007fdull);
  EXPECT_EQ(f64.EncodeTable(Level(1), Oa(0x50000)), 0x50003ull);
  EXPECT_EQ(TablePermsOf(f64, 0xf800000000050003ull, Level(1)), TablePerms{});
}

// D8 S2 permissions, XN: without FEAT_XNX bit 53 is RES0 (ignored here):
// 0x0020'0000'8000'17ff (XN[0] set) is executable; with xnx = 1 XN = 01
// forbids EL1 execution, which the single exec attribute reports as no
// exec. XN = 10 and 11 are never executable.
TEST(ArmV8S2Golden, ExecuteNeverWithAndWithoutXnx) {
  const auto plain = Make<ArmV8S2_4K>();
  const auto xnx = Make<ArmV8S2_4K>({"xnx=1"});
  EXPECT_TRUE(plain.DecodeAttrs(0x00200000800017ffull, Level(0)).Has(Attr::kExec));
  EXPECT_FALSE(xnx.DecodeAttrs(0x00200000800017ffull, Level(0)).Has(Attr::kExec));
  EXPECT_FALSE(plain.DecodeAttrs(0x00600000800017ffull, Level(0)).Has(Attr::kExec));
  EXPECT_FALSE(xnx.DecodeAttrs(0x00400000800017ffull, Level(0)).Has(Attr::kExec));
  EXPECT_EQ(xnx.EncodeLeaf(Level(0), Oa(0x80001000), Attrs("rwa")), 0x00400000800017ffull);
}

// DS = 1 (lpa = 1, 4KB): no SH in the descriptor, OA[51:50] in bits 9:8.
// Page at 0x4'0000'8000'1000, RW exec accessed: 0x3 | 0x3c | 0xc0 | AF 0x400
// | OA[51:50] = 01 -> 0x100 = 0x5ff -> 0x8000'15ff.
TEST(ArmV8S2Golden, EncodeLpa2Page) {
  const auto f = Make<ArmV8S2_4K>({"ipa_bits=52", "oa_bits=52", "lpa=1"});
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x0004000080001000ull), Attrs("rwxa")), 0x800015ffull);
  EXPECT_EQ(f.LeafOa(0x800015ffull, Level(0)), Oa(0x0004000080001000ull));
}

// ---------------------------------------------------------------------------
// Walks.

// 4KB, 40-bit IPA, two concatenated L1 tables at 0x1'0000 (8 KiB). IPA
// 0xc0'4020'1abc:
//   L1 index IPA[39:30] = 0x301 (>= 512: the second table)
//      entry 0x1'0000 + 0x301 * 8 = 0x1'1808 -> 0x2'0003
//   L2 index IPA[29:21] = 1    entry 0x2'0008 -> 0x2'1003
//   L3 index IPA[20:12] = 1    entry 0x2'1008 = 0x8000'13ff (RWX, AF clear)
//   offset 0xabc -> PA 0x8000'1abc; HA sets AF -> 0x8000'17ff.
// Stage 2 grants EL0 what it grants EL1. IPA 2^40 is out of range.
TEST(ArmV8S2Golden, Walk4KThroughConcatenatedTables) {
  const auto f = Make<ArmV8S2_4K>();
  PhysMem mem(Oa(0), 1 << 20);
  Put<ArmV8S2_4K>(&mem, 0x11808, 2, 0x20003);
  Put<ArmV8S2_4K>(&mem, 0x20008, 1, 0x21003);
  Put<ArmV8S2_4K>(&mem, 0x21008, 0, 0x800013ffull);
  const WalkResult r = Translate(f, &mem, Oa(0x10000), Va(0xc040201abcull), kWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x80001abc));
  EXPECT_EQ(r.t.size_lg2, 12u);
  EXPECT_EQ(Get<ArmV8S2_4K>(&mem, 0x21008, 0), 0x800017ffull);
  EXPECT_TRUE(Translate(f, &mem, Oa(0x10000), Va(0xc040201abcull), kEl0Read).ok);
  EXPECT_EQ(Translate(f, &mem, Oa(0x10000), Va(0x10000000000ull), kRead).fault.kind, FaultKind::kNonCanonical);
}

// S2AP = 00 with XN = 0 at IPA 0xc0'4020'2000 (L3 index 2, entry
// 0x2'1010 = 0x8000'273f: 0x3 | 0x3c | 0x300 | AF 0x400): data accesses
// fault at L3, an instruction fetch succeeds (stage 2 fetches check XN only).
TEST(ArmV8S2Golden, WalkExecuteWithoutRead) {
  const auto f = Make<ArmV8S2_4K>();
  PhysMem mem(Oa(0), 1 << 20);
  Put<ArmV8S2_4K>(&mem, 0x11808, 2, 0x20003);
  Put<ArmV8S2_4K>(&mem, 0x20008, 1, 0x21003);
  Put<ArmV8S2_4K>(&mem, 0x21010, 0, 0x8000273full);
  EXPECT_EQ(Translate(f, &mem, Oa(0x10000), Va(0xc040202000ull), kRead).fault,
            (Fault{FaultKind::kPermission, Level(0)}));
  const WalkResult x = Translate(f, &mem, Oa(0x10000), Va(0xc040202010ull), kExec);
  ASSERT_TRUE(x.ok) << FaultKindName(x.fault.kind);
  EXPECT_EQ(x.t.oa, Oa(0x80002010));
}

// 64KB, 46-bit IPA: sixteen concatenated L2 tables, 1 MiB at 0x10'0000.
// IPA 0x3fff'e001'2345: L2 index IPA[45:29] = 0x1'ffff, the last entry of
// the last table: 0x10'0000 + 0x1'ffff * 8 = 0x1f'fff8, holding the RW
// 512 MiB block 0x0040'0001'2000'07fd. Offset IPA[28:0] = 0x1'2345 ->
// PA 0x1'2001'2345.
TEST(ArmV8S2Golden, Walk64KSixteenConcatenatedTables) {
  const auto f = Make<ArmV8S2_64K>({"ipa_bits=46"});
  PhysMem mem(Oa(0), 1 << 21);
  Put<ArmV8S2_64K>(&mem, 0x1ffff8, 1, 0x00400001200007fdull);
  WalkTrace trace;
  const WalkResult r = Translate(f, &mem, Oa(0x100000), Va(0x3fffe0012345ull), kRead, {}, &trace);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x120012345ull));
  EXPECT_EQ(r.t.size_lg2, 29u);
  EXPECT_EQ(r.t.level, Level(1));
  EXPECT_EQ(trace.steps[0].index, 0x1ffffu);
  EXPECT_EQ(trace.steps[0].entry_addr, Oa(0x1ffff8));
}

}  // namespace
}  // namespace ptsim
