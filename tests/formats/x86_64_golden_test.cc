// Golden vectors for x86-64 4-level and 5-level paging, each derived by hand
// from Intel SDM Vol. 3A §4.5 (Tables 4-14 to 4-20: the formats of PML5E,
// PML4E, PDPTE, PDE and PTE), §4.6 (access rights) and §4.8 (accessed and
// dirty flags). Bit names: P=0 R/W=1 U/S=2 PWT=3 PCD=4 A=5 D=6 PS=7 (PAT
// in a PTE) G=8, PAT=12 in large pages, address M-1:12, XD=63.
#include <gtest/gtest.h>

#include "src/formats/x86_64.h"
#include "src/mmu/mmu.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::X86_64L4;
using fmt::X86_64L5;

template <typename F>
F Make(std::initializer_list<const char*> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(F::kKnobs);
  for (const char* s : settings) EXPECT_TRUE(ApplyConfigSetting(F::kKnobs, s, &cfg).ok()) << s;
  return F(cfg);
}

constexpr LeafAttrs kUserRwNoExec = LeafAttrs::Rw().With(Attr::kUser);

// Table 4-20: a PTE with P (bit 0), R/W (1), U/S (2), address 0x12345000 in
// bits 51:12 and XD (bit 63) because the page is not executable:
// 0x8000_0000_0000_0000 | 0x1234_5000 | 0x7.
TEST(X86_64Golden, EncodeUserWritableNoExecPte) {
  const X86_64L4 f = Make<X86_64L4>();
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x12345000), kUserRwNoExec), 0x8000000012345007ull);
}

// Table 4-18: a PDE mapping a 2 MiB page: P (0x1), PS (0x80), G (0x100),
// read-only supervisor, executable (XD clear): 0x40000000 | 0x181.
TEST(X86_64Golden, EncodeGlobalKernelExecutable2MiBPde) {
  const X86_64L4 f = Make<X86_64L4>();
  const LeafAttrs a = LeafAttrs().With(Attr::kRead).With(Attr::kExec).With(Attr::kGlobal);
  EXPECT_EQ(f.EncodeLeaf(Level(1), Oa(0x40000000), a), 0x40000181ull);
}

// Table 4-16: a PDPTE mapping a 1 GiB page at 0x1_4000_0000 with
// P|R/W|U/S (0x7), A (0x20), D (0x40), PS (0x80) = 0xe7, executable.
TEST(X86_64Golden, EncodeAccessedDirty1GiBPdpte) {
  const X86_64L4 f = Make<X86_64L4>();
  const LeafAttrs a = LeafAttrs::Rwx().With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty);
  EXPECT_EQ(f.EncodeLeaf(Level(2), Oa(0x140000000), a), 0x1400000e7ull);
}

// Tables 4-15, 4-17, 4-19: a table pointer with P|R/W|U/S so that it
// restricts nothing below it.
TEST(X86_64Golden, EncodeTablePointerAllowsEverything) {
  const X86_64L4 f = Make<X86_64L4>();
  EXPECT_EQ(f.EncodeTable(Level(3), Oa(0x1001000)), 0x1001007ull);
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0xfffff000)), 0xfffff007ull);
}

// 0x8000_0000_FEE0_0083 in a PD: P, R/W, PS, XD, address 0xFEE00000 (2 MiB
// aligned: 0xFEE00000 = 2039 * 0x200000). A supervisor, writable,
// non-executable 2 MiB leaf.
TEST(X86_64Golden, DecodeNoExec2MiBPde) {
  const X86_64L4 f = Make<X86_64L4>();
  const uint64_t raw = 0x80000000fee00083ull;
  ASSERT_EQ(f.Classify(raw, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(1)), Oa(0xfee00000));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(1)), LeafAttrs::Rw());
}

// §4.5.4 / Table 4-18: in a 2 MiB PDE bit 12 is PAT and bits 20:13 are
// reserved. Bit 12 set: still a leaf at 0x200000. Bit 13 set: reserved.
TEST(X86_64Golden, LargePagePatBitIsNotAddressButBit13IsReserved) {
  const X86_64L4 f = Make<X86_64L4>();
  EXPECT_EQ(f.Classify(0x00201083ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x00201083ull, Level(1)), Oa(0x200000));
  EXPECT_EQ(f.Classify(0x00202083ull, Level(1)), EntryKind::kInvalid);
}

// MAXPHYADDR = 36: bit 36 of an entry is reserved (bits M..51), bit 35 is
// an address bit.
TEST(X86_64Golden, AddressBitsAtOrAboveMaxphyaddrAreReserved) {
  const X86_64L4 f = Make<X86_64L4>({"maxphyaddr=36"});
  EXPECT_EQ(f.Classify(0x0000001000000003ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x0000000800000003ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.Classify(0x0000001000000003ull, Level(2)), EntryKind::kInvalid) << "tables too";
}

// IA32_EFER.NXE = 0: bit 63 is reserved; every page is executable.
TEST(X86_64Golden, WithoutNxeBit63IsReservedAndEverythingExecutes) {
  const X86_64L4 f = Make<X86_64L4>({"nxe=0"});
  EXPECT_EQ(f.Classify(0x8000000000001003ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x1000), kUserRwNoExec), 0x1007ull) << "no XD bit written";
  EXPECT_TRUE(f.DecodeAttrs(0x1007ull, Level(0)).Has(Attr::kExec));
}

// Table 4-15: PS is reserved in a PML4E. Table 4-16: a 1 GiB PDPTE exists
// only with CPUID 1-GByte page support.
TEST(X86_64Golden, PsIsReservedInPml4eAndInPdpteWithoutGigabytePages) {
  EXPECT_EQ(Make<X86_64L4>().Classify(0x83ull, Level(3)), EntryKind::kInvalid);
  EXPECT_EQ(Make<X86_64L4>().Classify(0x83ull, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(Make<X86_64L4>({"pdpe1gb=0"}).Classify(0x83ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(Make<X86_64L5>().Classify(0x83ull, Level(4)), EntryKind::kInvalid) << "Table 4-14, PML5E";
}

// P = 0: not present whatever the other bits say (§4.5.4).
TEST(X86_64Golden, ClearPresentBitIsEmpty) {
  EXPECT_EQ(Make<X86_64L4>().Classify(0xfffffffffffffffeull, Level(0)), EntryKind::kEmpty);
}

// §4.8: the walk sets A in every paging-structure entry it uses, and D only
// in the entry that maps the page, on a write.
TEST(X86_64Golden, HardwareSetsAccessedInTablesAndDirtyOnlyInLeaves) {
  const X86_64L4 f = Make<X86_64L4>();
  EXPECT_EQ(f.MarkAccessed(0x1001007ull, Level(3), true), 0x1001027ull);
  EXPECT_EQ(f.MarkAccessed(0x8000000012345007ull, Level(0), false), 0x8000000012345027ull);
  EXPECT_EQ(f.MarkAccessed(0x8000000012345007ull, Level(0), true), 0x8000000012345067ull);
}

// 48 bits for 4-level, 57 for 5-level; addresses are canonical when bits
// 63:47 (63:56) are copies of bit 47 (56).
TEST(X86_64Golden, GeometryAndCanonicalAddresses) {
  const X86_64L4 l4 = Make<X86_64L4>();
  const X86_64L5 l5 = Make<X86_64L5>();
  EXPECT_EQ(l4.VaBits(), 48u);
  EXPECT_EQ(l5.VaBits(), 57u);
  EXPECT_EQ(l4.ItemLg2(Level(3)), 39u);
  EXPECT_EQ(l5.ItemLg2(Level(4)), 48u);
  EXPECT_TRUE(IsCanonical(l4, Va(0x00007fffffffffffull)));
  EXPECT_FALSE(IsCanonical(l4, Va(0x0000800000000000ull)));
  EXPECT_TRUE(IsCanonical(l4, Va(0xffff800000000000ull)));
  EXPECT_TRUE(IsCanonical(l5, Va(0x00ff000000000000ull)));
  EXPECT_FALSE(IsCanonical(l5, Va(0x0100000000000000ull)));
  EXPECT_TRUE(IsCanonical(l5, Va(0xff00000000000000ull)));
}

using X86_64WalkTest = golden::Table64Test;

// VA 0x80_4020_3abc: PML4 index (va >> 39) & 511 = 1, PDPT index
// (va >> 30) & 511 = 1, PD index (va >> 21) & 511 = 1, PT index
// (va >> 12) & 511 = 3, offset 0xabc. Entries at 0x1008, 0x2008, 0x3008 and
// 0x4018; the PTE maps 0x55555000 user, writable, not executable.
TEST_F(X86_64WalkTest, FourLevelWalkSetsAccessedEverywhereAndDirtyInThePte) {
  Put(0x1008, 0x2007);
  Put(0x2008, 0x3007);
  Put(0x3008, 0x4007);
  Put(0x4018, 0x8000000055555007ull);
  const X86_64L4 f = Make<X86_64L4>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x8040203abcull), Access{AccessType::kWrite, true});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x55555abc));
  EXPECT_EQ(w.t.size_lg2, 12u);
  EXPECT_EQ(Get(0x1008), 0x2027u);
  EXPECT_EQ(Get(0x2008), 0x3027u);
  EXPECT_EQ(Get(0x3008), 0x4027u);
  EXPECT_EQ(Get(0x4018), 0x8000000055555067ull);
  const WalkResult x = Translate(f, &mem_, Oa(0x1000), Va(0x8040203abcull), Access{AccessType::kExec, true});
  EXPECT_FALSE(x.ok);
  EXPECT_EQ(x.fault, (Fault{FaultKind::kPermission, Level(0)})) << "XD in the PTE";
}

// §4.6.1: R/W = 0 in the PDE forbids writes to everything below it even if
// the PTE allows them; a user read still works.
TEST_F(X86_64WalkTest, ReadOnlyPdeForbidsWritesBelowIt) {
  Put(0x1008, 0x2007);
  Put(0x2008, 0x3007);
  Put(0x3008, 0x4005);  // P | U/S, no R/W
  Put(0x4018, 0x55555007);
  const X86_64L4 f = Make<X86_64L4>();
  const Va va(0x8040203abcull);
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), va, Access{AccessType::kWrite, true});
  EXPECT_EQ(w.fault, (Fault{FaultKind::kPermission, Level(0)}));
  EXPECT_TRUE(Translate(f, &mem_, Oa(0x1000), va, Access{AccessType::kRead, true}).ok);
}

// 5-level: VA 0x00ff_0000_0020_0000 has PML5 index (va >> 48) & 511 = 0xff,
// PML4 index 0, PDPT index 0, PD index (va >> 21) & 511 = 1. A 2 MiB PDE
// at 0x5008 maps 0x7fe00000.
TEST_F(X86_64WalkTest, FiveLevelWalkReachesA2MiBLeaf) {
  Put(0x1000 + 0xff * 8, 0x2007);
  Put(0x2000, 0x3007);
  Put(0x3000, 0x5007);
  Put(0x5008, 0x7fe00083);
  const X86_64L5 f = Make<X86_64L5>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x00ff000000212345ull), Access{AccessType::kRead, false});
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x7fe12345));
  EXPECT_EQ(w.t.size_lg2, 21u);
  EXPECT_EQ(w.t.level, Level(1));
}

// A reserved bit stops the walk with a reserved fault at that level and
// leaves the entry unmarked.
TEST_F(X86_64WalkTest, ReservedBitFaultsAtItsLevel) {
  Put(0x1008, 0x2007);
  Put(0x2008, 0x0000001000003007ull);  // bit 36, reserved with MAXPHYADDR 36
  const X86_64L4 f = Make<X86_64L4>({"maxphyaddr=36"});
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x8040203abcull), Access{AccessType::kRead, false});
  EXPECT_EQ(w.fault, (Fault{FaultKind::kReserved, Level(2)}));
  EXPECT_EQ(Get(0x2008), 0x0000001000003007ull);
}

}  // namespace
}  // namespace ptsim
