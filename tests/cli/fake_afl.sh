#!/usr/bin/env bash
# Stand-ins for afl-fuzz and afl-cmin, for campaign_test.sh (installed under
# those names in a directory put first on PATH).
#   afl-fuzz -V SECS -i IN -o OUT [-M NAME|-S NAME] ... -- TARGET: writes
#     OUT/NAME/{queue,crashes,fuzzer_stats,plot_data} and AFL++-like log
#     lines until SECS have passed or SIGTERM; TARGET.mode (fake_fuzzer.sh's)
#     "crash FILE..." saves each FILE as a crash after a moment.
#   afl-cmin -i IN -o OUT ...: keeps the first two units.
set -uo pipefail
secs=1 in="" out="" name=default target=""
while (($#)); do
  case "$1" in
    -V) secs=$2 && shift ;;
    -i) in=$2 && shift ;;
    -o) out=$2 && shift ;;
    -M | -S) name=$2 && shift ;;
    -t | -x) shift ;;
    --) target=$2 && break ;;
  esac
  shift
done

if [[ ${0##*/} == afl-cmin ]]; then
  mkdir -p "$out"
  find "$in" -type f | sort | head -2 | while read -r f; do cp "$f" "$out/"; done
  exit 0
fi

# As afl-fuzz: it creates the output directory, not its parents.
[[ -d $(dirname "$out") ]] || { echo "[-] SYSTEM ERROR : Unable to create '$out'" >&2; exit 1; }
read -r mode args <"$target.mode" || true
dir=$out/$name
mkdir -p "$dir/queue" "$dir/crashes" "$dir/hangs"
i=0
for f in "$in"/*; do
  cp "$f" "$dir/queue/id:$(printf %06d $i),orig:${f##*/}"
  i=$((i + 1))
done
n=0 crashes=0
stats() {
  printf 'execs_done        : %d\nexecs_per_sec     : 500.00\ncorpus_count      : %d\nsaved_crashes     : %d\nedges_found       : %d\n' \
    $((n * 100)) "$(ls "$dir/queue" | wc -l)" "$crashes" $((30 + n)) >"$dir/fuzzer_stats"
}
trap 'stats; exit 0' TERM INT
stats
while ((SECONDS < secs)); do
  n=$((n + 1))
  echo "[*] Fuzzing test case #$n ($(ls "$dir/queue" | wc -l) total, $crashes crashes saved, state: started :-), mode=explore, perf_score=100, weight=1, favorite=1, was_fuzzed=0, exec_us=20, hits=0, map=50, ascii=0, run_time=0:00:00:0$SECONDS)..."
  ((n % 3 == 1)) && echo "unit $n $name" >"$dir/queue/id:$(printf %06d $((i + n))),src:000000,op:havoc"
  if [[ $mode == crash && $n == 1 && $name != sec* ]]; then
    for f in $args; do
      cp "$f" "$dir/crashes/id:$(printf %06d $crashes),sig:06,src:000000,op:havoc"
      crashes=$((crashes + 1))
    done
  fi
  sleep 0.2
done
stats
exit 0
