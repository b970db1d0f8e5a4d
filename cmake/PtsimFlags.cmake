# Warnings, sanitizers and fuzzing instrumentation, applied to every target.
# The fuzz presets pass only these cache variables (or CC/CXX/CFLAGS/CXXFLAGS
# and LIB_FUZZING_ENGINE, as OSS-Fuzz does); nothing here hard-codes a
# compiler.

# The external engine's link flags, if any: the cache variable, else the
# environment's LIB_FUZZING_ENGINE. When set, CFLAGS/CXXFLAGS already carry the
# coverage instrumentation the engine wants, so nothing below adds any.
if(NOT PTSIM_LIB_FUZZING_ENGINE STREQUAL "")
  set(PTSIM_ENGINE_LINK_FLAGS "${PTSIM_LIB_FUZZING_ENGINE}")
else()
  set(PTSIM_ENGINE_LINK_FLAGS "$ENV{LIB_FUZZING_ENGINE}")
endif()

# Designated initializers that leave members at their defaults are the
# point of designated initializers, so that warning is off.
add_compile_options(-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
if(PTSIM_WERROR)
  add_compile_options(-Werror)
endif()

if(PTSIM_SANITIZE STREQUAL "address,undefined")
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${_san})
  add_link_options(${_san})
elseif(PTSIM_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT PTSIM_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PTSIM_SANITIZE='${PTSIM_SANITIZE}': expected '', 'address,undefined' or 'thread'")
endif()

if(PTSIM_FUZZ_ENGINE STREQUAL "libfuzzer" OR PTSIM_FUZZ_ENGINE STREQUAL "afl")
  # Size caps and other fuzzing-only behaviour key off this macro, as in
  # OSS-Fuzz and every AFL++ compiler.
  add_compile_definitions(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()
# Coverage feedback is for the code under test: the oracles, the reference model, teardown and the
# reports are left uninstrumented (the file says which and why), for libFuzzer through clang's
# ignorelist and for AFL++ through AFL_LLVM_DENYLIST, which its compiler reads from the
# environment (so it is set by a launcher in front of every compile).
set(PTSIM_COVERAGE_IGNORELIST ${PROJECT_SOURCE_DIR}/fuzz/coverage_ignorelist.txt)
set(PTSIM_LIBFUZZER_COMPILE_FLAGS -fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=${PTSIM_COVERAGE_IGNORELIST})
if(PTSIM_FUZZ_ENGINE STREQUAL "afl")
  foreach(_lang C CXX)
    set(CMAKE_${_lang}_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env AFL_LLVM_DENYLIST=${PTSIM_COVERAGE_IGNORELIST}
        ${CMAKE_${_lang}_COMPILER_LAUNCHER})
  endforeach()
endif()
if(PTSIM_FUZZ_ENGINE STREQUAL "libfuzzer" AND PTSIM_ENGINE_LINK_FLAGS STREQUAL "")
  add_compile_options(${PTSIM_LIBFUZZER_COMPILE_FLAGS})
  # Executables that are not fuzz targets (the CLI) still carry coverage
  # instrumentation; without a sanitizer runtime nothing else defines the
  # callbacks, so they link libFuzzer's runtime without its main.
  add_link_options(-fsanitize=fuzzer-no-link)
elseif(PTSIM_FUZZ_ENGINE STREQUAL "libfuzzer" AND CMAKE_CXX_FLAGS MATCHES "-fsanitize=fuzzer-no-link")
  # An external engine's CXXFLAGS (OSS-Fuzz's) bring the instrumentation; the same ignorelist
  # keeps it off the oracles there too.
  add_compile_options(-fsanitize-coverage-ignorelist=${PTSIM_COVERAGE_IGNORELIST})
elseif(NOT PTSIM_FUZZ_ENGINE MATCHES "^(standalone|libfuzzer|afl)$")
  message(FATAL_ERROR "PTSIM_FUZZ_ENGINE='${PTSIM_FUZZ_ENGINE}': expected standalone, libfuzzer or afl")
endif()
