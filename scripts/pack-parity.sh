#!/usr/bin/env bash
# Parity of the smoke regression pack (hosttools/cohsh/packs/smoke.coh) across targets: every
# reply, its status line and its body (the data lines), normalised (below), must be the same
# sequence in
#   (a) the simulator (scenarios/smoke-pack.toml runs the pack as the queen;
#       `cargo sim run --replies` writes each reply in full),
#   (b) cohsh running the pack against a hosted hive (`cohsh serve` on free loopback ports),
#       once over the console and once over Secure9P (`--transport 9p`),
#   (c) and any `--also FILE` / `--also-9p FILE`: cohsh output of the pack elsewhere over the
#       console / over Secure9P, plain or --json (for example the QEMU image's two runs:
#       COHSH_OUT=FILE scripts/qemu-e2e.sh writes FILE and FILE.9p, see its step 4).
# Exits 1 with a diff when a sequence differs, or when a run fails (an EXPECT not met).
#
#   scripts/pack-parity.sh [--also FILE]... [--also-9p FILE]... [--keep DIR] [--statuses]
#   --statuses    compare only status lines, reduced to `OK VERB` / `ERR VERB reason=R` (a
#                 coarser view for diagnosing a target; not what the test stages run)
#   --self-test   also feeds in copies of the hosted output with one reply body changed (a
#                 wrong /proc/lifecycle/state line; a wrong audit line in /log/queen.log) and
#                 one with only normalised values changed: passes only if both wrong copies
#                 are caught and the benign one is not
#
# The normaliser replaces or drops only what legitimately differs between targets, and
# nothing else: every other byte of every reply, worker ids and counts included, must match.
#   times      `<key>_ms=N` / `<key>_us=N` words (uptime, not the manifest's `section.key_ms`
#              limits) and an audit line's leading `t=N` -> `<time>`
#   target     /proc/boot's `platform=` and `link=` lines -> `<target>`, the configured hive
#              name (`hive=` in /proc/boot and the boot audit line) -> `<name>`
#   digests    runs of 16 or more hex digits (manifest fingerprints, digests) -> `<digest>`
#   ids        `session=`, `sid=`, `conn=` and `ticket_id=` values, and the ticket id in the
#              queen's own `ev=attach role=queen` audit line (minted by whoever started the
#              target) -> `<id>`
#   log reads  the LOG status's `cursor=` (a byte offset, so it moves with the widths of the
#              times and ids above) -> `<cursor>` and `lines=` -> `<n>`; the body is compared
#   workers    a spawned worker's own attach lines (`ev=attach role=worker-*` and
#              `ev=worker ... reason=attached`) are dropped from /log/queen.log: when a
#              worker gets to attach is the target's scheduling (the simulated network, host
#              threads, the image's loop), not the hive's reply; its spawn lines are kept
#   the PONG   the console's `PONG` line before `OK PING` (the simulator records it as a data
#              line, cohsh as part of the exchange) is dropped
#   transport  over Secure9P there is no console verb, so the console's own audit lines for
#              refused console verbs (`ev=deny ... verb=CAT`, upper-case verbs) are dropped
#              from both sides when a Secure9P run is compared
#
# COHSH=<cohsh binary> skips building cohsh, SIM=<cohesix-sim binary> replaces `cargo sim`;
# CARGO_TARGET_DIR is honoured.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK="$ROOT/hosttools/cohsh/packs/smoke.coh"
SCENARIO="$ROOT/scenarios/smoke-pack.toml"
ALSO=()
ALSO_9P=()
KEEP=""
SELF_TEST=0
BODIES=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --also) [[ $# -ge 2 ]] || { echo "--also needs a file" >&2; exit 2; }
                [[ -r $2 ]] || { echo "--also $2: cannot read" >&2; exit 2; }
                ALSO+=("$2"); shift 2 ;;
        --also-9p) [[ $# -ge 2 ]] || { echo "--also-9p needs a file" >&2; exit 2; }
                [[ -r $2 ]] || { echo "--also-9p $2: cannot read" >&2; exit 2; }
                ALSO_9P+=("$2"); shift 2 ;;
        --keep) [[ $# -ge 2 ]] || { echo "--keep needs a directory" >&2; exit 2; }
                KEEP="$2"; shift 2 ;;
        --self-test) SELF_TEST=1; shift ;;
        --statuses) BODIES=0; shift ;;
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

# Every reply as a block: `== <status line>` then its data lines. The input is the
# simulator's `--replies` JSON lines, cohsh --json output or cohsh plain output (told apart by
# content). A command without any reply (connection lost, timeout) reads `== ERR - reason=<why>`.
replies() {
    local file="$1"
    if grep -q '^{' "$file"; then
        jq -r 'if has("status") then "== \(.status)", (.lines // [] | .[])
               elif has("command") and (.ok == false) then "== ERR - reason=\(.reason // "none")"
               else empty end' "$file"
    else
        # Plain output: after each `> command` echo, its first OK/ERR line and the lines up
        # to the next echo (without the console's END marker).
        awk '/^> / { want = 1; body = 0; next }
             want && /^(OK|ERR) [A-Z]+( |$)/ { print "== " $0; want = 0; body = 1; next }
             want && /^error: / { print "== ERR - reason=noreply"; want = 0; next }
             body && $0 != "END" { print }' "$file"
    fi
}

# The documented normaliser (see the header). `normalise console|9p` reads reply blocks.
normalise() {
    local transport="$1"
    if [[ $BODIES == 0 ]]; then
        awk '/^== / { reason = ""
                      if ($2 == "ERR" && match($0, /reason=[A-Za-z0-9_-]+/)) reason = " " substr($0, RSTART, RLENGTH)
                      print "== " $2 " " $3 reason }'
        return
    fi
    # Which lines are kept: the PONG, workers' attach lines and (over Secure9P) the console's
    # audit of its own verbs go; the LOG status loses its offset and count.
    awk -v transport="$transport" '
        /^== / { ping = ($2 == "OK" && $3 == "PING"); inlog = ($2 == "OK" && $3 == "LOG")
                 if (inlog) { sub(/cursor=[0-9]+/, "cursor=<cursor>"); sub(/lines=[0-9]+/, "lines=<n>") }
                 print; next }
        ping && $0 == "PONG" { next }
        inlog && / ev=attach role=worker-/ { next }
        inlog && / ev=worker id=[^ ]+ state=[A-Z]+ reason=attached$/ { next }
        inlog && transport == "9p" && / ev=deny who=[^ ]+ verb=[A-Z]+ / { next }
        { print }' |
    sed -E \
        -e 's/(^|[ ])([a-z][a-z0-9_]*_(ms|us))=[0-9]+/\1\2=<time>/g' \
        -e 's/^t=[0-9]+ /t=<time> /' \
        -e 's/^(platform|link)=.*/\1=<target>/' \
        -e 's/^hive=.*/hive=<name>/' \
        -e 's/( ev=boot hive=)[^ ]+/\1<name>/' \
        -e 's/[0-9a-f]{16,}/<digest>/g' \
        -e 's/\b(session|sid|conn|ticket_id)=[A-Za-z0-9_-]+/\1=<id>/g' \
        -e 's/( ev=attach role=queen who=[^ ]+ ticket=)[0-9]+/\1<id>/'
}

failed=0
cd "$ROOT"

log "simulator: $SCENARIO"
SIM_RUN=(cargo sim run)
[[ -n ${SIM:-} ]] && SIM_RUN=("$SIM" run)
if ! "${SIM_RUN[@]}" "$SCENARIO" --out "$WORK/sim.log" --replies "$WORK/sim.jsonl" \
    >"$WORK/sim.out" 2>&1; then
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
for _ in $(seq 300); do
    [[ -s $STATE/attach.env ]] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s $STATE/attach.env ]]; then
    cat "$WORK/serve.out" >&2
    log "FAIL: the hosted hive did not start (no $STATE/attach.env)"
    exit 1
fi
# The pack spawns two workers and leaves them: the Secure9P run goes to a second, fresh
# hive so both runs start from the same state.
TRANSPORTS=(console)
for transport in console 9p; do
    if [[ $transport == 9p ]]; then
        kill -INT "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
        STATE="$WORK/state-9p"
        mkdir -p "$STATE"
        "$COHSH" serve --console-port 0 --ninep-port 0 --state-dir "$STATE" --quiet \
            >"$WORK/serve-9p.out" 2>&1 &
        SERVE_PID=$!
        for _ in $(seq 300); do
            [[ -s $STATE/attach.env ]] && break
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.1
        done
        TRANSPORTS+=(9p)
    fi
    if ! "$COHSH" --state-dir "$STATE" --transport "$transport" --json "$PACK" \
        >"$WORK/hosted-$transport.jsonl" 2>"$WORK/hosted-$transport.err"; then
        cat "$WORK/hosted-$transport.err" >&2
        log "FAIL: cohsh over $transport against the hosted hive failed (an EXPECT, or no session)"
        failed=1
    fi
done

# The reference, normalised once per transport.
for transport in console 9p; do
    replies "$WORK/sim.jsonl" | normalise "$transport" >"$WORK/sim-$transport.txt"
done
if ! grep -q '^== ' "$WORK/sim-console.txt"; then
    log "FAIL: no replies from the simulator"
    failed=1
fi

# compare NAME FILE OUT TRANSPORT: 0 when FILE's normalised replies equal the simulator's.
compare() {
    local name="$1" file="$2" out="$WORK/$3.txt" transport="$4"
    replies "$file" | normalise "$transport" >"$out"
    if ! grep -q '^== ' "$out"; then
        log "FAIL: no replies from $name"
        return 1
    elif diff -u --label simulator --label "$name" "$WORK/sim-$transport.txt" "$out"; then
        log "same $(grep -c '^== ' "$out") replies ($([[ $BODIES == 1 ]] && echo 'bodies included' || echo 'statuses only')): simulator and $name"
    else
        log "FAIL: the simulator and $name differ"
        return 1
    fi
}

for transport in "${TRANSPORTS[@]}"; do
    compare "hosted ($transport)" "$WORK/hosted-$transport.jsonl" "hosted-$transport" "$transport" || failed=1
done
for i in "${!ALSO[@]}"; do
    compare "${ALSO[$i]}" "${ALSO[$i]}" "also-$i" console || failed=1
done
for i in "${!ALSO_9P[@]}"; do
    compare "${ALSO_9P[$i]} (Secure9P)" "${ALSO_9P[$i]}" "also-9p-$i" 9p || failed=1
done

# The self-test: copies of the hosted output with one reply body wrong (a state over the
# console, an audit line over Secure9P) must fail, and a copy that differs only in what the
# normaliser replaces must pass.
if [[ $SELF_TEST == 1 ]]; then
    hosted="$WORK/hosted-console.jsonl"
    jq -c 'if .command == "cat /proc/lifecycle/state" and (.lines | length) > 0
           then .lines[0] = "tampered" else . end' "$hosted" >"$WORK/wrong-body.jsonl"
    jq -c 'if .command == "log"
           then .lines |= map(sub("reason=cordon$"; "reason=drain")) else . end' \
        "$WORK/hosted-9p.jsonl" >"$WORK/wrong-log.jsonl"
    jq -c 'if .command == "cat /proc/boot"
           then .lines |= map(sub("^uptime_ms=[0-9]+"; "uptime_ms=987654")
                              | sub("^platform=.*"; "platform=elsewhere")
                              | sub("^hive=.*"; "hive=elsewhere"))
           elif .command == "log"
           then .lines |= map(sub("^t=[0-9]+ "; "t=42 ")
                              | sub(" ticket=[0-9]+$"; " ticket=77777"))
           else . end' "$hosted" >"$WORK/benign.jsonl"
    for copy in wrong-body wrong-log benign; do
        if cmp -s "$hosted" "$WORK/$copy.jsonl" || cmp -s "$WORK/hosted-9p.jsonl" "$WORK/$copy.jsonl"; then
            log "FAIL: self-test: the $copy copy did not change (no such replies in the pack?)"
            failed=1
        fi
    done
    log "self-test: wrong bodies must be caught"
    for copy in "wrong-body console" "wrong-log 9p"; do
        set -- $copy
        if compare "$1 (self-test)" "$WORK/$1.jsonl" "$1" "$2" >/dev/null; then
            log "FAIL: self-test: a wrong reply body passed ($1 over $2)"
            failed=1
        else
            log "self-test: the wrong body was caught ($1 over $2)"
        fi
    done
    log "self-test: differences the normaliser covers must pass"
    compare "benign differences (self-test)" "$WORK/benign.jsonl" benign console || failed=1
fi

if [[ $failed == 0 ]]; then log "PASS"; fi
exit "$failed"
