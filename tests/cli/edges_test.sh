#!/usr/bin/env bash
# Hostile images and the rough edges of the command line and the fuzz
# targets: cycles and shared tables in an image are structure errors naming
# their path, truncated and tiny images are refused, huge images are refused
# up front; numbers state their base, durations are finite, --json errors
# are JSON, race violations are structured and reported in the order of
# events, operation numbers agree, unknown bug names are refused with the
# known ones, and every help names only files that exist.
#
# Usage: edges_test.sh PTSIM_BINARY SOURCE_DIR FUZZ_TARGET_DIR
set -euo pipefail

if (($# != 3)); then
  echo "usage: $0 PTSIM_BINARY SOURCE_DIR FUZZ_TARGET_DIR" >&2
  exit 2
fi
PTSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
FUZZ=$(cd "$3" && pwd)
[[ -x $PTSIM ]] || { echo "edges_test: $PTSIM is not an executable" >&2; exit 2; }
# shellcheck source=cli_lib.sh
source "$SRC/tests/cli/cli_lib.sh"

# An x86-64 4-level image: page N at 0x1000000 + N * 4 KiB; ENTRIES are
# "page:index:value" (value in hex).
make_image() {
  local file=$1 pages=$2
  shift 2
  python3 - "$file" "$pages" "$@" <<'PY'
import struct, sys
file, pages = sys.argv[1], int(sys.argv[2])
b = bytearray(4096 * pages)
for e in sys.argv[3:]:
    page, index, value = e.split(':')
    struct.pack_into('<Q', b, int(page) * 4096 + int(index) * 8, int(value, 16))
open(file, 'wb').write(b)
PY
}
X86=(--format x86_64_4level --image-base 0x1000000 --root 0x1000000)

# --- hostile images ----------------------------------------------------------
make_image self.img 1 0:0:1000003
run dump "${X86[@]}" --image self.img
expect "dump: a table pointing at itself is a cycle with its path" 1 \
  --err 'structure error: cycle: table 0x1000000 points back to itself through 0x1000000\[0\] -> 0x1000000' \
  --out '^# 0 leaves$'
run dump "${X86[@]}" --image self.img --limit 0
expect "dump --limit 0 of a self-pointing table ends" 1 --err 'structure error: cycle'
run dump "${X86[@]}" --image self.img --json
json_check "dump --json puts the cycle in the JSON" \
  "j['leaves'] == [] and j['problem_count'] == 1 and 'cycle' in j['problems'][0]['what'] and j['problems'][0]['entry_addr'] == '0x1000000'"
expect "dump --json of a cycle exits 1" 1
run translate "${X86[@]}" --image self.img 0x0
expect "translate through a self-pointing table names the cycle" 1 \
  --out 'structure error: cycle: the walk reads table 0x1000000 twice: 0x1000000\[0\] -> 0x1000000'
run translate "${X86[@]}" --image self.img --json 0x0
json_check "translate --json has the cycle as a structure field" "'cycle' in j[0]['structure']"

make_image loop.img 3 0:5:1001003 1:7:1002003 2:9:1001003
run dump "${X86[@]}" --image loop.img
expect "dump: a longer cycle names every table on it" 1 \
  --err 'cycle: table 0x1001000 points back to itself through 0x1001000\[7\] -> 0x1002000\[9\] -> 0x1001000'

make_image shared.img 2 0:0:1001003 0:1:1001003 1:0:40000083
run dump "${X86[@]}" --image shared.img
expect "dump: a table reachable twice names both paths" 1 --out '^va 0x0+ ' \
  --err 'table 0x1001000 is reachable twice: first 0x1000000\[0\] -> 0x1001000, again 0x1000000\[1\] -> 0x1001000'
run dump "${X86[@]}" --image shared.img --dot
expect "dump --dot marks a table reachable twice and the second entry pointing to it" 1 \
  --out '^  t_1001000 \[label="PDPT @ 0x1001000.*reached twice' \
  --out '^  t_1000000 -> t_1001000 \[color=red, style=dashed, label="entry @0x1000008 again"\];$' \
  --out '^  t_1001000 -> r_0 \[label="\[0\]"\];$'
make_image outside.img 1 0:3:9000003
run dump "${X86[@]}" --image outside.img --dot
expect "dump --dot hangs a table outside memory from the table that points to it" 1 \
  --out '^  p_0 \[shape=octagon, color=red, label=".*lies outside memory"\];$' --out '^  t_1000000 -> p_0 \[color=red\];$'
run dump "${X86[@]}" --image self.img --dot
expect "dump --dot of a self-pointing table draws the loop in red" 1 \
  --out '^  t_1000000 -> t_1000000 \[color=red, style=dashed'

# Every entry of three tables points at the next, the last back at the
# root: 512^3 paths without the check; one pass over three tables with it.
entries=()
for p in 0 1 2; do
  for ((i = 0; i < 512; i++)); do entries+=("$p:$i:$(printf '%x' $((0x1000003 + ((p + 1) % 3) * 4096)))"); done
done
make_image dense.img 3 "${entries[@]}"
run dump "${X86[@]}" --image dense.img --limit 0
expect "dump --limit 0 of 1536 pointers round a cycle reports each once" 1 --err '1534 problems'

head -c 100 /dev/zero >tiny.img
run dump "${X86[@]}" --image tiny.img
expect "dump of a 100-byte image is refused" 2 --err "tiny.img': the image is truncated" --err 'holds only 100 bytes'
run translate "${X86[@]}" --image tiny.img 0x0
expect "translate of a 100-byte image is refused" 2 --err 'truncated'
head -c 6000 shared.img >cut.img
run dump "${X86[@]}" --image cut.img
expect "a table running past the end of the file is outside the image" 1 --err 'table at 0x1001000 lies outside the image'

printf 'format x86_64_4level\nmap 0x0 0xffffffffff oa=0x0 attrs=rw-u size_lg2=12\n' >huge.txt
run image huge.txt -o huge.img
expect "image of a huge 4 KiB mapping is refused up front with an estimate" 2 \
  --err 'op 1 \(map 0x0 0xffffffffff' --err 'about 268435456 leaves' --err 'at least 2048 MiB' --err 'at most 1048576 leaves'
if [[ ! -e huge.img ]]; then pass "nothing is written for a refused image"; else fail "nothing is written for a refused image" "huge.img exists"; fi
printf 'format x86_64_4level\nmap 0x0 0xffffffffff oa=0x0 attrs=rw-u\n' >big.txt
run image big.txt -o big.img
expect "image of the same range with 1 GiB leaves is built" 0 --out '^image 0x1000000 root 0x1000000'

# --- numbers state their base ------------------------------------------------
run formats x86_64_4level --config maxphyaddr=2a
expect "a config number without 0x is decimal: 2a is refused" 2 --err "maxphyaddr: '2a' is not a number \(decimal, or hex with 0x\)"
run formats x86_64_4level --config maxphyaddr=40
expect "config maxphyaddr=40 is forty" 0 --out '40-bit OA'
run formats x86_64_4level --config maxphyaddr=0x28
expect "config maxphyaddr=0x28 is forty" 0 --out '40-bit OA'
printf 'format x86_64_4level\nconfig maxphyaddr=2a\nmap 0x0 0xfff oa=0x0 attrs=rw-u\n' >hexconfig.txt
run repro hexconfig.txt
expect "a program's config number without 0x is decimal" 2 --err "'2a' is not a number"

# --- durations ---------------------------------------------------------------
for bad in nan inf -inf -1 1e999 five; do
  run stress -f x86_64_4level --seconds "$bad"
  expect "stress --seconds $bad is refused" 2 --err "--seconds: '$bad' is"
done

# --- --json errors are JSON, with the same exit codes ------------------------
run formats no_such_format --json
json_check "formats --json: an unknown format is a JSON error" "'unknown format' in j['error']"
expect "formats --json error exit code" 2 --err "unknown format"
run dump "${X86[@]}" --image no_such.img --json
json_check "dump --json: a missing image is a JSON error" "'no_such.img' in j['error']"
expect "dump --json error exit code" 2
run repro --json no_such_file
json_check "repro --json: a missing file is a JSON error" "'no_such_file' in j['error']"
run stress -f x86_64_4level --seconds nan --json
json_check "a usage error of a --json command line is JSON" "'nan' in j['error']"
expect "usage error exit code with --json" 2
run translate "${X86[@]}" --image tiny.img --json 0x0
json_check "translate --json: a truncated image is a JSON error" "'truncated' in j['error']"

# --- race reports: structured, in the order of events -------------------------
RACE=$SRC/corpus/race_fuzzer/bugs/seed004-broadcast-immediate.txt
run repro --json "$RACE"
json_check "race repro --json: the violation as fields" \
  "(lambda v: v['check'] == 'freed-table' and isinstance(v['cpu'], int) and isinstance(v['step'], int) and v['op']['kind'] in ('gup', 'access', 'populate', 'remove', 'copy') and isinstance(v['op']['op_index'], int) and v['walk']['at_step'] == v['step'] and len(v['walk']['steps']) > 0 and v['signature'].endswith('-freed-table'))(j['violation'])"
run repro "$RACE"
expect "race report: the interleaving shows the violation where it happened" 1 \
  --out '^  after step [0-9]+ +cpu[0-3] +op [0-9]+: .* <- freed-table$' --out '^where: +cpu[0-3], after step [0-9]+$' \
  --out '^the failing address after step [0-9]+, when the check failed:$'
marker=$(grep -n '<- freed-table' out | head -1 | cut -d: -f1)
violation=$(grep -n '^=== VIOLATION' out | cut -d: -f1)
step_mark=$(grep -o '^  after step [0-9]*' out | grep -o '[0-9]*$')
step_walk=$(grep -o '^the failing address after step [0-9]*' out | grep -o '[0-9]*$')
if [[ -n $marker && -n $violation ]] && ((marker < violation)) && [[ $step_mark == "$step_walk" ]]; then
  pass "race report: the walk is of the instant the interleaving shows"
else
  fail "race report: the walk is of the instant the interleaving shows" "marker line ${marker:-none}, step ${step_mark:-?} vs ${step_walk:-?}"
fi
if grep -q 'after the run' out; then fail "race report: no walk from after the run" "found 'after the run'"; else pass "race report: no walk from after the run"; fi

# --- operation numbers agree --------------------------------------------------
TLB=$SRC/corpus/tlb_fuzzer/bugs/forget_global.txt
run repro "$TLB"
n=$(grep -o '^=== after op [0-9]*' out | grep -o '[0-9]*$' || true)
nth=$(grep -E '^(map|unmap|protect|access) ' "$TLB" | sed -n "${n:-0}p")
if [[ -n $n ]] && grep -q "^=== after op $n (${nth%% *} " out; then
  pass "tlb report: op $n is the program's op $n ($nth)"
else
  fail "tlb report: op numbers count from 1 as in the program" "op ${n:-?} vs '$nth'"
fi
expect "tlb signature names the op as the other fuzzers' do" 1 --out '^Assertion failure: x86_64_4level-protect-stale-tlb$'
run repro --json "$TLB"
json_check "tlb repro --json: op_index is the 0-based index of the same op" \
  "j['finding']['op_index'] == $((n - 1)) and j['finding']['signature'] == 'x86_64_4level-protect-stale-tlb'"

# --- unknown bug names are refused with the known ones -------------------------
sed 's/^race .*/race cpus=2 inject=no-such-bug/' "$SRC/corpus/race_fuzzer/populate_vs_remove.txt" >badbug.txt
run repro badbug.txt
expect "race program inject= with an unknown bug" 2 --err "unknown bug 'no-such-bug'" --err 'reclaim-no-recheck'
run stress -f x86_64_4level --seconds 0.1 --inject=no-such-bug
expect "stress --inject with an unknown bug" 2 --err "unknown bug 'no-such-bug'" --err 'gup-double-read'
printf 'format x86_64_4level\ncaches tlb bug=no_such_bug\nmap 0x0 0xfff oa=0x0 attrs=rw-u\n' >badtlb.txt
run repro badtlb.txt
expect "caches bug= with an unknown bug" 2 --err 'bug=no_such_bug' --err 'leaf_only'
run_bin env PTSIM_TLB_FUZZ_BUG=no_such_bug "$FUZZ/tlb_fuzzer" "$WORK/badtlb.txt"
expect "tlb_fuzzer: an unknown PTSIM_TLB_FUZZ_BUG" 2 --err "unknown PTSIM_TLB_FUZZ_BUG 'no_such_bug' \(known: none, leaf_only, forget_global, wrong_asid\)"
run_bin "$FUZZ/race_fuzzer" --inject=no-such-bug "$WORK/badtlb.txt"
expect "race_fuzzer --inject with an unknown bug" 2 --err "unknown bug 'no-such-bug'" --err 'publish-before-zero'
run_bin env PTSIM_INJECT=no-such-bug "$FUZZ/race_fuzzer" "$WORK/badtlb.txt"
expect "race_fuzzer: an unknown PTSIM_INJECT" 2 --err "unknown bug 'no-such-bug'"
run_bin "$FUZZ/race_fuzzer" --injekt=gup-double-read "$WORK/badtlb.txt"
expect "race_fuzzer: a misspelt option is refused" 2 --err "unknown option '--injekt=gup-double-read'"

# --- --help: every fuzz target, and only files that exist -----------------------
for t in ops_fuzzer diff_fuzzer race_fuzzer tlb_fuzzer image_fuzzer; do
  [[ -x $FUZZ/$t ]] || continue
  run_bin "$FUZZ/$t" --help
  expect "$t --help prints usage and exits 0" 0 --out "^Usage: $t " --out 'libFuzzer'
  cp out "help-$t.txt"
done
for sub in formats repro decode encode image dump translate diff stress bugs "oracle qemu"; do
  # shellcheck disable=SC2086
  run $sub --help
  cp out "help-${sub// /-}.txt"
done
missing=()
for h in help-*.txt; do
  while IFS= read -r path; do
    [[ -e $SRC/$path ]] || missing+=("$h: $path")
  # Placeholders such as bugs/NAME.txt are not files.
  done < <(grep -oE '(corpus|fuzz|tools|docs|src|tests)/[A-Za-z0-9_./-]+\.(txt|sh|md|h|cc|options)' "$h" |
    grep -vE '/[A-Z]+\.[a-z]+$' | sort -u)
done
if ((${#missing[@]} == 0)); then
  pass "every --help names only files that exist"
else
  fail "every --help names only files that exist" "${missing[*]}"
fi

summary
