# Kernel configuration for running the Cohesix image as the seL4 root task. Used from the
# top of an seL4 project checkout (kernel/, tools/seL4/, projects/util_libs/), see
# docs/hardware-platforms.md. PLATFORM is qemu-arm-virt or bcm2711 (Raspberry Pi 4).
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
set(KernelSel4Arch "aarch64" CACHE STRING "" FORCE)
set(KernelArmHypervisorSupport OFF CACHE BOOL "" FORCE)
set(KernelIsMCS OFF CACHE BOOL "" FORCE)
set(KernelMaxNumNodes 1 CACHE STRING "" FORCE)
if(PLATFORM STREQUAL "qemu-arm-virt")
    set(ARM_CPU "cortex-a53" CACHE STRING "" FORCE)
    set(QEMU_MEMORY "1024" CACHE STRING "" FORCE)
endif()
# The root task reads the generic timer directly (CNTPCT_EL0/CNTVCT_EL0) for its clock.
set(KernelArmExportPCNTUser ON CACHE BOOL "" FORCE)
set(KernelArmExportVCNTUser ON CACHE BOOL "" FORCE)
# Debug kernel: keeps seL4_DebugPutChar, which the root task's console uses for output
# while the kernel owns the UART.
set(RELEASE OFF CACHE BOOL "" FORCE)
set(KernelDebugBuild ON CACHE BOOL "" FORCE)
set(KernelPrinting ON CACHE BOOL "" FORCE)

correct_platform_strings()
find_package(seL4 REQUIRED)
sel4_configure_platform_settings()
