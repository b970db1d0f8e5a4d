#include "src/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace ptsim::internal {

void CheckFailed(const char* file, int line, const char* cond, const std::string& msg) {
  std::fprintf(stderr, "%s:%d: PTSIM_CHECK(%s) failed: %s\n", file, line, cond, msg.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace ptsim::internal
