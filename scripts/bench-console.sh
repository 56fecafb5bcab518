#!/usr/bin/env bash
# Measures the QEMU virt image: its size, boot to `listening` (host wall clock from QEMU
# launch), and N console round trips (`ping` to `OK PING`, one at a time) over the forwarded
# TCP console, reported as p50/p99. A measurement, not a test: it fails only if the image does
# not boot or answer.
#
#   scripts/bench-console.sh          1000 round trips
#   scripts/bench-console.sh 5000     another count
#   scripts/bench-console.sh --no-build 1000
#
# Extra options after the count are passed to scripts/boot-qemu.sh (e.g. --ninep-port 5640).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=1
case "${1:-}" in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --no-build) BUILD=0; shift ;;
esac
COUNT="${1:-1000}"
shift || true

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ $BUILD == 1 ]]; then
    "$ROOT/scripts/build-image.sh" --quiet | tee "$WORK/build.txt"
fi
"$ROOT/scripts/boot-qemu.sh" --no-build --bench "$COUNT" --run-dir "$WORK/run" "$@" \
    | tee "$WORK/boot.txt"

IMAGE="${COHESIX_IMAGE_DIR:-$ROOT/target/image}/cohesix-qemu-virt"
echo
echo "== cohesix QEMU virt benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(qemu-system-aarch64 --version | head -1))"
echo "image:        $(stat -c %s "$IMAGE.bin") bytes loadable, $(stat -c %s "$IMAGE.elf") bytes ELF"
echo "boot:         $(grep -o 'boot to listening: .*' "$WORK/boot.txt")"
echo "round trips:  $(grep -o 'console round trips: .*' "$WORK/boot.txt" | sed 's/console round trips: //')"
