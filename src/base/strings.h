// Debian 12's Abseil is built with its own absl::string_view (not an alias of
// std::string_view). StrFormat's %s takes either; StrCat, StrSplit and
// SimpleAtoi want absl's. Convert at that boundary with Sv().
#ifndef PTSIM_BASE_STRINGS_H_
#define PTSIM_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ptsim {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace ptsim

#endif  // PTSIM_BASE_STRINGS_H_
