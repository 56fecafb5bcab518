#!/usr/bin/env bash
# Parity of the smoke regression pack (hosttools/cohsh/packs/smoke.coh) across targets: the
# status line of every reply, reduced to `OK <VERB>` or `ERR <VERB> reason=<reason>`, must be
# the same sequence in
#   (a) the simulator (scenarios/smoke-pack.toml runs the pack as the queen; its transcript's
#       `op.reply status=...` lines), and
#   (b) cohsh running the pack against a hosted hive (`cohsh serve` on free loopback ports),
#   (c) and any `--also FILE`: cohsh output of the pack elsewhere, plain or --json (for
#       example the QEMU run: COHSH_OUT=FILE scripts/qemu-e2e.sh, see that script's step 4).
# Exits 1 with a diff when a sequence differs, or when a run fails (an EXPECT not met).
#
#   scripts/pack-parity.sh [--also FILE]... [--keep DIR]
#
# COHSH=<cohsh binary> skips building cohsh; CARGO_TARGET_DIR is honoured.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK="$ROOT/hosttools/cohsh/packs/smoke.coh"
SCENARIO="$ROOT/scenarios/smoke-pack.toml"
ALSO=()
KEEP=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --also) [[ $# -ge 2 ]] || { echo "--also needs a file" >&2; exit 2; }
                [[ -r $2 ]] || { echo "--also $2: cannot read" >&2; exit 2; }
                ALSO+=("$2"); shift 2 ;;
        --keep) [[ $# -ge 2 ]] || { echo "--keep needs a directory" >&2; exit 2; }
                KEEP="$2"; shift 2 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

WORK="$(mktemp -d)"
SERVE_PID=""
cleanup() {
    if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -INT "$SERVE_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$SERVE_PID" 2>/dev/null || true
    fi
    if [[ -n $KEEP ]]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[pack-parity] %s\n' "$*"; }

# One reply status per line, reduced to `OK VERB` / `ERR VERB reason=R`. The input is a
# simulator transcript, cohsh --json output or cohsh plain output (told apart by content).
# A command without any reply (connection lost, timeout) reads `ERR - reason=<why>`.
reduce() {
    local file="$1"
    if grep -q ' ev=op\.reply ' "$file"; then
        sed -n -E 's/.* ev=op\.reply status="?([^"]*).*/\1/p' "$file"
    elif grep -q '^{' "$file"; then
        jq -r 'if has("status") then .status
               elif has("command") and (.ok == false) then "ERR - reason=\(.reason // "none")"
               else empty end' "$file"
    else
        # Plain output: the first OK/ERR line after each `> command` echo.
        awk '/^> / { want = 1; next }
             want && /^(OK|ERR) [A-Z]+( |$)/ { print; want = 0; next }
             want && /^error: / { print "ERR - reason=noreply"; want = 0 }' "$file"
    fi | awk '{
        reason = ""
        if ($1 == "ERR" && match($0, /reason=[A-Za-z0-9_-]+/)) reason = " " substr($0, RSTART, RLENGTH)
        print $1 " " $2 reason
    }'
}

failed=0
cd "$ROOT"

log "simulator: $SCENARIO"
if ! cargo sim run "$SCENARIO" --out "$WORK/sim.log" >"$WORK/sim.out" 2>&1; then
    cat "$WORK/sim.out" >&2
    log "FAIL: the simulator run failed (an EXPECT or an invariant)"
    failed=1
fi

if [[ -z ${COHSH:-} ]]; then
    log "building cohsh"
    cargo build -q -p cohsh
    COHSH="${CARGO_TARGET_DIR:-$ROOT/target}/debug/cohsh"
fi
[[ -x $COHSH ]] || { log "FAIL: no cohsh binary at $COHSH"; exit 1; }

log "hosted hive: cohsh serve on free loopback ports"
STATE="$WORK/state"
mkdir -p "$STATE"
"$COHSH" serve --console-port 0 --ninep-port 0 --state-dir "$STATE" --quiet \
    >"$WORK/serve.out" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do
    [[ -s $STATE/attach.env ]] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s $STATE/attach.env ]]; then
    cat "$WORK/serve.out" >&2
    log "FAIL: the hosted hive did not start (no $STATE/attach.env)"
    exit 1
fi
if ! "$COHSH" --state-dir "$STATE" --json "$PACK" >"$WORK/hosted.jsonl" 2>"$WORK/hosted.err"; then
    cat "$WORK/hosted.err" >&2
    log "FAIL: cohsh against the hosted hive failed (an EXPECT, or no session)"
    failed=1
fi

reduce "$WORK/sim.log" >"$WORK/sim.txt"
reduce "$WORK/hosted.jsonl" >"$WORK/hosted.txt"
if [[ ! -s $WORK/sim.txt ]]; then
    log "FAIL: no reply statuses in the simulator transcript"
    failed=1
fi

compare() {
    local name="$1" file="$2"
    if [[ ! -s $file ]]; then
        log "FAIL: no reply statuses from $name"
        failed=1
    elif diff -u --label simulator --label "$name" "$WORK/sim.txt" "$file"; then
        log "same $(wc -l <"$file") statuses: simulator and $name"
    else
        log "FAIL: the simulator and $name differ"
        failed=1
    fi
}

compare hosted "$WORK/hosted.txt"
for i in "${!ALSO[@]}"; do
    reduce "${ALSO[$i]}" >"$WORK/also-$i.txt"
    compare "${ALSO[$i]}" "$WORK/also-$i.txt"
done

if [[ $failed == 0 ]]; then log "PASS"; fi
exit "$failed"
