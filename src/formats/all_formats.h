// THE registry: every format ptsim knows, in one list. Adding a format is one
// header under src/formats/ and one line here; tests, fuzzers and the CLI
// enumerate this list and nothing else.
#ifndef PTSIM_FORMATS_ALL_FORMATS_H_
#define PTSIM_FORMATS_ALL_FORMATS_H_

#include "src/formats/amd_iommu_v1.h"
#include "src/formats/armv7_short.h"
#include "src/formats/armv8.h"
#include "src/formats/armv8_s2.h"
#include "src/formats/fake.h"
#include "src/formats/riscv.h"
#include "src/formats/vtd.h"
#include "src/formats/x86_32.h"
#include "src/formats/x86_64.h"
#include "src/formats/x86_pae.h"
#include "src/pt/format_list.h"

namespace ptsim {

using AllFormats = FormatList<  //
    fmt::X86_64L4,              //
    fmt::X86_64L5,              //
    fmt::X86_32,                //
    fmt::X86Pae,                //
    fmt::ArmV8S1_4K,            //
    fmt::ArmV8S1_16K,           //
    fmt::ArmV8S1_64K,           //
    fmt::ArmV8S2_4K,            //
    fmt::ArmV8S2_16K,           //
    fmt::ArmV8S2_64K,           //
    fmt::RiscvSv32,             //
    fmt::RiscvSv39,             //
    fmt::RiscvSv48,             //
    fmt::RiscvSv57,             //
    fmt::VtdSs3,                //
    fmt::VtdSs4,                //
    fmt::VtdSs5,                //
    fmt::ArmV7Short,            //
    fmt::AmdIommuV1,            //
    fmt::Fake>;

}  // namespace ptsim

#endif  // PTSIM_FORMATS_ALL_FORMATS_H_
