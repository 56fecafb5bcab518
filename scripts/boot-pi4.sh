#!/usr/bin/env bash
# Raspberry Pi 4: builds kernel8.img (loaded at 0x80000) and the boot files of an SD card,
# and can smoke-boot the image under QEMU's raspi4b machine.
#
#   scripts/boot-pi4.sh [--out DIR]            build DIR/sdcard/ (default target/pi4)
#   scripts/boot-pi4.sh --qemu [--timeout S]   also boot kernel8.img under QEMU raspi4b and
#                                              check the serial banner and prompt (PASS/FAIL)
#   scripts/boot-pi4.sh --qemu --image FILE    smoke-boot an existing kernel8.img
#
# DIR/sdcard/ then holds kernel8.img, config.txt (firmware loader: kernel8.img at 0x80000,
# PL011 on GPIO 14/15 at 115200) and, for the U-Boot path, config-uboot.txt and boot.cmd
# (boot.scr too when mkimage is installed). The Raspberry Pi firmware itself (start4.elf,
# fixup4.dat, bcm2711-rpi-4-b.dtb) and u-boot.bin are not built here; see
# docs/hardware-platforms.md for where they come from.
#
# QEMU 9 or newer is needed for raspi4b; when the installed qemu-system-aarch64 lacks it and
# the script runs as root, qemu-system-arm is installed from Debian bookworm-backports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/pi4"
QEMU=0
TIMEOUT=120
IMAGE=""
BANNER_RE='Cohesix hive=[^ ]+ platform=pi4'
PROMPT='cohesix> '

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
log() { printf '[boot-pi4] %s\n' "$*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
        --qemu) QEMU=1; shift ;;
        --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
        --image) IMAGE="${2:?--image needs a file}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "boot-pi4: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

SD="$OUT/sdcard"
mkdir -p "$SD"

build_image() {
    log "building the pi4 image"
    COHESIX_IMAGE_DIR="$OUT" "$ROOT/scripts/build-image.sh" --platform pi4 --quiet
    cp "$OUT/cohesix-pi4.bin" "$SD/kernel8.img"
}

write_boot_files() {
    # The firmware loader reads config.txt from the FAT boot partition.
    cat > "$SD/config.txt" <<'CFG'
# Cohesix on the Raspberry Pi 4: the firmware loads kernel8.img at 0x80000 and starts it
# in AArch64 at EL2 on all cores; the image parks every core but core 0.
arm_64bit=1
kernel=kernel8.img
kernel_address=0x80000
# PL011 (UART0, 0xFE201000) on GPIO 14/15; Bluetooth gives it up.
enable_uart=1
dtoverlay=disable-bt
init_uart_clock=48000000
init_uart_baud=115200
# No firmware splash on the console, no device tree patching of the image.
disable_splash=1
CFG
    # U-Boot path: the firmware starts u-boot.bin, whose boot script loads the image.
    cat > "$SD/config-uboot.txt" <<'CFG'
# Rename to config.txt to boot through U-Boot (u-boot.bin built for rpi_arm64).
arm_64bit=1
kernel=u-boot.bin
enable_uart=1
dtoverlay=disable-bt
init_uart_clock=48000000
CFG
    cat > "$SD/boot.cmd" <<'CMD'
# U-Boot script: load the flat image at its link address and jump to it (at EL2).
fatload mmc 0:1 0x80000 kernel8.img
dcache flush
dcache off
go 0x80000
CMD
    if command -v mkimage >/dev/null 2>&1; then
        mkimage -A arm64 -O linux -T script -C none -n cohesix -d "$SD/boot.cmd" "$SD/boot.scr" >/dev/null
    fi
}

qemu_has_raspi4b() {
    command -v qemu-system-aarch64 >/dev/null 2>&1 &&
        qemu-system-aarch64 -machine help 2>/dev/null | grep -q '^raspi4b '
}

install_qemu() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "boot-pi4: QEMU with raspi4b (9.0+) is missing; as root run:" >&2
        echo "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list" >&2
        echo "  apt-get update && apt-get install -y -t bookworm-backports qemu-system-arm" >&2
        exit 1
    fi
    local list=/etc/apt/sources.list.d/bookworm-backports.list
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding bookworm-backports to $list"
        echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$list"
    fi
    log "installing qemu-system-arm from bookworm-backports"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-arm >/dev/null
}

# Boots IMAGE under raspi4b with UART0 on a log file and waits for the banner and prompt.
smoke_boot() {
    local image=$1 log_file="$OUT/qemu-raspi4b.log"
    qemu_has_raspi4b || install_qemu
    qemu_has_raspi4b || { echo "boot-pi4: this QEMU has no raspi4b machine" >&2; exit 1; }
    log "$(qemu-system-aarch64 --version | head -1)"
    : > "$log_file"
    # -serial: the first serial port of raspi4b is UART0, the PL011 at 0xFE201000.
    qemu-system-aarch64 -M raspi4b -kernel "$image" \
        -display none -monitor none -serial "file:$log_file" -no-reboot &
    local qemu_pid=$!
    local deadline=$((SECONDS + TIMEOUT)) result=FAIL
    while (( SECONDS < deadline )); do
        if grep -aEq "$BANNER_RE" "$log_file" && grep -aqF "$PROMPT" "$log_file"; then
            result=PASS
            break
        fi
        kill -0 "$qemu_pid" 2>/dev/null || break
        sleep 1
    done
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    log "serial output (${log_file}):"
    tr -d '\r' < "$log_file" | head -n 40 | sed 's/^/  | /'
    if [[ $result == PASS ]]; then
        log "PASS: banner and '$PROMPT' prompt on raspi4b"
        return 0
    fi
    log "FAIL: no banner matching /$BANNER_RE/ and prompt within ${TIMEOUT}s"
    return 1
}

if [[ -n "$IMAGE" ]]; then
    [[ -f "$IMAGE" ]] || { echo "boot-pi4: no image $IMAGE" >&2; exit 2; }
    cp "$IMAGE" "$SD/kernel8.img"
else
    build_image
fi
write_boot_files
log "SD card files in $SD: $(cd "$SD" && echo *)"

if [[ $QEMU == 1 ]]; then
    smoke_boot "$SD/kernel8.img"
fi
