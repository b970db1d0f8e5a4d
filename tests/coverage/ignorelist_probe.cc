// Compiled (never linked) with the libFuzzer coverage flags of cmake/PtsimFlags.cmake, so that
// check_ignorelist.py can look at what the instrumentation did: the whole-tree checks and the
// teardown must carry none, the operations they check must carry it.
#include "src/formats/all_formats.h"
#include "src/ops/inspect.h"
#include "src/ops/space.h"

namespace ptsim {

// Any one format will do: the first registered.
template <typename List>
struct FirstOf;
template <PageTableFormat F, PageTableFormat... Rest>
struct FirstOf<FormatList<F, Rest...>> {
  using type = F;
};
using ProbeFormat = FirstOf<AllFormats>::type;

// Checks (ignored).
template absl::StatusOr<TreeStats> CheckTree<ProbeFormat>(const ProbeFormat&, PhysMem*, const TableAllocator&, Oa,
                                                          uint32_t, LowSpan);
// Code under test (instrumented), and teardown (ignored).
template class Space<ProbeFormat>;

}  // namespace ptsim
