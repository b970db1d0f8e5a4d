// A compile-time list of formats, and the stable ID of each.
#ifndef PTSIM_PT_FORMAT_LIST_H_
#define PTSIM_PT_FORMAT_LIST_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/hash.h"
#include "src/pt/format.h"

namespace ptsim {

template <PageTableFormat... Fs>
struct FormatList {
  static constexpr size_t kSize = sizeof...(Fs);
  // Calls fn.template operator()<F>() for every format, in order.
  template <typename Fn>
  static void ForEach(Fn&& fn) {
    (fn.template operator()<Fs>(), ...);
  }
  // Calls fn.template operator()<F>() for the format named `name`; false
  // when no format has that name. The one place a name picks a type: code
  // elsewhere dispatches through this, never by comparing names itself.
  template <typename Fn>
  static bool WithName(std::string_view name, Fn&& fn) {
    return ((name == Fs::kName ? (fn.template operator()<Fs>(), true) : false) || ...);
  }
};

// A format's ID is the FNV-1a hash of "ptsim/format/<name>": stable across
// builds and unaffected by adding formats, so corpora keep their meaning.
constexpr uint32_t FormatIdOf(std::string_view name) {
  return Fnv1a32(name, Fnv1a32("ptsim/format/"));
}

}  // namespace ptsim

#endif  // PTSIM_PT_FORMAT_LIST_H_
