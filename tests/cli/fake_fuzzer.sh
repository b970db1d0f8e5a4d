#!/usr/bin/env bash
# A stand-in for a libFuzzer binary, for campaign_test.sh: it takes
# libFuzzer's flags, prints libFuzzer-like status lines, and does what the
# file NAME.mode beside it (NAME = how it was invoked) says:
#   clean         fuzz until -max_total_time, adding a unit to the corpus now and then
#   crash FILE... after a moment, copy each FILE to ARTIFACT_PREFIX/crash-<n>, then die as on a crash
#   fail          exit 3 at once, leaving no finding
#   stubborn      ignore SIGTERM and keep running (only SIGKILL stops it)
# With -merge=1 OUT IN... it keeps at most two units (a stand-in for
# minimisation). Given one file and no flags it replays it: a file holding
# "FAKE-BUG: X" fails with "Assertion failure: X".
set -uo pipefail
mode_file="$0.mode"
read -r mode args <"$mode_file" || true

max_total_time=0 prefix=./ merge=0
dirs=()
for a in "$@"; do
  case "$a" in
    -max_total_time=*) max_total_time=${a#*=} ;;
    -artifact_prefix=*) prefix=${a#*=} ;;
    -merge=1) merge=1 ;;
    -*) ;;
    *) dirs+=("$a") ;;
  esac
done

if ((merge)); then
  n=0
  for d in "${dirs[@]:1}"; do
    for f in "$d"/*; do
      [[ -f $f ]] && ((n < 2)) && cp "$f" "${dirs[0]}/" && n=$((n + 1))
    done
  done
  echo "MERGE-OUTER: $n new files"
  exit 0
fi

if ((${#dirs[@]} == 1)) && [[ -f ${dirs[0]} ]]; then
  if bug=$(grep -o 'FAKE-BUG: .*' "${dirs[0]}"); then
    echo "Assertion failure: ${bug#FAKE-BUG: }" >&2
    exit 1
  fi
  exit 0
fi

corpus=${dirs[0]:-.}
n=0
status() {
  printf '#%d\tpulse  cov: %d ft: %d corp: %d/%db lim: 4 exec/s: %d rss: 30Mb\n' \
    $((n * 100)) $((10 + n)) $((20 + n)) "$(ls "$corpus" | wc -l)" 100 500
}
case "$mode" in
  fail)
    echo "fake: cannot start" >&2
    exit 3
    ;;
  stubborn) trap '' TERM ;;
esac
trap 'echo "==$$== libFuzzer: run interrupted; exiting"; exit 72' INT
[[ $mode == stubborn ]] || trap 'echo "==$$== libFuzzer: run interrupted; exiting"; exit 72' TERM

while ((SECONDS < max_total_time)) || [[ $mode == stubborn ]]; do
  n=$((n + 1))
  status
  ((n % 3 == 1)) && echo "unit $n" >"$corpus/fake-unit-$n"
  if [[ $mode == crash ]] && ((n == 1)); then
    i=0
    for f in $args; do
      i=$((i + 1))
      cp "$f" "${prefix}crash-fake$i"
    done
    echo "==$$== ERROR: libFuzzer: deadly signal"
    echo "artifact_prefix='$prefix'; Test unit written to ${prefix}crash-fake1"
    exit 1
  fi
  sleep 0.2
done
echo "Done $((n * 100)) runs in $SECONDS second(s)"
echo "stat::number_of_executed_units: $((n * 100))"
echo "stat::average_exec_per_sec:     500"
exit 0
