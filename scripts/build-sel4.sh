#!/usr/bin/env bash
# Builds the Cohesix image as the root task of a real seL4 (release 16.0.0) for QEMU virt,
# from the vendored seL4 sources, and packages kernel, root task and the seL4 elfloader into
# one bootable image.
#
#   scripts/build-sel4.sh                  debug kernel (kernel printing, seL4_DebugPutChar)
#   scripts/build-sel4.sh --kernel release optimised kernel without printing
#   scripts/build-sel4.sh --quiet          only the final "image:" lines
#   scripts/build-sel4.sh --project DIR    an seL4 project checked out elsewhere (the seL4
#                                          manifest layout: DIR/kernel, DIR/tools/seL4,
#                                          DIR/projects/util_libs) instead of the vendored
#                                          tarballs; its build goes to target/sel4/<flavour>-project
#
# Steps, each cached under target/sel4/ so a second run only rebuilds what changed:
#   1. find the vendored tarballs ($COHESIX_SEL4_VENDOR, default ../shared/vendor/sel4 beside
#      the repository) and check them against hal/sel4/vendor.sha256, the checksums this
#      repository trusts; unpack them as an seL4 project layout (target/sel4/src);
#   2. a Python venv with the seL4 build's Python packages (target/sel4/venv);
#   3. configure and build the kernel and libsel4 (target/sel4/<flavour>/), kept between runs;
#   4. the root task: scripts/build-image.sh --platform sel4 against that build;
#   5. the elfloader image: target/sel4/<flavour>/images/cohesix-root-image-arm-qemu-arm-virt,
#      copied to target/image/cohesix-sel4-<flavour>.img (booted by boot-qemu.sh --sel4).
# Host packages: scripts/setup.sh sel4.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLAVOUR=debug
QUIET=0
PROJECT=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --kernel) FLAVOUR="${2:?--kernel needs debug or release}"; shift 2 ;;
        --quiet) QUIET=1; shift ;;
        --project) PROJECT="$(realpath "${2:?--project needs a directory}")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build-sel4: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$FLAVOUR" in debug|release) ;; *) echo "build-sel4: --kernel debug|release" >&2; exit 2 ;; esac

log() { [[ $QUIET == 1 ]] || printf '[build-sel4] %s\n' "$*"; }
die() { printf 'build-sel4: %s\n' "$*" >&2; exit 1; }
# Runs a step, its output shown only when it fails (or without --quiet).
step() {
    local name="$1" out
    shift
    out="$WORK_LOG/$name.log"
    if [[ $QUIET == 1 ]]; then
        "$@" >"$out" 2>&1 || { tail -n 60 "$out" >&2; die "$name failed (log above)"; }
    else
        "$@" 2>&1 | tee "$out"
    fi
}

BASE="${COHESIX_SEL4_DIR:-$ROOT/target/sel4}"
SUMS="$ROOT/hal/sel4/vendor.sha256"
VENDOR="${COHESIX_SEL4_VENDOR:-$ROOT/../shared/vendor/sel4}"
mkdir -p "$BASE"
WORK_LOG="$BASE/logs"
mkdir -p "$WORK_LOG"

# --- 1. sources ----------------------------------------------------------------------------

# The vendored tarballs, checked and unpacked (once per set of checksums) into $SRC.
unpack_vendored() {
    [[ -d $VENDOR ]] || die "no seL4 sources at $VENDOR (set COHESIX_SEL4_VENDOR to the directory holding the tarballs of hal/sel4/vendor.sha256)"
    (cd "$VENDOR" && sha256sum --quiet -c "$SUMS") \
        || die "the tarballs in $VENDOR do not match hal/sel4/vendor.sha256"
    [[ "$(cat "$SRC/.key" 2>/dev/null)" == "$SRC_KEY" ]] && return 0
    log "unpacking the seL4 sources into $SRC"
    rm -rf "$SRC"
    mkdir -p "$SRC/tools/seL4" "$SRC/projects/util_libs" "$SRC/kernel" "$SRC/rust-sel4"
    unpack() { tar -xJf "$VENDOR/$(awk -v p="$1" '$2 ~ p { print $2 }' "$SUMS")" -C "$2"; }
    unpack '^seL4-' "$SRC/kernel"
    unpack '^seL4_tools-' "$SRC/tools/seL4"
    unpack '^util_libs-' "$SRC/projects/util_libs"
    unpack '^rust-sel4-' "$SRC/rust-sel4"
    echo "$SRC_KEY" >"$SRC/.key"
}

if [[ -n $PROJECT ]]; then
    [[ -f $PROJECT/kernel/gcc.cmake && -d $PROJECT/tools/seL4/elfloader-tool && -d $PROJECT/projects/util_libs ]] \
        || die "$PROJECT is not an seL4 project layout (kernel/, tools/seL4/, projects/util_libs/)"
    SRC="$PROJECT"
    SRC_KEY="project:$PROJECT"
else
    SRC="$BASE/src"
    SRC_KEY="$(sha256sum "$SUMS" | cut -c1-16)"
    unpack_vendored
fi
mkdir -p "$SRC/projects/cohesix-sel4"
for f in CMakeLists.txt settings.cmake; do
    # Copied only when changed, so CMake sees no new timestamp on a cached build.
    cmp -s "$ROOT/hal/sel4/elfloader/$f" "$SRC/projects/cohesix-sel4/$f" \
        || cp "$ROOT/hal/sel4/elfloader/$f" "$SRC/projects/cohesix-sel4/$f"
done

# --- 2. the build's Python -----------------------------------------------------------------

VENV="$BASE/venv"
PY_PACKAGES=(jinja2 ply pyyaml pyfdt lxml six future guardonce pyelftools libarchive-c)
if [[ "$(cat "$VENV/.packages" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]]; then
    log "creating $VENV (${PY_PACKAGES[*]})"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    step pip "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
    echo "${PY_PACKAGES[*]}" >"$VENV/.packages"
fi
export PATH="$VENV/bin:$PATH"

for tool in cmake ninja aarch64-linux-gnu-gcc dtc xmllint cpio qemu-system-aarch64; do
    command -v "$tool" >/dev/null || die "$tool missing: run scripts/setup.sh sel4"
done

# --- 3. kernel and libsel4 -----------------------------------------------------------------

BUILD="$BASE/$FLAVOUR${PROJECT:+-project}"
IMAGE_DIR="${COHESIX_IMAGE_DIR:-$ROOT/target/image}"
ROOT_TASK="$IMAGE_DIR/cohesix-sel4.elf"
mkdir -p "$IMAGE_DIR"
# The configuration a build directory was made with; anything else starts it afresh.
CONFIG_KEY="$SRC_KEY $(cat "$ROOT/hal/sel4/elfloader/"{CMakeLists.txt,settings.cmake} | sha256sum | cut -c1-16) $ROOT_TASK"
if [[ "$(cat "$BUILD/.key" 2>/dev/null)" != "$CONFIG_KEY" ]]; then
    log "configuring seL4 ($FLAVOUR kernel) in $BUILD"
    rm -rf "$BUILD"
    mkdir -p "$BUILD"
    step configure cmake -G Ninja -S "$SRC/projects/cohesix-sel4" -B "$BUILD" \
        -DCROSS_COMPILER_PREFIX=aarch64-linux-gnu- \
        -DCMAKE_TOOLCHAIN_FILE="$SRC/kernel/gcc.cmake" \
        -DPLATFORM=qemu-arm-virt -DCOHESIX_SEL4_KERNEL="$FLAVOUR" \
        -DCOHESIX_ROOT_TASK="$ROOT_TASK"
    echo "$CONFIG_KEY" >"$BUILD/.key"
fi
started=$SECONDS
step kernel ninja -C "$BUILD" kernel.elf sel4
log "kernel and libsel4 ready ($((SECONDS - started)) s)"

# --- 4. the root task ----------------------------------------------------------------------

started=$SECONDS
quiet=()
[[ $QUIET == 1 ]] && quiet=(--quiet)
SEL4_BUILD_DIR="$BUILD" COHESIX_IMAGE_DIR="$IMAGE_DIR" \
    "$ROOT/scripts/build-image.sh" --platform sel4 "${quiet[@]}" >"$WORK_LOG/root-task.log" 2>&1 \
    || { tail -n 60 "$WORK_LOG/root-task.log" >&2; die "the root task did not build"; }
[[ $QUIET == 1 ]] || cat "$WORK_LOG/root-task.log"
log "root task built ($((SECONDS - started)) s)"

# --- 5. the elfloader image ----------------------------------------------------------------

step package ninja -C "$BUILD"
IMG="$BUILD/images/cohesix-root-image-arm-qemu-arm-virt"
[[ -f $IMG ]] || die "no elfloader image at $IMG"
OUT="$IMAGE_DIR/cohesix-sel4-$FLAVOUR.img"
cp "$IMG" "$OUT"
frames=$(( ($("$(command -v llvm-size || ls /usr/bin/llvm-size-* | sort -V | tail -1)" "$ROOT_TASK" 2>/dev/null | awk 'NR==2 {print $4}' || echo 0) + 4095) / 4096 ))
echo "image: $OUT ($(stat -c %s "$OUT") bytes, seL4 $FLAVOUR kernel + elfloader + root task)"
echo "image: root task $ROOT_TASK (~$frames pages of the 4096-slot root CNode)"
