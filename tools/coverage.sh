#!/usr/bin/env bash
# tools/coverage.sh — what the built-in corpus reaches: builds the `coverage` preset (clang-14
# source-based coverage, standalone fuzz targets), replays corpus/<target>/ through every fuzz
# target, merges the profiles and writes llvm-cov's HTML report, a text and a JSON summary, and
# the format x behaviour matrix (which formats reached splits, replicated groups, level skips,
# fork/COW, GUP-fast, protect, populate) as text, JSON and SVG.
#
# Usage: tools/coverage.sh [--out DIR] [--json] [--no-build] [--all-code] [--jobs N] [--help]
#   --out DIR    where everything goes (default: build/coverage-report in the repository; a
#                relative DIR is from the current directory); what an earlier run wrote there
#                is replaced
#   --json       print one JSON summary on stdout (totals, targets, paths, matrix); the
#                progress and the human-readable summary then go to stderr
#   --no-build   use build/coverage as it is (fails if it is missing)
#   --all-code   count everything compiled from the repository; by default fuzz/ (the harness
#                mains) and the oracle files of fuzz/coverage_ignorelist.txt are left out
#   --jobs N     build parallelism (default: nproc)
#
# Writes DIR/html/index.html, DIR/summary.txt (llvm-cov report), DIR/summary.json (llvm-cov
# export -summary-only), DIR/matrix.{txt,json,svg}, DIR/coverage.profdata and DIR/logs/. Exit 0
# on success, 1 when a replay or a tool fails, 2 on bad usage. Needs clang-14, llvm-14
# (llvm-profdata-14, llvm-cov-14, llvm-cxxfilt-14) and python3.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
caller_dir=$PWD
cd "$PTSIM_ROOT"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

out=''
json=0
build=1
all_code=0
jobs="$(ptsim_nproc)"
while (($#)); do
  case "$1" in
    --out)
      [[ $# -ge 2 && -n $2 ]] || ptsim_die --code 2 "--out needs a directory"
      out=$2
      shift
      ;;
    --out=*) out=${1#--out=} ;;
    --json) json=1 ;;
    --no-build) build=0 ;;
    --all-code) all_code=1 ;;
    --jobs | -j)
      [[ $# -ge 2 ]] || ptsim_die --code 2 "$1 needs a number"
      jobs=$2
      shift
      ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) ptsim_die --code 2 "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
ptsim_is_positive "$jobs" || ptsim_die --code 2 "--jobs needs a positive number, not '$jobs'"
if [[ -z $out ]]; then
  out=$PTSIM_ROOT/build/coverage-report
elif [[ $out != /* ]]; then
  out=$caller_dir/$out
fi

for tool in llvm-profdata-14 llvm-cov-14 llvm-cxxfilt-14 python3; do
  command -v "$tool" >/dev/null || ptsim_die "$tool not found: run tools/bootstrap.sh (Debian packages llvm-14, python3)"
done

build_dir=$PTSIM_ROOT/build/coverage
if ((build)); then
  ptsim_header "build [coverage]"
  cmake --preset coverage >&2
  cmake --build --preset coverage -j "$jobs" >&2
fi
[[ -d $build_dir/fuzz ]] || ptsim_die "no coverage build in $build_dir (run without --no-build)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $out != / ]] || ptsim_die --code 2 "--out needs a directory other than /"
rm -rf "${out:?}"/{html,logs,profiles} "$out"/{summary.txt,summary.json,matrix.txt,matrix.json,matrix.svg} \
  "$out"/{coverage.profdata,functions.json,format_types.txt,targets.tsv}
mkdir -p "$out/logs" "$out/profiles"

# Every fuzz target of the build, as ptsim campaign finds them: a new one needs no change here.
targets=()
for bin in "$build_dir"/fuzz/*_fuzzer; do
  [[ -x $bin ]] && targets+=("$bin")
done
((${#targets[@]})) || ptsim_die "no fuzz targets in $build_dir/fuzz"

ptsim_header "replaying the corpus"
: >"$out/targets.tsv"
for bin in "${targets[@]}"; do
  name=$(basename "$bin")
  corpus=$build_dir/corpus/$name
  if [[ ! -d $corpus ]]; then
    ptsim_log "  $name: no built-in corpus (corpus/$name/), nothing replayed"
    printf '%s\t0\n' "$name" >>"$out/targets.tsv"
    continue
  fi
  # %p: one profile per process, so nothing a target starts can overwrite another's.
  if ! LLVM_PROFILE_FILE="$out/profiles/$name-%p.profraw" "$bin" "$corpus" >"$out/logs/$name.log" 2>&1; then
    tail -n 20 "$out/logs/$name.log" >&2
    ptsim_die "$name failed on its corpus (log: $out/logs/$name.log)"
  fi
  inputs=$(sed -n 's/^Executed \([0-9]*\) inputs.*/\1/p' "$out/logs/$name.log" | tail -n 1)
  ptsim_log "  $name: ${inputs:-?} inputs"
  printf '%s\t%s\n' "$name" "${inputs:-0}" >>"$out/targets.tsv"
done

ptsim_header "merging profiles and writing the report"
compgen -G "$out/profiles/*.profraw" >/dev/null || ptsim_die "no target replayed anything: no profiles to merge"
llvm-profdata-14 merge -sparse "$out"/profiles/*.profraw -o "$out/coverage.profdata"
rm -rf "$out/profiles"

# Every target binary: the first is llvm-cov's main object, the others follow -object.
objects=("${targets[0]}")
for bin in "${targets[@]:1}"; do
  objects+=(-object "$bin")
done
# Left out: system headers (Abseil, the standard library) always; by default also the harness
# mains and the files fuzz/coverage_ignorelist.txt keeps out of the fuzzers' feedback (oracles,
# the model, reports), from its `src:` lines. Its `fun:` lines name functions, which llvm-cov
# cannot leave out, so those still count.
root_re=$(printf '%s' "$PTSIM_ROOT" | sed 's/[][\.*^$+?(){}|]/\\&/g')
ignore='^/usr/'
if ((!all_code)); then
  ignore+="|^$root_re/fuzz/|^$root_re/tests/"
  while read -r glob; do
    re=$(printf '%s' "$glob" | sed 's/[][\.^$+?(){}|]/\\&/g; s/\*/.*/g')
    ignore+="|^$re\$"
  done < <(sed -n 's/^src:\(.*\)/\1/p' fuzz/coverage_ignorelist.txt)
fi
cov_args=(-instr-profile="$out/coverage.profdata" -ignore-filename-regex="$ignore" "${objects[@]}")

# llvm-cov's warnings go to the log: "N functions have mismatched data" is expected with several
# targets (an inline function one target never calls has an empty record there; each target has
# its own LLVMFuzzerTestOneInput).
cov() {
  llvm-cov-14 "$@" 2>>"$out/logs/llvm-cov.log" || {
    cat "$out/logs/llvm-cov.log" >&2
    ptsim_die "llvm-cov-14 $1 failed"
  }
}
# One HTML page per source file, lines counted over all instantiations (per instantiation the
# pages grow with the number of formats; the matrix below is the per-format view).
cov show -format=html -output-dir="$out/html" -show-instantiations=false -project-title=ptsim \
  -Xdemangler=llvm-cxxfilt-14 -num-threads="$jobs" "${cov_args[@]}"
cov report "${cov_args[@]}" >"$out/summary.txt"
cov export -summary-only "${cov_args[@]}" >"$out/summary.json"

# The matrix needs every function's regions (llvm-cov exports all functions whatever files are
# named; naming the behaviours' files keeps the per-file part small).
mapfile -t matrix_sources < <(python3 tools/coverage_matrix.py --list-sources)
cov export -skip-expansions "${cov_args[@]}" "${matrix_sources[@]/#/$PTSIM_ROOT/}" >"$out/functions.json"
LLVM_PROFILE_FILE=/dev/null "$build_dir/tools/ptsim_format_types" >"$out/format_types.txt"
python3 tools/coverage_matrix.py --export "$out/functions.json" --types "$out/format_types.txt" --out "$out" \
  --demangler llvm-cxxfilt-14 >/dev/null
rm -f "$out/functions.json"

# The summary: totals, where things are, the matrix; as text, or JSON on stdout.
python3 - "$out" "$json" "$ignore" <<'EOF'
import json, os, sys
out, as_json, ignore = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
totals = json.load(open(os.path.join(out, "summary.json")))["data"][0]["totals"]
targets = [dict(zip(("name", "inputs"), l.split("\t"))) for l in open(os.path.join(out, "targets.tsv")).read().split("\n") if l]
for t in targets:
    t["inputs"] = int(t["inputs"])
paths = {k: os.path.join(out, v) for k, v in (("html", "html/index.html"), ("summary", "summary.txt"),
         ("summary_json", "summary.json"), ("matrix", "matrix.txt"), ("matrix_json", "matrix.json"),
         ("matrix_svg", "matrix.svg"), ("profile", "coverage.profdata"))}
kinds = ("lines", "functions", "regions", "branches", "instantiations")
summary = {k: {"covered": totals[k]["covered"], "count": totals[k]["count"], "percent": round(totals[k]["percent"], 2)}
           for k in kinds}
text = ["report: " + paths["html"], "summary: " + paths["summary"], "matrix: " + paths["matrix_svg"],
        "targets: " + ", ".join(f"{t['name']} ({t['inputs']} inputs)" for t in targets), "ignored files: " + ignore]
text += [f"{k:<15} {v['percent']:6.2f}%  ({v['covered']}/{v['count']})" for k, v in summary.items()]
text += ["", open(paths["matrix"]).read()]
if as_json:
    print("\n".join(text), file=sys.stderr)
    print(json.dumps({"totals": summary, "targets": targets, "paths": paths, "ignore_filename_regex": ignore,
                      "matrix": json.load(open(paths["matrix_json"]))}, indent=1, sort_keys=True))
else:
    print("\n".join(text))
EOF
