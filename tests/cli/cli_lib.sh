# Helpers for the command-line test scripts (sourced): a scratch directory,
# PASS/FAIL lines, running ptsim with its output captured, and checks of the
# exit code, the output and JSON. The caller sets PTSIM before sourcing; the
# summary line is always the last line, also when a script dies part-way.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ptsim-cli-test.XXXXXX")
passed=0
failed=0
summarised=0
finish() {
  local status=$?
  if ((!summarised)); then
    echo "FAIL  the test script stopped early (exit status $status)"
    echo "$passed passed, $((failed + 1)) failed"
    status=1
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap finish EXIT
cd "$WORK"

pass() { passed=$((passed + 1)); echo "PASS  $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL  $1: $2"
  for f in out err; do
    if [[ -s $f ]]; then
      echo "  --- $f:"
      sed -e 's/^/  | /' "$f" | head -20
    fi
  done
}

# run CMD...: runs ptsim with stdout in ./out, stderr in ./err; sets $rc.
run() {
  rc=0
  "$PTSIM" "$@" >out 2>err || rc=$?
}
# run_bin BINARY ARGS...: the same for another program.
run_bin() {
  rc=0
  "$@" >out 2>err || rc=$?
}

# expect NAME RC [--out REGEX]... [--err REGEX]...: checks the last run.
expect() {
  local name=$1 want=$2
  shift 2
  if ((rc != want)); then
    fail "$name" "exit code $rc, expected $want"
    return
  fi
  while (($#)); do
    local where=$1 re=$2
    shift 2
    local file=${where#--}
    if ! grep -Eq -- "$re" "$file"; then
      fail "$name" "$file does not match /$re/"
      return
    fi
  done
  # With CLI_ERROR_LINE set, errors are one line each, prefixed with the
  # program's name.
  if [[ -n ${CLI_ERROR_LINE:-} ]] && ((want == 2)) && ! grep -q '^ptsim: ' err; then
    fail "$name" "no 'ptsim: ...' error line on stderr"
    return
  fi
  pass "$name"
}

# json_check NAME PYTHON-EXPR: `out` must be JSON and the expression (over
# `j`) true.
json_check() {
  local name=$1 expr=$2
  if ! python3 -m json.tool out >/dev/null 2>json.err; then
    fail "$name" "stdout is not JSON: $(head -1 json.err)"
    return
  fi
  if ! python3 -c "import json,sys; j=json.load(open('out')); sys.exit(0 if ($expr) else 1)" 2>json.err; then
    fail "$name" "JSON check failed: $expr $(head -1 json.err)"
    return
  fi
  pass "$name"
}

# summary: the last line; the exit status says whether everything passed.
summary() {
  summarised=1
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
