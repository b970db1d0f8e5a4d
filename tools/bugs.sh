#!/usr/bin/env bash
# Measures how long race_fuzzer takes to find each known bug (ptsim bugs),
# on one core from the seed corpus (corpus/race_fuzzer/*.txt, not the bug
# programs), and the seed 004 configuration from an empty corpus; then
# checks that the unmodified build stays silent for the same budget, from
# the seeds, in each safe configuration.
#
#   tools/bugs.sh [--runs N] [--budget SECONDS] [--only NAME|controls] [--empty] [--json] [--no-build]
#
# Each bug is fuzzed N times (default 5) with libFuzzer seeds 1..N; the time
# to the first report is the wall time of that run. A run that finds
# nothing within the budget counts as "not found" and the median is taken
# over all N (not-found runs count as the budget, and are shown). Reports
# must carry the check the bug is expected to trip; anything else is listed
# as a wrong finding. The control runs fuzz the safe configurations for
# the same budget and must report nothing. --only runs one bug, or only the
# controls (--only controls); --empty fuzzes the bugs from an empty corpus
# as well as seed 004.
#
# The options restrict race_fuzzer's search (fuzz/race_fuzzer.cc): with
# --inject=NAME every mutant carries the bug, so each crash file names it
# and replays with plain `ptsim repro FILE`. The seeds themselves stay
# bug-free and safe.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib.sh

runs=5
budget=300
only=""
empty=0
json=0
build=1
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --empty) empty=1; shift ;;
    --json) json=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bugs.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bugs.sh: --runs must be a positive integer, got '$runs'" >&2; exit 2; }
[[ "$budget" =~ ^[1-9][0-9]*$ ]] || { echo "bugs.sh: --budget must be whole seconds, got '$budget'" >&2; exit 2; }

if ((build)); then
  ptsim_bootstrap >&2
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target race_fuzzer ptsim >&2
fi
fuzzer=build/fuzz/fuzz/race_fuzzer
ptsim=build/fuzz/tools/ptsim
[[ -x "$fuzzer" ]] || { echo "bugs.sh: $fuzzer not built" >&2; exit 2; }

# name ; race_fuzzer options ; the checks it may trip (a regex of signature suffixes) ; seeds or empty.
# Fields are split on ";" because the check regexes contain "|".
cases=()
while IFS=$'\t' read -r name check; do
  cases+=("$name;--inject=$name;$check;$( ((empty)) && echo empty || echo seeds)")
done < <("$ptsim" bugs --json | python3 -c '
import json, sys
# The checks each bug may trip: a walker that follows garbage can fail in
# several places, a lost leaf shows in the leaves or the frame counts.
expect = {
  "publish-before-zero": "invalid-entry|not-live|not-a-table|lost-mapping|walk-fault",
  "populate-no-recheck": "leaves|table-leak|frame-counts|lost-mapping",
  "free-before-flush": "freed-table",
  "reclaim-no-recheck": "leaves|frame-counts|lost-mapping|pin-coherence",
  "gup-no-fork-seq": "pin-coherence",
  "no-nested-flush": "stale-tlb",
  "gup-double-read": "not-a-table|freed-table",
}
for b in json.load(sys.stdin):
  print(b["name"] + "\t" + expect.get(b["name"], ""))
')
cases+=("seed004;--shootdown=broadcast --free=immediate;freed-table;empty")

work=build/fuzz-work/bugs
mkdir -p "$work"
results=()
# The seed corpus: the top-level text seeds, compiled here (not the bug
# programs under bugs/, which would hand the fuzzer the answer).
seeds="$work/seeds.$$"  # per invocation: several may run side by side
rm -rf "$seeds"; mkdir -p "$seeds"
trap 'rm -rf "$seeds"' EXIT
for t in corpus/race_fuzzer/*.txt; do
  "$ptsim" encode "$t" -o "$seeds/$(basename "$t" .txt).bin"
done
fuzz_once() {  # dir, seed, from (empty|seeds), options... -> prints "seconds signature"
  local dir="$1" seed="$2" from="$3"; shift 3
  rm -rf "$dir"; mkdir -p "$dir/corpus"
  [[ "$from" == seeds ]] && cp "$seeds"/*.bin "$dir/corpus/"
  local start end sig
  start=$(date +%s.%N)
  # -len_control/-max_len as fuzz/race_fuzzer.options says (tools/run.sh reads that file).
  "$fuzzer" "$@" -seed="$seed" -max_total_time="$budget" -timeout=30 -rss_limit_mb=4096 -len_control=0 -max_len=320 \
    -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || true
  end=$(date +%s.%N)
  sig=$(grep -m1 -o 'Assertion failure: .*' "$dir/log" | sed 's/Assertion failure: //' || true)
  # The crash file must replay with no options: it carries its settings.
  local crash replay
  crash=$(find "$dir" -maxdepth 1 -name 'crash-*' -print -quit)
  if [[ -n "$sig" && -n "$crash" ]]; then
    replay=$("$ptsim" repro --quiet "$crash" 2>&1 || true)
    [[ "$replay" == *"Assertion failure: $sig"* ]] || sig="not-replayed-by-plain-repro:$sig"
  fi
  printf '%s %s\n' "$(python3 -c "print(f'{$end-$start:.1f}')")" "${sig:--}"
}

for c in "${cases[@]}"; do
  IFS=';' read -r name opts check from <<<"$c"
  [[ -n "$only" && "$name" != "$only" ]] && continue
  times=(); sigs=()
  for ((s = 1; s <= runs; s++)); do
    read -r t sig < <(fuzz_once "$work/$name/$s" "$s" "$from" $opts)
    [[ "$sig" == "-" ]] && t="$budget"
    times+=("$t"); sigs+=("$sig")
    ptsim_log "$name: run $s/$runs: ${t}s ${sig}"
  done
  results+=("$name;$check;${times[*]};${sigs[*]}")
done

control=()
if [[ -z "$only" || "$only" == controls ]]; then
  for opts in "--free=rcu --shootdown=broadcast" "--free=ipi --shootdown=broadcast" "--free=immediate --shootdown=ipi" ""; do
    read -r t sig < <(fuzz_once "$work/control" 1 seeds $opts)
    control+=("${opts:-(input decides)};$t;$sig")
    ptsim_log "control ${opts:-(input decides)}: ${t}s ${sig}"
  done
fi

python3 - "$budget" "$json" "${results[@]}" "--" "${control[@]}" <<'EOF'
import json, re, statistics, sys
budget, as_json = float(sys.argv[1]), sys.argv[2] == "1"
args = sys.argv[3:]
split = args.index("--")
rows, controls = [], []
for r in args[:split]:
    name, check, times, sigs = r.split(";")
    t = [float(x) for x in times.split()]
    s = sigs.split()
    found = [x for x in s if x != "-"]
    wrong = [x for x in found if check and not re.search(f"-({check})$", x)]
    rows.append({"bug": name, "expected_check": check or "any", "median_seconds": statistics.median(t),
                 "found": len(found), "runs": len(t), "times": t, "signatures": s, "wrong": wrong})
for c in args[split + 1:]:
    opts, t, sig = c.split(";")
    controls.append({"options": opts, "seconds": float(t), "report": None if sig == "-" else sig})
ok = all(r["found"] == r["runs"] and not r["wrong"] for r in rows) and all(c["report"] is None for c in controls)
if as_json:
    print(json.dumps({"budget_seconds": budget, "bugs": rows, "controls": controls, "ok": ok}, indent=2))
else:
    print(f"{'bug':24} {'found':>7} {'median s':>9}  times (s)                     first signature")
    for r in rows:
        print(f"{r['bug']:24} {r['found']:>3}/{r['runs']:<3} {r['median_seconds']:>9.1f}  "
              f"{' '.join(f'{x:.1f}' for x in r['times']):30} {next((x for x in r['signatures'] if x != '-'), '-')}")
        for w in r["wrong"]:
            print(f"  unexpected check: {w} (expected ...-{r['expected_check']})")
    for c in controls:
        print(f"control {c['options']:40} {c['seconds']:.1f}s  {c['report'] or 'silent'}")
    print("OK" if ok else "NOT OK: a bug was missed, misreported, or a control reported")
sys.exit(0 if ok else 1)
EOF
