#!/usr/bin/env bash
# Fuzzes every parser and engine that reads untrusted bytes (the targets of fuzz/, see
# fuzz/README.md) for a bounded time each. Exits non-zero when libFuzzer finds a crash; the
# input is kept under fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                  every target briefly (CI: FUZZ_SECONDS, default 8, each)
#   scripts/fuzz.sh --long           every target for minutes (FUZZ_SECONDS, default 300, each)
#   scripts/fuzz.sh pump journal     only the named targets
#
# FUZZ_JOBS (default 2) targets run side by side. Each target starts from its checked-in
# seeds (fuzz/seeds/<target>/) and keeps what it finds in fuzz/corpus/<target>/ (not
# checked in), so repeated long runs build on each other.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/fuzz"
long=0
targets=()
for arg in "$@"; do
    case "$arg" in
        --long) long=1 ;;
        -h | --help)
            sed -n '2,12p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *) targets+=("$arg") ;;
    esac
done
if [[ $long == 1 ]]; then
    seconds="${FUZZ_SECONDS:-300}"
else
    seconds="${FUZZ_SECONDS:-8}"
fi
jobs="${FUZZ_JOBS:-2}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# libFuzzer instrumentation needs unstable rustc flags: use nightly when it is installed,
# otherwise let stable accept them.
toolchain=()
if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

cd "$fuzz_dir"
if [[ ${#targets[@]} == 0 ]]; then
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi

# The brief run builds without AddressSanitizer: the core forbids unsafe code, so ASan finds
# little there, and it roughly doubles build and run time. The long run uses it when this
# toolchain and platform can build with it.
sanitizer=(--sanitizer none)
if [[ $long == 1 ]]; then
    sanitizer=(--sanitizer address)
    if ! cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}"; then
        echo "fuzz: address sanitizer unavailable, building without it"
        sanitizer=(--sanitizer none)
    fi
fi
# One build of every target (debug assertions on, so the core's invariants are checked).
cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}"

logs="$fuzz_dir/target/fuzz-logs"
mkdir -p "$logs"
# The binaries are run directly, so targets running side by side do not queue on cargo's
# build lock.
triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"
bin_dir="$fuzz_dir/target/$triple/release"

run_one() {
    local target="$1"
    mkdir -p "corpus/$target" "artifacts/$target"
    if "$bin_dir/$target" "corpus/$target" "seeds/$target" \
        -artifact_prefix="artifacts/$target/" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$logs/$target.log" 2>&1; then
        echo "fuzz: $target ran ${seconds}s without a crash ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$target.log" | grep -o '[0-9]*$') runs)"
    else
        echo "fuzz: $target FAILED; its log:"
        tail -n 60 "$logs/$target.log"
        return 1
    fi
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
failed=0
running=0
for target in "${targets[@]}"; do
    run_one "$target" &
    running=$((running + 1))
    if [[ $running -ge $jobs ]]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [[ $running -gt 0 ]]; do
    wait -n || failed=1
    running=$((running - 1))
done
if [[ $failed != 0 ]]; then
    echo "fuzz: a target failed (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: every target ran without a crash"
