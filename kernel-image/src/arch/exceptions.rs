//! Exception vectors. The image runs with interrupts masked and polls every device, so any
//! exception is a fault: it is reported on the serial console with its syndrome and the core
//! parks. Nothing is resumed.

use core::fmt::Write;

core::arch::global_asm!(
    r#"
    .macro trap kind
    .balign 0x80
    mov     x0, #\kind
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    b       exception_trap
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global __vectors
__vectors:
    trap 0
    trap 1
    trap 2
    trap 3
    trap 4
    trap 5
    trap 6
    trap 7
    trap 8
    trap 9
    trap 10
    trap 11
    trap 12
    trap 13
    trap 14
    trap 15
"#
);

const KINDS: [&str; 4] = ["sync", "irq", "fiq", "serror"];
const ORIGINS: [&str; 4] = ["el1t", "el1h", "el0-a64", "el0-a32"];

#[no_mangle]
extern "C" fn exception_trap(kind: u64, esr: u64, elr: u64, far: u64) -> ! {
    let mut out = crate::platform::early_console();
    let _ = write!(
        out,
        "\r\ncohesix: fatal exception {} from {} esr={esr:#x} (class {:#x}) elr={elr:#x} far={far:#x}\r\n",
        KINDS[(kind & 3) as usize],
        ORIGINS[((kind >> 2) & 3) as usize],
        esr >> 26,
    );
    super::park()
}
