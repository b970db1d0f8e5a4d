// The bit positions of RISC-V page-table entries (privileged spec,
// "Addressing and Memory Protection": the Sv32 / Sv39 / Sv48 / Sv57 PTE
// figures, the Svpbmt and Svnapot chapters), declared once: the format
// (riscv.h) encodes and decodes with them, and the architecture's rules
// (src/hw/riscv.h) read them.
#ifndef PTSIM_FORMATS_RISCV_BITS_H_
#define PTSIM_FORMATS_RISCV_BITS_H_

#include "src/base/bits.h"

namespace ptsim::fmt::riscv_pte {

using V = Bit<0>;
using R = Bit<1>;
using W = Bit<2>;
using X = Bit<3>;
using U = Bit<4>;
using G = Bit<5>;
using A = Bit<6>;
using D = Bit<7>;
using Rsw = Field<9, 8>;  // supervisor software's; hardware ignores it
using Ppn32 = Field<31, 10>;
using Ppn64 = Field<53, 10>;
// 64-bit PTEs: N (63), PBMT (62:61) and bits 60:54; all reserved unless
// Svpbmt makes PBMT legal.
using Reserved64 = Field<63, 54>;
using Pbmt = Field<62, 61>;
// Svnapot: N, and the PPN[0] bits that encode the NAPOT size.
using N = Bit<63>;
using NapotLow = Field<13, 10>;  // PPN[0][3:0]

}  // namespace ptsim::fmt::riscv_pte

#endif  // PTSIM_FORMATS_RISCV_BITS_H_
