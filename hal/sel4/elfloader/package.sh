#!/usr/bin/env bash
# Builds an seL4 kernel, the Cohesix root task and the elfloader image, in three steps:
#   1. configure and build seL4 + libsel4 (this directory is SEL4_BUILD_DIR afterwards),
#   2. build the root task with the `sel4` feature against those generated headers,
#   3. re-configure with the root task and build the elfloader image.
#
#   hal/sel4/elfloader/package.sh SEL4_PROJECT BUILD_DIR ROOT_TASK_CMD [PLATFORM]
#
# SEL4_PROJECT is an seL4 project checkout (kernel/, tools/seL4/, projects/util_libs/),
# BUILD_DIR an empty directory, ROOT_TASK_CMD a command that builds the root task ELF and
# prints its path on the last line (run with SEL4_BUILD_DIR exported), PLATFORM
# qemu-arm-virt (default) or bcm2711. Needs cmake, ninja, python3 with the seL4 deps and
# an aarch64-linux-gnu cross compiler, as seL4's own build does.
set -euo pipefail

if [[ $# -lt 3 ]]; then
    sed -n '2,15p' "$0"
    exit 2
fi
project=$(realpath "$1")
build=$(realpath -m "$2")
root_cmd=$3
platform=${4:-qemu-arm-virt}
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")

mkdir -p "$project/projects/cohesix-sel4"
cp "$here/CMakeLists.txt" "$here/settings.cmake" "$project/projects/cohesix-sel4/"
mkdir -p "$build"
cd "$build"

configure() {
    cmake -G Ninja \
        -DCROSS_COMPILER_PREFIX=aarch64-linux-gnu- \
        -DCMAKE_TOOLCHAIN_FILE="$project/kernel/gcc.cmake" \
        -DPLATFORM="$platform" \
        -C "$project/projects/cohesix-sel4/settings.cmake" \
        "$@" \
        "$project/projects/cohesix-sel4"
}

configure
ninja kernel.elf sel4
export SEL4_BUILD_DIR="$build"

root_task=$(bash -c "$root_cmd" | tail -n 1)
[[ -f "$root_task" ]] || { echo "root task ELF not found: $root_task" >&2; exit 1; }

configure -DCOHESIX_ROOT_TASK="$(realpath "$root_task")"
ninja
ls -l "$build"/images/
