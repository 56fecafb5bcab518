#!/usr/bin/env bash
# Builds the bootable aarch64 image (kernel-image/) for one platform with Debian's Rust
# toolchain for bare metal: rustc-web + cargo-web + rust-web-src (-Z build-std) and ld.lld
# from lld. Missing packages are installed with apt-get when run as root.
#
#   scripts/build-image.sh                      the QEMU virt image (release)
#   scripts/build-image.sh --platform pi4       another platform feature (qemu-virt|pi4|aws|sel4)
#   scripts/build-image.sh --debug              unoptimised build
#   scripts/build-image.sh --quiet              only the final "image:" lines
#
# Output, under $COHESIX_IMAGE_DIR (default target/image):
#   cohesix-<platform>.elf   the linked image (QEMU boots it with -kernel)
#   cohesix-<platform>.bin   the flat binary of its loadable sections (firmware loaders)
# and the sizes of both; for aws instead cohesix-aws.efi, a UEFI application built for
# aarch64-unknown-uefi and linked by lld-link. sel4 needs SEL4_BUILD_DIR (an seL4 build).
# Cargo's own files go to $CARGO_TARGET_DIR (default target/kernel-image).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLATFORM=qemu-virt
PROFILE=release
QUIET=0
TARGET=aarch64-unknown-none

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --platform) PLATFORM="${2:?--platform needs a name}"; shift 2 ;;
        --debug) PROFILE=debug; shift ;;
        --quiet) QUIET=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build-image: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

case "$PLATFORM" in
    qemu-virt|pi4|aws|sel4) ;;
    *) echo "build-image: unknown platform '$PLATFORM' (qemu-virt|pi4|aws|sel4)" >&2; exit 2 ;;
esac

log() { [[ $QUIET == 1 ]] || printf '[build-image] %s\n' "$*"; }

LINKER=ld.lld
if [[ $PLATFORM == aws ]]; then
    TARGET=aarch64-unknown-uefi
    LINKER=lld-link
fi
if [[ $PLATFORM == sel4 && -z "${SEL4_BUILD_DIR:-}" ]]; then
    echo "build-image: --platform sel4 needs SEL4_BUILD_DIR (see docs/hardware-platforms.md)" >&2
    exit 2
fi

# Debian's packages install plain /usr/bin/rustc and /usr/bin/cargo; rustup proxies earlier on
# PATH must not shadow them.
DEB_RUSTC=/usr/bin/rustc
DEB_CARGO=/usr/bin/cargo

have_packages() {
    dpkg-query -W -f='${Status}\n' rustc-web cargo-web rust-web-src lld 2>/dev/null \
        | grep -c "install ok installed" | grep -qx 4 || return 1
    command -v ld.lld >/dev/null && command -v llvm-objcopy >/dev/null
}

install_packages() {
    local pkgs=(rustc-web cargo-web rust-web-src lld llvm)
    if [[ $(id -u) -ne 0 ]]; then
        echo "build-image: missing toolchain; run as root: apt-get install -y ${pkgs[*]}" >&2
        exit 1
    fi
    log "installing ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

have_packages || install_packages
if ! "$DEB_RUSTC" --version 2>/dev/null | grep -q .; then
    echo "build-image: $DEB_RUSTC does not run" >&2
    exit 1
fi
# llvm-objcopy may only exist under its versioned name.
OBJCOPY="$(command -v llvm-objcopy || ls /usr/bin/llvm-objcopy-* 2>/dev/null | sort -V | tail -1)"
SIZE="$(command -v llvm-size || ls /usr/bin/llvm-size-* 2>/dev/null | sort -V | tail -1)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/kernel-image}"
OUT_DIR="${COHESIX_IMAGE_DIR:-$ROOT/target/image}"
mkdir -p "$OUT_DIR"

log "$("$DEB_RUSTC" --version) / $("$DEB_CARGO" --version)"
log "platform=$PLATFORM profile=$PROFILE target=$TARGET"

cargo_args=(build --manifest-path "$ROOT/kernel-image/Cargo.toml" --target "$TARGET"
    -Z build-std=core,alloc -Z build-std-features=compiler-builtins-mem
    --no-default-features --features "$PLATFORM"
    --config "target.$TARGET.linker=\"$LINKER\"")
[[ $PROFILE == release ]] && cargo_args+=(--release)
[[ $QUIET == 1 ]] && cargo_args+=(--quiet)

# RUSTC_BOOTSTRAP lets the stable Debian toolchain take -Z build-std.
env -u RUSTUP_TOOLCHAIN RUSTC_BOOTSTRAP=1 RUSTC="$DEB_RUSTC" RUSTDOC=/usr/bin/rustdoc \
    "$DEB_CARGO" "${cargo_args[@]}"

if [[ $PLATFORM == aws ]]; then
    EFI="$OUT_DIR/cohesix-aws.efi"
    cp "$CARGO_TARGET_DIR/$TARGET/$PROFILE/cohesix-image.efi" "$EFI"
    echo "image: $EFI ($(stat -c %s "$EFI") bytes, UEFI application)"
    exit 0
fi

ELF_SRC="$CARGO_TARGET_DIR/$TARGET/$PROFILE/cohesix-image"
ELF="$OUT_DIR/cohesix-$PLATFORM.elf"
BIN="$OUT_DIR/cohesix-$PLATFORM.bin"
cp "$ELF_SRC" "$ELF"
"$OBJCOPY" -O binary "$ELF" "$BIN"

elf_bytes=$(stat -c %s "$ELF")
bin_bytes=$(stat -c %s "$BIN")
# text+rodata / data / bss as the linker laid them out.
read -r text data bss _ < <("$SIZE" "$ELF" | awk 'NR==2 {print $1, $2, $3, $4}')
echo "image: $ELF ($elf_bytes bytes)"
echo "image: $BIN ($bin_bytes bytes loadable)"
echo "image: sections text+rodata=$text data=$data bss=$bss"
