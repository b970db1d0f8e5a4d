#!/usr/bin/env bash
# tools/cflite_check.sh — runs .clusterfuzzlite/build.sh the way OSS-Fuzz and ClusterFuzzLite do,
# without Docker, and checks what it leaves in $OUT.
#
# Usage: tools/cflite_check.sh [--engine libfuzzer|afl]... [--jobs N] [--dir DIR] [--keep] [--help]
#   --engine NAME  libfuzzer (clang-14, ASan) or afl (afl-clang-fast++, ASan, AFL++'s driver
#                  library); repeatable; default both, libFuzzer first
#   --jobs N       build parallelism handed to build.sh (default: nproc)
#   --dir DIR      work here (default: a new temporary directory); DIR/<engine>/ holds that
#                  engine's SRC, WORK and OUT, and build.log
#   --keep         keep the work directory (a --dir is always kept)
#
# For each engine: copies the checkout (tracked and untracked files, not build/) to SRC/ptsim
# and build.sh to SRC/build.sh, sets the contract's environment as OSS-Fuzz's base-builder image
# sets it for SANITIZER=address (CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE SRC WORK OUT SANITIZER
# FUZZING_ENGINE ARCHITECTURE; CXXFLAGS with -stdlib=libc++, which build.sh must drop), runs
# build.sh from SRC/ptsim, then checks that OUT has every fuzz target, the seed zip of every
# corpus/NAME/ with one entry per seed, and fuzz/NAME.options and .dict where they exist; that no
# target links Abseil or Boost dynamically (the runner has neither); and runs each target on
# its unzipped seeds (libFuzzer: -runs=0 DIR; AFL++'s driver: every file named on its command
# line). Any crash or missing file fails the check.
#
# Exit 0 when every engine passes, 1 on a failure, 2 on bad usage. Each build is the whole
# project at -O1 with ASan (several minutes each on 2 cores), so tools/test.sh leaves this
# check out (its ctest has the label `cflite`); run it on its own. PTSIM_SKIP_BOOTSTRAP=1 skips
# the package check.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PTSIM_ROOT"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

engines=()
jobs="$(ptsim_nproc)"
dir=''
keep=0
while (($#)); do
  case "$1" in
    --engine)
      [[ $# -ge 2 ]] || ptsim_die --code 2 "--engine needs libfuzzer or afl"
      engines+=("$2")
      shift
      ;;
    --engine=*) engines+=("${1#--engine=}") ;;
    --jobs | -j)
      [[ $# -ge 2 ]] || ptsim_die --code 2 "$1 needs a number"
      jobs=$2
      shift
      ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    --dir)
      [[ $# -ge 2 && -n $2 ]] || ptsim_die --code 2 "--dir needs a directory"
      dir=$2
      shift
      ;;
    --dir=*) dir=${1#--dir=} ;;
    --keep) keep=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) ptsim_die --code 2 "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
ptsim_is_positive "$jobs" || ptsim_die --code 2 "--jobs needs a positive number, not '$jobs'"
((${#engines[@]})) || engines=(libfuzzer afl)
for e in "${engines[@]}"; do
  [[ $e == libfuzzer || $e == afl ]] || ptsim_die --code 2 "--engine must be libfuzzer or afl, not '$e'"
done

ptsim_bootstrap || ptsim_die "bootstrap failed"
ptsim_ensure_symbolizer
for tool in zip unzip ldd cmake ninja; do
  command -v "$tool" >/dev/null || ptsim_die "$tool is not installed (tools/bootstrap.sh installs it)"
done

if [[ -n $dir ]]; then
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  keep=1
else
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ptsim-cflite.XXXXXX")"
fi
cleanup() {
  if ((keep)); then
    ptsim_log "work directory kept: $dir"
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

# The fuzz targets, as build.sh finds them.
targets=()
for f in fuzz/*_fuzzer.cc; do
  targets+=("$(basename "$f" .cc)")
done

# copy_source DEST: the checkout as `git status` sees it (tracked and untracked, not ignored), so
# the check covers uncommitted edits; without git, everything but build/.
copy_source() {
  mkdir -p "$1"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files deleted in the work tree are still listed; the filter drops them.
    # shellcheck disable=SC2016
    git ls-files -z --cached --others --exclude-standard |
      xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
      tar -cf - --null -T - | tar -xf - -C "$1"
  else
    tar -cf - --exclude=./build . | tar -xf - -C "$1"
  fi
}

# expected_seeds NAME: how many seeds corpus/NAME/ compiles to (the .txt programs and the files
# under regressions/; not bugs/, whose programs crash on purpose), as corpus/CMakeLists.txt does.
expected_seeds() {
  find "corpus/$1" -type f \( -name '*.txt' -o -path '*/regressions/*' \) -not -path '*/bugs/*' | wc -l
}

# OSS-Fuzz's base-clang flags, plus base-builder's for SANITIZER=address (and, for libFuzzer,
# its coverage flags; AFL++'s compiler instruments by itself).
base_flags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
asan_flags="-fsanitize=address -fsanitize-address-use-after-scope"

summary=()
failed=0

# check_engine ENGINE: one build and its checks; returns non-zero on the first failure.
check_engine() {
  local engine=$1 root="$dir/$1" cflags cc cxx lib
  case "$engine" in
    libfuzzer)
      cc=clang-14 cxx=clang++-14 lib=-fsanitize=fuzzer
      cflags="$base_flags $asan_flags -fsanitize=fuzzer-no-link"
      ;;
    afl)
      command -v afl-clang-fast++ >/dev/null || { ptsim_error "afl-clang-fast++ is not installed"; return 1; }
      lib=/usr/lib/afl/libAFLDriver.a
      [[ -f $lib ]] || { ptsim_error "$lib is missing (Debian's afl++ package ships it)"; return 1; }
      cc=afl-clang-fast cxx=afl-clang-fast++
      cflags="$base_flags $asan_flags"
      ;;
  esac
  # WORK survives a rerun in the same --dir: the copy keeps the files' times, so the build
  # there redoes only what changed.
  rm -rf "$root/src" "$root/out" "$root/seeds"
  mkdir -p "$root/src" "$root/work" "$root/out" "$root/seeds"
  copy_source "$root/src/ptsim"
  cp .clusterfuzzlite/build.sh "$root/src/build.sh"

  ptsim_header "$engine: build.sh (CC=$cc, LIB_FUZZING_ENGINE=$lib, log: $root/build.log)"
  local start=$SECONDS rc=0
  local -a env_vars=(SRC="$root/src" WORK="$root/work" OUT="$root/out" CC="$cc" CXX="$cxx"
    CFLAGS="$cflags" CXXFLAGS="$cflags -stdlib=libc++" LIB_FUZZING_ENGINE="$lib"
    SANITIZER=address FUZZING_ENGINE="$engine" ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++
    PTSIM_BUILD_JOBS="$jobs")
  # What base-builder's compile_afl sets around an AFL++ build.
  [[ $engine != afl ]] || env_vars+=(AFL_QUIET=1 ASAN_OPTIONS=detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1)
  (cd "$root/src/ptsim" && env "${env_vars[@]}" bash -eux "$root/src/build.sh") >"$root/build.log" 2>&1 || rc=$?
  local build_s=$((SECONDS - start))
  if ((rc != 0)); then
    tail -n 30 "$root/build.log" >&2
    ptsim_error "$engine: build.sh failed (exit $rc) after ${build_s}s"
    summary+=("$(printf '%-10s build FAILED after %ss' "$engine" "$build_s")")
    return 1
  fi
  ptsim_log "--- $engine: build.sh ok in ${build_s}s"

  local t want got seeds_total=0 run_start=$SECONDS bad=0
  local -a files
  for t in "${targets[@]}"; do
    if [[ ! -x $root/out/$t ]]; then
      ptsim_error "$engine: \$OUT/$t is missing"
      bad=1
      continue
    fi
    if ldd "$root/out/$t" | grep -E 'libabsl|libboost' >&2; then
      ptsim_error "$engine: $t links the libraries above dynamically"
      bad=1
    fi
    for side in options dict; do
      if [[ -f fuzz/$t.$side ]] && ! cmp -s "fuzz/$t.$side" "$root/out/$t.$side"; then
        ptsim_error "$engine: \$OUT/$t.$side is missing or differs from fuzz/$t.$side"
        bad=1
      fi
    done
    if [[ ! -d corpus/$t ]]; then
      ptsim_log "  $t: no corpus/$t/, so no seed zip"
      continue
    fi
    want="$(expected_seeds "$t")"
    if [[ ! -f $root/out/${t}_seed_corpus.zip ]]; then
      ptsim_error "$engine: \$OUT/${t}_seed_corpus.zip is missing"
      bad=1
      continue
    fi
    got="$(unzip -Z1 "$root/out/${t}_seed_corpus.zip" | grep -vc '/$' || true)"
    if ((got != want)); then
      ptsim_error "$engine: ${t}_seed_corpus.zip has $got files, corpus/$t/ compiles to $want"
      bad=1
    fi
    unzip -q -o "$root/out/${t}_seed_corpus.zip" -d "$root/seeds/$t"
    mapfile -t files < <(find "$root/seeds/$t" -type f | LC_ALL=C sort)
    local log="$root/run-$t.log" t0=$SECONDS
    rc=0
    if [[ $engine == libfuzzer ]]; then
      "$root/out/$t" -runs=0 "$root/seeds/$t" >"$log" 2>&1 || rc=$?
    else
      "$root/out/$t" "${files[@]}" >"$log" 2>&1 || rc=$?
    fi
    if ((rc != 0)); then
      tail -n 30 "$log" >&2
      ptsim_error "$engine: $t failed on its seeds (exit $rc; log: $log)"
      bad=1
    else
      ptsim_log "  $t: ${#files[@]} seeds ran, no crash ($((SECONDS - t0))s)"
    fi
    seeds_total=$((seeds_total + ${#files[@]}))
  done
  local verdict=ok
  ((bad == 0)) || verdict=FAILED
  summary+=("$(printf '%-10s build %4ss  targets %d  seeds run %d in %ss  %s' "$engine" "$build_s" \
    "${#targets[@]}" "$seeds_total" "$((SECONDS - run_start))" "$verdict")")
  return "$bad"
}

total_start=$SECONDS
for e in "${engines[@]}"; do
  check_engine "$e" || failed=1
done

ptsim_header "summary (${#targets[@]} fuzz targets: ${targets[*]})"
printf '  %s\n' "${summary[@]}" >&2
ptsim_log "total $((SECONDS - total_start))s"
exit "$failed"
