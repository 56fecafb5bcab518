#!/usr/bin/env bash
# Installs the developer tools the test command relies on besides the Rust toolchain itself:
# cargo-fuzz (bounded fuzzing of the decoders), cargo-insta (scenario snapshot review),
# tmux (the dashboard's end-to-end test, which fails under CI without it) and diod (a stock
# 9P client for scripts/interop-9p.sh).
#
#   scripts/setup.sh                 install every tool that is missing
#   scripts/setup.sh cargo-fuzz ...  install only the named tools, if missing
#   scripts/setup.sh cc              only make sure a C/C++ compiler is present
#   scripts/setup.sh sel4            the host packages the seL4 build and boot need (Debian):
#                                    cmake, ninja, the aarch64 cross compilers, dtc, xmllint,
#                                    cpio, QEMU with ipxe-qemu (seL4 dumps QEMU's device tree at
#                                    configure time), libarchive, python3-venv, Debian's
#                                    bare-metal Rust and lld; the Python packages (jinja2, ply,
#                                    pyyaml, pyfdt, lxml, six, future, guardonce, pyelftools,
#                                    libarchive-c) go into a venv scripts/build-sel4.sh makes
#   scripts/setup.sh tmux            only make sure tmux is present (a Debian package)
#   scripts/setup.sh diod            only make sure diod's diodcat/diodls are present (a Debian
#                                    package; scripts/interop-9p.sh drives them)
#
# Versions are pinned so every machine and CI run the same tools; `--locked` builds them with
# the dependency versions their authors tested.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Cargo's own bin directory is not on PATH in every non-login shell.
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

declare -A VERSION=(
    [cargo-fuzz]=0.13.2
    [cargo-insta]=1.49.0
)
ALL_TOOLS=(cargo-fuzz cargo-insta tmux diod)

log() { printf '[setup] %s\n' "$*"; }

# True if `cargo <subcommand>` already works.
have_tool() {
    local sub="${1#cargo-}"
    cargo "$sub" --version >/dev/null 2>&1
}

# Installs Debian packages when running as root; otherwise says what is missing.
apt_install() {
    if [[ "$(id -u)" != 0 ]]; then
        log "missing system packages: $*; install them (as root: apt-get install $*)"
        return 1
    fi
    if [[ -z "${APT_UPDATED:-}" ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Building the tools (and libFuzzer inside fuzz targets) needs a C/C++ compiler.
ensure_cc() {
    if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
        apt_install build-essential
    fi
}

SEL4_PACKAGES=(cmake ninja-build gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
    device-tree-compiler libxml2-utils cpio xz-utils qemu-system-arm ipxe-qemu libarchive13
    python3-venv rustc-web cargo-web rust-web-src lld llvm)

# Installs whichever of the seL4 build's Debian packages are missing.
ensure_sel4() {
    local missing=() pkg
    for pkg in "${SEL4_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "seL4 host packages already installed"
        return 0
    fi
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
}

install_tool() {
    local tool="$1"
    if [[ "$tool" == cc ]]; then
        ensure_cc
        return
    fi
    if [[ "$tool" == sel4 ]]; then
        ensure_sel4
        return
    fi
    if [[ "$tool" == tmux ]]; then
        command -v tmux >/dev/null 2>&1 || apt_install tmux
        return
    fi
    if [[ "$tool" == diod ]]; then
        command -v diodcat >/dev/null 2>&1 || apt_install diod
        return
    fi
    local version="${VERSION[$tool]:-}"
    if [[ -z "$version" ]]; then
        log "unknown tool: $tool (known: ${ALL_TOOLS[*]} cc sel4 tmux diod)"
        return 1
    fi
    if have_tool "$tool"; then
        log "$tool already installed"
        return 0
    fi
    ensure_cc
    log "installing $tool $version"
    cargo install --locked "$tool" --version "$version"
}

main() {
    if ! command -v cargo >/dev/null 2>&1; then
        log "cargo not found: install the Rust toolchain (rustup) first"
        exit 1
    fi
    local tools=("$@")
    if [[ ${#tools[@]} -eq 0 ]]; then
        tools=("${ALL_TOOLS[@]}")
    fi
    local tool
    for tool in "${tools[@]}"; do
        install_tool "$tool"
    done
}

main "$@"
