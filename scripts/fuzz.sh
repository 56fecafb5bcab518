#!/usr/bin/env bash
# Fuzzes the Secure9P decoders and session engine for a bounded time (FUZZ_SECONDS, default
# 30). Exits non-zero when libFuzzer finds a crash; the input is kept under
# core/secure9p/fuzz/artifacts/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/core/secure9p/fuzz"
seconds="${FUZZ_SECONDS:-30}"
target="${FUZZ_TARGET:-decode}"

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

# AddressSanitizer when this toolchain and platform can build with it; plain libFuzzer if not.
sanitizer=(--sanitizer address)
if ! cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}" "$target"; then
    echo "fuzz: address sanitizer unavailable, building without it"
    sanitizer=(--sanitizer none)
    cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}" "$target"
fi

echo "fuzz: running $target for ${seconds}s"
cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" "$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
echo "fuzz: $target ran ${seconds}s without a crash"
