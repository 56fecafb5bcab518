#!/usr/bin/env bash
# Builds the QEMU virt image and boots it under qemu-system-aarch64 -M virt with the console
# (TCP 31337) and Secure9P (TCP 564) ports forwarded to 127.0.0.1, provisions a hive key and a
# console token over fw_cfg, waits for the image's `listening` line and prints how to attach.
#
#   scripts/boot-qemu.sh              boot, print how to attach, stay until Ctrl-C
#   scripts/boot-qemu.sh --check      boot, run the end-to-end check, stop (exit status = result)
#   scripts/boot-qemu.sh --bench [N]  boot, time N console round trips (default 1000), stop
#   scripts/boot-qemu.sh --detach     boot and return, leaving QEMU running
#   scripts/boot-qemu.sh --serial     the serial console on this terminal (Ctrl-A X quits)
#
# Options:
#   --no-build        boot the last built image
#   --no-provision    boot without the provisioning blob (the network stays closed; serial says why)
#   --no-token        provision the hive key only (the console port stays closed)
#   --key FILE        hive key file, as cohsh reads it: `<id>:<64 hex>` lines (or bare hex
#                     for key id 1), first one mints (default: a fresh key per boot)
#   --token TOKEN     console token, 16..128 printable characters (default: fresh per boot)
#   --manifest FILE   hive manifest carried in the blob (default configs/hive.toml)
#   --console-port P  host port for the console (default 31337)
#   --ninep-port P    host port for Secure9P (default 564 as root, 5640 otherwise)
#   --run-dir DIR     key, token, blob, serial log and pid file (default target/qemu-run)
#   --timeout S       seconds to wait for `listening` (default 30)
#   --gic-version N   3 (default): the idle image sleeps in `wfi` until the NIC or its timer
#                     signals; 2: QEMU's default GIC, which the image does not use (it polls)
#   --sel4 [FLAVOUR]  boot the image as the root task of seL4 instead (scripts/build-sel4.sh;
#                     FLAVOUR debug (default) or release kernel): QEMU runs with the CPU,
#                     memory and GIC the kernel was configured for (cortex-a53, 1 GiB, GICv2)
#
# The run directory afterwards holds: hive.key, console.token, queen.ticket, provision.blob
# (all 0600; the first three laid out as a cohsh state directory, so
# `cohsh --state-dir <run-dir>` attaches), serial.log (everything the serial port printed),
# serial.sock (attach with `socat - UNIX-CONNECT:serial.sock`), qemu.pid and attach.env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=attach
BUILD=1
PROVISION=1
TOKEN_ON=1
KEY_FILE=""
TOKEN=""
MANIFEST="$ROOT/configs/hive.toml"
CONSOLE_PORT=31337
NINEP_PORT=""
RUN_DIR="$ROOT/target/qemu-run"
TIMEOUT=30
BENCH_COUNT=1000
GIC_VERSION=3
SEL4=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
log() { printf '[boot-qemu] %s\n' "$*"; }
die() { printf 'boot-qemu: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --check) MODE=check; shift ;;
        --bench)
            MODE=bench; shift
            if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then BENCH_COUNT=$1; shift; fi ;;
        --detach) MODE=detach; shift ;;
        --serial) MODE=serial; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-provision) PROVISION=0; shift ;;
        --no-token) TOKEN_ON=0; shift ;;
        --key) KEY_FILE="${2:?--key needs a file}"; shift 2 ;;
        --token) TOKEN="${2:?--token needs a value}"; shift 2 ;;
        --manifest) MANIFEST="${2:?--manifest needs a file}"; shift 2 ;;
        --console-port) CONSOLE_PORT="${2:?}"; shift 2 ;;
        --ninep-port) NINEP_PORT="${2:?}"; shift 2 ;;
        --run-dir) RUN_DIR="${2:?}"; shift 2 ;;
        --timeout) TIMEOUT="${2:?}"; shift 2 ;;
        --gic-version) GIC_VERSION="${2:?}"; shift 2 ;;
        --sel4)
            SEL4=debug; shift
            if [[ $# -gt 0 && $1 =~ ^(debug|release)$ ]]; then SEL4=$1; shift; fi ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option $1" ;;
    esac
done

if [[ -z $NINEP_PORT ]]; then
    # Ports below 1024 need root on the host side of the forward.
    if [[ $(id -u) -eq 0 ]]; then NINEP_PORT=564; else NINEP_PORT=5640; fi
fi

# --- prerequisites -------------------------------------------------------------------------

ensure_qemu() {
    command -v qemu-system-aarch64 >/dev/null && return
    [[ $(id -u) -eq 0 ]] || die "qemu-system-aarch64 missing; as root: apt-get install -y qemu-system-arm"
    log "installing qemu-system-arm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    local release=()
    # Prefer a backported QEMU when the backports suite is configured.
    if apt-cache policy qemu-system-arm 2>/dev/null | grep -q -- "-backports"; then
        release=(-t "$(. /etc/os-release && echo "${VERSION_CODENAME}")-backports")
    fi
    apt-get install -y -qq --no-install-recommends "${release[@]}" qemu-system-arm >/dev/null
}

IMAGE_DIR="${COHESIX_IMAGE_DIR:-$ROOT/target/image}"
IMAGE="$IMAGE_DIR/cohesix-qemu-virt.elf"
[[ -n $SEL4 ]] && IMAGE="$IMAGE_DIR/cohesix-sel4-$SEL4.img"
PROBE_TARGET="${COHESIX_PROBE_TARGET_DIR:-$ROOT/target/kernel-image-probe}"
PROBE="$PROBE_TARGET/release/cohesix-probe"

build_probe() {
    log "building the host probe"
    CARGO_TARGET_DIR="$PROBE_TARGET" cargo build --quiet --release \
        --manifest-path "$ROOT/kernel-image/probe/Cargo.toml"
}

ensure_qemu
if [[ $BUILD == 1 && -n $SEL4 ]]; then
    "$ROOT/scripts/build-sel4.sh" --kernel "$SEL4" --quiet
elif [[ $BUILD == 1 ]]; then
    "$ROOT/scripts/build-image.sh" --quiet
fi
[[ -f $IMAGE ]] || die "no image at $IMAGE (run scripts/build-image.sh or scripts/build-sel4.sh)"
if [[ $MODE == check || $MODE == bench || ! -x $PROBE ]] && command -v cargo >/dev/null; then
    build_probe
fi

# --- provisioning --------------------------------------------------------------------------

mkdir -p "$RUN_DIR"
chmod 700 "$RUN_DIR"
umask 077
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

if [[ -n $KEY_FILE ]]; then
    [[ -f $KEY_FILE ]] || die "no key file $KEY_FILE"
    [[ $(realpath "$KEY_FILE") == $(realpath -m "$RUN_DIR/hive.key") ]] || cp "$KEY_FILE" "$RUN_DIR/hive.key"
else
    printf '# Cohesix hive key: keep secret\n1:%s\n' "$(random_hex 32)" >"$RUN_DIR/hive.key"
fi
# Key file lines (the cohsh format): `<id>:<64 hex>` or bare hex for key id 1; the first mints.
KEY_LINES=()
while IFS= read -r line; do
    line="${line//[[:space:]]/}"
    [[ -z $line || $line == \#* ]] && continue
    if [[ $line == *:* ]]; then id="${line%%:*}"; hex="${line#*:}"; else id=1; hex="$line"; fi
    [[ $id =~ ^[0-9]+$ && $id -le 255 && $hex =~ ^[0-9a-fA-F]{64}$ ]] \
        || die "bad key line in $RUN_DIR/hive.key (want <id>:<64 hex digits>)"
    KEY_LINES+=("hive-key $id $hex")
done <"$RUN_DIR/hive.key"
[[ ${#KEY_LINES[@]} -ge 1 && ${#KEY_LINES[@]} -le 8 ]] || die "the key file needs 1..8 keys"
[[ -n $TOKEN ]] || TOKEN="$(random_hex 16)"
printf '%s\n' "$TOKEN" >"$RUN_DIR/console.token"

BLOB="$RUN_DIR/provision.blob"
{
    echo "cohesix-provision 1"
    printf '%s\n' "${KEY_LINES[@]}"
    [[ $TOKEN_ON == 1 ]] && echo "console-token $TOKEN"
    echo "seed $(random_hex 32)"
    echo "ip 10.0.2.15/24"
    echo "gateway 10.0.2.2"
    if [[ -n $MANIFEST ]]; then
        [[ -f $MANIFEST ]] || die "no manifest $MANIFEST"
        echo "manifest"
        cat "$MANIFEST"
    fi
} >"$BLOB"
if [[ -x $PROBE ]]; then
    "$PROBE" mint --key "$RUN_DIR/hive.key" >"$RUN_DIR/queen.ticket"
fi
umask 022

cat >"$RUN_DIR/attach.env" <<EOF
COHESIX_HOST=127.0.0.1
COHESIX_CONSOLE_PORT=$CONSOLE_PORT
COHESIX_NINEP_PORT=$NINEP_PORT
COHESIX_TOKEN_FILE=$RUN_DIR/console.token
COHESIX_KEY_FILE=$RUN_DIR/hive.key
COHESIX_STATE_DIR=$RUN_DIR
EOF

# --- boot ----------------------------------------------------------------------------------

SERIAL_LOG="$RUN_DIR/serial.log"
SERIAL_SOCK="$RUN_DIR/serial.sock"
rm -f "$SERIAL_LOG" "$SERIAL_SOCK" "$RUN_DIR/qemu.pid"

machine=(-M "virt,gic-version=$GIC_VERSION" -cpu cortex-a57 -m 256M)
# seL4 describes the machine to itself from a device tree QEMU dumped at configure time
# (hal/sel4/elfloader/settings.cmake): the same CPU, memory size and GIC here.
[[ -n $SEL4 ]] && machine=(-M virt,secure=off -cpu cortex-a53 -m 1024M)
qemu_args=("${machine[@]}" -display none -no-reboot
    -kernel "$IMAGE"
    -global virtio-mmio.force-legacy=false
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$CONSOLE_PORT-:31337,hostfwd=tcp:127.0.0.1:$NINEP_PORT-:564"
    -device virtio-net-device,netdev=n0)
[[ $PROVISION == 1 ]] && qemu_args+=(-fw_cfg "name=opt/cohesix/provision,file=$BLOB")

if [[ $MODE == serial ]]; then
    log "serial console on this terminal; Ctrl-A X quits"
    exec qemu-system-aarch64 "${qemu_args[@]}" \
        -chardev "stdio,id=ser0,mux=on,signal=off,logfile=$SERIAL_LOG" \
        -serial chardev:ser0 -mon chardev=ser0
fi

qemu_args+=(-chardev "socket,id=ser0,path=$SERIAL_SOCK,server=on,wait=off,logfile=$SERIAL_LOG"
    -serial chardev:ser0 -monitor none -pidfile "$RUN_DIR/qemu.pid")

started_ns=$(date +%s%N)
if [[ $MODE == detach ]]; then
    setsid qemu-system-aarch64 "${qemu_args[@]}" >"$RUN_DIR/qemu.out" 2>&1 </dev/null &
else
    qemu-system-aarch64 "${qemu_args[@]}" >"$RUN_DIR/qemu.out" 2>&1 </dev/null &
fi
QEMU_PID=$!
stop_qemu() {
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null || true
        wait "$QEMU_PID" 2>/dev/null || true
    fi
}
[[ $MODE == detach ]] || trap stop_qemu EXIT

# Waits for the serial banner, which follows the `listening` line (or the reason there is none).
deadline=$((SECONDS + TIMEOUT))
while [[ $SECONDS -lt $deadline ]]; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
        cat "$RUN_DIR/qemu.out" >&2
        die "QEMU exited before the image was listening"
    fi
    grep -aq '^Cohesix hive=\|cohesix: panic\|cohesix: fatal' "$SERIAL_LOG" 2>/dev/null && break
    sleep 0.01
done
ready_ms=$(( ($(date +%s%N) - started_ns) / 1000000 ))
listening="$(grep -a -m1 'cohesix: listening' "$SERIAL_LOG" 2>/dev/null | tr -d '\r' || true)"

echo "---- serial ($SERIAL_LOG) ----"
tr -d '\r' <"$SERIAL_LOG"
echo
echo "------------------------------"
if [[ -z $listening ]]; then
    grep -aq 'cohesix: network closed' "$SERIAL_LOG" 2>/dev/null \
        || die "no 'listening' line within ${TIMEOUT}s"
    log "the image did not open the network (reason above)"
    case "$MODE" in
        attach)
            echo "  serial: socat - UNIX-CONNECT:$SERIAL_SOCK   stop: Ctrl-C"
            wait "$QEMU_PID" || true
            exit 0 ;;
        detach)
            echo "  serial: socat - UNIX-CONNECT:$SERIAL_SOCK   stop: kill $QEMU_PID"
            exit 0 ;;
        *) die "nothing to $MODE without a network" ;;
    esac
fi
image_ms="${listening##*t_ms=}"
log "boot to listening: ${ready_ms} ms host wall clock from QEMU launch (image clock: ${image_ms%%[^0-9]*} ms)"

probe_args=(--host 127.0.0.1 --console-port "$CONSOLE_PORT" --ninep-port "$NINEP_PORT"
    --key "$RUN_DIR/hive.key" --token-file "$RUN_DIR/console.token")
check_args=()
[[ -n $SEL4 ]] && check_args=(--platform sel4)

case "$MODE" in
    check)
        "$PROBE" check "${probe_args[@]}" "${check_args[@]}"
        ;;
    bench)
        "$PROBE" bench "${probe_args[@]}" --count "$BENCH_COUNT"
        ;;
    attach|detach)
        cat <<EOF

Cohesix (QEMU virt${SEL4:+, seL4 $SEL4 kernel}) is listening.
  console   127.0.0.1:$CONSOLE_PORT   token: $RUN_DIR/console.token
  Secure9P  127.0.0.1:$NINEP_PORT
  serial    socat - UNIX-CONNECT:$SERIAL_SOCK      (log: $SERIAL_LOG)
  hive key  $RUN_DIR/hive.key       (sign operator tickets with it)

Attach (the run directory is a cohsh state directory: token, key, queen ticket):
  cohsh --state-dir $RUN_DIR --port $CONSOLE_PORT
  cohsh --state-dir $RUN_DIR --transport 9p --port $NINEP_PORT
  $PROBE check ${probe_args[*]}
EOF
        if [[ $MODE == detach ]]; then
            echo "  stop: kill $QEMU_PID"
        else
            echo "  stop: Ctrl-C"
            wait "$QEMU_PID" || true
        fi
        ;;
esac
