#!/usr/bin/env bash
# tools/bootstrap.sh — install the Debian 12 packages that ptsim's build, tests, fuzzers and
# benchmarks need.
#
# Idempotent and silent when there is nothing to do, so tools/test.sh and tools/run.sh call it on
# every run. The Dockerfile runs this same script, so the image and a bare machine cannot drift.
# Stand-alone on purpose (no tools/lib.sh): the Dockerfile copies only this file before the tree.
#
# Usage: tools/bootstrap.sh [--check] [--help]
#   --check   only report; exit 1 if something is missing, install nothing.
set -euo pipefail

# Everything ptsim needs. Adding a dependency is one line here.
PTSIM_PACKAGES=(
  cmake ninja-build g++ clang-14 libclang-rt-14-dev # compilers; clang-rt has sanitizers + libFuzzer
  llvm-14                                          # llvm-symbolizer for sanitizer stack traces
  libabsl-dev libcli11-dev                         # libraries used by src/ and the CLI
  libgtest-dev libgmock-dev googletest             # unit tests
  libbenchmark-dev                                 # bench/
  afl++                                            # tools/run.sh --engine afl
  git python3 ca-certificates                      # tooling
)

check_only=0
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    *)
      echo "bootstrap: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not Debian: do not fail here, a later build step reports what is really missing.
  echo "bootstrap: warning: no dpkg on this machine; install the equivalents of:" >&2
  echo "bootstrap:   ${PTSIM_PACKAGES[*]}" >&2
  exit 0
fi

# dpkg-query is local and fast; apt is only touched when something is actually missing.
missing=()
for pkg in "${PTSIM_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [[ $status != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((check_only)); then
  echo "bootstrap: missing packages: ${missing[*]}" >&2
  exit 1
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "bootstrap: error: missing packages (${missing[*]}), and this is neither root nor has sudo" >&2
  exit 1
fi

echo "bootstrap: installing: ${missing[*]}" >&2
# `env` inside sudo: sudo resets the environment, and apt must never stop to ask questions.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"

# apt can succeed while leaving a package unconfigured; say so now rather than in a build error.
for pkg in "${missing[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [[ $status != installed ]]; then
    echo "bootstrap: error: $pkg is still not installed" >&2
    exit 1
  fi
done
echo "bootstrap: done" >&2
