// Golden vectors for RISC-V Sv32, Sv39, Sv48 and Sv57 (src/formats/riscv.h),
// each derived by hand from The RISC-V Instruction Set Manual, Volume II:
// Privileged Architecture, "Supervisor-Level ISA". Section names used:
// "Sv32" = "Sv32: Page-Based 32-bit Virtual-Memory Systems" (its
// "Addressing and Memory Protection" subsection gives the PTE, its
// "Virtual Address Translation Process" the 8-step walk, cited as "step
// n"); "Sv39", "Sv48", "Sv57" = the "Page-Based 39/48/57-bit Virtual-Memory
// System" sections.
//
// PTE bits used over and over: V 0x1, R 0x2, W 0x4, X 0x8, U 0x10, G 0x20,
// A 0x40, D 0x80, RSW 0x300, PPN from bit 10. Because PPN = PA >> 12 sits at
// bit 10, a page-aligned PA lands in the PTE as PA >> 2: that is how every
// PPN below is computed.
#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <string_view>

#include "src/formats/riscv.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"
#include "tests/formats/golden_util.h"

namespace ptsim {
namespace {

using fmt::RiscvSv32;
using fmt::RiscvSv39;
using fmt::RiscvSv48;
using fmt::RiscvSv57;

using golden::Make;

using golden::Attrs;

const Access kKernelRead{AccessType::kRead, /*user=*/false};
const Access kKernelWrite{AccessType::kWrite, /*user=*/false};
const Access kKernelExec{AccessType::kExec, /*user=*/false};
const Access kUserRead{AccessType::kRead, /*user=*/true};
const Access kUserWrite{AccessType::kWrite, /*user=*/true};

// ---------------------------------------------------------------------------
// Names, geometry, canonical addresses.

// The names are corpus IDs (format.h): pin them, with the one knob.
TEST(RiscvGolden, NamesAndKnobDefaults) {
  EXPECT_EQ(RiscvSv32::kName, "riscv_sv32");
  EXPECT_EQ(RiscvSv39::kName, "riscv_sv39");
  EXPECT_EQ(RiscvSv48::kName, "riscv_sv48");
  EXPECT_EQ(RiscvSv57::kName, "riscv_sv57");
  EXPECT_EQ(RiscvSv32::kEntryLg2, 2u);
  EXPECT_EQ(RiscvSv39::kEntryLg2, 3u);
  EXPECT_EQ(ConfigToString(RiscvSv39::kKnobs, FormatConfig::Defaults(RiscvSv39::kKnobs)), "svadu=1 svpbmt=0 svnapot=0");
  EXPECT_EQ(ConfigToString(RiscvSv32::kKnobs, FormatConfig::Defaults(RiscvSv32::kKnobs)), "svadu=1")
      << "Sv32 PTEs have no PBMT field";
}

// Sv32: VA = VPN[1] (31:22) | VPN[0] (21:12) | offset, PA = 34 bits
// (22-bit PPN). Two levels of 1024 4-byte PTEs; a level-1 leaf is a 4 MiB
// megapage. All 32 VA bits are translated, so nothing extends above them.
TEST(RiscvGolden, Sv32Geometry) {
  const auto f = Make<RiscvSv32>();
  EXPECT_EQ(f.TopLevel(), Level(1));
  EXPECT_EQ(f.VaBits(), 32u);
  EXPECT_EQ(f.OaBits(), 34u);
  EXPECT_EQ(f.VaExt(), VaExtension::kZero);
  EXPECT_EQ(f.IndexLg2(Level(1)), 10u);
  EXPECT_EQ(TableSizeLg2(f, Level(0)), 12u) << "a table is one page";
  EXPECT_EQ(f.ItemLg2(Level(0)), 12u);
  EXPECT_EQ(f.ItemLg2(Level(1)), 22u);
  EXPECT_TRUE(f.CanLeaf(Level(1)));
  EXPECT_FALSE(f.CanTable(Level(0)));
  EXPECT_EQ(f.LevelName(Level(1)), "VPN[1]");
  EXPECT_EQ(CoveredVaBits(f), 32u);
  EXPECT_TRUE(IsCanonical(f, Va(0xffffffffull)));
  EXPECT_FALSE(IsCanonical(f, Va(0x100000000ull)));
}

// Sv39/Sv48/Sv57: 9-bit VPN fields over 4 KiB pages, 3/4/5 levels, leaves
// at every level (2 MiB, 1 GiB, 512 GiB, 256 TiB), 44-bit PPN -> 56-bit PA.
TEST(RiscvGolden, Sv39Sv48Sv57Geometry) {
  const auto f39 = Make<RiscvSv39>();
  const auto f48 = Make<RiscvSv48>();
  const auto f57 = Make<RiscvSv57>();
  EXPECT_EQ(f39.VaBits(), 39u);
  EXPECT_EQ(f48.VaBits(), 48u);
  EXPECT_EQ(f57.VaBits(), 57u);
  EXPECT_EQ(f39.OaBits(), 56u);
  EXPECT_EQ(f57.OaBits(), 56u);
  EXPECT_EQ(f39.TopLevel(), Level(2));
  EXPECT_EQ(f57.TopLevel(), Level(4));
  EXPECT_EQ(f39.ItemLg2(Level(1)), 21u);
  EXPECT_EQ(f39.ItemLg2(Level(2)), 30u);
  EXPECT_EQ(f48.ItemLg2(Level(3)), 39u);
  EXPECT_EQ(f57.ItemLg2(Level(4)), 48u);
  EXPECT_TRUE(f57.CanLeaf(Level(4)));
  EXPECT_EQ(f57.LevelName(Level(4)), "VPN[4]");
  EXPECT_EQ(CoveredVaBits(f48), 48u);
}

// "Sv39": bits 63:39 of a VA must all equal bit 38, else a page fault.
// 0x3f_ffff_ffff is the top of the low half, 0xffff_ffc0_0000_0000 the
// bottom of the high half; 0x40_0000_0000 (bit 38 set, 63:39 clear) and
// 0xffff_ff80_0000_0000 (63:39 set, bit 38 clear) are not canonical.
TEST(RiscvGolden, Sv39CanonicalAddresses) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.VaExt(), VaExtension::kSign);
  EXPECT_TRUE(IsCanonical(f, Va(0x0000003fffffffffull)));
  EXPECT_FALSE(IsCanonical(f, Va(0x0000004000000000ull)));
  EXPECT_TRUE(IsCanonical(f, Va(0xffffffc000000000ull)));
  EXPECT_FALSE(IsCanonical(f, Va(0xffffff8000000000ull)));
}

// "Sv48": bits 63:48 copy bit 47. "Sv57": bits 63:57 copy bit 56.
TEST(RiscvGolden, Sv48Sv57CanonicalAddresses) {
  const auto f48 = Make<RiscvSv48>();
  const auto f57 = Make<RiscvSv57>();
  EXPECT_TRUE(IsCanonical(f48, Va(0x00007fffffffffffull)));
  EXPECT_FALSE(IsCanonical(f48, Va(0x0000800000000000ull)));
  EXPECT_TRUE(IsCanonical(f48, Va(0xffff800000000000ull)));
  EXPECT_TRUE(IsCanonical(f57, Va(0x00ffffffffffffffull)));
  EXPECT_FALSE(IsCanonical(f57, Va(0x0100000000000000ull)));
  EXPECT_TRUE(IsCanonical(f57, Va(0xff00000000000000ull)));
  EXPECT_FALSE(IsCanonical(f57, Va(0xfe00000000000000ull))) << "bit 56 clear under set 63:57";
}

// ---------------------------------------------------------------------------
// Sv32 encodings ("Sv32", Addressing and Memory Protection: PPN[1] 31:20,
// PPN[0] 19:10).

// 4 KiB user RW page at PA 0x8020_3000, accessed and dirty:
//   PPN = 0x80203 -> 0x80203 << 10 = 0x2008_0c00
//   V|R|W|U|A|D = 0x01 + 0x02 + 0x04 + 0x10 + 0x40 + 0x80 = 0xd7
//   = 0x2008_0cd7
TEST(RiscvGolden, Sv32Encode4KiBUserRwLeaf) {
  const auto f = Make<RiscvSv32>();
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x80203000), Attrs("rwuad")), 0x20080cd7u);
}

// 4 MiB megapage at PA 0x2_c040_0000 (above 4 GiB: the 34-bit PA),
// kernel RX, global:
//   PPN = 0x2c0400 (PPN[1] = 0xb01, PPN[0] = 0) -> << 10 = 0xb010_0000
//   V|R|X|G = 0x01 + 0x02 + 0x08 + 0x20 = 0x2b
//   = 0xb010_002b
TEST(RiscvGolden, Sv32Encode4MiBMegapageAbove4GiB) {
  const auto f = Make<RiscvSv32>();
  EXPECT_EQ(f.EncodeLeaf(Level(1), Oa(0x2c0400000ull), Attrs("rxg")), 0xb010002bu);
  EXPECT_EQ(f.Classify(0xb010002bu, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0xb010002bu, Level(1)), Oa(0x2c0400000ull));
  EXPECT_EQ(f.DecodeAttrs(0xb010002bu, Level(1)), Attrs("rxg"));
}

// Pointer to a table at PA 0x2_0000_5000: V only, PPN 0x200005 << 10 =
// 0x8000_1400 -> 0x8000_1401. A table at level 1, but at level 0 there is
// no next level (step 4: i < 0 raises a page fault).
TEST(RiscvGolden, Sv32PointerEncodeAndDecode) {
  const auto f = Make<RiscvSv32>();
  EXPECT_EQ(f.EncodeTable(Level(1), Oa(0x200005000ull)), 0x80001401u);
  EXPECT_EQ(f.Classify(0x80001401u, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x80001401u, Level(1)), Oa(0x200005000ull));
  EXPECT_EQ(f.Classify(0x80001401u, Level(0)), EntryKind::kInvalid);
}

// Step 6: a megapage whose PPN[0] (bits 19:10) is not zero is misaligned:
// 0xb010_002b | 1 << 10 = 0xb010_042b faults at level 1; the same bits at
// level 0 are an ordinary 4 KiB page at 0x2_c040_1000.
TEST(RiscvGolden, Sv32MisalignedMegapage) {
  const auto f = Make<RiscvSv32>();
  EXPECT_EQ(f.Classify(0xb010042bu, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0xb010042bu, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0xb010042bu, Level(0)), Oa(0x2c0401000ull));
}

// ---------------------------------------------------------------------------
// Sv39 encodings ("Sv39": PPN[2] 53:28, PPN[1] 27:19, PPN[0] 18:10).

// 4 KiB global kernel RW page at PA 0x8765_4000, accessed and dirty:
//   PA >> 2 = 0x21d9_5000
//   V|R|W|G|A|D = 0x01 + 0x02 + 0x04 + 0x20 + 0x40 + 0x80 = 0xe7
//   = 0x21d9_50e7
TEST(RiscvGolden, Sv39Encode4KiBLeaf) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x87654000), Attrs("rwgad")), 0x21d950e7ull);
}

// 2 MiB megapage at PA 0x1_2340_0000 (0x91a * 2 MiB), user RX, accessed:
//   PA >> 2 = 0x48d0_0000 (PPN[0] = bits 18:10 = 0)
//   V|R|X|U|A = 0x01 + 0x02 + 0x08 + 0x10 + 0x40 = 0x5b
//   = 0x48d0_005b
TEST(RiscvGolden, Sv39Encode2MiBMegapage) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.EncodeLeaf(Level(1), Oa(0x123400000ull), Attrs("rxua")), 0x48d0005bull);
}

// 1 GiB gigapage at the highest 1 GiB-aligned 56-bit PA,
// 0x00ff_ffff_c000_0000, kernel RW:
//   PA >> 2 = 0x003f_ffff_f000_0000: PPN[2] = bits 53:28 all ones
//   V|R|W = 0x7
//   = 0x003f_ffff_f000_0007
TEST(RiscvGolden, Sv39Encode1GiBGigapageAtTopOfPhysicalSpace) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.EncodeLeaf(Level(2), Oa(0x00ffffffc0000000ull), Attrs("rw")), 0x003ffffff0000007ull);
  EXPECT_EQ(f.Classify(0x003ffffff0000007ull, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x003ffffff0000007ull, Level(2)), Oa(0x00ffffffc0000000ull));
}

// Non-leaf PTE: V = 1, R = W = X = 0, PPN of the table. Table at
// 0x8020_0000 -> 0x2008_0000 | 1 = 0x2008_0001. No permission bits exist
// in a pointer, so it restricts nothing below it.
TEST(RiscvGolden, Sv39PointerEncodeAndDecode) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.EncodeTable(Level(2), Oa(0x80200000)), 0x20080001ull);
  EXPECT_EQ(f.Classify(0x20080001ull, Level(2)), EntryKind::kTable);
  EXPECT_EQ(f.Classify(0x20080001ull, Level(1)), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x20080001ull, Level(2)), Oa(0x80200000));
  EXPECT_EQ(TablePermsOf(f, 0x20080001ull, Level(2)), TablePerms{});
}

// Decode of 0x0000_0000_1fff_f0cb at level 0: V|R|X (0xb) + A|D (0xc0),
// U = W = G = 0, PPN = 0x1fff_f000 >> 10 = 0x7fffc -> PA 0x7fff_c000.
TEST(RiscvGolden, Sv39DecodeKernelRxLeaf) {
  const auto f = Make<RiscvSv39>();
  const uint64_t raw = 0x1ffff0cbull;
  ASSERT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x7fffc000));
  EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rxad"));
}

// "Sv32" PTE table of R/W/X encodings: R = 0 with W = 1 is reserved, with
// or without X (0x5 = V|W, 0xd = V|W|X); step 3 raises a page fault.
TEST(RiscvGolden, WriteWithoutReadIsReserved) {
  const auto f = Make<RiscvSv39>();
  for (int l = 0; l <= 2; ++l) {
    EXPECT_EQ(f.Classify(0x20080005ull, Level(l)), EntryKind::kInvalid) << l;
    EXPECT_EQ(f.Classify(0x2008000dull, Level(l)), EntryKind::kInvalid) << l;
  }
  EXPECT_EQ(Make<RiscvSv32>().Classify(0x20080c05u, Level(0)), EntryKind::kInvalid);
}

// "For non-leaf PTEs, the D, A, and U bits are reserved": a pointer with A
// (0x41), D (0x81) or U (0x11) faults at step 3. G (0x21) is defined in
// non-leaf PTEs and RSW (0x301) is ignored, so those stay pointers. A
// pointer at level 0 (step 4, i < 0) faults too.
TEST(RiscvGolden, ReservedPointerEncodings) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.Classify(0x20080041ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x20080081ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x20080011ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x20080021ull, Level(2)), EntryKind::kTable);
  EXPECT_EQ(f.Classify(0x20080301ull, Level(2)), EntryKind::kTable);
  EXPECT_EQ(f.Classify(0x20080001ull, Level(0)), EntryKind::kInvalid);
}

// Step 6 for Sv39: 0x48d0_005b | 1 << 10 sets PPN[0] in a 2 MiB leaf ->
// misaligned. PA 0x4020_0000 is 2 MiB-aligned but not 1 GiB-aligned:
// 0x4020_0000 >> 2 | 0x7 = 0x1008_0007 has PPN[1] = 1, a leaf at level 1
// and a misaligned gigapage at level 2.
TEST(RiscvGolden, Sv39MisalignedSuperpages) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.Classify(0x48d0045bull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x10080007ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x10080007ull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x10080007ull, Level(1)), Oa(0x40200000));
}

// "Sv39": bits 63:54 are N (Svnapot), PBMT 62:61 (Svpbmt) and 60:54
// reserved; without those extensions any of them set is a page fault, in
// leaves and pointers alike. Bit 53 is the top PPN bit: raw bit 53 ->
// PPN bit 43 -> PA bit 55 = 0x0080_0000_0000_0000.
TEST(RiscvGolden, Sv39HighBitsAreReserved) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.Classify(0x8000000021d950e7ull, Level(0)), EntryKind::kInvalid) << "N";
  EXPECT_EQ(f.Classify(0x2000000021d950e7ull, Level(0)), EntryKind::kInvalid) << "PBMT";
  EXPECT_EQ(f.Classify(0x0040000021d950e7ull, Level(0)), EntryKind::kInvalid) << "bit 54";
  EXPECT_EQ(f.Classify(0x4000000020080001ull, Level(2)), EntryKind::kInvalid) << "pointer, PBMT";
  EXPECT_EQ(f.Classify(0x0020000021d950e7ull, Level(0)), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x0020000021d950e7ull, Level(0)), Oa(0x0080000087654000ull));
}

// ---------------------------------------------------------------------------
// Svpbmt: the chapter '"Svpbmt" Extension for Page-Based Memory Types'.
// PBMT is bits 62:61: 0 = PMA, 1 = NC (bit 61 = 0x2000_0000_0000_0000),
// 2 = IO (bit 62 = 0x4000_0000_0000_0000), 3 = reserved (0x6000_...).
// The leaf below is the Sv39 4 KiB page of Sv39Encode4KiBLeaf: PA
// 0x8765_4000, V|R|W|G|A|D, raw 0x21d9_50e7.

// With svpbmt = 1, NC and IO leaves are leaves at the same PA with the
// same attributes; 3 is reserved for future use and faults. N (63) and bit
// 60 stay reserved: Svpbmt frees only 62:61.
TEST(RiscvGolden, SvpbmtLegalAndReservedEncodings) {
  const auto f = Make<RiscvSv39>({"svpbmt=1"});
  for (uint64_t raw : {0x2000000021d950e7ull, 0x4000000021d950e7ull}) {
    ASSERT_EQ(f.Classify(raw, Level(0)), EntryKind::kLeaf) << std::hex << raw;
    EXPECT_EQ(f.LeafOa(raw, Level(0)), Oa(0x87654000));
    EXPECT_EQ(f.DecodeAttrs(raw, Level(0)), Attrs("rwgad"));
  }
  EXPECT_EQ(f.Classify(0x6000000021d950e7ull, Level(0)), EntryKind::kInvalid) << "PBMT = 3";
  EXPECT_EQ(f.Classify(0x8000000021d950e7ull, Level(0)), EntryKind::kInvalid) << "N";
  EXPECT_EQ(f.Classify(0x1000000021d950e7ull, Level(0)), EntryKind::kInvalid) << "bit 60";
}

// Svpbmt chapter: "for non-leaf PTEs, bits 62-61 are reserved". The Sv39
// pointer 0x2008_0001 (table at 0x8020_0000) with PBMT = 1 faults even
// with the extension; without it (svpbmt = 0) any nonzero PBMT faults in
// leaves too.
TEST(RiscvGolden, SvpbmtReservedInPointersAndWithoutTheExtension) {
  const auto on = Make<RiscvSv39>({"svpbmt=1"});
  EXPECT_EQ(on.Classify(0x2000000020080001ull, Level(2)), EntryKind::kInvalid);
  EXPECT_EQ(on.Classify(0x4000000020080001ull, Level(1)), EntryKind::kInvalid);
  EXPECT_EQ(on.Classify(0x20080001ull, Level(2)), EntryKind::kTable);
  const auto off = Make<RiscvSv39>();
  EXPECT_EQ(off.Classify(0x2000000021d950e7ull, Level(0)), EntryKind::kInvalid);
  EXPECT_EQ(off.Classify(0x4000000021d950e7ull, Level(0)), EntryKind::kInvalid);
}

// PBMT never leaks into the output address. Sv39 1 GiB IO gigapage at the
// top of the 56-bit PA space (Sv39Encode1GiBGigapageAtTopOfPhysicalSpace):
// 0x003f_ffff_f000_0007 | 0x4000_0000_0000_0000 -> OA 0x00ff_ffff_c000_0000.
// Sv48 2 MiB NC megapage at 0x1_2340_0000 (0x48d0_005b | bit 61) -> OA
// 0x1_2340_0000; Sv57 likewise.
TEST(RiscvGolden, SvpbmtDoesNotLeakIntoTheOutputAddress) {
  const auto f39 = Make<RiscvSv39>({"svpbmt=1"});
  EXPECT_EQ(f39.Classify(0x403ffffff0000007ull, Level(2)), EntryKind::kLeaf);
  EXPECT_EQ(f39.LeafOa(0x403ffffff0000007ull, Level(2)), Oa(0x00ffffffc0000000ull));
  const auto f48 = Make<RiscvSv48>({"svpbmt=1"});
  EXPECT_EQ(f48.LeafOa(0x2000000048d0005bull, Level(1)), Oa(0x123400000ull));
  const auto f57 = Make<RiscvSv57>({"svpbmt=1"});
  EXPECT_EQ(f57.Classify(0x2000000048d0005bull, Level(1)), EntryKind::kLeaf);
  EXPECT_EQ(f57.LeafOa(0x2000000048d0005bull, Level(1)), Oa(0x123400000ull));
}

// LeafAttrs has no memory type: EncodeLeaf writes PBMT = 0 (PMA) with or
// without the extension, and Svadu's A/D update keeps a PBMT it finds:
// 0x4000_0000_21d9_5007 (IO, V|R|W) stored to -> 0x4000_0000_21d9_50c7.
TEST(RiscvGolden, SvpbmtEncodeWritesPmaAndMarkingKeepsPbmt) {
  const auto f = Make<RiscvSv39>({"svpbmt=1"});
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x87654000), Attrs("rwgad")), 0x21d950e7ull);
  EXPECT_EQ(f.MarkAccessed(0x4000000021d95007ull, Level(0), true), 0x4000000021d950c7ull);
}

// V = 0: not valid whatever the rest says (step 3), in 32- and 64-bit PTEs.
TEST(RiscvGolden, ClearValidBitIsEmpty) {
  EXPECT_EQ(Make<RiscvSv39>().Classify(0xfffffffffffffffeull, Level(2)), EntryKind::kEmpty);
  EXPECT_EQ(Make<RiscvSv32>().Classify(0xfffffffeu, Level(0)), EntryKind::kEmpty);
}

// Sv48 512 GiB leaf at PA 2^47 (aligned to 2^39): PA >> 2 = 2^45 =
// 0x2000_0000_0000, | V|R|W = 0x2000_0000_0007. Sv57 256 TiB leaf at PA
// 0x00ff_0000_0000_0000 (aligned to 2^48), RWX: PA >> 2 =
// 0x003f_c000_0000_0000, | 0xf.
TEST(RiscvGolden, Sv48AndSv57TopLevelLeaves) {
  const auto f48 = Make<RiscvSv48>();
  const auto f57 = Make<RiscvSv57>();
  EXPECT_EQ(f48.EncodeLeaf(Level(3), Oa(0x0000800000000000ull), Attrs("rw")), 0x0000200000000007ull);
  EXPECT_EQ(f48.Classify(0x0000200000000007ull, Level(3)), EntryKind::kLeaf);
  EXPECT_EQ(f57.EncodeLeaf(Level(4), Oa(0x00ff000000000000ull), Attrs("rwx")), 0x003fc0000000000full);
  EXPECT_EQ(f57.LeafOa(0x003fc0000000000full, Level(4)), Oa(0x00ff000000000000ull));
  // PA 2^39 is 512 GiB-aligned but not 256 TiB-aligned: PA >> 2 = 2^37 =
  // 0x20_0000_0000 sets PPN[3] = 1, a misaligned Sv57 leaf at level 4 and a
  // good one at level 3.
  EXPECT_EQ(f57.Classify(0x0000002000000007ull, Level(4)), EntryKind::kInvalid);
  EXPECT_EQ(f57.Classify(0x0000002000000007ull, Level(3)), EntryKind::kLeaf);
}

// ---------------------------------------------------------------------------
// Canonical attributes and A/D.

// W without R has no encoding and R|W|X = 0 is a pointer, so both gain R;
// X alone (execute-only) and D without W are real encodings. At PA 0x1000
// (PA >> 2 = 0x400): {w} -> V|R|W = 0x407, {} -> V|R = 0x403, {x} -> V|X =
// 0x409, {d} -> V|R|D = 0x483.
TEST(RiscvGolden, CanonicalAddsReadWhereNeeded) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.Canonical(Attrs("w")), Attrs("rw"));
  EXPECT_EQ(f.Canonical(Attrs("")), Attrs("r"));
  EXPECT_EQ(f.Canonical(Attrs("x")), Attrs("x"));
  EXPECT_EQ(f.Canonical(Attrs("wxu")), Attrs("rwxu"));
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x1000), Attrs("w")), 0x407ull);
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x1000), Attrs("")), 0x403ull);
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x1000), Attrs("x")), 0x409ull);
  EXPECT_EQ(f.EncodeLeaf(Level(0), Oa(0x1000), Attrs("d")), 0x483ull);
  EXPECT_EQ(f.DecodeAttrs(0x409ull, Level(0)), Attrs("x"));
}

// Step 7 with Svadu: A on any access, D on a store, in the leaf only.
// 0x21d9_5007 (V|R|W) -> read 0x21d9_5047, write 0x21d9_50c7. A pointer
// 0x2008_0001 is untouched (its A/D are reserved). Sv32 likewise:
// 0x2008_0c17 (V|R|W|U) -> write 0x2008_0cd7.
TEST(RiscvGolden, SvaduSetsAccessedAndDirtyInLeavesOnly) {
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(f.MarkAccessed(0x21d95007ull, Level(0), false), 0x21d95047ull);
  EXPECT_EQ(f.MarkAccessed(0x21d95007ull, Level(0), true), 0x21d950c7ull);
  EXPECT_EQ(f.MarkAccessed(0x20080001ull, Level(2), true), 0x20080001ull);
  EXPECT_EQ(Make<RiscvSv32>().MarkAccessed(0x20080c17u, Level(0), true), 0x20080cd7u);
}

// Svade (svadu = 0): hardware never writes a PTE.
TEST(RiscvGolden, SvadeNeverWritesPtes) {
  const auto f = Make<RiscvSv39>({"svadu=0"});
  EXPECT_EQ(f.MarkAccessed(0x21d95007ull, Level(0), true), 0x21d95007ull);
  EXPECT_EQ(f.MarkAccessed(0x48d0005bull, Level(1), false), 0x48d0005bull);
}

// Not a hand vector: the registry's conformance round trip, run here over
// all four modes until they are registered in all_formats.h.
template <typename F>
void RoundTrip(const F& f) {
  for (Level l(0); l <= f.TopLevel(); l = l.Above()) {
    const unsigned item = f.ItemLg2(l);
    for (uint64_t oa : {uint64_t{0}, AlignDown(LowMask(f.OaBits()), item),
                        AlignDown(0x5555555555555555ull & LowMask(f.OaBits()), item)}) {
      for (int bits = 0; bits < 128; ++bits) {
        const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
        const typename F::Raw raw = f.EncodeLeaf(l, Oa(oa), a);
        ASSERT_EQ(f.Classify(raw, l), EntryKind::kLeaf) << F::kName << " " << l.value() << " " << bits;
        EXPECT_EQ(f.LeafOa(raw, l), Oa(oa));
        EXPECT_EQ(f.DecodeAttrs(raw, l), f.Canonical(a));
        EXPECT_EQ(f.Canonical(f.Canonical(a)), f.Canonical(a));
        const auto marked = f.MarkAccessed(raw, l, true);
        EXPECT_EQ(f.Classify(marked, l), EntryKind::kLeaf);
        EXPECT_EQ(f.MarkAccessed(marked, l, true), marked);
      }
    }
    if (l.value() > 0) {
      const typename F::Raw t = f.EncodeTable(l, Oa(0xfffff000ull));
      EXPECT_EQ(f.Classify(t, l), EntryKind::kTable);
      EXPECT_EQ(f.TableOa(t, l), Oa(0xfffff000ull));
    }
  }
}

TEST(RiscvGolden, AllModesRoundTrip) {
  RoundTrip(Make<RiscvSv32>());
  RoundTrip(Make<RiscvSv39>());
  RoundTrip(Make<RiscvSv48>());
  RoundTrip(Make<RiscvSv57>());
  RoundTrip(Make<RiscvSv39>({"svadu=0"}));
  RoundTrip(Make<RiscvSv57>({"svpbmt=1"}));
}

// ---------------------------------------------------------------------------
// Full walks over hand-built tables.

class RiscvWalkTest : public ::testing::Test {
 protected:
  template <typename Raw>
  void Put(uint64_t addr, Raw raw) {
    std::atomic_ref<Raw>(*reinterpret_cast<Raw*>(mem_.Writable(Oa(addr)))).store(raw);
  }
  template <typename Raw>
  Raw Get(uint64_t addr) {
    return *reinterpret_cast<const Raw*>(mem_.Readable(Oa(addr)));
  }
  PhysMem mem_{Oa(0), 1 << 20};
};

// Sv32, root at 0x1000 (1024 4-byte PTEs).
// VA 0x0040_3abc: VPN[1] = va >> 22 = 1, VPN[0] = (va >> 12) & 0x3ff = 3,
// offset 0xabc. Root PTE at 0x1000 + 1 * 4 = 0x1004 points to 0x2000
// (0x2000 >> 2 | V = 0x801); leaf PTE at 0x2000 + 3 * 4 = 0x200c maps
// 0x5555_5000 user RW (0x1555_5400 | 0x17 = 0x1555_5417).
// VA 0x0081_2345: VPN[1] = 2, root PTE at 0x1008 is the kernel RX global
// megapage 0xb010_002b (PA 0x2_c040_0000): PA = 0x2_c040_0000 + 0x1_2345.
TEST_F(RiscvWalkTest, Sv32PageAndMegapage) {
  Put<uint32_t>(0x1004, 0x801);
  Put<uint32_t>(0x200c, 0x15555417);
  Put<uint32_t>(0x1008, 0xb010002b);
  const auto f = Make<RiscvSv32>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x00403abc), kUserWrite);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x55555abc));
  EXPECT_EQ(w.t.size_lg2, 12u);
  EXPECT_EQ(w.t.level, Level(0));
  EXPECT_EQ(Get<uint32_t>(0x200c), 0x155554d7u) << "A (0x40) and D (0x80) set by the store";
  EXPECT_EQ(Get<uint32_t>(0x1004), 0x801u) << "pointers are never marked";

  const WalkResult m = Translate(f, &mem_, Oa(0x1000), Va(0x00812345), kKernelRead);
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.t.oa, Oa(0x2c0412345ull));
  EXPECT_EQ(m.t.size_lg2, 22u);
  EXPECT_EQ(m.t.level, Level(1));
  EXPECT_EQ(Get<uint32_t>(0x1008), 0xb010006bu) << "A set by the read: 0x2b | 0x40";
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x00812345), kKernelWrite).fault,
            (Fault{FaultKind::kPermission, Level(1)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x00812345), kUserRead).fault,
            (Fault{FaultKind::kPermission, Level(1)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x00c00000), kKernelRead).fault,
            (Fault{FaultKind::kNotPresent, Level(1)}));
}

// Sv39, root at 0x1000. VA 0x4060_1abc: VPN[2] = va >> 30 = 1, VPN[1] =
// (va >> 21) & 511 = 3, offset inside 2 MiB = va & 0x1f_ffff = 0x1abc.
// Root PTE 0x1008 -> table 0x2000 (0x801); 0x2000 + 3 * 8 = 0x2018 is the
// user RW 2 MiB leaf at 0x1_2340_0000 (0x48d0_0000 | 0x17).
// VA 0x8123_4567: VPN[2] = 2, root PTE 0x1010 is an execute-only kernel
// gigapage at 0xc000_0000 (0x3000_0000 | V|X = 0x3000_0009).
TEST_F(RiscvWalkTest, Sv39SuperpagesAndExecuteOnly) {
  Put<uint64_t>(0x1008, 0x801);
  Put<uint64_t>(0x2018, 0x48d00017);
  Put<uint64_t>(0x1010, 0x30000009);
  const auto f = Make<RiscvSv39>();
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), Va(0x40601abc), kUserWrite);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x123401abcull));
  EXPECT_EQ(w.t.size_lg2, 21u);
  EXPECT_EQ(w.t.level, Level(1));
  EXPECT_EQ(Get<uint64_t>(0x2018), 0x48d000d7u);
  EXPECT_EQ(Get<uint64_t>(0x1008), 0x801u);

  const WalkResult x = Translate(f, &mem_, Oa(0x1000), Va(0x81234567), kKernelExec);
  ASSERT_TRUE(x.ok);
  EXPECT_EQ(x.t.oa, Oa(0xc1234567));
  EXPECT_EQ(x.t.size_lg2, 30u);
  EXPECT_EQ(x.t.attrs, Attrs("xa"));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x81234567), kKernelRead).fault,
            (Fault{FaultKind::kPermission, Level(2)}))
      << "execute-only without MXR";
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x0000004000000000ull), kKernelRead).fault,
            (Fault{FaultKind::kNonCanonical, Level(2)}));
}

// Sv39 faults from reserved encodings stop the walk at their level and
// leave memory alone. Root PTE 0x1018 (VPN[2] = 3, VA 0xc000_0000) is a
// gigapage at 0xc020_0000 (PPN[1] = 1, misaligned): 0x3008_0009. Root PTE
// 0x1020 (VPN[2] = 4, VA 0x1_0000_0000) is a pointer with A: 0x841.
// Svade: the 2 MiB leaf of the previous test is used but not marked.
TEST_F(RiscvWalkTest, Sv39ReservedFaultsAndSvade) {
  Put<uint64_t>(0x1018, 0x30080009);
  Put<uint64_t>(0x1020, 0x841);
  const auto f = Make<RiscvSv39>();
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0xc0000000), kKernelExec).fault,
            (Fault{FaultKind::kReserved, Level(2)}));
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0x100000000ull), kKernelRead).fault,
            (Fault{FaultKind::kReserved, Level(2)}));
  EXPECT_EQ(Get<uint64_t>(0x1018), 0x30080009u);
  EXPECT_EQ(Get<uint64_t>(0x1020), 0x841u);

  Put<uint64_t>(0x1008, 0x801);
  Put<uint64_t>(0x2018, 0x48d00017);
  const auto ade = Make<RiscvSv39>({"svadu=0"});
  const WalkResult w = Translate(ade, &mem_, Oa(0x1000), Va(0x40601abc), kUserWrite);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x123401abcull));
  EXPECT_EQ(Get<uint64_t>(0x2018), 0x48d00017u) << "Svade: hardware does not write A/D";
}

// Sv39 walk to an IO megapage (Svpbmt chapter): the user RW 2 MiB leaf of
// Sv39SuperpagesAndExecuteOnly with PBMT = 2, 0x4000_0000_48d0_0017 at
// 0x2018. With svpbmt = 1 VA 0x4060_1abc -> PA 0x1_2340_1abc and the store
// sets A|D (0xc0) without touching PBMT; with svpbmt = 0 the walk stops
// with a reserved fault at level 1 and writes nothing.
TEST_F(RiscvWalkTest, Sv39SvpbmtIoMegapage) {
  Put<uint64_t>(0x1008, 0x801);
  Put<uint64_t>(0x2018, 0x4000000048d00017ull);
  const auto off = Make<RiscvSv39>();
  EXPECT_EQ(Translate(off, &mem_, Oa(0x1000), Va(0x40601abc), kUserWrite).fault,
            (Fault{FaultKind::kReserved, Level(1)}));
  EXPECT_EQ(Get<uint64_t>(0x2018), 0x4000000048d00017ull);
  const auto on = Make<RiscvSv39>({"svpbmt=1"});
  const WalkResult w = Translate(on, &mem_, Oa(0x1000), Va(0x40601abc), kUserWrite);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x123401abcull));
  EXPECT_EQ(w.t.size_lg2, 21u);
  EXPECT_EQ(Get<uint64_t>(0x2018), 0x4000000048d000d7ull);
}

// Sv57, high half. VA = sign-extended VPN[4] = 0x100, VPN[3] = 1,
// VPN[2] = 2, VPN[1] = 3, VPN[0] = 4, offset 0x567:
//   0x100 << 48 | 1 << 39 | 2 << 30 | 3 << 21 | 4 << 12 | 0x567
//   = 0x0100_0080_8060_4567, bit 56 set -> 0xff00_0080_8060_4567.
// Entries: 0x1000 + 0x100 * 8 = 0x1800 -> 0x2000 (0x801); 0x2008 -> 0x3000
// (0xc01); 0x3010 -> 0x4000 (0x1001); 0x4018 -> 0x5000 (0x1401); 0x5020 is
// the user RWX leaf at PA 0x00ab_cdef_0123_4000: PA >> 2 =
// 0x002a_f37b_c048_d000, | 0x1f.
TEST_F(RiscvWalkTest, Sv57FiveLevelsToA4KiBPage) {
  Put<uint64_t>(0x1800, 0x801);
  Put<uint64_t>(0x2008, 0xc01);
  Put<uint64_t>(0x3010, 0x1001);
  Put<uint64_t>(0x4018, 0x1401);
  Put<uint64_t>(0x5020, 0x002af37bc048d01full);
  const auto f = Make<RiscvSv57>();
  const Va va(0xff00008080604567ull);
  const WalkResult w = Translate(f, &mem_, Oa(0x1000), va, kUserWrite);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.oa, Oa(0x00abcdef01234567ull));
  EXPECT_EQ(w.t.size_lg2, 12u);
  EXPECT_EQ(w.t.level, Level(0));
  EXPECT_EQ(Get<uint64_t>(0x5020), 0x002af37bc048d0dfull) << "0x1f | A | D";
  for (uint64_t p : {0x1800u, 0x2008u, 0x3010u, 0x4018u}) EXPECT_EQ(Get<uint64_t>(p) & 0xc0u, 0u) << p;

  // The same walk with D set in the VPN[2] pointer: reserved at level 2.
  Put<uint64_t>(0x3010, 0x1081);
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), va, kUserRead).fault, (Fault{FaultKind::kReserved, Level(2)}));
  // Bit 56 clear under bits 63:57 set: not canonical, reported at the top.
  EXPECT_EQ(Translate(f, &mem_, Oa(0x1000), Va(0xfe00008080604567ull), kUserRead).fault,
            (Fault{FaultKind::kNonCanonical, Level(4)}));
}

}  // namespace
}  // namespace ptsim
