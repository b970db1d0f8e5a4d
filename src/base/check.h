// Always-on invariant checks. A failed check is a bug in ptsim or in the code
// under test, never an input error (those are absl::Status), so it aborts
// with the message and the values that broke it.
#ifndef PTSIM_BASE_CHECK_H_
#define PTSIM_BASE_CHECK_H_

#include <string>

#include "absl/strings/str_format.h"

namespace ptsim::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace ptsim::internal

// Unrolls the next loop in optimised builds (the level loop of a walk, so
// per-level geometry becomes constants); unoptimised builds would only warn
// that they ignore the request.
#if defined(__OPTIMIZE__)
#define PTSIM_UNROLL_LOOP _Pragma("GCC unroll 8")
#else
#define PTSIM_UNROLL_LOOP
#endif

#define PTSIM_CHECK(cond, ...)                                                          \
  do {                                                                                 \
    if (__builtin_expect(!(cond), 0)) {                                                \
      ::ptsim::internal::CheckFailed(__FILE__, __LINE__, #cond, absl::StrFormat(__VA_ARGS__)); \
    }                                                                                  \
  } while (0)

#endif  // PTSIM_BASE_CHECK_H_
