// Every architecture's HwRules specialisation (src/hw/family.h), for the
// registry: a format whose family is not listed here walks with the neutral
// rules.
#ifndef PTSIM_HW_ALL_FAMILIES_H_
#define PTSIM_HW_ALL_FAMILIES_H_

#include "src/hw/armv7_mode.h"
#include "src/hw/armv8_mode.h"
#include "src/hw/family.h"
#include "src/hw/iommu_mode.h"
#include "src/hw/riscv_mode.h"
#include "src/hw/x86_mode.h"

#endif  // PTSIM_HW_ALL_FAMILIES_H_
