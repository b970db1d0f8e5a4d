#!/usr/bin/env bash
# qemu_oracle_test.sh PTSIM FORMAT: ptsim's walker against QEMU's on random
# tables (ptsim oracle qemu). Exits 77 (ctest SKIP_RETURN_CODE) only when the
# QEMU binary for FORMAT is not installed; any disagreement or QEMU failure
# fails the test.
#
# PTSIM_QEMU_ORACLE_COUNT sets the number of images (default 200; the
# sanitizer presets use fewer, see tools/test.sh).
set -euo pipefail
ptsim=$1
format=$2
case "$format" in
  x86_*) qemu=qemu-system-x86_64 ;;
  riscv_sv32) qemu=qemu-system-riscv32 ;;
  riscv_*) qemu=qemu-system-riscv64 ;;
  armv8_s1_*) qemu=qemu-system-aarch64 ;;
  armv7_short) qemu=qemu-system-arm ;;
  *)
    echo "qemu_oracle_test: no QEMU binary known for format '$format'" >&2
    exit 2
    ;;
esac
if ! command -v "$qemu" >/dev/null 2>&1; then
  echo "SKIP: $qemu is not installed (tools/bootstrap.sh installs it)"
  exit 77
fi
exec "$ptsim" oracle qemu --format "$format" --count "${PTSIM_QEMU_ORACLE_COUNT:-200}" --seed 1 --quiet
