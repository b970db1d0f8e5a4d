#!/bin/bash -eu
# Builds ptsim's fuzz targets under the OSS-Fuzz / ClusterFuzzLite build contract and puts into
# $OUT what the runner looks for: each target, NAME_seed_corpus.zip, NAME.options, NAME.dict.
#
# Reads only the contract's environment: $SRC $WORK $OUT, $CC $CXX $CFLAGS $CXXFLAGS,
# $LIB_FUZZING_ENGINE (how to link the engine: -fsanitize=fuzzer for libFuzzer, a library path
# for AFL++ and the others), $SANITIZER and $FUZZING_ENGINE. The compilers and flags reach CMake
# through the environment; no -fsanitize= is written here. PTSIM_BUILD_JOBS (default: nproc)
# limits parallelism for a local run (tools/cflite_check.sh runs this script without Docker).
#
# The source is at $SRC/ptsim (.clusterfuzzlite/Dockerfile copies it there).

src="$SRC/ptsim"
build="$WORK/ptsim-build"

case "${SANITIZER-}" in
  memory)
    # MemorySanitizer needs every linked library instrumented; Abseil and Boost come from the
    # distribution's packages, so every run would report their code.
    echo "build.sh: SANITIZER=memory is not supported (Abseil and Boost are not instrumented)" >&2
    exit 1
    ;;
  coverage)
    # The build runs the instrumented ptsim (it compiles the text seeds); its profiles are of no
    # use and must not land in the source tree.
    export LLVM_PROFILE_FILE="$WORK/build-profiles/%m.profraw"
    ;;
esac

# The base image asks for libc++ (-stdlib=libc++), but Abseil and Boost are the distribution's,
# built against libstdc++: the two cannot be mixed in one binary, so ptsim uses libstdc++ too.
CXXFLAGS="${CXXFLAGS//-stdlib=libc++/}"
export CXXFLAGS

# PTSIM_FUZZ_ENGINE only chooses what CMake adds around the engine: AFL++'s compiler gets the
# coverage denylist through its environment; every other engine is linked like libFuzzer, with
# the flags in $LIB_FUZZING_ENGINE.
engine=libfuzzer
if [[ ${FUZZING_ENGINE-} == afl ]]; then
  engine=afl
fi

# Warnings stay warnings: the base image's clang is newer than the one ptsim's own CI uses.
# Static Abseil and Boost: the runner has neither installed.
cmake -S "$src" -B "$build" -G Ninja --fresh \
  -DPTSIM_FUZZ_ENGINE="$engine" \
  -DPTSIM_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DPTSIM_SANITIZE= \
  -DPTSIM_BUILD_TESTS=OFF \
  -DPTSIM_BUILD_BENCH=OFF \
  -DPTSIM_WERROR=OFF \
  -DPTSIM_STATIC_DEPS=ON

# Every fuzz/NAME_fuzzer.cc is a target (fuzz/CMakeLists.txt builds each), plus the compiled seeds.
targets=()
for f in "$src"/fuzz/*_fuzzer.cc; do
  targets+=("$(basename "$f" .cc)")
done
cmake --build "$build" -j "${PTSIM_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}" seed_corpora

# zip_dir DIR ZIP: every file under DIR, by relative path in sorted order, with fixed times, so
# the archive depends only on the seeds' contents.
zip_dir() {
  local stage="$WORK/seed-stage"
  rm -rf "$stage"
  cp -R "$1" "$stage"
  find "$stage" -exec touch -h -d '2000-01-01 00:00:00' {} +
  rm -f "$2"
  (cd "$stage" && find . -type f | LC_ALL=C sort | zip -q -X -D -@ "$2")
  rm -rf "$stage"
}

for t in "${targets[@]}"; do
  cp "$build/fuzz/$t" "$OUT/$t"
  # The compiled seeds and regressions of corpus/NAME/ (corpus/NAME/bugs/ holds known-bug
  # programs that crash on purpose; they compile elsewhere and are not seeds).
  if [[ -d $build/corpus/$t ]]; then
    zip_dir "$build/corpus/$t" "$OUT/${t}_seed_corpus.zip"
  fi
  for side in options dict; do
    if [[ -f $src/fuzz/$t.$side ]]; then
      cp "$src/fuzz/$t.$side" "$OUT/$t.$side"
    fi
  done
done
