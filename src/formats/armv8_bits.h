// The bit positions of VMSAv8-64 descriptors (Arm ARM DDI 0487 D8,
// "VMSAv8-64 translation table format descriptors" and "Memory attribute
// fields in the VMSAv8-64 translation table format descriptors"), declared
// once: the formats (armv8_tables.h, armv8.h, armv8_s2.h) encode and decode
// with them, and the architecture's rules (src/hw/armv8.h) read them.
#ifndef PTSIM_FORMATS_ARMV8_BITS_H_
#define PTSIM_FORMATS_ARMV8_BITS_H_

#include "src/base/bits.h"

namespace ptsim::fmt::armv8_desc {

// Every descriptor.
using Valid = Bit<0>;
using TypeBit = Bit<1>;  // table (L0-L2) or page (L3); 0 = block
using Sh = Field<9, 8>;
using Af = Bit<10>;
using Dbm = Bit<51>;  // dirty bit modifier (hardware dirty state)
using Contiguous = Bit<52>;

// Stage 1 block and page descriptors.
using AttrIndx = Field<4, 2>;
using Ap1El0 = Bit<6>;  // AP[1]: EL0 access
using Ap2Ro = Bit<7>;   // AP[2]: read-only
using NotGlobal = Bit<11>;
using Pxn = Bit<53>;
using Uxn = Bit<54>;

// Stage 1 table descriptors (hierarchical permissions).
using PxnTable = Bit<59>;
using UxnTable = Bit<60>;
using ApTable0NoEl0 = Bit<61>;  // APTable[0]
using ApTable1Ro = Bit<62>;     // APTable[1]

// Stage 2 block and page descriptors.
using MemAttr = Field<5, 2>;
using S2apRead = Bit<6>;   // S2AP[0]
using S2apWrite = Bit<7>;  // S2AP[1]
using Xn0 = Bit<53>;       // XN[0] with FEAT_XNX
using Xn1 = Bit<54>;       // XN, or XN[1] with FEAT_XNX
using Xn = Field<54, 53>;  // XN[1:0] with FEAT_XNX

}  // namespace ptsim::fmt::armv8_desc

#endif  // PTSIM_FORMATS_ARMV8_BITS_H_
