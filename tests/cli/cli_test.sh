#!/usr/bin/env bash
# End-to-end tests of the ptsim command line: every subcommand's output, JSON
# shape and exit codes (0 ok, 1 finding / problems in an image, 2 usage or
# input error), including broken inputs that must give a clear error and never
# a crash.
#
# Usage: cli_test.sh PTSIM_BINARY SOURCE_DIR
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PTSIM_BINARY SOURCE_DIR" >&2
  exit 2
fi
PTSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$2
[[ -x $PTSIM ]] || { echo "cli_test: $PTSIM is not an executable" >&2; exit 2; }

# Every ptsim error (exit 2) is also one line "ptsim: ..." on stderr.
CLI_ERROR_LINE=1
# shellcheck source=cli_lib.sh
source "$SRC/tests/cli/cli_lib.sh"

cat >prog.txt <<'EOF'
# two 2 MiB leaves, then a user write inside the first
format x86_64_4level
map 0x0 0x3fffff oa=0x200000 attrs=rw-u
access 0x1000 write user
EOF
printf 'format no_such_format\nmap 0x0 0xfff oa=0x0 attrs=rw\n' >unknown_format.txt
printf '\xff\xfe garbage \x00\x01\x02' >garbage.bin

# --- top level -------------------------------------------------------------
run --version
expect "--version" 0 --out '^ptsim 0\.1$'
run --help
expect "--help lists subcommands" 0 --out 'formats' --out 'repro' --out 'decode' --out 'encode' \
  --out 'image' --out 'dump' --out 'translate' --out 'diff'
run
expect "no subcommand is a usage error" 2
run frobnicate
expect "unknown subcommand is a usage error" 2
for sub in formats repro decode encode image dump translate diff oracle; do
  run "$sub" --help
  expect "$sub --help" 0 --out 'Usage:' --out 'Examples:'
done

# --- formats ---------------------------------------------------------------
run formats
expect "formats (human)" 0 --out '^x86_64_4level' --out 'PML4' --out 'page sizes' --out 'maxphyaddr'
run formats --json
json_check "formats --json parses and has x86_64_4level" \
  "any(f['name'] == 'x86_64_4level' and len(f['levels']) == 4 and f['entry_bytes'] == 8 for f in j)"
json_check "formats --json has ids, knobs and named bits" \
  "all(f['id'].startswith('0x') and 'knobs' in f and 'named_bits' in f for f in j)"
run formats x86_64_4level --config pdpe1gb=0 --json
json_check "formats NAME --config changes the page sizes" \
  "len(j) == 1 and [p['size'] for p in j[0]['page_sizes']] == ['0x200000', '0x1000']"
run formats no_such_format
expect "formats with an unknown name" 2 --err "unknown format 'no_such_format'" --err 'x86_64_4level'

# --- encode / decode -------------------------------------------------------
run encode prog.txt -o prog.bin
expect "encode text -> binary" 0
if [[ -s prog.bin ]] && [[ $(head -c 1 prog.bin | od -An -tu1 | tr -d ' ') == 1 ]]; then
  pass "encoded program starts with version byte 1"
else
  fail "encoded program starts with version byte 1" "prog.bin missing or wrong first byte"
fi
run decode prog.bin
expect "decode binary -> text" 0 --out '^format x86_64_4level$' --out '^map 0(x0)? 0x3fffff oa=0x200000 attrs=rw-u' \
  --out '^access 0x1000 write user$'
cp out decoded.txt
run encode decoded.txt -o prog2.bin
if ((rc == 0)) && cmp -s prog.bin prog2.bin; then
  pass "encode(decode(binary)) == binary"
else
  fail "encode(decode(binary)) == binary" "rc $rc or binaries differ"
fi
run decode decoded.txt
if ((rc == 0)) && cmp -s out decoded.txt; then
  pass "decode of text is canonical and stable"
else
  fail "decode of text is canonical and stable" "rc $rc or text differs"
fi
run decode prog.bin -o decoded2.txt
if ((rc == 0)) && cmp -s decoded.txt decoded2.txt; then
  pass "decode -o writes the same text"
else
  fail "decode -o writes the same text" "rc $rc or text differs"
fi
printf 'format x86_64_4level\nmap 0x1 0x3fffff oa=0x200000 attrs=rw\n' >unaligned.txt
run encode unaligned.txt -o unaligned.bin
expect "encode of an unrepresentable program" 2 --err 'op 1'
run decode garbage.bin
expect "decode of garbage" 2 --err 'garbage.bin'
run decode no_such_file
expect "decode of a missing file" 2 --err 'no_such_file'

# --- repro -----------------------------------------------------------------
run repro prog.txt
expect "repro of a good text program" 0 --out '=== program' --out '=== steps' --out 'every check held'
run repro prog.bin
expect "repro of a good binary program" 0 --out 'access 0x1000 write user'
run repro --json prog.bin
json_check "repro --json" \
  "j['format'] == 'x86_64_4level' and j['ok'] is True and j['divergence'] is None and len(j['steps']) >= 2 and all('op' in s and 'outcome' in s for s in j['steps']) and j['trace_hash'].startswith('0x')"
run repro --quiet prog.txt
expect "repro --quiet" 0 --out '^ok: '
run repro --max-leaves-per-op 0 prog.txt
expect "repro --max-leaves-per-op 0" 0
run repro garbage.bin
expect "repro of a garbage file" 2 --err 'garbage.bin'
run repro unknown_format.txt
expect "repro of an unknown format" 2 --err 'unknown format'
: >empty.bin
run repro empty.bin
expect "repro of an empty file" 2 --err 'empty'
run repro no_such_file
expect "repro of a missing file" 2 --err 'no_such_file'

# --- image + dump ----------------------------------------------------------
run image prog.txt -o tables.img
expect "image" 0 --out '^image 0x1000000 root 0x1000000 format x86_64_4level .*size 0x[0-9a-f]+$'
BASE=0x1000000 ROOT=0x1000000
read -r _ BASE _ ROOT _ _ <out || true
run image --json prog.txt -o tables.img
json_check "image --json" "j['image_base'] == '$BASE' and j['root'] == '$ROOT' and j['leaves'] == 2"
IMG=(--format x86_64_4level --image tables.img --image-base "$BASE" --root "$ROOT")

run dump "${IMG[@]}"
expect "dump (human)" 0 --out '^va 0x0+ +oa 0x0*200000 +2 MiB' --out '^va 0x0*200000 +oa 0x0*400000 +2 MiB'
run dump "${IMG[@]}" --json
json_check "dump --json: two 2 MiB leaves" "[(l['va'], l['oa'], l['size'], l['level']) for l in j['leaves']] == \
  [('0x0', '0x200000', '0x200000', 1), ('0x200000', '0x400000', '0x200000', 1)]"
json_check "dump --json: attrs present/write/user" \
  "all(l['attrs']['present'] and l['attrs']['write'] and l['attrs']['user'] for l in j['leaves'])"
json_check "dump --json: no problems" "j['problems'] == [] and j['problem_count'] == 0 and j['limited'] is False"
run dump "${IMG[@]}" --json --limit 1
if ((rc == 0)) && grep -q 'limit' err && python3 -c "import json; j = json.load(open('out')); assert len(j['leaves']) == 1 and j['limited']"; then
  pass "dump --limit caps the leaves with a note"
else
  fail "dump --limit caps the leaves with a note" "rc $rc"
fi

run dump "${IMG[@]}" --runs
expect "dump --runs merges the two contiguous 2 MiB leaves" 0 \
  --out '^va 0x0+-0x0*3fffff +oa 0x0*200000-0x0*5fffff +4M .*\(2 leaves\)$' --out '^# 2 leaves in 1 runs$'
run dump "${IMG[@]}" --runs --json
json_check "dump --runs --json" "[(r['va'], r['va_last'], r['oa'], r['size'], r['leaves']) for r in j['runs']] == \
  [('0x0', '0x3fffff', '0x200000', '0x400000', 2)] and 'leaves' not in j and 'priv' in j['runs'][0]['perms']"
run dump "${IMG[@]}" --dot
expect "dump --dot: the tables, and the two 2 MiB leaves as one run" 0 --out '^digraph ptsim \{$' \
  --out '^  t_[0-9a-f]+ -> t_[0-9a-f]+ \[label="\[0\]"\];$' --out '\\n4M rw.* \(2 leaves\)"\];$' \
  --out '^  t_[0-9a-f]+ -> r_0 \[label="\[0\.\.1\]"\];$' --out '^  // 3 tables, 2 leaves, 0 problems$'
if command -v dot >/dev/null; then
  if dot -Tsvg out -o dump.svg 2>dot.err && grep -q '<svg' dump.svg; then
    pass "dump --dot renders with Graphviz"
  else
    fail "dump --dot renders with Graphviz" "$(cat dot.err)"
  fi
else
  fail "dump --dot renders with Graphviz" "dot is not installed (tools/bootstrap.sh installs graphviz)"
fi
run dump "${IMG[@]}" --dot --json
expect "dump --dot excludes --json" 2 --err 'excludes'

# --- translate -------------------------------------------------------------
run translate "${IMG[@]}" --json 0x1000 0x400000
json_check "translate --json: mapped VA" "j[0]['va'] == '0x1000' and j[0]['oa'] == '0x201000' and \
  j[0]['size'] == '0x200000' and j[0]['attrs']['present'] and 'fault' not in j[0]"
json_check "translate --json: unmapped VA" "j[1]['va'] == '0x400000' and j[1]['fault']['kind'] == 'not-present' \
  and j[1]['fault']['level'] == 1 and 'oa' not in j[1]"
run translate "${IMG[@]}" 0x1000 4194304
expect "translate (human, decimal VA)" 0 --out 'oa 0x0*201000' --out 'fault not-present at level 1'
run translate "${IMG[@]}" --access w --user --walk 0x1000
expect "translate --access w --user --walk" 0 --out 'walk of 0x1000' --out 'entry@'
run translate "${IMG[@]}" --access x 0x1000
expect "translate: exec on an NX leaf faults" 0 --out 'fault permission'
run translate "${IMG[@]}" 0x800000000000
expect "translate: non-canonical VA" 0 --out 'fault non-canonical'
run translate "${IMG[@]}" nonsense
expect "translate: a VA that is not a number" 2 --err "nonsense"
before=$(cksum <tables.img || true)
run translate "${IMG[@]}" --access w --user 0x1000 0x200000
after=$(cksum <tables.img || true)
if ((rc == 0)) && [[ $before == "$after" ]]; then
  pass "translate never modifies the image"
else
  fail "translate never modifies the image" "rc $rc or image changed"
fi

# --- translate with the architecture's rules and a CPU mode ---------------
cat >rwxu.txt <<'EOF'
format x86_64_4level
map 0x400000 0x400fff oa=0x200000 attrs=rwxu
EOF
run image rwxu.txt -o rwxu.img
X86=(--format x86_64_4level --image rwxu.img --image-base 0x1000000 --root 0x1000000)
run translate "${X86[@]}" --access x 0x400000
expect "translate: a supervisor fetch of a user page without SMEP" 0 --out 'oa 0x0*200000'
run translate "${X86[@]}" --access x --mode smep=1 0x400000
expect "translate --mode smep=1: a supervisor fetch of a user page faults" 0 \
  --out 'fault permission at level 0 \(PT\): #PF error code 0x11 \[P I/D\]'
run translate "${X86[@]}" --access x --mode smep=1 --user 0x400000
expect "translate --mode smep=1 --user: a user fetch is allowed" 0 --out 'oa 0x0*200000'
run translate "${X86[@]}" --access r --mode smap=1,ac=1 --json 0x400000
json_check "translate --mode smap=1,ac=1: EFLAGS.AC lets the access through" \
  "j[0]['oa'] == '0x200000' and j[0]['mode'] == 'smap=1,ac=1' and j[0]['rules'] == 'arch'"
run translate "${X86[@]}" --access r --mode smap=1 --json 0x400000
json_check "translate --mode smap=1 --json: the fault in neutral and x86 terms" \
  "j[0]['fault']['kind'] == 'permission' and j[0]['fault']['detail'].startswith('#PF error code 0x1')"
run translate "${X86[@]}" --access x --mode smep=1 --rules neutral 0x400000
expect "translate --rules neutral refuses --mode" 2 --err 'needs --rules arch'
run translate "${X86[@]}" --rules neutral --access x 0x400000
expect "translate --rules neutral: the model's rules know no SMEP" 0 --out 'oa 0x0*200000'
run translate "${X86[@]}" --mode smep=2 0x400000
expect "translate --mode: a value out of range" 2 --err 'mode smep=2 is outside \[0, 1\]'
run translate "${X86[@]}" --mode el=0 0x400000
expect "translate --mode: another family's key" 2 --err "unknown mode key 'el' \(this format has: cpl, wp, smep"

# Linux arm64 sets PXNTable in every user table descriptor: EL0 still
# executes its pages (PXNTable limits EL1 fetches only), EL1 does not. ptsim
# encodes a user page with PXN and a kernel page with UXN, so the kernel
# page at 0x401000 shows what PXNTable adds.
cat >arm.txt <<'EOF'
format armv8_s1_4k
map 0x400000 0x400fff oa=0x200000 attrs=r-xu
map 0x401000 0x401fff oa=0x300000 attrs=r-x-
EOF
run image arm.txt -o arm.img
ARM=(--format armv8_s1_4k --image arm.img --image-base 0x1000000 --root 0x1000000)
run translate "${ARM[@]}" --access x 0x401000
expect "translate: EL1 fetches a kernel page without PXNTable" 0 --out 'oa 0x0*300000'
run dump "${ARM[@]}"
expect "dump: per-mode permissions without PXNTable" 0 --out '^va 0x0*400000 .* priv r-- user r-x$' \
  --out '^va 0x0*401000 .* priv r-x user ---$'
run translate "${ARM[@]}" --json --walk 0x400000
python3 - <<'PY' || true
import json
walk = json.load(open('out'))[0]['walk']
img = bytearray(open('arm.img', 'rb').read())
for step in walk:
    if step['kind'] != 'table':
        continue
    off = int(step['entry_addr'], 16) - 0x1000000
    raw = int.from_bytes(img[off:off + 8], 'little') | (1 << 59)  # PXNTable
    img[off:off + 8] = raw.to_bytes(8, 'little')
open('arm_pxntable.img', 'wb').write(bytes(img))
PY
ARMP=(--format armv8_s1_4k --image arm_pxntable.img --image-base 0x1000000 --root 0x1000000)
run translate "${ARMP[@]}" --user --access x --walk 0x400000
expect "translate: EL0 fetches a user page under PXNTable" 0 --out 'oa 0x0*200000' --out 'pxn_table'
run translate "${ARMP[@]}" --rules neutral --user --access x 0x400000
expect "translate --rules neutral: the neutral rules fold PXNTable into one execute bit" 0 --out 'fault permission'
run translate "${ARMP[@]}" --access x 0x401000
expect "translate: EL1 fetches under PXNTable fault" 0 \
  --out 'fault permission at level 0 \(L3\): permission fault, level 3, stage 1: IFSC 0x0f'
run translate "${ARMP[@]}" --mode el=0 --access r --json 0x400000
json_check "translate --mode el=0: EL0 reads the user page" "j[0]['oa'] == '0x200000' and j[0]['mode'] == 'el=0'"
run translate "${ARMP[@]}" --mode el=1,pan=1 --access r 0x400000
expect "translate --mode pan=1: EL1 reads of a user page fault" 0 --out 'fault permission.*DFSC 0x0f WnR=0'
run dump "${ARMP[@]}"
expect "dump: PXNTable takes EL1's execute right only" 0 --out '^va 0x0*400000 .* priv r-- user r-x$' \
  --out '^va 0x0*401000 .* priv r-- user ---$'
run dump "${ARMP[@]}" --mode pan=1 --json
json_check "dump --mode pan=1 --json: per-mode permissions" "j['leaves'][0]['perms'] == {'priv': '---', 'user': 'r-x'}"
run dump "${X86[@]}" --mode smep=1
expect "dump --mode smep=1: no supervisor execute on a user page" 0 --out 'priv rw- user rwx$'
run dump "${X86[@]}" --mode nosuch=1
expect "dump --mode: an unknown key" 2 --err "unknown mode key 'nosuch'"

cat >vtd.txt <<'EOF'
format vtd_ss_4level
map 0x400000 0x400fff oa=0x200000 attrs=rw--
EOF
run image vtd.txt -o vtd.img
VTD=(--format vtd_ss_4level --image vtd.img --image-base 0x1000000 --root 0x1000000)
run translate "${VTD[@]}" --user 0x400000
expect "translate --user on an IOMMU format" 2 --err 'vtd_ss_4level has no privilege levels'
run translate "${VTD[@]}" --access w 0x400000 0x800000
expect "translate on an IOMMU format: a write, and a fault with its reason" 0 --out 'oa 0x0*200000' \
  --out 'fault not-present at level 1 \(SS-PDE\): fault reason 5h'
run dump "${VTD[@]}" --json
json_check "dump of an IOMMU format: one request kind" "j['leaves'][0]['perms'] == {'dma': 'rw-'}"
run formats x86_64_4level
expect "formats lists the CPU mode" 0 --out 'mode \(--mode KEY=VALUE; --user is cpl=3\)' --out 'smep +0\.\.1'

# --- broken images and bad options ----------------------------------------
head -c 4096 tables.img >truncated.img || true
TRUNC=(--format x86_64_4level --image truncated.img --image-base "$BASE" --root "$ROOT")
run dump "${TRUNC[@]}"
expect "dump of a truncated image" 1 --err 'outside the image'
run dump "${TRUNC[@]}" --json
json_check "dump --json of a truncated image puts the problem in the JSON" \
  "j['leaves'] == [] and j['problem_count'] == 1 and 'outside the image' in j['problems'][0]['what']"
run translate "${TRUNC[@]}" --json 0x1000
json_check "translate of a truncated image reports outside-memory" "j[0]['fault']['kind'] == 'outside-memory'"
expect "translate of a truncated image exits 1" 1
head -c 1000 tables.img >short.img || true
run dump --format x86_64_4level --image short.img --image-base "$BASE" --root "$ROOT"
expect "dump of an image shorter than its top-level table" 2 --err "truncated: the top-level \\(PML4\\) table" \
  --err 'holds only 1000 bytes'

run dump --format x86_64_4level --image tables.img --image-base "$BASE" --root 0x5000000
expect "root outside the image" 2 --err '--root 0x5000000 is outside the image \[0x1000000, 0x[0-9a-f]+\]'
run dump --format x86_64_4level --image tables.img --image-base 0x1000800 --root "$ROOT"
expect "unaligned image base" 2 --err '--image-base 0x1000800 is not aligned'
run dump --format x86_64_4level --image tables.img --image-base "$BASE" --root 0x1000008
expect "root not aligned to the top table" 2 --err '--root 0x1000008 is not aligned'
run dump --format no_such_format --image tables.img --image-base "$BASE" --root "$ROOT"
expect "dump with an unknown format" 2 --err "unknown format 'no_such_format'" --err 'x86_64_4level'
run translate --format no_such_format --image tables.img --image-base "$BASE" --root "$ROOT" 0x1000
expect "translate with an unknown format" 2 --err "unknown format"
run dump --format x86_64_4level --config nxe=7 --image tables.img --image-base "$BASE" --root "$ROOT"
expect "dump with a bad --config value" 2 --err 'nxe'
run dump --format x86_64_4level --image no_such.img --image-base "$BASE" --root "$ROOT"
expect "dump of a missing image" 2 --err 'no_such.img'
: >empty.img
run dump --format x86_64_4level --image empty.img --root 0
expect "dump of an empty image" 2 --err 'empty'
run dump --format x86_64_4level --image tables.img --image-base "$BASE" --root banana
expect "dump with a non-numeric --root" 2 --err 'banana'
run dump --image tables.img --root "$ROOT"
expect "dump without --format" 2 --err 'format'

# --- race programs, stress, the bug catalogue --------------------------------
RACE=$SRC/corpus/race_fuzzer
run repro "$RACE/bugs/seed004-broadcast-immediate.txt"
expect "repro reports seed 004" 1 --out 'Assertion failure: x86_64_4level-gup-freed-table' \
  --out '=== interleaving' --out 'steps .* cpu1 .*gup' --out 'level 3 PML4'
run repro --quiet --free rcu "$RACE/bugs/seed004-broadcast-immediate.txt"
expect "seed 004 with RCU freeing is safe" 0 --out '^ok: '
run repro --json "$RACE/bugs/seed004-broadcast-immediate.txt"
expect "race repro --json" 1 --out '"kind": "race"' --out '"check": "freed-table"'
run repro --quiet --inject=reclaim-no-recheck "$RACE/bugs/reclaim-no-recheck.txt"
expect "an injected bug is reported" 1 --out 'quiescence-leaves'
run repro --quiet --inject=none "$RACE/bugs/reclaim-no-recheck.txt"
expect "the same program without the bug passes" 0 --out '^ok: '
run repro --inject=no-such-bug "$RACE/bugs/reclaim-no-recheck.txt"
expect "an unknown bug name is a usage error" 2 --err "unknown bug 'no-such-bug'" --err 'reclaim-no-recheck'
# Every catalogued bug's program carries its bug: plain `repro` reports it,
# from the text and from the binary compiled from it, with no options and
# with PTSIM_INJECT set (the environment is the fuzzer's, never repro's);
# with the bug set emptied, the same program is silent.
nbugs=0
while IFS= read -r name; do
  nbugs=$((nbugs + 1))
  f="$RACE/bugs/$name.txt"
  want=$(sed -n 's/^# expect: //p' "$f")
  run repro --quiet "$f"
  expect "bugs/$name.txt reports $want with no options" 1 --out "Assertion failure: .*-$want\$"
  run encode "$f" -o "$name.bin"
  expect "encode bugs/$name.txt" 0
  run decode "$name.bin"
  expect "the binary of $name names its bug" 0 --out "^race .* inject=$name\$"
  run repro --quiet "$name.bin"
  expect "the binary of $name reports $want with no options" 1 --out "Assertion failure: .*-$want\$"
  rc=0
  PTSIM_INJECT=none "$PTSIM" repro --quiet "$name.bin" >out 2>err || rc=$?
  expect "repro of $name ignores PTSIM_INJECT" 1 --out "Assertion failure: .*-$want\$"
  run repro --quiet --inject=none "$name.bin"
  expect "the binary of $name without its bug is silent" 0 --out '^ok: '
done < <("$PTSIM" bugs --json | python3 -c 'import json, sys; [print(b["name"]) for b in json.load(sys.stdin)]')
((nbugs >= 7)) && pass "$nbugs catalogued bugs replayed" || fail "catalogued bugs replayed" "only $nbugs"
# The follow-up commands repro prints work pasted anywhere: absolute paths,
# no options (the file carries its settings).
mkdir -p sub/dir
rc=0
(cd sub/dir && "$PTSIM" repro ../../gup-double-read.bin) >out 2>err || rc=$?
expect "repro prints absolute follow-up commands" 1 \
  --out "^  /[^ ]*/race_fuzzer -minimize_crash=1 -runs=10000 $WORK/gup-double-read.bin\$" \
  --out "^  /[^ ]*/ptsim decode $WORK/gup-double-read.bin\$"
if grep -q -- '^  .*--inject' out; then
  fail "the printed commands need no options" "$(grep -- '--inject' out)"
else
  pass "the printed commands need no options"
fi
decode_cmd=$(sed -n 's/^  \(\/.* decode .*\)$/\1/p' out)
rc=0
(cd / && bash -c "$decode_cmd") >out 2>err || rc=$?
expect "the printed decode command works from /" 0 --out '^race .* inject=gup-double-read$'
rc=0
(cd sub && "$PTSIM" repro "$RACE/bugs/gup-double-read.txt") >out 2>err || rc=$?
expect "a text finding's commands encode it first" 1 \
  --out "^  /[^ ]*/ptsim encode $RACE/bugs/gup-double-read.txt -o gup-double-read.bin && /[^ ]*/race_fuzzer -minimize_crash=1"
run encode "$RACE/bugs/seed004-broadcast-immediate.txt" -o seed004.bin
expect "encode seed 004" 0
run repro --quiet seed004.bin
expect "the binary of seed 004 carries the unsafe pairing" 1 --out 'Assertion failure: x86_64_4level-gup-freed-table'
run repro --quiet --free=rcu seed004.bin
expect "seed 004's binary with RCU freeing is safe" 0 --out '^ok: '
run repro --quiet --allow-unsafe seed004.bin
expect "--allow-unsafe is accepted and says it is not needed" 1 --err 'no longer needed'
# Version 1 race binaries ('R' first) did not carry their settings.
printf 'R\x01\x02\x03\x04\x00\x00\x00\x00\x00' >v1.bin
run repro v1.bin
expect "repro of a version 1 race binary" 2 --err 'version 1 race binary' --err 'version 2'
run decode v1.bin
expect "decode of a version 1 race binary" 2 --err 'version 1 race binary'
printf 'format x86_64_4level\nrace cpus=2 inject=no-such-bug\n' >bad_inject.txt
run repro bad_inject.txt
expect "a race line naming an unknown bug" 2 --err 'line 2' --err "unknown bug 'no-such-bug'"
while IFS= read -r -d '' f; do
  run repro --check-determinism "$f"
  expect "determinism of ${f#"$SRC"/}" 0 --out '^deterministic: '
done < <(find "$RACE" -name '*.txt' -type f -print0 | sort -z)
printf 'format x86_64_4level\nrace cpus=2\ncpu5 unpin\n' >bad_race.txt
run repro bad_race.txt
expect "a race program naming a missing CPU" 2 --err 'cpu5'
printf 'format x86_64_4level\nrace cpus=2\ncpu0 populate s0 0x1000 0x1fff oa=0x1000 attrs=rw size_lg2=21\n' >off_grid.txt
run repro off_grid.txt
expect "a populate off the format's leaf sizes" 2 --err 'op 1'
run encode "$RACE/bugs/seed004-broadcast-immediate.txt" -o race.bin
expect "encode a race program" 0
run decode race.bin
expect "decode a race program" 0 --out '^race cpus=2 free=immediate shootdown=broadcast'
head -c 9 race.bin >trunc.bin
run repro --quiet trunc.bin
expect "a truncated race binary still runs" 0 --out '^ok: '
run stress --format x86_64_4level --threads 2 --seconds 0.3 --json
expect "stress --json" 0 --out '"ops_per_second"' --out '"ok": true'
run stress --format nope --seconds 0.1
expect "stress with an unknown format" 2 --err "unknown format 'nope'"
run stress --format x86_64_4level --threads 9
expect "stress with too many threads" 2 --err 'threads'
run bugs --json
expect "bugs --json" 0 --out '"name": "gup-no-fork-seq"' --out '"mirrors"'
# --- programs with caches attached (tlb_fuzzer's) ---------------------------
# Each planted-bug program carries its invalidator bug in its caches line:
# plain repro reports it from the text and from the binary; without the bug
# it is silent.
TLB=$SRC/corpus/tlb_fuzzer
ntlb=0
for f in "$TLB"/bugs/*.txt; do
  ntlb=$((ntlb + 1))
  name=$(basename "$f" .txt)
  run repro --quiet "$f"
  expect "tlb bugs/$name.txt reports with no options" 1 --out 'Assertion failure: .*-stale-tlb$'
  run encode "$f" -o "tlb_$name.bin"
  expect "encode tlb bugs/$name.txt" 0
  if [[ $(head -c 1 "tlb_$name.bin" | od -An -tu1 | tr -d ' ') == 2 ]]; then
    pass "a program with caches encodes as version 2"
  else
    fail "a program with caches encodes as version 2" "first byte of tlb_$name.bin"
  fi
  run decode "tlb_$name.bin"
  expect "the binary of tlb $name names its bug" 0 --out "^caches tlb noncoherent bug=$name\$"
  run repro --quiet "tlb_$name.bin"
  expect "the binary of tlb $name reports with no options" 1 --out 'Assertion failure: .*-stale-tlb$'
  sed 's/ bug=[a-z_]*//' "$f" >"tlb_${name}_fixed.txt"
  run repro --quiet "tlb_${name}_fixed.txt"
  expect "tlb $name without the bug is silent" 0 --out '^ok: '
done
((ntlb >= 3)) && pass "$ntlb planted invalidator bugs replayed" || fail "planted invalidator bugs replayed" "only $ntlb"
run repro tlb_leaf_only.bin
expect "repro of a tlb finding prints tlb_fuzzer's minimise command" 1 --out '=== after op [0-9]+ .*: stale-tlb' \
  --out "^  /[^ ]*/tlb_fuzzer -minimize_crash=1 -runs=10000 $WORK/tlb_leaf_only.bin\$"
run repro --json tlb_leaf_only.bin
json_check "repro --json of a tlb finding" \
  "j['kind'] == 'caches' and j['invalidator_bug'] == 'leaf_only' and j['finding']['check'] == 'stale-tlb'"
for f in "$TLB"/*.txt; do
  run repro --quiet "$f"
  expect "tlb seed ${f#"$SRC"/} is silent" 0 --out '^ok: '
done
printf 'format x86_64_4level\ncaches noncoherent bug=leaf_only\n' >bad_caches.txt
run repro bad_caches.txt
expect "a planted bug without the TLB" 2 --err 'line 2' --err 'needs the TLB'
# --- diff ------------------------------------------------------------------
run diff --formats x86_64_4level,riscv_sv39 prog.txt
expect "diff of two agreeing formats" 0 --out 'x86_64_4level +compared 2/2 ops' --out 'riscv_sv39 +compared 2/2 ops' \
  --out 'no differences'
run diff --formats all prog.bin
expect "diff --formats all of a binary program" 0 --out 'fake +compared 2/2 ops' \
  --out 'x86_32 +compared 0/2 ops; stops: op 1: skipped: more leaves than the per-op limit'
run diff --formats x86_32,x86_pae,armv8_s1_4k --json prog.txt
json_check "diff --json" \
  "j['ok'] is True and j['frame'] == 'x86_64_4level' and [f['name'] for f in j['formats']] == ['x86_32', 'x86_pae', 'armv8_s1_4k'] and j['differences'] == [] and j['divergence'] is None and len(j['ops']) == 2 and set(j['ops'][0]['outcomes']) == {'x86_32', 'x86_pae', 'armv8_s1_4k'}"
printf '# nxe=0 only in the frame: exec differs, as the formats declare it may\nformat x86_64_4level\nconfig nxe=0\nmap 0x0 0x1fff oa=0x0 attrs=rw--\naccess 0x0 exec\n' >nxe.txt
run diff --formats x86_64_4level,x86_64_5level nxe.txt
expect "diff: a declared attribute difference is not reported" 0 --out 'no differences'
run diff --formats x86_64_4level,no_such_format prog.txt
expect "diff with an unknown format" 2 --err "unknown format 'no_such_format'"
run diff --formats x86_64_4level prog.txt
expect "diff with one format" 2 --err 'at least two formats'
run diff --formats x86_32,x86_32 prog.txt
expect "diff naming a format twice" 2 --err "'x86_32' is named twice"
run diff --formats all garbage.bin
expect "diff of a garbage file" 2 --err 'garbage.bin'
run diff --formats all unknown_format.txt
expect "diff of a program with an unknown frame" 2 --err 'unknown format'
run diff --formats all --max-differences 0 prog.txt
expect "diff --max-differences 0" 2 --err 'max-differences'
run diff --formats all no_such_file
expect "diff of a missing file" 2 --err 'no_such_file'

# --- oracle qemu (usage only; tests/oracle runs QEMU) -----------------------
run oracle qemu --help
expect "oracle qemu --help" 0 --out 'Usage:' --out 'Examples:' --out 'gva2gpa'
run oracle
expect "oracle without a subcommand" 2
run oracle qemu --format no_such_format
expect "oracle qemu, unknown format" 2 --err "unknown format 'no_such_format'" --err 'x86_64_4level'
run oracle qemu --format fake
expect "oracle qemu, a format QEMU has no walker for" 2 --err 'does not cover' --err 'riscv_sv39'
run oracle qemu --format x86_32 --config pse=9
expect "oracle qemu, bad config" 2 --err 'pse'
run oracle qemu --format x86_32 --count 0
expect "oracle qemu --count 0" 2 --err 'count'

# --- every text seed in the corpus decodes and encodes ----------------------
# (the build compiles seeds with `ptsim encode`; corpus/<target>/**/*.txt)
seeds=0
while IFS= read -r -d '' seed; do
  seeds=$((seeds + 1))
  name=${seed#"$SRC"/}
  run decode "$seed"
  expect "decode seed $name" 0 --out '^format '
  run encode "$seed" -o seed.bin
  expect "encode seed $name" 0
done < <(find "$SRC/corpus" -mindepth 2 -name '*.txt' -type f -print0 2>/dev/null | sort -z)
echo "($seeds corpus text seeds checked)"

summary
