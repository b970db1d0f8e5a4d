# shellcheck shell=bash
# tools/lib.sh — small helpers shared by tools/test.sh and tools/run.sh. Sourced, not executed.
#
# tools/bootstrap.sh deliberately does not use this file: the Dockerfile copies bootstrap.sh on
# its own (so the package layer stays cached while sources change) and it must run stand-alone.

# Repository root, whatever the caller's working directory.
PTSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PTSIM_ROOT

# Colour only for a terminal, and never when the user opted out (https://no-color.org).
if [[ -t 2 && -z ${NO_COLOR-} ]]; then
  _ptsim_bold=$'\e[1m' _ptsim_red=$'\e[31m' _ptsim_yellow=$'\e[33m' _ptsim_off=$'\e[0m'
else
  _ptsim_bold='' _ptsim_red='' _ptsim_yellow='' _ptsim_off=''
fi

# All diagnostics go to stderr, so a script's stdout can carry machine-readable output.
ptsim_log() { printf '%s\n' "$*" >&2; }
ptsim_warn() { printf '%swarning:%s %s\n' "$_ptsim_yellow" "$_ptsim_off" "$*" >&2; }
ptsim_error() { printf '%serror:%s %s\n' "$_ptsim_red" "$_ptsim_off" "$*" >&2; }

# ptsim_die [--code N] MESSAGE...: report and exit (status 1 unless --code is given).
ptsim_die() {
  local code=1
  if [[ ${1-} == --code ]]; then
    code=$2
    shift 2
  fi
  ptsim_error "$*"
  exit "$code"
}

# A visible separator between the stages of a long run.
ptsim_header() {
  printf '\n%s==> %s%s\n' "$_ptsim_bold" "$*" "$_ptsim_off" >&2
}

ptsim_nproc() {
  nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1
}

# Installs missing packages (a fast no-op when everything is there). PTSIM_SKIP_BOOTSTRAP=1 skips
# it, for machines that are not Debian or are provisioned some other way.
ptsim_bootstrap() {
  if [[ ${PTSIM_SKIP_BOOTSTRAP-0} == 1 ]]; then
    return 0
  fi
  bash "$PTSIM_ROOT/tools/bootstrap.sh"
}

# Sanitizer runtimes print raw addresses unless they find `llvm-symbolizer` on PATH. Debian's
# llvm-14 package installs it only as llvm-symbolizer-14 and under /usr/lib/llvm-14/bin, so append
# that directory when needed. Appending (not prepending) keeps every other tool resolution as is.
ptsim_ensure_symbolizer() {
  if command -v llvm-symbolizer >/dev/null 2>&1; then
    return 0
  fi
  if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
    PATH="$PATH:/usr/lib/llvm-14/bin"
    export PATH
  fi
}

# ptsim_is_uint VALUE: true for a non-negative decimal integer.
ptsim_is_uint() {
  [[ $1 =~ ^[0-9]+$ ]]
}

# ptsim_is_positive VALUE: true for a decimal integer > 0 (at most 9 digits, so bash arithmetic
# cannot overflow on it).
ptsim_is_positive() {
  [[ $1 =~ ^[0-9]{1,9}$ ]] && ((10#$1 > 0))
}
