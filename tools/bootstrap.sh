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
  libabsl-dev libcli11-dev nlohmann-json3-dev      # libraries used by src/ and the CLI
  libboost-context-dev                             # fibers of the deterministic scheduler
  libgtest-dev libgmock-dev googletest             # unit tests
  libbenchmark-dev                                 # bench/
  afl++                                            # tools/run.sh --engine afl
  qemu-system-x86 qemu-system-misc qemu-system-arm # ptsim oracle qemu (misc has RISC-V)
  graphviz                                         # renders ptsim dump --dot (the CLI tests check it)
  git python3 ca-certificates                      # tooling
  python3-yaml                                     # tests/cflite/cflite_files_test.py
  zip unzip                                        # seed zips of tools/cflite_check.sh
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

# missing_packages: prints the packages of PTSIM_PACKAGES that are not fully installed. One local
# dpkg-query call (it exits non-zero for unknown names; the others are still listed), so the
# common nothing-to-do case takes milliseconds and never touches apt or the network.
missing_packages() {
  local -A installed=()
  local name status pkg
  while read -r name status; do
    [[ $status == installed ]] && installed[$name]=1
  done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PTSIM_PACKAGES[@]}" 2>/dev/null || true)
  for pkg in "${PTSIM_PACKAGES[@]}"; do
    [[ -n ${installed[$pkg]-} ]] || echo "$pkg"
  done
}

mapfile -t missing < <(missing_packages)

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
mapfile -t still_missing < <(missing_packages)
if ((${#still_missing[@]})); then
  echo "bootstrap: error: still not installed: ${still_missing[*]}" >&2
  exit 1
fi
echo "bootstrap: done" >&2
