// ptsim dump --dot: an image's tables as a Graphviz digraph (dump_dot.cc).
#ifndef PTSIM_TOOLS_CLI_DUMP_DOT_H_
#define PTSIM_TOOLS_CLI_DUMP_DOT_H_

#include <cstdint>

#include "tools/cli/image_loader.h"

namespace ptsim::cli {

// Writes the digraph to stdout; returns the exit code (a finding when the
// walk met problems). `limit` bounds the leaves and problems read.
int RunDumpDot(const AnyFormat& f, const LoadedImage& img, uint64_t limit);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_DUMP_DOT_H_
