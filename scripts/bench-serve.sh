#!/usr/bin/env bash
# Measures a hosted hive (`cohsh serve`) with many workers attached: starts it on loopback
# with a manifest sized for them, spawns them through the console in batches of 1,000, waits
# until every one is ONLINE, then samples the process's CPU time (utime + stime from
# /proc/<pid>/stat) over a window and reports it as a percentage of one core, with its
# threads, open file descriptors and resident memory. A measurement, not a test: it fails only
# if the hive does not start or the workers do not all come ONLINE.
#
#   scripts/bench-serve.sh                    10,000 workers, 5 s heartbeats, 20 s window
#   scripts/bench-serve.sh 10000 1000 30      workers, heartbeat_ms, window seconds
#
# Linux only (/proc). Loopback only: the hive binds 127.0.0.1 on free ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
WORKERS="${1:-10000}"
HEARTBEAT_MS="${2:-5000}"
WINDOW_S="${3:-20}"

cd "$ROOT"
cargo build --release -p cohsh --quiet
COHSH="$ROOT/target/release/cohsh"

WORK="$(mktemp -d)"
SERVE_PID=""
cleanup() {
    if [[ -n $SERVE_PID ]]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The shipped manifest with room for the fleet.
CAP=$(( (WORKERS + 1023) / 1024 * 1024 + 1024 ))
sed -e "s/^workers_max = [0-9]*/workers_max = $CAP/" \
    -e "/^\[sessions\]/,/^\[/ s/^max = [0-9]*/max = $CAP/" \
    configs/hive.toml > "$WORK/hive.toml"

CONSOLE_PORT=$(( 20000 + RANDOM % 20000 ))
NINEP_PORT=$(( CONSOLE_PORT + 1 ))
"$COHSH" serve --state-dir "$WORK/state" --manifest "$WORK/hive.toml" \
    --console-port "$CONSOLE_PORT" --ninep-addr "127.0.0.1:$NINEP_PORT" \
    --heartbeat-ms "$HEARTBEAT_MS" > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
cohsh_run() {
    "$COHSH" --state-dir "$WORK/state" --port "$CONSOLE_PORT" --connect-attempts 40 "$@"
}

left=$WORKERS
script="$WORK/spawn.coh"
: > "$script"
while (( left > 0 )); do
    n=$(( left > 1000 ? 1000 : left ))
    printf 'spawn heartbeat count=%d\nEXPECT OK\n' "$n" >> "$script"
    left=$(( left - n ))
done
start=$(date +%s.%N)
cohsh_run "$script" > "$WORK/spawn.out"

# The hive prints its worker counts to stderr whenever they change.
online() {
    grep -o 'workers pending=[0-9]* online=[0-9]*' "$WORK/serve.log" | tail -1 | sed 's/.*online=//'
}
deadline=$(( $(date +%s) + 300 ))
while :; do
    n=$(online || echo 0)
    [[ ${n:-0} -ge $WORKERS ]] && break
    if (( $(date +%s) > deadline )); then
        echo "only ${n:-0} of $WORKERS workers ONLINE after 300 s" >&2
        tail -20 "$WORK/serve.log" >&2
        exit 1
    fi
    sleep 1
done
ready=$(date +%s.%N)

ticks() { awk '{ print $14 + $15 }' "/proc/$SERVE_PID/stat"; }
HZ=$(getconf CLK_TCK)
sleep 2
t0=$(ticks); w0=$(date +%s.%N)
sleep "$WINDOW_S"
t1=$(ticks); w1=$(date +%s.%N)
cpu=$(echo "($t1 - $t0) / $HZ / ($w1 - $w0) * 100" | bc -l)

echo "== cohsh serve: $WORKERS workers, heartbeat ${HEARTBEAT_MS} ms ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
printf 'spawn to all ONLINE:  %.1f s\n' "$(echo "$ready - $start" | bc -l)"
printf 'CPU over %s s:         %.2f %% of one core\n' "$WINDOW_S" "$cpu"
echo "threads:              $(ls "/proc/$SERVE_PID/task" | wc -l)"
echo "file descriptors:     $(ls "/proc/$SERVE_PID/fd" | wc -l)"
echo "resident memory:      $(awk '/VmRSS/ { print $2, $3 }' "/proc/$SERVE_PID/status")"
