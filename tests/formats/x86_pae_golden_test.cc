// Golden vectors for x86 PAE paging (src/formats/x86_pae.h), worked out by
// hand from Intel SDM Vol. 3A §4.4 (§4.4.1 and Tables 4-7 to 4-10), §4.6 and
// §4.8. Each test shows the bit arithmetic behind its hex, so a wrong
// expectation is as easy to spot as a wrong encoder.
//
// PDE/PTE bit values: P 0x001, R/W 0x002, U/S 0x004, PWT 0x008, PCD 0x010,
// A 0x020, D 0x040, PS (PDE) / PAT (PTE) 0x080, G 0x100, PAT (2 MiB PDE)
// 0x1000, address M-1:12, XD bit 63 (0x8000_0000_0000_0000).
// PDPTE (Table 4-7): P 0x001, PWT 0x008, PCD 0x010, bits 11:9 ignored,
// address M-1:12; bits 2:1 (0x006), 8:5 (0x1e0) and 63:M reserved.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "src/base/addr.h"
#include "src/formats/x86_64.h"
#include "src/formats/x86_pae.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"

namespace ptsim {
namespace {

using fmt::X86Pae;

constexpr Level kPdpt(2);
constexpr Level kPd(1);
constexpr Level kPt(0);

// The format with every knob at its default (maxphyaddr=52 nxe=1) and then
// `settings` applied, e.g. {"nxe=0"}.
X86Pae MakeFormat(std::initializer_list<std::string_view> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(X86Pae::kKnobs);
  for (std::string_view s : settings) {
    const absl::Status st = ApplyConfigSetting(X86Pae::kKnobs, s, &cfg);
    EXPECT_TRUE(st.ok()) << st;
  }
  return X86Pae(cfg);
}

void StoreEntry(PhysMem* mem, Oa table, Level l, uint64_t index, uint64_t raw) {
  TablePtr<X86Pae>{table, l}.At(mem, index).Store(EntryVal<X86Pae>{raw, l}, std::memory_order_relaxed);
}

uint64_t LoadEntry(PhysMem* mem, Oa table, Level l, uint64_t index) {
  return TablePtr<X86Pae>{table, l}.At(mem, index).Load(std::memory_order_relaxed).raw;
}

constexpr Access kUserWrite{AccessType::kWrite, /*user=*/true};
constexpr Access kUserExec{AccessType::kExec, /*user=*/true};
constexpr Access kUserRead{AccessType::kRead, /*user=*/true};

// ---------------------------------------------------------------------------
// Geometry and configuration.

// §4.4.1 and Figures 4-5/4-6: a 32-bit linear address splits 2 (PDPTE,
// bits 31:30) + 9 (PD, 29:21) + 9 (PT, 20:12) + 12 (offset). The PDPT is
// 4 x 8 = 32 bytes (lg2 5); the PD and PT are 512 x 8 = 4 KiB.
// VA 0xc0523456: PDPT index 0xc0523456 >> 30 = 3; PD index
// (0xc0523456 >> 21) & 0x1ff = 0x602 & 0x1ff = 2; PT index
// (0xc0523456 >> 12) & 0x1ff = 0xc0523 & 0x1ff = 0x123.
TEST(X86PaeGolden, GeometryMatchesFigure4_5) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(X86Pae::kName, "x86_pae");
  EXPECT_EQ(f.TopLevel(), kPdpt);
  EXPECT_EQ(f.VaBits(), 32u);
  EXPECT_EQ(f.VaExt(), VaExtension::kZero);
  EXPECT_EQ(f.ItemLg2(kPt), 12u);
  EXPECT_EQ(f.ItemLg2(kPd), 21u);
  EXPECT_EQ(f.ItemLg2(kPdpt), 30u);
  EXPECT_EQ(TableSizeLg2(f, kPdpt), 5u);
  EXPECT_EQ(TableSizeLg2(f, kPd), 12u);
  EXPECT_EQ(TableSizeLg2(f, kPt), 12u);
  EXPECT_EQ(CoveredVaBits(f), 32u);
  EXPECT_EQ(f.LevelName(kPdpt), "PDPT");
  EXPECT_EQ(IndexOf(f, Va(0xc0523456), kPdpt), 3u);
  EXPECT_EQ(IndexOf(f, Va(0xc0523456), kPd), 2u);
  EXPECT_EQ(IndexOf(f, Va(0xc0523456), kPt), 0x123u);
  EXPECT_TRUE(IsCanonical(f, Va(0xffffffff)));
  EXPECT_FALSE(IsCanonical(f, Va(0x100000000)));
  // Table 4-7 has no PS bit: the PDPT never maps a 1 GiB page.
  EXPECT_FALSE(f.CanLeaf(kPdpt));
  EXPECT_TRUE(f.CanLeaf(kPd));
  EXPECT_TRUE(f.CanTable(kPdpt));
  EXPECT_FALSE(f.CanTable(kPt));
}

// The knob list is part of the binary program encoding: order and ranges
// are fixed. OaBits() is MAXPHYADDR at every level.
TEST(X86PaeGolden, KnobsAndOaBits) {
  ASSERT_EQ(std::size(X86Pae::kKnobs), 2u);
  EXPECT_EQ(X86Pae::kKnobs[0].name, "maxphyaddr");
  EXPECT_EQ(X86Pae::kKnobs[0].min, 32u);
  EXPECT_EQ(X86Pae::kKnobs[0].max, 52u);
  EXPECT_EQ(X86Pae::kKnobs[1].name, "nxe");
  EXPECT_EQ(MakeFormat().OaBits(), 52u);
  EXPECT_EQ(MakeFormat({"maxphyaddr=36"}).OaBits(), 36u);
  EXPECT_EQ(LeafOaBits(MakeFormat({"maxphyaddr=40"}), kPt), 40u);
}

// ---------------------------------------------------------------------------
// Encodings.

// Table 4-7: a PDPTE is P and the address only; R/W and U/S do not exist
// (bits 2:1 reserved). PD at 0x3000 -> 0x3000 | P 0x1 = 0x3001. PD at
// 0x12_3456_7000 (above 4 GiB: M-1:12 reaches bit 51) -> 0x12_3456_7001.
// It restricts nothing below it.
TEST(X86PaeGolden, EncodePdpteIsPresentAndAddressOnly) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.EncodeTable(kPdpt, Oa(0x3000)), 0x3001ull);
  EXPECT_EQ(f.EncodeTable(kPdpt, Oa(0x1234567000)), 0x1234567001ull);
  EXPECT_EQ(f.Classify(0x1234567001ull, kPdpt), EntryKind::kTable);
  EXPECT_EQ(TablePermsOf(f, 0x3001ull, kPdpt), TablePerms{});
}

// Table 4-9: a PDE referencing the page table at 0x00abc000 allows
// everything below it: P|R/W|U/S = 0x007 -> 0x00abc007. No PS, no A.
TEST(X86PaeGolden, EncodeTablePde) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.EncodeTable(kPd, Oa(0x00abc000)), 0x00abc007ull);
  EXPECT_EQ(f.Classify(0x00abc007ull, kPd), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x00abc007ull, kPd), Oa(0x00abc000));
}

// Table 4-10: a PTE for 0x12345000, user, writable, not executable:
// P|R/W|U/S = 0x007, address 0x12345000, XD 0x8000_0000_0000_0000
// -> 0x8000_0000_1234_5007.
TEST(X86PaeGolden, EncodeUserWritableNoExecPte) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.EncodeLeaf(kPt, Oa(0x12345000), LeafAttrs::Rw().With(Attr::kUser)), 0x8000000012345007ull);
}

// Table 4-8: a 2 MiB PDE for 0x1_4060_0000 (= 0xa03 * 0x20_0000, so 2 MiB
// aligned, and above 4 GiB), supervisor, writable, executable, global,
// accessed, dirty: P 0x001 | R/W 0x002 | A 0x020 | D 0x040 | PS 0x080 |
// G 0x100 = 0x1e3, XD clear -> 0x1_4060_01e3.
TEST(X86PaeGolden, EncodeGlobalAccessedDirty2MiBPde) {
  const X86Pae f = MakeFormat();
  const LeafAttrs a = LeafAttrs::Rwx().With(Attr::kGlobal).With(Attr::kAccessed).With(Attr::kDirty);
  EXPECT_EQ(f.EncodeLeaf(kPd, Oa(0x140600000), a), 0x1406001e3ull);
}

// ---------------------------------------------------------------------------
// Decodings of hand-written raw values.

// Table 4-10: PTE 0x8000_0000_0bad_f065 = page 0x0badf000; 0x065 = P 0x01 |
// U/S 0x04 | A 0x20 | D 0x40: user, read-only, accessed, dirty, not global;
// XD set, so not executable. Bit 7 is PAT in a PTE, not PS: 0x...0e5
// (= 0x065 | 0x080) decodes the same.
TEST(X86PaeGolden, DecodePte) {
  const X86Pae f = MakeFormat();
  const LeafAttrs want =
      LeafAttrs().With(Attr::kRead).With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty);
  for (uint64_t raw : {0x800000000badf065ull, 0x800000000badf0e5ull}) {
    EXPECT_EQ(f.Classify(raw, kPt), EntryKind::kLeaf) << std::hex << raw;
    EXPECT_EQ(f.LeafOa(raw, kPt), Oa(0x0badf000)) << std::hex << raw;
    EXPECT_EQ(f.DecodeAttrs(raw, kPt), want) << std::hex << raw;
  }
}

// Table 4-8: PDE 0x3_fee0_00e7 at the PD. 0xe7 = P|R/W|U/S|A|D|PS; address
// 0x3_fee0_0000 (= 0x1ff7 * 0x20_0000). XD clear: executable.
TEST(X86PaeGolden, Decode2MiBPdeAbove4G) {
  const X86Pae f = MakeFormat();
  ASSERT_EQ(f.Classify(0x3fee000e7ull, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x3fee000e7ull, kPd), Oa(0x3fee00000));
  EXPECT_EQ(f.DecodeAttrs(0x3fee000e7ull, kPd),
            LeafAttrs::Rwx().With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty));
}

// Table 4-7: PWT (0x08), PCD (0x10) and the ignored bits 11:9 (0xe00) are
// legal in a PDPTE: 0x3e19 references the PD at 0x3000. P = 0 is
// not present whatever the other bits hold.
TEST(X86PaeGolden, DecodePdpteFlagsAndIgnoredBits) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.Classify(0x3e19ull, kPdpt), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x3e19ull, kPdpt), Oa(0x3000));
  EXPECT_EQ(f.Classify(0xfffffffffffffffeull, kPdpt), EntryKind::kEmpty);
  EXPECT_EQ(f.Classify(0xfffffffffffffffeull, kPt), EntryKind::kEmpty);
}

// ---------------------------------------------------------------------------
// Reserved bits.

// Table 4-7: with P = 1, bits 2:1 and 8:5 of a PDPTE are reserved, so the
// 64-bit-paging habit of writing P|R/W|U/S fails:
//   0x3003 = 0x3001 | bit 1 (R/W in a PDE);   0x3005 = | bit 2 (U/S);
//   0x3021 = | bit 5 (A in a PDE);            0x3081 = | bit 7 (PS);
//   0x3101 = | bit 8 (G);                     0x3007 = 0x3001 | 0x006.
TEST(X86PaeGolden, PdpteBits2To1And8To5AreReserved) {
  const X86Pae f = MakeFormat();
  for (uint64_t raw : {0x3003ull, 0x3005ull, 0x3021ull, 0x3081ull, 0x3101ull, 0x3007ull}) {
    EXPECT_EQ(f.Classify(raw, kPdpt), EntryKind::kInvalid) << std::hex << raw;
  }
  // The same low bits in a PDE are flags: 0x3007 references a page table.
  EXPECT_EQ(f.Classify(0x3007ull, kPd), EntryKind::kTable);
}

// Table 4-7: bit 63 of a PDPTE is reserved (63:M) even with
// IA32_EFER.NXE = 1; in a PDE it is XD. 0x8000_0000_0000_3001.
TEST(X86PaeGolden, PdpteBit63IsReservedEvenWithNxe) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.Classify(0x8000000000003001ull, kPdpt), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x8000000000003001ull, kPd), EntryKind::kTable);
}

// Tables 4-7..4-10, M = 36: bit 36 (0x10_0000_0000) is reserved, bit 35
// (0x8_0000_0000) is an address bit, at every level.
//   PTE  0x10_0000_0003 -> kInvalid;  0x8_0000_0003 -> leaf at 0x8_0000_0000.
//   PDPTE 0x10_0000_3001 -> kInvalid; 0xf_edcb_a001 -> PD at 0xf_edcb_a000.
TEST(X86PaeGolden, AddressBitsAtOrAboveMaxphyaddrAreReserved) {
  const X86Pae f = MakeFormat({"maxphyaddr=36"});
  EXPECT_EQ(f.Classify(0x1000000003ull, kPt), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x0800000003ull, kPt), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x0800000003ull, kPt), Oa(0x800000000));
  EXPECT_EQ(f.Classify(0x1000003001ull, kPdpt), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x0fedcba001ull, kPdpt), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x0fedcba001ull, kPdpt), Oa(0xfedcba000));
  EXPECT_EQ(f.Classify(0x1000003007ull, kPd), EntryKind::kInvalid) << "table PDEs too";
}

// Table 4-10: PAE reserves bits 62:M, where 4-level paging ignores 62:52
// (Table 4-20). With M = 52, bit 52 (0x0010_0000_0000_0000) and bit 62
// (0x4000_0000_0000_0000) make a PTE invalid here but not there.
TEST(X86PaeGolden, Bits62To52AreReservedUnlike4LevelPaging) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.Classify(0x0010000000001003ull, kPt), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x4000000000001003ull, kPt), EntryKind::kInvalid);
  const fmt::X86_64L4 l4(FormatConfig::Defaults(fmt::X86_64L4::kKnobs));
  EXPECT_EQ(l4.Classify(0x0010000000001003ull, kPt), EntryKind::kLeaf);
}

// Tables 4-8..4-10 with IA32_EFER.NXE = 0: bit 63 is reserved in PDEs and
// PTEs, nothing is written there, and every page is executable.
TEST(X86PaeGolden, WithoutNxeBit63IsReservedAndEverythingExecutes) {
  const X86Pae f = MakeFormat({"nxe=0"});
  EXPECT_EQ(f.Classify(0x8000000000001003ull, kPt), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x8000000000001003ull, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.EncodeLeaf(kPt, Oa(0x1000), LeafAttrs::Rw().With(Attr::kUser)), 0x1007ull) << "no XD written";
  EXPECT_TRUE(f.DecodeAttrs(0x1007ull, kPt).Has(Attr::kExec));
  EXPECT_EQ(TablePermsOf(f, 0x1007ull, kPd), TablePerms{}) << "no XD to restrict fetches";
}

// Table 4-8: in a 2 MiB PDE bit 12 is PAT and bits 20:13 are reserved.
//   0x0020_1083 (PAT set): leaf at 0x20_0000.
//   0x0020_2083 (bit 13) and 0x0030_0083 (bit 20): kInvalid.
// Table 4-9: with PS = 0 the same bits are address: 0x0020_2003 is a
// table at 0x20_2000.
TEST(X86PaeGolden, LargePagePatBitIsNotAddressButBits20To13AreReserved) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.Classify(0x00201083ull, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x00201083ull, kPd), Oa(0x200000));
  EXPECT_EQ(f.Classify(0x00202083ull, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x00300083ull, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x00202003ull, kPd), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x00202003ull, kPd), Oa(0x202000));
}

// ---------------------------------------------------------------------------
// Accessed/dirty and restrictions.

// §4.8 sets A in the paging-structure entries used, but a PDPTE has no A:
// bit 5 is reserved (Table 4-7), and setting it would make 0x3001 into the
// invalid 0x3021. So a PDPTE comes back unchanged, read or write.
//   table PDE 0x4007, write -> | A 0x20 = 0x4027 (no D in a table PDE);
//   2 MiB PDE 0x0020_0083, write -> | A|D 0x60 = 0x0020_00e3;
//   PTE 0x0abc_0007, read -> 0x0abc_0027; write -> 0x0abc_0067.
TEST(X86PaeGolden, MarkAccessedLeavesPdpteUnchanged) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(f.MarkAccessed(0x3001ull, kPdpt, false), 0x3001ull);
  EXPECT_EQ(f.MarkAccessed(0x3001ull, kPdpt, true), 0x3001ull);
  EXPECT_EQ(f.MarkAccessed(0x4007ull, kPd, true), 0x4027ull);
  EXPECT_EQ(f.MarkAccessed(0x00200083ull, kPd, true), 0x002000e3ull);
  EXPECT_EQ(f.MarkAccessed(0x0abc0007ull, kPt, false), 0x0abc0027ull);
  EXPECT_EQ(f.MarkAccessed(0x0abc0007ull, kPt, true), 0x0abc0067ull);
}

// §4.6.1: XD (bit 63) in a table PDE forbids fetches below it; R/W = 0 and
// U/S = 0 in a table PDE (0x4001: P only) forbid writes and user access;
// a PDPTE (Table 4-7: no R/W, U/S or XD) restricts nothing.
TEST(X86PaeGolden, TableRestrictionsFollowPdesAndIgnorePdptes) {
  const X86Pae f = MakeFormat();
  EXPECT_EQ(TablePermsOf(f, 0x8000000000004007ull, kPd), (TablePerms{.write = true, .exec = false, .user = true}));
  EXPECT_EQ(TablePermsOf(f, 0x3001ull, kPdpt), TablePerms{}) << "a correct PDPTE must not restrict";
  EXPECT_EQ(TablePermsOf(f, 0x4001ull, kPd), (TablePerms{.write = false, .exec = true, .user = false}));
}

// The concept's round trip, DecodeAttrs(EncodeLeaf(a)) == Canonical(a), for
// every attribute set at both leaf levels, with and without NXE.
TEST(X86PaeGolden, EncodeDecodeRoundTripsThroughCanonical) {
  for (const X86Pae& f : {MakeFormat(), MakeFormat({"nxe=0"})}) {
    for (unsigned bits = 0; bits < (1u << kNumAttrs); ++bits) {
      const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
      for (Level l : {kPt, kPd}) {
        const Oa oa(l == kPd ? 0x140600000 : 0x12345000);
        const uint64_t raw = f.EncodeLeaf(l, oa, a);
        EXPECT_EQ(f.Classify(raw, l), EntryKind::kLeaf);
        EXPECT_EQ(f.LeafOa(raw, l), oa);
        EXPECT_EQ(f.DecodeAttrs(raw, l), f.Canonical(a)) << AttrsToString(a);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Full walks through PhysMem (§4.4.2, Figures 4-5 and 4-6).

// A 4 KiB walk from a page-aligned PDPT. VA 0x8040_3abc: PDPT index
// 0x80403abc >> 30 = 2; PD index (0x80403abc >> 21) & 0x1ff = 0x402 & 0x1ff
// = 2; PT index 0x80403 & 0x1ff = 3; offset 0xabc.
//   PDPTE at 0x1000 + 2*8 = 0x1010: 0x2001 (PD 0x2000, P only);
//   PDE   at 0x2000 + 2*8 = 0x2010: 0x3007 (PT 0x3000, P|R/W|U/S);
//   PTE   at 0x3000 + 3*8 = 0x3018: 0x8000_0000_5555_5007 (user rw, XD).
// User write -> OA 0x5555_5abc, 4 KiB at level 0. Afterwards the PDPTE is
// unchanged (no A), the PDE gains A (0x3027), the PTE A|D (0x...5067).
// An instruction fetch then faults on XD at the PTE.
TEST(X86PaeGolden, Walk4KSetsAccessedInPdeAndPteButNotPdpte) {
  const X86Pae f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 20);
  StoreEntry(&mem, Oa(0x1000), kPdpt, 2, 0x2001ull);
  StoreEntry(&mem, Oa(0x2000), kPd, 2, 0x3007ull);
  StoreEntry(&mem, Oa(0x3000), kPt, 3, 0x8000000055555007ull);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x80403abc), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x55555abc));
  EXPECT_EQ(r.t.size_lg2, 12u);
  EXPECT_EQ(r.t.level, kPt);
  EXPECT_EQ(r.t.attrs, LeafAttrs::Rw().With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPdpt, 2), 0x2001ull);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPd, 2), 0x3027ull);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x3000), kPt, 3), 0x8000000055555067ull);

  const WalkResult x = Translate(f, &mem, Oa(0x1000), Va(0x80403abc), kUserExec);
  EXPECT_FALSE(x.ok);
  EXPECT_EQ(x.fault, (Fault{FaultKind::kPermission, kPt}));
}

// §4.4.1: CR3 bits 31:5 locate the PDPT, so it may sit at any 32-byte
// boundary. Root 0x1fe0 (= 0xff * 32, not 4 KiB aligned): the PDPT fills
// the last 32 bytes of the page at 0x1000.
// VA 0xc021_2345: PDPT index 3 -> PDPTE at 0x1fe0 + 3*8 = 0x1ff8, written
// as raw little-endian bytes 01 50 00 00 00 00 00 00 = 0x5001 (PD 0x5000).
// PD index (0xc0212345 >> 21) & 0x1ff = 0x601 & 0x1ff = 1 -> PDE at 0x5008:
// 0x1_7fe0_0087 (2 MiB page 0x1_7fe0_0000 = 0xbff * 0x20_0000, P|R/W|U/S|PS).
// User write -> OA 0x1_7fe0_0000 + (0xc0212345 & 0x1f_ffff = 0x1_2345)
// = 0x1_7fe1_2345, above 4 GiB, 2 MiB at level 1. Afterwards the PDE gains
// A|D (0x87 | 0x60 = 0xe7) and the PDPTE's bytes are unchanged.
TEST(X86PaeGolden, Walk2MiBFromA32ByteAlignedPdpt) {
  const X86Pae f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 20);
  const std::array<uint8_t, 8> pdpte = {0x01, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  ASSERT_TRUE(mem.Write(Oa(0x1ff8), pdpte).ok());
  StoreEntry(&mem, Oa(0x5000), kPd, 1, 0x17fe00087ull);

  const WalkResult r = Translate(f, &mem, Oa(0x1fe0), Va(0xc0212345), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x17fe12345));
  EXPECT_EQ(r.t.size_lg2, 21u);
  EXPECT_EQ(r.t.level, kPd);
  EXPECT_EQ(r.t.attrs, LeafAttrs::Rwx().With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x5000), kPd, 1), 0x17fe000e7ull);
  std::array<uint8_t, 8> after{};
  mem.Read(Oa(0x1ff8), absl::MakeSpan(after));
  EXPECT_EQ(after, pdpte);

  // PDPT index 0 of the same root is the empty entry at 0x1fe0.
  const WalkResult e = Translate(f, &mem, Oa(0x1fe0), Va(0x00212345), kUserWrite);
  EXPECT_EQ(e.fault, (Fault{FaultKind::kNotPresent, kPdpt}));
}

// A PDPTE written the 64-bit way, P|R/W|U/S|A = 0x2027, at root 0x20 index
// 1 (VA 0x4000_0000 >> 30 = 1, entry 0x28): bits 2:1 and 5 are reserved, so
// the walk stops with a reserved fault at the PDPT and writes nothing.
// Corrected to 0x2001 the same walk reaches the 4 KiB PTE at 0x3000
// (PD index 0, PT index 0): 0x0077_7003, a supervisor-writable page.
TEST(X86PaeGolden, WalkReservedPdpteFaults) {
  const X86Pae f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 20);
  StoreEntry(&mem, Oa(0x20), kPdpt, 1, 0x2027ull);
  StoreEntry(&mem, Oa(0x2000), kPd, 0, 0x3007ull);
  StoreEntry(&mem, Oa(0x3000), kPt, 0, 0x00777003ull);
  const Access kernel_write{AccessType::kWrite, /*user=*/false};

  const WalkResult r = Translate(f, &mem, Oa(0x20), Va(0x40000000), kernel_write);
  EXPECT_EQ(r.fault, (Fault{FaultKind::kReserved, kPdpt}));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x20), kPdpt, 1), 0x2027ull);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPd, 0), 0x3007ull);

  StoreEntry(&mem, Oa(0x20), kPdpt, 1, 0x2001ull);
  const WalkResult ok = Translate(f, &mem, Oa(0x20), Va(0x40000000), kernel_write);
  ASSERT_TRUE(ok.ok) << FaultKindName(ok.fault.kind);
  EXPECT_EQ(ok.t.oa, Oa(0x00777000));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPd, 0), 0x3027ull);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x3000), kPt, 0), 0x00777063ull);
  // A user access fails on the PTE's own U/S = 0.
  EXPECT_EQ(Translate(f, &mem, Oa(0x20), Va(0x40000000), kUserRead).fault, (Fault{FaultKind::kPermission, kPt}));
}

// §4.6.1: XD in the table PDE (0x8000_0000_0000_3007) forbids fetches from
// the whole 2 MiB below it although the PTE (0x5555_5007, XD clear) allows
// them. VA 0x0000_0010: every index 0. A user read goes through; the PDE
// has been used, so it gains A (0x8000_0000_0000_3027).
TEST(X86PaeGolden, WalkXdInPdeForbidsFetchesBelow) {
  const X86Pae f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 20);
  StoreEntry(&mem, Oa(0x1000), kPdpt, 0, 0x2001ull);
  StoreEntry(&mem, Oa(0x2000), kPd, 0, 0x8000000000003007ull);
  StoreEntry(&mem, Oa(0x3000), kPt, 0, 0x55555007ull);

  const WalkResult x = Translate(f, &mem, Oa(0x1000), Va(0x10), kUserExec);
  EXPECT_EQ(x.fault, (Fault{FaultKind::kPermission, kPt}));
  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x10), kUserRead);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x55555010));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPd, 0), 0x8000000000003027ull);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPdpt, 0), 0x2001ull);
  EXPECT_EQ(Translate(f, &mem, Oa(0x1000), Va(0x100000000), kUserRead).fault.kind, FaultKind::kNonCanonical);
}

// §4.6.1: R/W = 0 in the table PDE (0x3005: P|U/S) forbids a user write to
// the page below even though the PTE (0x5555_5007) allows it; the PDPTE
// (0x2001) on the path, which has no R/W, does not.
TEST(X86PaeGolden, WalkReadOnlyPdeForbidsWritesBelow) {
  const X86Pae f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 20);
  StoreEntry(&mem, Oa(0x1000), kPdpt, 0, 0x2001ull);
  StoreEntry(&mem, Oa(0x2000), kPd, 0, 0x3005ull);
  StoreEntry(&mem, Oa(0x3000), kPt, 0, 0x55555007ull);
  EXPECT_EQ(Translate(f, &mem, Oa(0x1000), Va(0x10), kUserWrite).fault, (Fault{FaultKind::kPermission, kPt}));
  EXPECT_TRUE(Translate(f, &mem, Oa(0x1000), Va(0x10), kUserRead).ok);
}

}  // namespace
}  // namespace ptsim
