// Human one-line renderings of leaves, walk results and tree problems, shared
// by dump and translate so both read the same.
#ifndef PTSIM_TOOLS_CLI_ENTRY_TEXT_H_
#define PTSIM_TOOLS_CLI_ENTRY_TEXT_H_

#include <string>

#include "src/any/any_format.h"
#include "tools/cli/image_loader.h"

namespace ptsim::cli {

// Hex digits that show every VA / OA of a format at a fixed width.
struct AddrWidths {
  int va;
  int oa;
  static AddrWidths Of(const FormatInfo& info);
};

// "va 0x... oa 0x... 2 MiB level 1 PD rw-u--- leaf present write user\n"
std::string LeafLine(const AnyFormat& f, const AddrWidths& w, const LeafInfo& l);
// "problem: va 0x..., level 2 (PDPT): table at 0x... lies outside the image ..."
std::string ProblemLine(const AnyFormat& f, const LoadedImage& img, const TreeProblem& p);

// A walk that reads one table twice went round a cycle in the tables
// (hardware would follow it; a self-map does so on purpose): "structure
// error: cycle: ..." naming the tables and entry indices, or empty.
std::string WalkCycle(const WalkTrace& trace);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_ENTRY_TEXT_H_
