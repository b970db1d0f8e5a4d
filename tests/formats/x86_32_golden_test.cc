// Golden vectors for x86 32-bit paging (src/formats/x86_32.h), worked out by
// hand from Intel SDM Vol. 3A §4.3 (Figure 4-4, Tables 4-4, 4-5, 4-6), §4.6
// and §4.8. Each test shows the bit arithmetic behind its hex, so a wrong
// expectation is as easy to spot as a wrong encoder.
//
// Bit values used throughout: P 0x001, R/W 0x002, U/S 0x004, PWT 0x008,
// PCD 0x010, A 0x020, D 0x040, PS (PDE) / PAT (PTE) 0x080, G 0x100,
// PAT (4 MiB PDE) 0x1000. A PSE-36 address bit 32+k lives at entry bit 13+k.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "src/base/addr.h"
#include "src/formats/x86_32.h"
#include "src/mem/phys_mem.h"
#include "src/mmu/mmu.h"
#include "src/pt/geometry.h"

namespace ptsim {
namespace {

using fmt::X86_32;

constexpr Level kPd(1);
constexpr Level kPt(0);

// The format with every knob at its default (pse=1 pse36=1 maxphyaddr=40)
// and then `settings` applied, e.g. {"pse=0"}.
X86_32 MakeFormat(std::initializer_list<std::string_view> settings = {}) {
  FormatConfig cfg = FormatConfig::Defaults(X86_32::kKnobs);
  for (std::string_view s : settings) {
    const absl::Status st = ApplyConfigSetting(X86_32::kKnobs, s, &cfg);
    EXPECT_TRUE(st.ok()) << st;
  }
  return X86_32(cfg);
}

void StoreEntry(PhysMem* mem, Oa table, Level l, uint64_t index, uint32_t raw) {
  TablePtr<X86_32>{table, l}.At(mem, index).Store(EntryVal<X86_32>{raw, l}, std::memory_order_relaxed);
}

uint32_t LoadEntry(PhysMem* mem, Oa table, Level l, uint64_t index) {
  return TablePtr<X86_32>{table, l}.At(mem, index).Load(std::memory_order_relaxed).raw;
}

constexpr Access kUserWrite{AccessType::kWrite, /*user=*/true};

// ---------------------------------------------------------------------------
// Geometry and configuration.

// §4.3: a 32-bit linear address splits 10 (PD index, bits 31:22) + 10 (PT
// index, bits 21:12) + 12 (offset). Tables are 1024 x 4 bytes = 4 KiB.
TEST(X86_32Golden, GeometryMatchesFigure4_2) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(X86_32::kName, "x86_32");
  EXPECT_EQ(f.TopLevel(), kPd);
  EXPECT_EQ(f.VaBits(), 32u);
  EXPECT_EQ(f.VaExt(), VaExtension::kZero);
  EXPECT_EQ(f.ItemLg2(kPt), 12u);
  EXPECT_EQ(f.ItemLg2(kPd), 22u);
  EXPECT_EQ(TableSizeLg2(f, kPd), 12u);
  EXPECT_EQ(TableSizeLg2(f, kPt), 12u);
  EXPECT_EQ(CoveredVaBits(f), 32u);
  EXPECT_EQ(f.LevelName(kPd), "PD");
  EXPECT_EQ(f.LevelName(kPt), "PT");
  // VA 0xc0123456: PD index 0xc0123456 >> 22 = 0x300; PT index
  // (0xc0123456 >> 12) & 0x3ff = 0xc0123 & 0x3ff = 0x123.
  EXPECT_EQ(IndexOf(f, Va(0xc0123456), kPd), 0x300u);
  EXPECT_EQ(IndexOf(f, Va(0xc0123456), kPt), 0x123u);
  EXPECT_TRUE(IsCanonical(f, Va(0xffffffff)));
  EXPECT_FALSE(IsCanonical(f, Va(0x100000000)));
}

// The knob list is part of the binary program encoding: order and ranges
// are fixed. OaBits() is MAXPHYADDR only with PSE-36 (Table 4-4, M).
TEST(X86_32Golden, KnobsAndOaBits) {
  ASSERT_EQ(std::size(X86_32::kKnobs), 3u);
  EXPECT_EQ(X86_32::kKnobs[0].name, "pse");
  EXPECT_EQ(X86_32::kKnobs[1].name, "pse36");
  EXPECT_EQ(X86_32::kKnobs[2].name, "maxphyaddr");
  EXPECT_EQ(X86_32::kKnobs[2].min, 32u);
  EXPECT_EQ(X86_32::kKnobs[2].max, 40u);
  EXPECT_EQ(MakeFormat().OaBits(), 40u);
  EXPECT_EQ(MakeFormat({"maxphyaddr=36"}).OaBits(), 36u);
  EXPECT_EQ(MakeFormat({"pse36=0"}).OaBits(), 32u);
  EXPECT_TRUE(MakeFormat().CanLeaf(kPd));
  EXPECT_FALSE(MakeFormat({"pse=0"}).CanLeaf(kPd));
  EXPECT_TRUE(MakeFormat({"pse=0"}).CanLeaf(kPt));
  EXPECT_FALSE(MakeFormat().CanTable(kPt));
}

// ---------------------------------------------------------------------------
// Encodings.

// Table 4-6: PTE for page 0x12345000, read/write, user.
//   P 0x1 | R/W 0x2 | U/S 0x4 = 0x007; bits 31:12 = 0x12345 -> 0x12345007.
TEST(X86_32Golden, EncodeLeaf4KUserWritable) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.EncodeLeaf(kPt, Oa(0x12345000), LeafAttrs::Rw().With(Attr::kUser)), 0x12345007u);
}

// Table 4-6: PTE for the last 4 KiB page, read-only, supervisor, global,
// accessed and dirty. P 0x001 | A 0x020 | D 0x040 | G 0x100 = 0x161;
// bits 31:12 = 0xfffff -> 0xfffff161.
TEST(X86_32Golden, EncodeLeaf4KGlobalAccessedDirty) {
  const X86_32 f = MakeFormat();
  const LeafAttrs a =
      LeafAttrs().With(Attr::kRead).With(Attr::kGlobal).With(Attr::kAccessed).With(Attr::kDirty);
  EXPECT_EQ(f.EncodeLeaf(kPt, Oa(0xfffff000), a), 0xfffff161u);
}

// Table 4-5: PDE referencing the page table at 0x00abc000 allows everything
// below it: P|R/W|U/S = 0x007 -> 0x00abc007. No PS, no A.
TEST(X86_32Golden, EncodeTable) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.EncodeTable(kPd, Oa(0x00abc000)), 0x00abc007u);
  // The same bits with pse=0: the table pointer does not depend on CR4.PSE.
  EXPECT_EQ(MakeFormat({"pse=0"}).EncodeTable(kPd, Oa(0xfffff000)), 0xfffff007u);
}

// Table 4-4: 4 MiB PDE for 0x12c00000 (= 0x4b << 22), read/write, user,
// global. P 0x001 | R/W 0x002 | U/S 0x004 | PS 0x080 | G 0x100 = 0x187;
// bits 31:22 in place -> 0x12c00187; bits 20:13 are 0 (OA below 4 GiB).
TEST(X86_32Golden, EncodeLeaf4MBelow4G) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.EncodeLeaf(kPd, Oa(0x12c00000), LeafAttrs::Rw().With(Attr::kUser).With(Attr::kGlobal)),
            0x12c00187u);
}

// Table 4-4 with PSE-36: OA 0x3_4540_0000, read/write, supervisor.
//   bits 31:22 of the OA: 0x45400000 (= 0x115 << 22), kept in place;
//   bits 39:32 of the OA: 0x03 -> entry bits 20:13: 0x03 << 13 = 0x6000;
//   P 0x01 | R/W 0x02 | PS 0x80 = 0x083.
//   0x45400000 | 0x6000 | 0x083 = 0x45406083.
TEST(X86_32Golden, EncodeLeaf4MAbove4GWithPse36) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.EncodeLeaf(kPd, Oa(0x345400000), LeafAttrs::Rw()), 0x45406083u);
}

// ---------------------------------------------------------------------------
// Decodings of hand-written raw values.

// The inverse of EncodeLeaf4MAbove4GWithPse36: 0x45406083 at the PD.
//   bits 31:22 -> 0x45400000; bits 20:13 = 0x6000 >> 13 = 0x3 -> OA 39:32.
//   OA = 0x3_0000_0000 | 0x4540_0000 = 0x3_4540_0000. R/W set, U/S clear.
// And the highest PSE-36 page, OA 0xff_ffc0_0000:
//   0xffc00000 | (0xff << 13 = 0x1fe000) | P|PS 0x081 = 0xffdfe081.
TEST(X86_32Golden, Decode4MPse36Addresses) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.Classify(0x45406083u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x45406083u, kPd), Oa(0x345400000));
  EXPECT_EQ(f.DecodeAttrs(0x45406083u, kPd), LeafAttrs::Rwx());

  EXPECT_EQ(f.Classify(0xffdfe081u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0xffdfe081u, kPd), Oa(0xffffc00000));
  EXPECT_EQ(f.EncodeLeaf(kPd, Oa(0xffffc00000), LeafAttrs().With(Attr::kRead)), 0xffdfe081u);
}

// Table 4-6: PTE 0x0badf065 = page 0x0badf000 with 0x065 = P 0x01 | U/S 0x04
// | A 0x20 | D 0x40: user, read-only, accessed, dirty, not global; always
// executable (no XD in 32-bit paging, §4.6). Bit 7 is PAT in a PTE, not PS:
// 0x0badf0e5 decodes the same (0x0e5 = 0x065 | 0x080).
TEST(X86_32Golden, DecodePte) {
  const X86_32 f = MakeFormat();
  const LeafAttrs want = LeafAttrs()
                             .With(Attr::kRead)
                             .With(Attr::kExec)
                             .With(Attr::kUser)
                             .With(Attr::kAccessed)
                             .With(Attr::kDirty);
  for (uint32_t raw : {0x0badf065u, 0x0badf0e5u}) {
    EXPECT_EQ(f.Classify(raw, kPt), EntryKind::kLeaf) << std::hex << raw;
    EXPECT_EQ(f.LeafOa(raw, kPt), Oa(0x0badf000)) << std::hex << raw;
    EXPECT_EQ(f.DecodeAttrs(raw, kPt), want) << std::hex << raw;
  }
}

// Table 4-5: PDE 0x00abc027 = table 0x00abc000, 0x027 = P|R/W|U/S|A: allows
// write and user below. PDE 0x00abc001 (P only) restricts both (§4.6.1);
// exec is never restricted. Bit 6 (D) of such a PDE is ignored, so
// 0x00abc041 is still a table.
TEST(X86_32Golden, DecodeTablePdeAndPerms) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.Classify(0x00abc027u, kPd), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x00abc027u, kPd), Oa(0x00abc000));
  EXPECT_EQ(TablePermsOf(f, 0x00abc027u, kPd), (TablePerms{.write = true, .exec = true, .user = true}));
  EXPECT_EQ(TablePermsOf(f, 0x00abc001u, kPd), (TablePerms{.write = false, .exec = true, .user = false}));
  EXPECT_EQ(f.Classify(0x00abc041u, kPd), EntryKind::kTable);
}

// Figure 4-4: P = 0 means not present whatever the other 31 bits hold.
TEST(X86_32Golden, NotPresentIgnoresOtherBits) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.Classify(0xfffffffeu, kPd), EntryKind::kEmpty);
  EXPECT_EQ(f.Classify(0xfffffffeu, kPt), EntryKind::kEmpty);
  EXPECT_EQ(f.Classify(0u, kPd), EntryKind::kEmpty);
}

// ---------------------------------------------------------------------------
// Reserved bits (Table 4-4) and CR4.PSE (Table 4-5).

// With PSE-36 and M = 40, bit 21 of a 4 MiB PDE is reserved:
//   0x00400083 (OA 0x00400000, P|R/W|PS) is a leaf;
//   0x00600083 = 0x00400083 | bit 21 (0x200000) is kInvalid.
// Table 4-6 has no reserved bits: the same bit in a PTE is just address.
TEST(X86_32Golden, Pse36Bit21Reserved) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.Classify(0x00400083u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.Classify(0x00600083u, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x00600083u, kPt), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x00600083u, kPt), Oa(0x00600000));
}

// With M = 36, entry bits (M-20):13 = 16:13 hold OA 35:32 and bits 21:17
// are reserved.
//   0x00410083: bit 16 (0x10000) = OA bit 35 -> OA 0x8_0040_0000, a leaf.
//   0x00420083: bit 17 (0x20000) = OA bit 36 > M-1 -> kInvalid; the same
//   raw under M = 40 is a leaf at 0x10_0040_0000.
TEST(X86_32Golden, AddressBitsAboveMaxphyaddrReserved) {
  const X86_32 f36 = MakeFormat({"maxphyaddr=36"});
  EXPECT_EQ(f36.Classify(0x00410083u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f36.LeafOa(0x00410083u, kPd), Oa(0x800400000));
  EXPECT_EQ(f36.Classify(0x00420083u, kPd), EntryKind::kInvalid);

  const X86_32 f40 = MakeFormat();
  EXPECT_EQ(f40.Classify(0x00420083u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f40.LeafOa(0x00420083u, kPd), Oa(0x1000400000));

  // M = 32 with PSE-36: (M-20):13 is empty, so all of 21:13 is reserved.
  const X86_32 f32 = MakeFormat({"maxphyaddr=32"});
  EXPECT_EQ(f32.Classify(0x00402083u, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f32.Classify(0x00400083u, kPd), EntryKind::kLeaf);
}

// Without PSE-36, bits 21:13 of a 4 MiB PDE are reserved:
//   0x00402083 = 0x00400083 | bit 13 (0x2000) -> kInvalid.
// Bit 12 is PAT, not reserved: 0x00401083 is a leaf at 0x00400000.
TEST(X86_32Golden, NoPse36Bits21To13Reserved) {
  const X86_32 f = MakeFormat({"pse36=0"});
  EXPECT_EQ(f.Classify(0x00402083u, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x00600083u, kPd), EntryKind::kInvalid);
  EXPECT_EQ(f.Classify(0x00401083u, kPd), EntryKind::kLeaf);
  EXPECT_EQ(f.LeafOa(0x00401083u, kPd), Oa(0x00400000));
}

// Table 4-5 with CR4.PSE = 0: bit 7 is ignored, so 0x00400083 references
// the page table at 0x00400000, and bit 21 is just address (0x00600083 ->
// table 0x00600000): a table PDE has no reserved bits.
TEST(X86_32Golden, PsIgnoredWithoutPse) {
  const X86_32 f = MakeFormat({"pse=0"});
  EXPECT_EQ(f.Classify(0x00400083u, kPd), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x00400083u, kPd), Oa(0x00400000));
  EXPECT_EQ(f.Classify(0x00600083u, kPd), EntryKind::kTable);
  EXPECT_EQ(f.TableOa(0x00600083u, kPd), Oa(0x00600000));
}

// §4.8: A (0x20) is set in every entry used; D (0x40) only in the entry that
// maps the page, on a write.
//   leaf 4 MiB PDE 0x00400083, write -> 0x00400083 | 0x60 = 0x004000e3;
//   same raw as a table PDE (pse=0), write -> | 0x20 only = 0x004000a3;
//   PTE 0x00abc007, read -> 0x00abc027; write -> 0x00abc067.
TEST(X86_32Golden, MarkAccessed) {
  const X86_32 f = MakeFormat();
  EXPECT_EQ(f.MarkAccessed(0x00400083u, kPd, true), 0x004000e3u);
  EXPECT_EQ(MakeFormat({"pse=0"}).MarkAccessed(0x00400083u, kPd, true), 0x004000a3u);
  EXPECT_EQ(f.MarkAccessed(0x00abc007u, kPt, false), 0x00abc027u);
  EXPECT_EQ(f.MarkAccessed(0x00abc007u, kPt, true), 0x00abc067u);
}

// The concept's round trip, DecodeAttrs(EncodeLeaf(a)) == Canonical(a), for
// every attribute set at both leaf levels: read and exec are always on.
TEST(X86_32Golden, EncodeDecodeRoundTripsThroughCanonical) {
  const X86_32 f = MakeFormat();
  for (unsigned bits = 0; bits < (1u << kNumAttrs); ++bits) {
    const LeafAttrs a = LeafAttrs::FromBits(static_cast<uint8_t>(bits));
    const LeafAttrs c = f.Canonical(a);
    EXPECT_TRUE(c.Has(Attr::kRead) && c.Has(Attr::kExec));
    for (Level l : {kPt, kPd}) {
      const Oa oa(l == kPd ? 0x345400000 : 0x12345000);
      const uint32_t raw = f.EncodeLeaf(l, oa, a);
      EXPECT_EQ(f.Classify(raw, l), EntryKind::kLeaf);
      EXPECT_EQ(f.LeafOa(raw, l), oa);
      EXPECT_EQ(f.DecodeAttrs(raw, l), c) << AttrsToString(a);
    }
  }
}

// ---------------------------------------------------------------------------
// Full walks through PhysMem (§4.3, Figures 4-2 and 4-3).

// A 4 KiB walk. VA 0x08048123: PD index 0x08048123 >> 22 = 0x20, PT index
// 0x08048 & 0x3ff = 0x048, offset 0x123.
//   PD at 0x1000, PDE at 0x1000 + 0x20*4 = 0x1080: 0x00002007 (PT 0x2000,
//   P|R/W|U/S), written as raw little-endian bytes 07 20 00 00.
//   PT at 0x2000, PTE at 0x2000 + 0x48*4 = 0x2120: 0x00abc007.
// User write -> OA 0x00abc000 + 0x123 = 0x00abc123, 4 KiB at level 0.
// After: PDE gains A only (0x00002027, bytes 27 20 00 00), PTE gains A|D
// (0x00abc067).
TEST(X86_32Golden, Walk4K) {
  const X86_32 f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 24);
  const std::array<uint8_t, 4> pde = {0x07, 0x20, 0x00, 0x00};
  ASSERT_TRUE(mem.Write(Oa(0x1080), pde).ok());
  StoreEntry(&mem, Oa(0x2000), kPt, 0x48, 0x00abc007u);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x08048123), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x00abc123));
  EXPECT_EQ(r.t.size_lg2, 12u);
  EXPECT_EQ(r.t.level, kPt);
  EXPECT_EQ(r.t.attrs,
            LeafAttrs::Rwx().With(Attr::kUser).With(Attr::kAccessed).With(Attr::kDirty));

  std::array<uint8_t, 4> after{};
  mem.Read(Oa(0x1080), absl::MakeSpan(after));
  EXPECT_EQ(after, (std::array<uint8_t, 4>{0x27, 0x20, 0x00, 0x00}));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPt, 0x48), 0x00abc067u);
}

// A 4 MiB PSE-36 walk. VA 0xc0123456: PD index 0x300, offset in the 4 MiB
// page 0x123456. PDE at 0x1000 + 0x300*4 = 0x1c00: 0x45406087 (OA
// 0x3_4540_0000 as in EncodeLeaf4MAbove4GWithPse36, plus U/S 0x04).
// User write -> OA 0x3_4540_0000 + 0x12_3456 = 0x3_4552_3456, 4 MiB at
// level 1; the PDE gains A|D: 0x45406087 | 0x60 = 0x454060e7.
TEST(X86_32Golden, Walk4MAbove4G) {
  const X86_32 f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 24);
  StoreEntry(&mem, Oa(0x1000), kPd, 0x300, 0x45406087u);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0xc0123456), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x345523456));
  EXPECT_EQ(r.t.size_lg2, 22u);
  EXPECT_EQ(r.t.level, kPd);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPd, 0x300), 0x454060e7u);
}

// CR4.PSE = 0: PDE 0x00400087 (PS set) references the page table at
// 0x00400000. VA 0x00001abc: PD index 0, PT index 1, offset 0xabc; PTE at
// 0x00400000 + 1*4 = 0x00400004: 0x00777007.
// User write -> OA 0x00777abc at level 0. PDE gains A only (0x004000a7:
// bit 6 of a table PDE is ignored, so no D), PTE gains A|D (0x00777067).
TEST(X86_32Golden, WalkPsIgnoredWithoutPse) {
  const X86_32 f = MakeFormat({"pse=0"});
  PhysMem mem(Oa(0), 1 << 24);
  StoreEntry(&mem, Oa(0x1000), kPd, 0, 0x00400087u);
  StoreEntry(&mem, Oa(0x00400000), kPt, 1, 0x00777007u);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x00001abc), kUserWrite);
  ASSERT_TRUE(r.ok) << FaultKindName(r.fault.kind);
  EXPECT_EQ(r.t.oa, Oa(0x00777abc));
  EXPECT_EQ(r.t.size_lg2, 12u);
  EXPECT_EQ(r.t.level, kPt);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPd, 0), 0x004000a7u);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x00400000), kPt, 1), 0x00777067u);
}

// Reserved fault with M = 36: VA 0x00400000 (PD index 1) hits PDE
// 0x00420087 at 0x1004, whose bit 17 is OA bit 36. The walk stops with a
// reserved fault at the PD and the entry is not marked accessed. The same
// memory under M = 40 maps OA 0x10_0040_0000.
TEST(X86_32Golden, WalkReservedAboveMaxphyaddr) {
  PhysMem mem(Oa(0), 1 << 24);
  StoreEntry(&mem, Oa(0x1000), kPd, 1, 0x00420087u);

  const WalkResult r = Translate(MakeFormat({"maxphyaddr=36"}), &mem, Oa(0x1000), Va(0x00400000), kUserWrite);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.fault, (Fault{FaultKind::kReserved, kPd}));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPd, 1), 0x00420087u);

  const WalkResult r40 = Translate(MakeFormat(), &mem, Oa(0x1000), Va(0x00400000), kUserWrite);
  ASSERT_TRUE(r40.ok);
  EXPECT_EQ(r40.t.oa, Oa(0x1000400000));
}

// §4.6.1: a supervisor-only PDE (0x00002003: P|R/W, no U/S) denies user
// access to its whole 4 MiB even though the PTE (0x00abc007) allows it.
// VA 0x00000010: PD index 0, PT index 0. The PDE was used, so it gains A
// (0x00002023); the faulting PTE is left untouched.
TEST(X86_32Golden, WalkUserDeniedByPde) {
  const X86_32 f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 24);
  StoreEntry(&mem, Oa(0x1000), kPd, 0, 0x00002003u);
  StoreEntry(&mem, Oa(0x2000), kPt, 0, 0x00abc007u);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x00000010), kUserWrite);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.fault, (Fault{FaultKind::kPermission, kPt}));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x1000), kPd, 0), 0x00002023u);
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPt, 0), 0x00abc007u);

  // A supervisor read goes through: OA 0x00abc010, PTE gains A only.
  const WalkResult s = Translate(f, &mem, Oa(0x1000), Va(0x00000010), Access{AccessType::kRead, false});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.t.oa, Oa(0x00abc010));
  EXPECT_EQ(LoadEntry(&mem, Oa(0x2000), kPt, 0), 0x00abc027u);
}

// Not-present and non-canonical: an empty PTE faults at level 0; a VA with
// bit 32 set is outside the 32-bit space (VaExt kZero).
TEST(X86_32Golden, WalkNotPresentAndNonCanonical) {
  const X86_32 f = MakeFormat();
  PhysMem mem(Oa(0), 1 << 24);
  StoreEntry(&mem, Oa(0x1000), kPd, 0, 0x00002007u);

  const WalkResult r = Translate(f, &mem, Oa(0x1000), Va(0x00005000), kUserWrite);
  EXPECT_EQ(r.fault, (Fault{FaultKind::kNotPresent, kPt}));
  const WalkResult top = Translate(f, &mem, Oa(0x1000), Va(0x00400000), kUserWrite);
  EXPECT_EQ(top.fault, (Fault{FaultKind::kNotPresent, kPd}));
  const WalkResult nc = Translate(f, &mem, Oa(0x1000), Va(0x100000000), kUserWrite);
  EXPECT_EQ(nc.fault.kind, FaultKind::kNonCanonical);
}

}  // namespace
}  // namespace ptsim
