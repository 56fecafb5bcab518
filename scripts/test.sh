#!/usr/bin/env bash
# The project's test command. Runs every check CI runs, in order, each under a clear header:
# formatting, lints, the workspace tests with every insta snapshot checked (the simulator's
# golden transcripts, the dashboard's frames) and the image library's host tests
# (kernel-image/src/lib.rs: boot plan, memory maps), the no_std link proof, a bounded fuzz session,
# a compile check of the benchmarks, the QEMU virt image end to end (with the cohsh smoke pack
# and its parity against the simulator and a hosted hive), the same on seL4 (the image as the
# root task of the vendored seL4 16.0.0), and the Pi 4 and AWS (UEFI) images' smoke boots.
# Every stage runs even after a failure, so one run reports everything; the script exits
# non-zero if any stage failed. A stage that did not do its work (the fuzz stage under
# SKIP_FUZZ=1, or without scripts/fuzz.sh) is reported as skipped, never as passed; under CI
# a skipped stage fails the run.
#
#   scripts/test.sh              everything (what CI runs)
#   scripts/test.sh test image   only the named stages
#   SKIP_FUZZ=1 scripts/test.sh  skip the fuzz stage for a quick local run (ignored when CI is set)
#
# The image stages install Debian's bare-metal Rust toolchain and QEMU when they are missing
# (as root), and need the host ports 31337 and 564 free.
#
# To add a stage: write a `stage_<name>` function below, list it in STAGES, and name any cargo
# tool it needs in `ensure_tools` (scripts/setup.sh installs it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Cargo's own bin directory is not on PATH in every non-login shell.
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TEST_LOG="$WORK/cargo-test.log"

log() { printf '[test] %s\n' "$*"; }

in_ci() {
    [[ -n "${CI:-}" && "${CI}" != false && "${CI}" != 0 ]]
}

fuzz_enabled() {
    if [[ "${SKIP_FUZZ:-}" == 1 ]]; then
        if in_ci; then
            log "SKIP_FUZZ is ignored in CI"
            return 0
        fi
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# Prerequisites: the toolchain must exist; missing cargo tools are installed by setup.sh.

ensure_toolchain() {
    if ! command -v cargo >/dev/null 2>&1; then
        log "cargo not found: install the Rust toolchain (rustup) first"
        exit 1
    fi
    # Some dependencies build C or assembly through the `cc` crate.
    if ! command -v cc >/dev/null 2>&1; then
        bash scripts/setup.sh cc
    fi
    local component
    for component in fmt clippy; do
        if ! cargo "$component" --version >/dev/null 2>&1; then
            log "cargo $component missing; trying: rustup component add"
            rustup component add "$([[ $component == fmt ]] && echo rustfmt || echo clippy)"
        fi
    done
}

ensure_tools() {
    local missing=()
    if fuzz_enabled && [[ -x scripts/fuzz.sh ]] && ! cargo fuzz --version >/dev/null 2>&1; then
        missing+=(cargo-fuzz)
    fi
    if ! cargo insta --version >/dev/null 2>&1; then
        missing+=(cargo-insta)
    fi
    # The dashboard's end-to-end test drives tmux, and fails under CI without it.
    if ! command -v tmux >/dev/null 2>&1; then
        missing+=(tmux)
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        log "installing missing tools: ${missing[*]}"
        bash scripts/setup.sh "${missing[@]}"
    fi
}

# ---------------------------------------------------------------------------------------------
# Stages. Each is one function; it fails by returning (or exiting) non-zero.

stage_fmt() {
    cargo fmt --all -- --check
    # The image and its host probe are separate Cargo projects outside the workspace.
    (cd kernel-image && cargo fmt -- --check)
    (cd kernel-image/probe && cargo fmt -- --check)
}

stage_clippy() {
    cargo clippy --workspace --all-targets -- -D warnings
    # The image's host-testable library and its tests (the image itself is linted for
    # aarch64 as kernel-image/README.md says).
    cargo clippy --manifest-path kernel-image/Cargo.toml --lib --tests \
        --target-dir "${CARGO_TARGET_DIR:-target}/kernel-image-host" -- -D warnings
}

stage_test() {
    # `cargo insta test` runs `cargo test` and then fails on any snapshot that differs (in its
    # contents or, with --require-full-match, its metadata), is new, or is no longer referenced
    # by a test; golden/transcripts.rs itself fails on a golden/*.snap no test checks. The
    # output is shown in full (CI reads the `test result:` lines) and kept for the summary.
    cargo insta test --workspace --check --require-full-match --unreferenced=reject 2>&1 |
        tee "$TEST_LOG"
    # The image's platform-independent library (boot plan, memory maps) on the host; the
    # image is its own cargo project, so its own lock file and target directory.
    cargo test --manifest-path kernel-image/Cargo.toml --lib \
        --target-dir "${CARGO_TARGET_DIR:-target}/kernel-image-host" 2>&1 | tee -a "$TEST_LOG"
    # A stock 9P2000.L client (diod's) attaches with its ticket in aname.
    scripts/interop-9p.sh
}

stage_nostd() {
    # Fails with a duplicate `panic_impl` lang item if any core crate links std.
    cargo build -p cohesix-nostd-check --features prove
}

# A stage that cannot do its work returns this, so it is reported as skipped, not passed.
SKIPPED_RC=77

stage_fuzz() {
    if ! fuzz_enabled; then
        log "skipped (SKIP_FUZZ=1)"
        return $SKIPPED_RC
    fi
    if [[ ! -x scripts/fuzz.sh ]]; then
        log "skipped: scripts/fuzz.sh is not present"
        return $SKIPPED_RC
    fi
    scripts/fuzz.sh
}

stage_bench() {
    # Compiles every benchmark with the (optimised) test profile the test stage already built,
    # so this proves they build without a second release build of every dependency.
    cargo build --workspace --benches --profile test
}

stage_image() {
    # The QEMU virt image: three boots (provisioned, no blob, no token), then the smoke pack
    # through cohsh over the console on a fourth and over Secure9P on a fifth, whose replies,
    # bodies included (normalised), must match the simulator's and a hosted hive's
    # (scripts/pack-parity.sh).
    cargo build -p cohsh
    local out="$WORK/qemu-smoke.out" target="${CARGO_TARGET_DIR:-target}"
    [[ $target == /* ]] || target="$ROOT/$target"
    COHSH="$target/debug/cohsh" \
        COHSH_SCRIPTS=hosttools/cohsh/packs/smoke.coh COHSH_OUT="$out" \
        scripts/qemu-e2e.sh
    scripts/pack-parity.sh --also "$out" --also-9p "$out.9p"
}

stage_sel4() {
    # The image as the root task of a real seL4 built from the vendored, checksummed sources
    # (scripts/build-sel4.sh; the kernel build is kept under target/sel4 between runs), booted
    # under QEMU virt: the same boots, end-to-end probe and smoke pack as the image stage,
    # with the same parity. Fails if seL4 does not boot or the root task does not listen.
    bash scripts/setup.sh sel4
    cargo build -p cohsh
    local started=$SECONDS
    scripts/build-sel4.sh --quiet
    log "seL4 kernel, root task and elfloader image built in $((SECONDS - started)) s"
    local out="$WORK/sel4-smoke.out" target="${CARGO_TARGET_DIR:-target}"
    [[ $target == /* ]] || target="$ROOT/$target"
    COHSH="$target/debug/cohsh" \
        COHSH_SCRIPTS=hosttools/cohsh/packs/smoke.coh COHSH_OUT="$out" \
        scripts/qemu-e2e.sh --no-build --sel4 --timeout 90
    scripts/pack-parity.sh --also "$out"
}

stage_pi4() {
    # The Pi 4 image on QEMU raspi4b: the serial banner and prompt.
    scripts/boot-pi4.sh --qemu
}

stage_aws() {
    # The AWS profile as a UEFI application on a GPT disk, under QEMU + EDK2: the banner and
    # prompt (QEMU has no ENA, so this checks the UEFI path, not the NIC).
    scripts/boot-aws.sh --qemu --timeout 120
}

STAGES=(fmt clippy test nostd fuzz bench image sel4 pi4 aws)

# ---------------------------------------------------------------------------------------------

PASSED=()
FAILED=()
SKIPPED=()

run_stage() {
    local name="$1" started rc
    started=$SECONDS
    printf '\n==================== stage: %s ====================\n' "$name"
    # A subshell outside any `if`/`||`, so the `set -e` inside it stops the stage at its first
    # failing command; the outer shell records the status and goes on to the next stage.
    set +e
    (
        set -e
        "stage_$name"
    )
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then
        PASSED+=("$name")
        printf -- '---- stage %s: ok (%ss)\n' "$name" "$((SECONDS - started))"
    elif [[ $rc -eq $SKIPPED_RC ]]; then
        SKIPPED+=("$name")
        printf -- '---- stage %s: SKIPPED, not passed (%ss)\n' "$name" "$((SECONDS - started))"
    else
        FAILED+=("$name")
        printf -- '---- stage %s: FAILED with exit code %s (%ss)\n' "$name" "$rc" "$((SECONDS - started))"
    fi
}

# Sums the `test result:` lines of the cargo test stage.
test_totals() {
    [[ -f "$TEST_LOG" ]] || return 0
    awk '/^test result:/ {
            for (i = 1; i <= NF; i++) {
                if ($(i) ~ /^passed;?$/) p += $(i - 1)
                if ($(i) ~ /^failed;?$/) f += $(i - 1)
                if ($(i) ~ /^ignored;?$/) s += $(i - 1)
            }
            seen = 1
        }
        END { if (seen) printf "cargo-test: %d passed, %d failed, %d skipped\n", p, f, s }' "$TEST_LOG"
}

main() {
    ensure_toolchain
    ensure_tools
    local name
    local stages=("$@")
    [[ ${#stages[@]} -eq 0 ]] && stages=("${STAGES[@]}")
    for name in "${stages[@]}"; do
        if ! declare -F "stage_$name" >/dev/null; then
            log "no stage named '$name'; stages: ${STAGES[*]}"
            exit 2
        fi
        run_stage "$name"
    done
    printf '\n==================== summary ====================\n'
    log "stages passed: ${PASSED[*]:-none}"
    log "stages failed: ${FAILED[*]:-none}"
    log "stages skipped (not passed): ${SKIPPED[*]:-none}"
    test_totals
    if [[ ${#SKIPPED[@]} -gt 0 ]] && in_ci; then
        log "a stage skipped its work under CI: failing the run"
        return 1
    fi
    [[ ${#FAILED[@]} -eq 0 ]]
}

# Sourcing the script (to try one stage by hand) defines the functions without running them.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
