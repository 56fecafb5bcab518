#!/usr/bin/env bash
# The QEMU virt end-to-end check CI runs: build the image once, then boot it three times.
#   1. fully provisioned: the end-to-end check (console + Secure9P, scripts/boot-qemu.sh --check);
#   2. without a provisioning blob: serial says why and the console port hangs up;
#   3. with a hive key but no console token: serial says why, the console port hangs up.
#   4. optionally, with COHSH=<cohsh binary> and COHSH_SCRIPTS="<a.coh> ...": those operator
#      scripts run against a provisioned boot (the run directory is cohsh's state directory).
#      With COHSH_OUT=<file>, smoke.coh runs with --json over the console into <file>, then
#      on a fresh boot over Secure9P (--transport 9p) into <file>.9p, for
#      `scripts/pack-parity.sh --also <file> --also-9p <file>.9p`.
# Exits non-zero on the first failure, with the serial log of the failing boot.
#
#   scripts/qemu-e2e.sh [--no-build] [boot-qemu.sh options, e.g. --ninep-port 5640]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=1
case "${1:-}" in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --no-build) BUILD=0; shift ;;
esac
EXTRA=("$@")
RUN="$(mktemp -d)"
trap 'stop; rm -rf "$RUN"' EXIT

log() { printf '[qemu-e2e] %s\n' "$*"; }
stop() {
    local pid
    pid="$(cat "$RUN/run/qemu.pid" 2>/dev/null || true)"
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$RUN/run/qemu.pid"
}
fail() {
    log "FAIL: $*"
    [[ -f $RUN/run/serial.log ]] && tr -d '\r' <"$RUN/run/serial.log" >&2
    exit 1
}

[[ $BUILD == 1 ]] && "$ROOT/scripts/build-image.sh" --quiet

log "1. provisioned boot: end-to-end check"
"$ROOT/scripts/boot-qemu.sh" --no-build --check --run-dir "$RUN/run" "${EXTRA[@]}" \
    || fail "end-to-end check"

PROBE="${COHESIX_PROBE_TARGET_DIR:-$ROOT/target/kernel-image-probe}/release/cohesix-probe"
port_args() {
    # The console port boot-qemu.sh forwarded (attach.env records it).
    # shellcheck disable=SC1091
    . "$RUN/run/attach.env"
    echo "--console-port $COHESIX_CONSOLE_PORT"
}

log "2. boot without provisioning: the network must stay closed"
"$ROOT/scripts/boot-qemu.sh" --no-build --detach --no-provision --run-dir "$RUN/run" "${EXTRA[@]}" \
    >"$RUN/boot2.txt" || fail "boot without provisioning"
grep -q 'cohesix: network closed: no provisioning blob' "$RUN/run/serial.log" \
    || fail "serial does not say why the network is closed"
grep -q 'cohesix> ' "$RUN/run/serial.log" || fail "no serial prompt"
# shellcheck disable=SC2046
"$PROBE" closed $(port_args) || fail "console port answered without provisioning"
stop

log "3. boot without a console token: the console port must refuse"
"$ROOT/scripts/boot-qemu.sh" --no-build --detach --no-token --run-dir "$RUN/run" "${EXTRA[@]}" \
    >"$RUN/boot3.txt" || fail "boot without a token"
grep -q 'cohesix: console port 31337 refused: no console-token provisioned' "$RUN/run/serial.log" \
    || fail "serial does not say why the console port is closed"
grep -q 'cohesix: listening 9p=' "$RUN/run/serial.log" || fail "Secure9P is not listening"
# shellcheck disable=SC2046
"$PROBE" closed $(port_args) || fail "console port answered without a token"
stop

if [[ -n ${COHSH_SCRIPTS:-} ]]; then
    [[ -x ${COHSH:-} ]] || fail "COHSH_SCRIPTS needs COHSH=<path to the cohsh binary>"
    log "4. operator scripts through cohsh: $COHSH_SCRIPTS"
    "$ROOT/scripts/boot-qemu.sh" --no-build --detach --run-dir "$RUN/run" "${EXTRA[@]}" \
        >"$RUN/boot4.txt" || fail "provisioned boot for cohsh"
    for script in $COHSH_SCRIPTS; do
        if [[ -n ${COHSH_OUT:-} && $(basename "$script") == smoke.coh ]]; then
            "$COHSH" --state-dir "$RUN/run" --json "$script" | tee "$COHSH_OUT" \
                || fail "cohsh $script"
        else
            "$COHSH" --state-dir "$RUN/run" "$script" || fail "cohsh $script"
        fi
    done
    stop
    if [[ -n ${COHSH_OUT:-} ]] && [[ " $COHSH_SCRIPTS " == *smoke.coh* ]]; then
        # The pack spawns workers and leaves them: the Secure9P run needs a fresh boot.
        log "4b. the smoke pack over Secure9P on a fresh boot"
        "$ROOT/scripts/boot-qemu.sh" --no-build --detach --run-dir "$RUN/run" "${EXTRA[@]}" \
            >"$RUN/boot5.txt" || fail "provisioned boot for cohsh over 9p"
        smoke="$(printf '%s\n' $COHSH_SCRIPTS | grep 'smoke\.coh$' | head -n 1)"
        "$COHSH" --state-dir "$RUN/run" --transport 9p --json "$smoke" | tee "$COHSH_OUT.9p" \
            || fail "cohsh --transport 9p $smoke"
        stop
    fi
fi

log "PASS"
