#!/usr/bin/env bash
# tools/test.sh — THE test command: CI runs exactly this (via .ci/run), and so should you.
#
# For each preset, in order: configure, build, run ctest (unit tests + corpus replay). Stops at
# the first failing stage and exits with its status.
#
# Usage: tools/test.sh [--quick] [--preset NAME]... [--jobs N] [--fresh] [--help]
#   --quick        only the `release` preset (fast local check)
#   --preset NAME  test this preset instead of the default list; repeatable, runs in given order
#   --jobs N       build parallelism (default: nproc); ctest runs min(N, 2) tests at a time
#   --fresh        reconfigure from scratch (cmake --fresh), e.g. after changing compilers
#
# Sanitizer runtime options get defaults (see sanitizer_env below) only when not already set, so
# e.g. `ASAN_OPTIONS=detect_leaks=0 tools/test.sh --preset asan-ubsan` still works.
# PTSIM_SKIP_BOOTSTRAP=1 skips the package check (non-Debian machines).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PTSIM_ROOT"

# The default list. Adding a preset (e.g. tsan) is one entry here; give it runtime defaults in
# sanitizer_env if it needs any.
DEFAULT_PRESETS=(release asan-ubsan tsan)
QUICK_PRESETS=(release)

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# Prints NAME=VALUE lines: runtime defaults for one preset's test run. A variable the user has
# set (even to empty) is passed through unchanged.
sanitizer_env() {
  case "$1" in
    asan-ubsan | fuzz)
      echo "ASAN_OPTIONS=${ASAN_OPTIONS-detect_leaks=1:abort_on_error=1}"
      echo "UBSAN_OPTIONS=${UBSAN_OPTIONS-halt_on_error=1:print_stacktrace=1}"
      # The QEMU oracle's time is QEMU's, not ptsim's: a few images are
      # enough to run its code under the sanitizers.
      echo "PTSIM_QEMU_ORACLE_COUNT=${PTSIM_QEMU_ORACLE_COUNT-20}"
      ;;
    tsan)
      echo "TSAN_OPTIONS=${TSAN_OPTIONS-halt_on_error=1:second_deadlock_stack=1}"
      echo "UBSAN_OPTIONS=${UBSAN_OPTIONS-halt_on_error=1:print_stacktrace=1}"
      ;;
  esac
}

# What a preset builds and tests, when not everything: ThreadSanitizer runs the concurrency
# tests (deterministic scheduler and a bounded real-threads stress run) only. The `cflite` test
# (tools/cflite_check.sh: two whole fuzz builds) runs on its own, never here.
preset_build_args() {
  case "$1" in
    tsan) echo "--target sched_test race_test history_test page_map_test page_map_race_test ptsim" ;;
  esac
}
preset_ctest_args() {
  case "$1" in
    tsan) echo "-L concurrency" ;;
    *) echo "-LE cflite" ;;
  esac
}

presets=()
quick=0
jobs="$(ptsim_nproc)"
fresh=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --preset)
      [[ $# -ge 2 && -n $2 ]] || ptsim_die --code 2 "--preset needs a name"
      presets+=("$2")
      shift
      ;;
    --preset=*) presets+=("${1#--preset=}") ;;
    --jobs | -j)
      [[ $# -ge 2 ]] || ptsim_die --code 2 "$1 needs a number"
      jobs=$2
      shift
      ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    --fresh) fresh=(--fresh) ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) ptsim_die --code 2 "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

ptsim_is_positive "$jobs" || ptsim_die --code 2 "--jobs needs a positive number, not '$jobs'"
jobs=$((10#$jobs))
if ((${#presets[@]} == 0)); then
  if ((quick)); then
    presets=("${QUICK_PRESETS[@]}")
  else
    presets=("${DEFAULT_PRESETS[@]}")
  fi
fi
ctest_jobs=$((jobs < 2 ? jobs : 2))

# One line per finished stage, printed at the end (and on failure) so a long CI log has an index.
results=()

print_results() {
  ((${#results[@]})) || return 0
  ptsim_header "summary"
  printf '  %s\n' "${results[@]}" >&2
}

# run_stage PRESET STAGE COMMAND...: run one timed stage; on failure print the summary and exit
# with the command's status.
run_stage() {
  local preset=$1 stage=$2
  shift 2
  ptsim_header "$stage [$preset]: $*"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start)) verdict=ok
  ((rc == 0)) || verdict="FAILED (exit $rc)"
  ptsim_log "--- $stage [$preset]: $verdict in ${took}s"
  results+=("$(printf '%-12s %-10s %5ss  %s' "$preset" "$stage" "$took" "$verdict")")
  if ((rc != 0)); then
    print_results
    exit "$rc"
  fi
}

total_start=$SECONDS
run_stage setup bootstrap ptsim_bootstrap
ptsim_ensure_symbolizer

for preset in "${presets[@]}"; do
  run_stage "$preset" configure cmake --preset "$preset" "${fresh[@]}"
  read -r -a build_args <<<"$(preset_build_args "$preset")"
  read -r -a ctest_args <<<"$(preset_ctest_args "$preset")"
  run_stage "$preset" build cmake --build --preset "$preset" -j "$jobs" "${build_args[@]}"
  test_cmd=(ctest --preset "$preset" --output-on-failure -j "$ctest_jobs" "${ctest_args[@]}")
  mapfile -t test_env < <(sanitizer_env "$preset")
  if ((${#test_env[@]})); then
    test_cmd=(env "${test_env[@]}" "${test_cmd[@]}")
  fi
  run_stage "$preset" test "${test_cmd[@]}"
done

print_results
ptsim_log ""
ptsim_log "all stages passed for: ${presets[*]} ($((SECONDS - total_start))s)"
