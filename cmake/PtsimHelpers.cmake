# Target helpers in the manner of absl_cc_library: every target gets the
# repository root on its include path, so includes read "src/pt/entry.h".

function(ptsim_cc_test name)
  cmake_parse_arguments(T "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SRCS})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  # Discovery runs the binary after linking; PRE_TEST keeps the build free
  # of sanitizer-instrumented runs.
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${T_LABELS}")
endfunction()

# A fuzz target: a plain LLVMFuzzerTestOneInput in SRCS, linked with the
# engine (libFuzzer, AFL++'s driver, or PTSIM_ENGINE_LINK_FLAGS, the value of
# $LIB_FUZZING_ENGINE; see cmake/PtsimFlags.cmake) or with ptsim's standalone
# replay main.
function(ptsim_fuzzer name)
  cmake_parse_arguments(T "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${T_SRCS})
  target_link_libraries(${name} PRIVATE ${T_DEPS})
  if(NOT PTSIM_ENGINE_LINK_FLAGS STREQUAL "")
    # As link items, after the objects: a library path (AFL++'s driver) then resolves what
    # the objects need from it, and a flag (-fsanitize=fuzzer) passes through unchanged.
    separate_arguments(_engine UNIX_COMMAND "${PTSIM_ENGINE_LINK_FLAGS}")
    target_link_libraries(${name} PRIVATE ${_engine})
  elseif(PTSIM_FUZZ_ENGINE STREQUAL "libfuzzer" OR PTSIM_FUZZ_ENGINE STREQUAL "afl")
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_link_libraries(${name} PRIVATE ptsim_standalone_main)
  endif()
  # --help prints the target's usage and exits 0 in every build that ctest
  # runs (standalone and libFuzzer), instead of starting to fuzz.
  if(NOT PTSIM_FUZZ_ENGINE STREQUAL "afl")
    add_test(NAME ${name}_help COMMAND sh -c "\"$0\" --help; echo \"exit status $?\"" $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_help PROPERTIES
      PASS_REGULAR_EXPRESSION "Usage: ${name} .*exit status 0\n"
      TIMEOUT 30)
  endif()
endfunction()

# Points every imported absl:: library at its static archive beside the shared
# one (Debian's libabsl-dev ships both, but its CMake package names only the
# .so files). Targets keep their links to each other, so the archives come in
# dependency order. Fails when an archive is missing rather than fall back.
function(ptsim_use_static_absl)
  get_directory_property(_imported DIRECTORY ${PROJECT_SOURCE_DIR} IMPORTED_TARGETS)
  foreach(_t ${_imported})
    if(NOT _t MATCHES "^absl::")
      continue()
    endif()
    get_target_property(_configs ${_t} IMPORTED_CONFIGURATIONS)
    if(NOT _configs)
      continue()
    endif()
    foreach(_c ${_configs})
      get_target_property(_so ${_t} IMPORTED_LOCATION_${_c})
      if(NOT _so MATCHES "\\.so(\\.[0-9.]+)?$")
        continue()
      endif()
      string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" _a "${_so}")
      if(NOT EXISTS "${_a}")
        message(FATAL_ERROR "PTSIM_STATIC_DEPS: ${_t} has no static archive (${_a})")
      endif()
      set_target_properties(${_t} PROPERTIES IMPORTED_LOCATION_${_c} "${_a}")
    endforeach()
  endforeach()
endfunction()
