// ptsim_format_types: one line per registered format (src/formats/all_formats.h, in registry
// order), "NAME TYPE", where TYPE is the Itanium-mangled name of the format's C++ type as
// typeid gives it (no _Z prefix). Coverage data names template instantiations by C++ type;
// tools/coverage_matrix.py reads these lines to attribute each instantiation to its registry
// name, so no table of types is kept by hand. Demangle TYPE with c++filt after prefixing _ZTS.
#include <cstdio>
#include <typeinfo>

#include <CLI/CLI.hpp>

#include "src/formats/all_formats.h"

int main(int argc, char** argv) {
  CLI::App app{"Prints every registered format's name and mangled C++ type, one \"NAME TYPE\" line each.",
               "ptsim_format_types"};
  CLI11_PARSE(app, argc, argv);
  ptsim::AllFormats::ForEach([]<typename F>() {
    std::printf("%.*s %s\n", static_cast<int>(F::kName.size()), F::kName.data(), typeid(F).name());
  });
  return 0;
}
