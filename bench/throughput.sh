#!/usr/bin/env bash
# bench/throughput.sh — fuzzing throughput of this tree against a named older commit, side by side.
#
# Usage: bench/throughput.sh --base REV [--seconds N | --runs N] [--targets a,b] [--rounds N]
#                            [--no-sanitizer-only] [--replay-only | --fuzz-only] [--jobs N]
#                            [--work DIR] [--build-only] [--json] [--help]
#   --base REV           the commit to compare with (any git revision: 997c07e, main~3, a tag).
#   --seconds N          libFuzzer run per target, side and configuration (default 30).
#   --runs N             instead of a time box, N executions per libFuzzer run (-runs=N).
#   --targets a,b        fuzz targets to measure (default: ops_fuzzer,diff_fuzzer,race_fuzzer,
#                        tlb_fuzzer); a target the base does not have shows as n/a.
#   --rounds N           repeat every measurement N times, alternating which side goes first;
#                        the median is reported (default 1).
#   --no-sanitizer-only  skip the ASan+UBSan libFuzzer build (the slowest to build and to run).
#   --replay-only        only the corpus replay; --fuzz-only: only the libFuzzer runs.
#   --jobs N             build parallelism (default: nproc).
#   --work DIR           builds and scratch files (default build/throughput; reused across runs).
#   --build-only         build both sides and stop (to build ahead of a measurement).
#   --json               print the results as JSON on stdout; progress goes to stderr.
#
# What is measured, per target, on each side:
#   replay      the standalone build (preset `release`: g++ -O2, no engine) replaying the seed
#               corpus with its regressions, mean microseconds per input (the directory is
#               replayed 3 times in one process, so process start-up is amortised).
#   fuzz        libFuzzer with no sanitizer (preset `fuzz-nosan`), exec/s from
#               -print_final_stats=1 over one run from the seed corpus.
#   fuzz-asan   the same with ASan+UBSan (preset `fuzz`).
# Both sides are configured with the cache variables of THIS tree's presets (so the base is built
# exactly as this tree builds, whatever its own presets say) and fed the same input files: this
# tree's compiled seed corpus. A base that reads those files differently (an older program
# version: race programs v2 and tlb_fuzzer's run settings are newer than 997c07e) runs other
# programs or skips them, and that target's ratios then compare different work: pick a base with
# the same program versions for it. Each side fuzzes with its own fuzz/T.options, one process on one
# core, -seed=1, -timeout=10 as tools/run.sh does. The base is checked out with `git worktree add
# --detach` under DIR/src-SHA; builds live in DIR/{base-SHA,head}/{replay,fuzz,fuzz-asan}.
# Every measurement of the base is followed (or preceded, alternating by round) by the same
# measurement of this tree, so machine noise affects both: read the ratios, not the absolute
# numbers, on a shared machine.
#
# The table's last column is the speed-up of this tree over the base: base time / this tree's time
# for replay, this tree's exec/s / base exec/s for fuzzing; above 1 means this tree is faster.
# A libFuzzer run that found a crash is marked (finding) and its exec/s is still reported.
# Exit status: 0 measured; 1 a build or a replay failed; 2 bad usage.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"
cd "$PTSIM_ROOT"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

base_rev=""
seconds=30
runs=""
targets=(ops_fuzzer diff_fuzzer race_fuzzer tlb_fuzzer)
rounds=1
configs=(replay fuzz fuzz-asan)
jobs="$(ptsim_nproc)"
work="$PTSIM_ROOT/build/throughput"
build_only=0
json=0
REPLAY_REPS=3

need_value() {
  (($2 >= 2)) || ptsim_die --code 2 "$1 needs a value (try --help)"
}
while (($#)); do
  case "$1" in
    --base) need_value "$1" $#; base_rev=$2; shift ;;
    --seconds) need_value "$1" $#; seconds=$2; shift ;;
    --runs) need_value "$1" $#; runs=$2; shift ;;
    --targets) need_value "$1" $#; IFS=, read -r -a targets <<<"$2"; shift ;;
    --rounds) need_value "$1" $#; rounds=$2; shift ;;
    --no-sanitizer-only) configs=("${configs[@]/fuzz-asan/}") ;;
    --replay-only) configs=(replay) ;;
    --fuzz-only) configs=("${configs[@]/replay/}") ;;
    --jobs | -j) need_value "$1" $#; jobs=$2; shift ;;
    --work) need_value "$1" $#; work=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --build-only) build_only=1 ;;
    --json) json=1 ;;
    -h | --help) usage; exit 0 ;;
    *) ptsim_die --code 2 "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
read -r -a configs <<<"${configs[*]}"  # drop the emptied entries
[[ -n $base_rev ]] || ptsim_die --code 2 "--base REV is required (try --help)"
ptsim_is_positive "$seconds" || ptsim_die --code 2 "--seconds needs a positive number, not '$seconds'"
[[ -z $runs ]] || ptsim_is_positive "$runs" || ptsim_die --code 2 "--runs needs a positive number, not '$runs'"
ptsim_is_positive "$rounds" || ptsim_die --code 2 "--rounds needs a positive number, not '$rounds'"
ptsim_is_positive "$jobs" || ptsim_die --code 2 "--jobs needs a positive number, not '$jobs'"
((${#configs[@]})) || ptsim_die --code 2 "nothing to measure: --replay-only and --fuzz-only exclude each other"
for t in "${targets[@]}"; do
  [[ $t =~ ^[a-z0-9_]+_fuzzer$ ]] || ptsim_die --code 2 "--targets: '$t' is not a fuzz target name"
done
base_sha=$(git rev-parse --verify --quiet "$base_rev^{commit}") ||
  ptsim_die --code 2 "--base: '$base_rev' is not a commit here"
base_short=${base_sha:0:10}
head_desc="$(git rev-parse --short=10 HEAD)$([[ -z $(git status --porcelain --untracked-files=no) ]] || echo '+changes')"

# ---------------------------------------------------------------------------------------------
# Builds
# ---------------------------------------------------------------------------------------------

# preset_defs PRESET: the -G and -D arguments of one of this tree's configure presets, with its
# inherited presets resolved. Tests and benchmarks are left out: only the fuzz targets are built.
preset_defs() {
  python3 - "$PTSIM_ROOT/CMakePresets.json" "$1" <<'EOF'
import json, sys
presets = {p["name"]: p for p in json.load(open(sys.argv[1]))["configurePresets"]}
def resolve(name):
    p = presets[name]
    out = {"generator": None, "cache": {}}
    parents = p.get("inherits", [])
    if isinstance(parents, str):
        parents = [parents]
    # Earlier presets in "inherits" win over later ones, and the preset's own values over all.
    for parent in reversed(parents):
        r = resolve(parent)
        out["generator"] = r["generator"] or out["generator"]
        out["cache"].update(r["cache"])
    out["generator"] = p.get("generator", out["generator"])
    for k, v in p.get("cacheVariables", {}).items():
        out["cache"][k] = v["value"] if isinstance(v, dict) else v
    return out
r = resolve(sys.argv[2])
if r["generator"]:
    print("-G" + r["generator"])
r["cache"].update(PTSIM_BUILD_TESTS="OFF", PTSIM_BUILD_BENCH="OFF")
for k, v in sorted(r["cache"].items()):
    print(f"-D{k}={'ON' if v is True else 'OFF' if v is False else v}")
EOF
}

preset_of() {
  case "$1" in
    replay) echo release ;;
    fuzz) echo fuzz-nosan ;;
    fuzz-asan) echo fuzz ;;
  esac
}

# build_dir SIDE CONFIG
build_dir() {
  if [[ $1 == base ]]; then echo "$work/base-$base_short/$2"; else echo "$work/head/$2"; fi
}
src_dir() {
  if [[ $1 == base ]]; then echo "$work/src-$base_short"; else echo "$PTSIM_ROOT"; fi
}

declare -A have  # have[side/config/target]=1 when built
build() {  # build SIDE CONFIG
  local side=$1 config=$2 src dir defs wanted=() t
  src=$(src_dir "$side")
  dir=$(build_dir "$side" "$config")
  mapfile -t defs < <(preset_defs "$(preset_of "$config")")
  ptsim_header "configure $side ($([[ $side == base ]] && echo "$base_short" || echo "$head_desc")) $config"
  cmake -S "$src" -B "$dir" "${defs[@]}" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; ptsim_die "configuring $dir failed"; }
  local known
  known=$(ninja -C "$dir" -t targets all 2>/dev/null)
  for t in "${targets[@]}"; do
    if grep -q "^$t: phony" <<<"$known"; then wanted+=("$t"); have[$side/$config/$t]=1; else
      ptsim_warn "$side has no target $t: shown as n/a"
    fi
  done
  # This tree's compiled corpus is every side's input.
  [[ $side == head && $config == replay ]] && wanted+=(seed_corpora)
  ((${#wanted[@]})) || return 0
  ptsim_header "build $side $config: ${wanted[*]}"
  cmake --build "$dir" -j "$jobs" --target "${wanted[@]}" >"$dir.build.log" 2>&1 ||
    { tail -40 "$dir.build.log" >&2; ptsim_die "building $dir failed (log: $dir.build.log)"; }
}

mkdir -p "$work"
if [[ ! -e $(src_dir base)/.git ]]; then
  ptsim_header "checking out $base_short into $(src_dir base)"
  git worktree add --detach "$(src_dir base)" "$base_sha" >&2
fi
# This tree's replay build is always needed: its compiled corpus is every run's input.
mkdir -p "$(build_dir head replay)"
build head replay
for config in "${configs[@]}"; do
  for side in base head; do
    [[ $side == head && $config == replay ]] && continue
    mkdir -p "$(build_dir "$side" "$config")"
    build "$side" "$config"
  done
done
if ((build_only)); then
  ptsim_log "built: base $base_short and this tree ($head_desc) under $work"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

export ASAN_OPTIONS="${ASAN_OPTIONS-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS-halt_on_error=1:print_stacktrace=1}"
scratch="$work/scratch"
rm -rf "$scratch"
mkdir -p "$scratch"
results="$scratch/results.tsv"
: >"$results"

# The seed corpus (with regressions) of one target, flattened: libFuzzer wants one directory.
seeds_of() {
  local t=$1 from out="$scratch/seeds/$1" f rel
  from="$(build_dir head replay)/corpus/$t"
  if [[ ! -d $out ]]; then
    mkdir -p "$out"
    while IFS= read -r -d '' f; do
      rel=${f#"$from"/}
      cp -f -- "$f" "$out/${rel//\//__}"
    done < <(find "$from" -type f -print0 2>/dev/null)
  fi
  echo "$out"
}

# options_of SIDE TARGET: libFuzzer flags from that side's fuzz/TARGET.options ([libfuzzer]).
options_of() {
  local file section="" line
  file="$(src_dir "$1")/fuzz/$2.options"
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -z $line || $line == \#* || $line == \;* ]] && continue
    if [[ $line =~ ^\[(.*)\]$ ]]; then section=${BASH_REMATCH[1]}; continue; fi
    [[ $section == libfuzzer && $line =~ ^([A-Za-z0-9_]+)[[:space:]]*[=:][[:space:]]*(.*)$ ]] &&
      echo "-${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done <"$file"
}

now_ns() { date +%s%N; }

measure_replay() {  # SIDE TARGET ROUND
  local side=$1 t=$2 round=$3 bin seeds n start end args=() i log
  bin="$(build_dir "$side" replay)/fuzz/$t"
  seeds=$(seeds_of "$t")
  n=$(find "$seeds" -type f | wc -l)
  ((n > 0)) || { ptsim_warn "$t: no seeds"; return 0; }
  for ((i = 0; i < REPLAY_REPS; ++i)); do args+=("$seeds"); done
  log="$scratch/$side-replay-$t-$round.log"
  start=$(now_ns)
  if ! "$bin" "${args[@]}" >"$log" 2>&1; then
    tail -20 "$log" >&2
    ptsim_die "$side $t: the corpus replay failed (log: $log)"
  fi
  end=$(now_ns)
  printf '%s\treplay\t%s\t%s\t%s\t%s\n' "$t" "$side" "$round" \
    "$(((end - start) / 1000 / (n * REPLAY_REPS)))" "$n inputs" >>"$results"
}

measure_fuzz() {  # SIDE CONFIG TARGET ROUND
  local side=$1 config=$2 t=$3 round=$4 bin seeds dir log rc=0 eps execs finding=""
  bin="$(build_dir "$side" "$config")/fuzz/$t"
  seeds=$(seeds_of "$t")
  dir="$scratch/run-$side-$config-$t-$round"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  log="$dir.log"
  local limit=(-max_total_time="$seconds")
  [[ -z $runs ]] || limit=(-runs="$runs")
  local opts
  mapfile -t opts < <(options_of "$side" "$t")
  # New inputs go to the first directory, so the seeds stay as they are.
  (cd "$dir" && "$bin" -timeout=10 "${opts[@]}" -seed=1 -print_final_stats=1 "${limit[@]}" \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" "$seeds") >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if ((rc != 0)); then
    if grep -qE 'Assertion failure|==ERROR|deadly signal|Test unit written' "$log"; then
      finding="finding"
    else
      ptsim_warn "$side $config $t: libFuzzer exited $rc without a finding (log: $log)"
      finding="error"
    fi
  fi
  [[ -n $eps ]] || { ptsim_warn "$side $config $t: no final stats (log: $log)"; eps=""; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$config" "$side" "$round" "$eps" \
    "${execs:-?} execs${finding:+, $finding}" >>"$results"
}

for t in "${targets[@]}"; do
  for config in "${configs[@]}"; do
    for ((round = 1; round <= rounds; ++round)); do
      sides=(base head)
      ((round % 2)) || sides=(head base)
      for side in "${sides[@]}"; do
        if [[ -z ${have[$side/$config/$t]-} ]]; then continue; fi
        ptsim_log "  $t  $config  $side  round $round/$rounds"
        if [[ $config == replay ]]; then
          measure_replay "$side" "$t" "$round"
        else
          measure_fuzz "$side" "$config" "$t" "$round"
        fi
      done
    done
  done
done

python3 - "$results" "$json" "$base_short" "$head_desc" "$seconds" "${runs:-0}" "$rounds" <<'EOF'
import json, statistics, sys
path, as_json, base, head, seconds, runs, rounds = sys.argv[1:]
rows = {}
notes = {}
for line in open(path):
    t, config, side, rnd, value, note = line.rstrip("\n").split("\t")
    rows.setdefault((t, config), {}).setdefault(side, [])
    if value:
        rows[(t, config)][side].append(float(value))
    notes.setdefault((t, config, side), []).append(note)
unit = {"replay": "us/input", "fuzz": "exec/s", "fuzz-asan": "exec/s"}
what = {"replay": "replay, -O2", "fuzz": "libFuzzer", "fuzz-asan": "libFuzzer+ASan+UBSan"}
out = []
for (t, config), sides in rows.items():
    b = statistics.median(sides["base"]) if sides.get("base") else None
    h = statistics.median(sides["head"]) if sides.get("head") else None
    speedup = None
    if b and h:
        speedup = b / h if config == "replay" else h / b
    out.append({"target": t, "measure": config, "unit": unit[config], "base": b, "head": h,
                "speedup": speedup, "base_runs": sides.get("base", []), "head_runs": sides.get("head", []),
                "base_notes": notes.get((t, config, "base"), []), "head_notes": notes.get((t, config, "head"), [])})
if as_json == "1":
    json.dump({"base": base, "head": head, "seconds": int(seconds), "runs": int(runs) or None,
               "rounds": int(rounds), "results": out}, sys.stdout, indent=2)
    print()
    sys.exit(0)
def fmt(v):
    if v is None: return "n/a"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
budget = f"-runs={runs}" if runs != "0" else f"{seconds} s per run"
print(f"base {base}  vs  this tree {head}   ({budget}, median of {rounds})")
hdr = f"{'target':<12} {'measure':<22} {'unit':<9} {'base':>10} {'this tree':>10} {'speed-up':>9}  notes (this tree)"
print(hdr)
print("-" * len(hdr))
for r in out:
    s = f"{r['speedup']:.2f}x" if r["speedup"] else "n/a"
    note = "; ".join(sorted(set(r["head_notes"])))
    bnote = "; ".join(n for n in sorted(set(r["base_notes"])) if "finding" in n or "error" in n)
    if bnote: note += f"  [base: {bnote}]"
    print(f"{r['target']:<12} {what[r['measure']]:<22} {r['unit']:<9} {fmt(r['base']):>10} {fmt(r['head']):>10} {s:>9}  {note}")
EOF
