#!/usr/bin/env bash
# End-to-end test of `ptsim campaign` without building a fuzzer: small fake
# fuzz targets (fake_fuzzer.sh, which talks like libFuzzer) stand in for the
# real ones. Checks that a campaign ends (loosely: within its budget plus
# 30 s, never a tight bound), the table and the JSON, that crash files with
# one signature are one finding and replay with the printed command, the
# statuses (ok, finding, skipped, error, overran, interrupted), the exit
# codes 0/1/2/3/130 and the usage errors.
#
# Usage: campaign_test.sh PTSIM_BINARY SOURCE_DIR
set -euo pipefail

PTSIM=$(realpath "${1:?usage: campaign_test.sh PTSIM_BINARY SOURCE_DIR}")
SRC=$(realpath "${2:?usage: campaign_test.sh PTSIM_BINARY SOURCE_DIR}")
CLI_ERROR_LINE=1
# shellcheck source=cli_lib.sh
source "$SRC/tests/cli/cli_lib.sh"

# fake DIR NAME MODE...: a fake fuzz target DIR/NAME that behaves as MODE.
fake() {
  mkdir -p "$1"
  cp "$SRC/tests/cli/fake_fuzzer.sh" "$1/$2"
  chmod +x "$1/$2"
  echo "${*:3}" >"$1/$2.mode"
}

mkdir -p seeds/alpha_fuzzer/regressions side
printf 'seed' >seeds/alpha_fuzzer/one.bin
printf 'regression' >seeds/alpha_fuzzer/regressions/two.bin
printf '[libfuzzer]\nmax_len = 77\nmax_total_time = 999\n' >side/alpha_fuzzer.options
dirs=(--seeds-dir seeds --work-dir work --side-files-dir side)

# --- a clean campaign --------------------------------------------------------
fake clean alpha_fuzzer clean
fake clean beta_fuzzer clean
start=$SECONDS
run campaign --fuzz-dir clean "${dirs[@]}" --seconds 3 --jobs 2 --json
expect "clean campaign: exit 0" 0 --err 'alpha_fuzzer +[0-9]+s left' --err "'max_total_time' is controlled"
json_check "clean campaign: JSON" "j['exit_code'] == 0 and j['findings'] == 0 and j['finding_groups'] == []
  and [t['name'] for t in j['targets']] == ['alpha_fuzzer', 'beta_fuzzer']
  and all(t['status'] == 'ok' and t['executions'] > 0 and t['exec_per_sec'] > 0 for t in j['targets'])
  and j['budget_seconds'] == 3 and j['seconds_per_target'] == 3 and j['jobs'] == 2 and j['build_seconds'] is None"
json_check "clean campaign: the fuzzing ended within its budget (+30 s)" "j['fuzz_seconds'] < 33"
((SECONDS - start < 60)) && pass "clean campaign: the command ended" || fail "clean campaign" "took $((SECONDS - start))s"
json_check "clean campaign: seeds copied in, corpus merged down" \
  "all(t['corpus_before_merge'] >= 3 and t['corpus'] == 2 and '-merge=1' in t['merge'] for t in j['targets'][:1])"
if grep -q -- '-max_len=77' work/alpha_fuzzer/libfuzzer.log && ! grep -q -- '-max_total_time=999' work/alpha_fuzzer/libfuzzer.log; then
  pass "clean campaign: options file applied, reserved flag ignored"
else
  fail "clean campaign: options file" "$(head -1 work/alpha_fuzzer/libfuzzer.log)"
fi
run campaign --fuzz-dir clean "${dirs[@]}" --seconds 2 --build-seconds 12 alpha_fuzzer
expect "clean campaign: table" 0 --out '^target +status +seconds +executions' --out '^alpha_fuzzer +ok ' \
  --out 'of a 2s budget \(build 12s before it\)'

# --- findings, grouped by signature -----------------------------------------
bugs=$SRC/corpus/race_fuzzer/bugs
printf 'FAKE-BUG: other-check\n' >bug_a
fake found race_fuzzer crash "$bugs/reclaim-no-recheck.txt" "$bugs/gup-double-read.txt" "$bugs/reclaim-no-recheck.txt"
fake found other_fuzzer crash "$WORK/bug_a" "$WORK/bug_a"
fake found zeta_fuzzer clean
run campaign --fuzz-dir found "${dirs[@]}" --seconds 20 --jobs 2 --json other_fuzzer race_fuzzer
expect "findings: exit 1" 1 --err 'findings: 5 file\(s\), 3 distinct signature\(s\)'
json_check "findings: three groups of five files" "j['findings'] == 5 and len(j['finding_groups']) == 3
  and sorted(g['count'] for g in j['finding_groups']) == [1, 2, 2]
  and all(g['reproduced'] and g['first_file'] == g['files'][0] for g in j['finding_groups'])"
json_check "findings: race signatures from ptsim repro, the other from the target's output" "
  {g['signature'] for g in j['finding_groups'] if g['target'] == 'other_fuzzer'} == {'other-check'}
  and all('-' in g['signature'] and ' repro ' in g['repro'] for g in j['finding_groups'] if g['target'] == 'race_fuzzer')
  and len({g['signature'] for g in j['finding_groups'] if g['target'] == 'race_fuzzer'}) == 2"
json_check "findings: every artifact named with its signature" \
  "all(a['signature'] for t in j['targets'] for a in t['artifacts'])"
repro=$(python3 -c "import json; print([g for g in json.load(open('out'))['finding_groups'] if g['target'] == 'race_fuzzer'][0]['repro'])")
rc=0
(cd / && eval "$repro") >repro.out 2>&1 || rc=$?
((rc == 1)) && grep -q 'Assertion failure' repro.out && pass "findings: the printed repro line reproduces from /" ||
  fail "findings: repro line" "'$repro' exited $rc"
run campaign --fuzz-dir found "${dirs[@]}" --seconds 20 --jobs 1 other_fuzzer zeta_fuzzer
expect "findings: the rest is skipped, exit 1" 1 --out '^other_fuzzer +finding' --out '^zeta_fuzzer +skipped' \
  --out '\[1\] other_fuzzer: other-check  \(2 files\)'

# --- AFL++: -M/-S instances, statistics, crash files, afl-cmin ------------
mkdir -p aflbin
cp "$SRC/tests/cli/fake_afl.sh" aflbin/afl-fuzz
cp "$SRC/tests/cli/fake_afl.sh" aflbin/afl-cmin
chmod +x aflbin/*
fake afl race_fuzzer crash "$bugs/reclaim-no-recheck.txt" "$bugs/reclaim-no-recheck.txt"
fake afl alpha_fuzzer clean
rc=0
PATH="$WORK/aflbin:$PATH" "$PTSIM" campaign --engine afl --workers 2 --fuzz-dir afl "${dirs[@]}" --seconds 3 \
  --json >out 2>err || rc=$?
expect "afl: exit 1" 1 --err 'afl-fuzz -V 3 .* -M main' --err 'afl-fuzz -V 3 .* -S sec1'
json_check "afl: statistics of both instances, one finding of two files, corpus through afl-cmin" "
  j['engine'] == 'afl' and j['workers'] == 2 and [t['status'] for t in j['targets']] == ['ok', 'finding']
  and all(t['executions'] > 0 for t in j['targets']) and len(j['finding_groups']) == 1
  and j['finding_groups'][0]['count'] == 2 and j['finding_groups'][0]['reproduced']
  and all(t['corpus'] == 2 and 'afl-cmin' in t['merge'] for t in j['targets'])"
[[ -s work/alpha_fuzzer/afl-sec1.log ]] && pass "afl: one log per instance" || fail "afl: logs" "no afl-sec1.log"

# --- fuzzers that fail ------------------------------------------------------
fake failing broken_fuzzer fail
run campaign --fuzz-dir failing "${dirs[@]}" --seconds 5 --json
expect "error: exit 3" 3 --err 'fake: cannot start'
json_check "error: status" "j['targets'][0]['status'] == 'error' and j['targets'][0]['exit_code'] == 3"
fake stuck stubborn_fuzzer stubborn
rc=0
PTSIM_FUZZ_GRACE_SECONDS=1 "$PTSIM" campaign --fuzz-dir stuck "${dirs[@]}" --seconds 1 --json >out 2>err || rc=$?
expect "overran: killed, exit 3" 3 --err 'did not stop 1s after SIGTERM'
json_check "overran: status" "j['targets'][0]['status'] == 'overran'"

# --- interrupted ------------------------------------------------------------
fake long slow_fuzzer clean
"$PTSIM" campaign --fuzz-dir long "${dirs[@]}" --seconds 600 --json >out 2>err &
pid=$!
for _ in $(seq 300); do
  grep -q '^#' work/slow_fuzzer/libfuzzer.log 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
expect "interrupted: exit 130" 130 --err 'interrupted; stopping fuzzers'
json_check "interrupted: summary printed" "j['interrupted'] and j['targets'][0]['status'] == 'interrupted'"

# --- usage errors -----------------------------------------------------------
run campaign --help
expect "campaign --help" 0 --out 'Usage:' --out 'Exit status:' --out 'Examples:'
for bad in "--seconds 0" "--seconds nan" "--jobs 0" "--engine honggfuzz" "--workers 0" "--frobnicate" \
  "--target nosuch_fuzzer" "nosuch_fuzzer" "--fuzz-dir /nonexistent"; do
  # shellcheck disable=SC2086 # each case is several words
  run campaign --fuzz-dir clean "${dirs[@]}" $bad
  expect "usage error: $bad" 2
done
run campaign --fuzz-dir clean "${dirs[@]}" --seconds -5 --json
expect "usage error under --json" 2
json_check "usage error under --json: JSON error" "'error' in j"
mkdir -p empty
run campaign --fuzz-dir empty "${dirs[@]}"
expect "no fuzz targets: exit 3" 3 --err 'no fuzz targets'

summary
