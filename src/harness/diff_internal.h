// Pieces of the differential runner shared by its .cc files; not an API.
#ifndef PTSIM_HARNESS_DIFF_INTERNAL_H_
#define PTSIM_HARNESS_DIFF_INTERNAL_H_

#include <memory>
#include <string>
#include <vector>

#include "src/harness/diff.h"

namespace ptsim {

// Empty when `f` can express `op` as the program states it, else why not.
std::string Inexpressible(const AnyFormat& f, const Op& op);
// The addresses observed after `op`: its edges, its middle, and just
// outside it at every leaf size of the run's formats.
std::vector<Va> ProbesOf(const Op& op, const std::vector<unsigned>& sizes_lg2);
Observation Observe(const AnyFormat& f, PhysMem* mem, Oa root, Va va);
// The frame program as format `e` runs it.
Program ProgramFor(const Program& frame, const FormatEntry& e);
// Compares every pair of runs over their common comparable prefix; `fs`
// holds the runs' formats, in order.
void CompareRuns(const Program& frame, const std::vector<std::unique_ptr<AnyFormat>>& fs, size_t max_differences,
                 DiffResult* r);

}  // namespace ptsim

#endif  // PTSIM_HARNESS_DIFF_INTERNAL_H_
