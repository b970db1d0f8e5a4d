#include <array>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/any/any_format_impl.h"
#include "src/formats/all_formats.h"

namespace ptsim {
namespace {

template <typename List>
struct RegistryTable;

template <PageTableFormat... Fs>
struct RegistryTable<FormatList<Fs...>> {
  static constexpr std::array<FormatEntry, sizeof...(Fs)> kEntries = {
      FormatEntry{Fs::kName, FormatIdOf(Fs::kName), std::span<const ConfigKnob>(Fs::kKnobs),
                  std::span<const ConfigKnob>(HwRules<Fs>::kModeKnobs), &MakeFormatImpl<Fs>}...};
};

constexpr bool UniqueIds() {
  const auto& e = RegistryTable<AllFormats>::kEntries;
  for (size_t i = 0; i < e.size(); ++i)
    for (size_t j = i + 1; j < e.size(); ++j)
      if (e[i].id == e[j].id || e[i].name == e[j].name) return false;
  return true;
}
static_assert(UniqueIds(), "two registered formats share a name or an ID hash");

}  // namespace

std::span<const FormatEntry> Registry() { return RegistryTable<AllFormats>::kEntries; }

const FormatEntry* FindFormat(std::string_view name) {
  for (const FormatEntry& e : Registry())
    if (e.name == name) return &e;
  return nullptr;
}

const FormatEntry& FormatById(uint32_t id, bool* exact) {
  for (const FormatEntry& e : Registry()) {
    if (e.id != id) continue;
    if (exact) *exact = true;
    return e;
  }
  if (exact) *exact = false;
  return Registry()[id % Registry().size()];
}

std::string KnownFormatNames() {
  std::vector<std::string> names;
  for (const FormatEntry& e : Registry()) names.emplace_back(e.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::unique_ptr<AnyFormat>> MakeFormat(std::string_view name,
                                                      const std::vector<std::string>& settings) {
  const FormatEntry* e = FindFormat(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrFormat("unknown format '%s' (known: %s)", name, KnownFormatNames()));
  }
  FormatConfig cfg = FormatConfig::Defaults(e->knobs);
  for (const std::string& s : settings) {
    if (auto st = ApplyConfigSetting(e->knobs, s, &cfg); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat("format %s: %s", name, st.message()));
    }
  }
  return e->make(cfg);
}

}  // namespace ptsim
