// Linux's VMCOREINFO note: "KEY=VALUE" lines the kernel writes for crash
// and makedumpfile (Documentation/admin-guide/kdump/vmcoreinfo.rst;
// kernel/crash_core.c and arch/*/kernel/crash_core.c write them):
//   SYMBOL(name)=%lx   (hex, no 0x), e.g. SYMBOL(swapper_pg_dir)
//   NUMBER(name)=%ld   (decimal), or 0x%llx where the arch code says so
//   PAGESIZE=%ld, CONFIG_NAME=y
// The root is the kernel's swapper_pg_dir (x86-64 also writes it as
// init_top_pgt), a kernel virtual address turned into a physical one the
// way crash and drgn do: through a PT_LOAD whose p_vaddr range holds it
// (kexec writes one for the kernel's text and data), else with the
// architecture's own offset.
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/cli/core_hints.h"

namespace ptsim::cli {
namespace {

using Info = absl::flat_hash_map<std::string, std::string>;

std::optional<uint64_t> Hex(const Info& info, const std::string& key) {
  auto it = info.find(key);
  uint64_t v = 0;
  if (it == info.end() || !absl::SimpleHexAtoi(absl::StripPrefix(it->second, "0x"), &v)) return std::nullopt;
  return v;
}

// A NUMBER(): decimal as %ld prints it (possibly negative), or 0x hex.
std::optional<uint64_t> Number(const Info& info, const std::string& key) {
  auto it = info.find(key);
  if (it == info.end()) return std::nullopt;
  if (absl::StartsWith(it->second, "0x")) return Hex(info, key);
  int64_t v = 0;
  if (!absl::SimpleAtoi(it->second, &v)) return std::nullopt;
  return static_cast<uint64_t>(v);
}

// x86-64's kernel image mapping (arch/x86/include/asm/page_64_types.h):
// __pa_symbol(x) = x - __START_KERNEL_map + phys_base.
constexpr uint64_t kX86StartKernelMap = 0xffffffff80000000ull;

void Root(const ElfCore& core, const Info& info, CoreHints* h) {
  std::string name = "swapper_pg_dir";
  std::optional<uint64_t> sym = Hex(info, "SYMBOL(swapper_pg_dir)");
  if (!sym) {
    name = "init_top_pgt";
    sym = Hex(info, "SYMBOL(init_top_pgt)");
  }
  if (!sym) {
    h->no_root += "; VMCOREINFO has no SYMBOL(swapper_pg_dir)";
    return;
  }
  const std::string what = absl::StrFormat("SYMBOL(%s)=0x%x in VMCOREINFO", name, *sym);
  for (const CoreSegment& s : core.loads) {
    if (*sym >= s.vaddr && *sym - s.vaddr < s.memsz) {
      h->root = s.paddr + (*sym - s.vaddr);
      h->root_source = absl::StrFormat("%s, through PT_LOAD %d's p_vaddr 0x%x", what, s.index, s.vaddr);
      return;
    }
  }
  if (core.machine == kEmX86_64 && *sym >= kX86StartKernelMap) {
    if (auto phys_base = Number(info, "NUMBER(phys_base)")) {
      h->root = *sym - kX86StartKernelMap + *phys_base;
      h->root_source = absl::StrFormat("%s - 0x%x + NUMBER(phys_base) 0x%x", what, kX86StartKernelMap, *phys_base);
      return;
    }
  }
  // arm64: __pa_symbol(x) = x - kimage_voffset (arch/arm64/include/asm/memory.h).
  if (core.machine == kEmAarch64) {
    if (auto off = Number(info, "NUMBER(kimage_voffset)")) {
      h->root = *sym - *off;
      h->root_source = absl::StrFormat("%s - NUMBER(kimage_voffset) 0x%x", what, *off);
      return;
    }
  }
  h->no_root += absl::StrFormat("; %s, but no PT_LOAD maps that virtual address and VMCOREINFO gives no offset for %s",
                                what, MachineName(core.machine));
}

// The kernel's paging mode, as far as VMCOREINFO tells it.
void Paging(const ElfCore& core, const Info& info, CoreHints* h) {
  switch (core.machine) {
    case kEmX86_64: {
      const bool l5 = Number(info, "NUMBER(pgtable_l5_enabled)").value_or(0) == 1;
      h->paging = {QemuMachine::kX86, l5 ? 3 : 2};
      h->format_source = absl::StrFormat("EM_X86_64 with NUMBER(pgtable_l5_enabled)=%d in VMCOREINFO", l5 ? 1 : 0);
      return;
    }
    case kEm386: {
      const bool pae = info.contains("CONFIG_X86_PAE");
      h->paging = {QemuMachine::kX86, pae ? 1 : 0};
      h->format_source = absl::StrFormat("EM_386 %s CONFIG_X86_PAE in VMCOREINFO", pae ? "with" : "without");
      return;
    }
    case kEmRiscv: {
      const uint64_t va_bits = core.elf64 ? Number(info, "NUMBER(VA_BITS)").value_or(0) : 32;
      const int mode = va_bits == 32 ? 1 : va_bits == 39 ? 8 : va_bits == 48 ? 9 : va_bits == 57 ? 10 : 0;
      if (mode == 0) break;
      h->paging = {QemuMachine::kRiscv, mode};
      h->format_source = absl::StrFormat("EM_RISCV with VA_BITS %d (VMCOREINFO)", va_bits);
      return;
    }
    case kEmAarch64: {
      const uint64_t page = Number(info, "PAGESIZE").value_or(0);
      if (page != 4096 && page != 16384 && page != 65536) break;
      // swapper_pg_dir is TTBR1_EL1's table: the kernel half, 64 - T1SZ
      // bits wide (older kernels write only VA_BITS).
      std::optional<uint64_t> t1sz = Number(info, "NUMBER(tcr_el1_t1sz)");
      if (!t1sz) t1sz = Number(info, "NUMBER(TCR_EL1_T1SZ)");
      const uint64_t va_bits = t1sz && *t1sz < 64 ? 64 - *t1sz : Number(info, "NUMBER(VA_BITS)").value_or(48);
      h->paging = {QemuMachine::kArmV8, static_cast<int>(page / 1024)};
      h->config = {"ttbr1=1", absl::StrFormat("va_bits=%d", va_bits)};
      if (va_bits > 48) h->config.push_back("lpa=1");
      h->format_source =
          absl::StrFormat("EM_AARCH64 with PAGESIZE %d and %d-bit kernel VAs (VMCOREINFO)", page, va_bits);
      return;
    }
    default:
      break;
  }
  h->no_format +=
      absl::StrFormat("; VMCOREINFO does not give the paging mode of an %s kernel", MachineName(core.machine));
}

}  // namespace

void ReadVmcoreinfo(const ElfCore& core, CoreHints* h) {
  const CoreNote* note = nullptr;
  for (const CoreNote& n : core.notes) {
    if (n.name == "VMCOREINFO") note = &n;
  }
  if (note == nullptr) return;
  Info info;
  const std::string text(note->desc.begin(), note->desc.end());
  for (absl::string_view line :
       absl::StrSplit(text, absl::ByAnyChar(absl::string_view("\n\0", 2)), absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    info.emplace(std::move(kv.first), std::move(kv.second));
  }
  Root(core, info, h);
  if (h->paging.machine == QemuMachine::kNone) Paging(core, info, h);
}

}  // namespace ptsim::cli
