//! `_start`: the first instructions. Core 0 continues, others park. From EL2 (Pi 4 firmware,
//! some UEFI loaders) it drops to EL1 with the counters open to EL1; at EL1 (QEMU virt) it goes
//! straight on. Then: stack, FP/SIMD on (Rust code uses the NEON registers), `.bss` zeroed,
//! vectors installed, and `kernel_main(x0 at entry)`.

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbnz    x1, 9f

    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    and     x1, x1, #3
    cmp     x1, #2
    b.ne    1f

    // EL2 -> EL1: AArch64 EL1, counters readable, nothing trapped, a known SCTLR_EL1.
    mov     x1, #(1 << 31)
    msr     hcr_el2, x1
    mrs     x1, cnthctl_el2
    orr     x1, x1, #3
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    mov     x1, #0x33ff
    msr     cptr_el2, x1
    msr     hstr_el2, xzr
    ldr     x1, =0x30d00800
    msr     sctlr_el1, x1
    mov     x1, #0x3c5
    msr     spsr_el2, x1
    adr     x1, 1f
    msr     elr_el2, x1
    eret

1:
    ldr     x1, =__stack_top
    mov     sp, x1
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb

    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
2:
    cmp     x1, x2
    b.hs    3f
    str     xzr, [x1], #8
    b       2b
3:
    ldr     x1, =__vectors
    msr     vbar_el1, x1
    isb

    mov     x0, x19
    bl      kernel_main

9:
    wfe
    b       9b
"#
);
