#include "src/pt/attrs.h"

#include <string_view>

namespace ptsim {
namespace {
constexpr char kLetters[kNumAttrs + 1] = "rwxugad";
constexpr const char* kNames[kNumAttrs] = {"read", "write", "exec", "user", "global", "accessed", "dirty"};
}  // namespace

std::string AttrsToString(LeafAttrs a) {
  std::string s;
  for (int i = 0; i < kNumAttrs; ++i) s += a.Has(static_cast<Attr>(i)) ? kLetters[i] : '-';
  return s;
}

bool AttrsFromString(std::string_view s, LeafAttrs* out) {
  LeafAttrs a;
  for (char c : s) {
    if (c == '-') continue;
    const std::string_view letters(kLetters);
    const size_t i = letters.find(c);
    if (i == std::string_view::npos) return false;
    a = a.With(static_cast<Attr>(i));
  }
  *out = a;
  return true;
}

const char* AttrName(Attr a) { return kNames[static_cast<int>(a)]; }

}  // namespace ptsim
