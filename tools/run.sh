#!/usr/bin/env bash
# tools/run.sh — build every fuzz target and run a time-boxed fuzzing campaign over all of them.
#
# Usage: tools/run.sh [--seconds N] [--jobs N] [--workers N] [--engine libfuzzer|afl]
#                     [--target NAME]... [--keep-going] [--no-merge] [--json] [--help]
# Installs missing packages (tools/bootstrap.sh), configures and builds the engine's preset
# (`fuzz` for libFuzzer, `afl` for AFL++), then runs that build's `ptsim campaign` with these
# arguments and the time the build took. The campaign checks the options (after the build, so
# that they are parsed in one place); `ptsim campaign --help` and README "Fuzzing" describe them,
# the progress lines, the summary, the state under build/fuzz-work/ and the exit status:
#   0 nothing found; 1 findings; 2 bad usage; 3 build failure, or a fuzzer that errored or
#   overran; 130 interrupted.
# Environment: PTSIM_SKIP_BOOTSTRAP=1 skips the package check; PTSIM_AFL_TIMEOUT_MS,
# PTSIM_FUZZ_GRACE_SECONDS, ASAN_OPTIONS and UBSAN_OPTIONS are the campaign's.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PTSIM_ROOT"

# The engine decides what to build; every other option is the campaign's to check.
engine=libfuzzer json=0 help=0 prev=""
for arg in "$@"; do
  case "$prev" in --engine | -e) engine=$arg ;; esac
  case "$arg" in
    --engine=*) engine=${arg#*=} ;;
    --json) json=1 ;;
    -h | --help) help=1 ;;
  esac
  prev=$arg
done
case "$engine" in
  libfuzzer) preset=fuzz ;;
  afl) preset=afl ;;
  *) ptsim_die --code 2 "--engine must be libfuzzer or afl, not '$engine'" ;;
esac
ptsim="build/$preset/tools/ptsim"
if ((help)); then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  [[ ! -x $ptsim ]] || exec "$ptsim" campaign --help
  exit 0
fi

# With --json, stdout carries the campaign's JSON alone: the build talks on stderr.
exec 3>&1
((json == 0)) || exec 1>&2
build_start=$SECONDS
ptsim_bootstrap || ptsim_die --code 3 "bootstrap failed"
ptsim_header "configure [$preset]"
cmake --preset "$preset" || ptsim_die --code 3 "configure failed"
ptsim_header "build [$preset]"
cmake --build --preset "$preset" -j "$(ptsim_nproc)" || ptsim_die --code 3 "build failed"
ptsim_ensure_symbolizer
exec "$ptsim" campaign --build-seconds $((SECONDS - build_start)) "$@" 1>&3 3>&-
