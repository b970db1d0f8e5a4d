// Compiled (never linked) with the libFuzzer coverage flags of cmake/PtsimFlags.cmake, so that
// check_ignorelist.py can look at what the instrumentation did: the whole-tree checks and the
// teardown must carry none, the operations they check must carry it.
#include "src/formats/x86_64.h"
#include "src/ops/inspect.h"
#include "src/ops/space.h"

namespace ptsim {

using ProbeFormat = fmt::X86_64L4;

// Checks (ignored).
template absl::StatusOr<TreeStats> CheckTree<ProbeFormat>(const ProbeFormat&, PhysMem*, const TableAllocator&, Oa,
                                                          uint32_t);
// Code under test (instrumented), and teardown (ignored).
template class Space<ProbeFormat>;

}  // namespace ptsim
