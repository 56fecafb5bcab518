#!/usr/bin/env bash
# A stock 9P2000.L client against a hosted hive: diod's `diodcat` and `diodls` (Debian package
# `diod`, written outside this project) attach with the queen ticket in `aname` and no afid
# (docs/interfaces.md §3.2), list `/` and read `/proc/boot`; a ticket with one MAC digit
# changed must be refused. Exits non-zero on any difference.
#
#   scripts/interop-9p.sh            (COHSH=<cohsh binary> skips building cohsh)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in diodcat diodls; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "interop-9p: $tool not found; install Debian's diod (scripts/setup.sh does)" >&2
        exit 1
    }
done
if [[ -z "${COHSH:-}" ]]; then
    cargo build -q -p cohsh
    COHSH="${CARGO_TARGET_DIR:-target}/debug/cohsh"
fi

state="$(mktemp -d)"
serve_pid=""
cleanup() {
    if [[ -n "$serve_pid" ]]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    rm -rf "$state"
}
trap cleanup EXIT

"$COHSH" serve --console-addr 127.0.0.1:0 --ninep-addr 127.0.0.1:0 --state-dir "$state" \
    --memory-store --no-agents --quiet >/dev/null 2>&1 &
serve_pid=$!
for _ in $(seq 100); do
    [[ -s "$state/attach.env" && -s "$state/queen.ticket" ]] && break
    sleep 0.1
done
# shellcheck disable=SC1091
source "$state/attach.env"
server="$COHESIX_HOST:$COHESIX_NINEP_PORT"
ticket="$(cat "$state/queen.ticket")"

fail() {
    echo "interop-9p: $*" >&2
    exit 1
}

listing="$(timeout 10 diodls -s "$server" -a "$ticket" /)" || fail "diodls / failed"
grep -qx proc <<<"$listing" || fail "diodls / does not list proc: $listing"
boot="$(timeout 10 diodcat -s "$server" -m 8192 -a "$ticket" /proc/boot)" || fail "diodcat failed"
grep -qx "platform=hosted" <<<"$boot" || fail "/proc/boot lacks platform=hosted: $boot"

last="${ticket: -1}"
forged="${ticket%?}$([[ "$last" == 0 ]] && echo 1 || echo 0)"
if timeout 10 diodcat -s "$server" -m 8192 -a "$forged" /proc/boot >/dev/null 2>&1; then
    fail "a forged ticket in aname was accepted"
fi
echo "interop-9p: diodls and diodcat attach with the ticket in aname; a forged ticket is refused"
