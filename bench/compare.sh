#!/usr/bin/env bash
# Generic vs hand-written translate walker: prints generic/hand-written
# ratios, one line per pair (4 KiB and 2 MiB leaves, A/D updates off and on).
# 1.00 means the generic layer costs nothing; 1.10 means it is 10% slower.
#
#   bench/compare.sh [--build DIR] [extra ptsim_bench flags...]
#       median CPU time per translation over 5 repetitions (Google
#       Benchmark). Noisy on a shared machine: repeat, or use --callgrind.
#   bench/compare.sh --callgrind [--build DIR] [--rounds N]
#       instructions per translation under callgrind (bench/walk_count,
#       N passes over the 65536 fixture VAs, default 4), which are exactly
#       repeatable. This is the number to base a verdict on.
#
# DIR is the CMake build directory (default: build/h-bench under the
# repository root); the binaries are DIR/bench/ptsim_bench and walk_count.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/h-bench"
mode=time
rounds=4
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --callgrind) mode=callgrind; shift ;;
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

pairs=("4K:translate 4K leaves" "2M:translate 2M leaves" "4K_ad:translate 4K leaves, update_ad" "2M_ad:translate 2M leaves, update_ad")

if [[ "$mode" == time ]]; then
  bin="$build/bench/ptsim_bench"
  [[ -x "$bin" ]] || { echo "no $bin: build the ptsim_bench target first" >&2; exit 1; }
  json="$(mktemp)"
  trap 'rm -f "$json"' EXIT
  "$bin" --benchmark_filter=Translate --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_format=json ${extra[@]+"${extra[@]}"} >"$json"
  python3 - "$json" "${pairs[@]}" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
median = {b["run_name"]: b for b in data["benchmarks"]
          if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"}
scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
VAS_PER_ITERATION = 65536  # TranslateFixture::kNumVas: one iteration walks them all
def per_translation_ns(b):
    return b["cpu_time"] * scale[b["time_unit"]] / VAS_PER_ITERATION
for pair in sys.argv[2:]:
    key, label = pair.split(":", 1)
    g, h = median.get("BM_TranslateGeneric/" + key), median.get("BM_TranslateHandWritten/" + key)
    if not g or not h:
        print(f"{label}: missing from the run"); continue
    tg, th = per_translation_ns(g), per_translation_ns(h)
    print(f"{label}: generic/hand-written = {tg / th:.2f}"
          f"   (median {tg:.1f} vs {th:.1f} ns/translation, {1e3 / tg:.1f}M vs {1e3 / th:.1f}M translations/s)")
EOF
  exit 0
fi

bin="$build/bench/walk_count"
[[ -x "$bin" ]] || { echo "no $bin: build the walk_count target first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# Instructions collected inside WalkLoop* only: the walks, the loop and
# DoNotOptimize, nothing of the setup or the checks.
count() {  # walker leaf ad -> Ir per translation
  local f="$out/cg.$1.$2.$3"
  valgrind --tool=callgrind --toggle-collect='WalkLoop*' --callgrind-out-file="$f" \
    "$bin" "$1" "$2" "$3" "$rounds" >/dev/null 2>"$out/log" || { cat "$out/log" >&2; exit 1; }
  python3 - "$f" "$rounds" <<'EOF'
import sys
ir = next(int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith(("summary:", "totals:")))
print(f"{ir / (int(sys.argv[2]) * 65536):.1f}")
EOF
}
for pair in "${pairs[@]}"; do
  key="${pair%%:*}"; label="${pair#*:}"
  leaf="$(tr 'A-Z' 'a-z' <<<"${key%%_*}")"
  ad=0; [[ "$key" == *_ad ]] && ad=1
  g="$(count generic "$leaf" "$ad")"
  h="$(count hand "$leaf" "$ad")"
  python3 -c "import sys; g, h = float(sys.argv[1]), float(sys.argv[2]); print(f'{sys.argv[3]}: generic/hand-written = {g / h:.2f}   ({g:.1f} vs {h:.1f} instructions/translation)')" \
    "$g" "$h" "$label"
done
