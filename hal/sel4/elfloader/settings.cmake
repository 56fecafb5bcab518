# Kernel configuration for running the Cohesix image as the seL4 root task. Used from the
# top of an seL4 project layout (kernel/, tools/seL4/, projects/util_libs/), see
# docs/hardware-platforms.md. PLATFORM is qemu-arm-virt or bcm2711 (Raspberry Pi 4).
#
# COHESIX_SEL4_KERNEL picks the kernel flavour:
#   debug   (default) assertions, kernel printing and seL4_DebugPutChar;
#   release optimised, no kernel printing (the root task prints through its mapped PL011).
# Neither is a verification build: that one prints nothing at all.
cmake_minimum_required(VERSION 3.16.0)

set(project_dir "${CMAKE_CURRENT_LIST_DIR}/../..")
file(GLOB project_modules ${project_dir}/projects/*)
list(
    APPEND
        CMAKE_MODULE_PATH
        ${project_dir}/kernel
        ${project_dir}/tools/seL4/cmake-tool/helpers/
        ${project_dir}/tools/seL4/elfloader-tool/
        ${project_modules}
)

include(application_settings)

if(NOT PLATFORM)
    set(PLATFORM "qemu-arm-virt" CACHE STRING "seL4 platform" FORCE)
endif()
if(NOT COHESIX_SEL4_KERNEL)
    set(COHESIX_SEL4_KERNEL "debug" CACHE STRING "seL4 kernel flavour: debug or release")
endif()
set(KernelSel4Arch "aarch64" CACHE STRING "" FORCE)
set(KernelArmHypervisorSupport OFF CACHE BOOL "" FORCE)
set(KernelIsMCS OFF CACHE BOOL "" FORCE)
set(KernelMaxNumNodes 1 CACHE STRING "" FORCE)
if(PLATFORM STREQUAL "qemu-arm-virt")
    # scripts/boot-qemu.sh --sel4 starts QEMU with the same CPU, memory and GIC, which the
    # kernel's device tree (dumped from this QEMU at configure time) describes.
    set(ARM_CPU "cortex-a53" CACHE STRING "" FORCE)
    set(QEMU_MEMORY "1024" CACHE STRING "" FORCE)
endif()
# The root task reads the generic timer directly (CNTPCT_EL0/CNTVCT_EL0) for its clock.
set(KernelArmExportPCNTUser ON CACHE BOOL "" FORCE)
set(KernelArmExportVCNTUser ON CACHE BOOL "" FORCE)
# The kernel ticks on the virtual timer; the root task sleeps on a one-shot of the physical
# timer (INTID 30), whose registers this opens to user level.
set(KernelArmExportPTMRUser ON CACHE BOOL "" FORCE)
# The root task's image stays within the default root CNode (2^12 slots, one per image
# page): its heap is mapped from untyped memory at run time, not linked into the image.

if(COHESIX_SEL4_KERNEL STREQUAL "release")
    ApplyCommonReleaseVerificationSettings(TRUE FALSE)
elseif(COHESIX_SEL4_KERNEL STREQUAL "debug")
    ApplyCommonReleaseVerificationSettings(FALSE FALSE)
else()
    message(FATAL_ERROR "COHESIX_SEL4_KERNEL must be debug or release, not ${COHESIX_SEL4_KERNEL}")
endif()
ApplyData61ElfLoaderSettings(${PLATFORM} ${KernelSel4Arch})

correct_platform_strings()
find_package(seL4 REQUIRED)
sel4_configure_platform_settings()
