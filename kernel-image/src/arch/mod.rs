//! AArch64 start-up: the entry point, exception vectors and the identity-mapped MMU. As an
//! seL4 root task none of them exist (the kernel owns the vectors and the address space and
//! `hal_sel4::rt` provides the entry point), nor as a UEFI application (the firmware's map
//! and vectors stay; `efi_main` is the entry).

#[cfg(not(any(feature = "sel4", feature = "aws")))]
pub mod boot;
#[cfg(not(any(feature = "sel4", feature = "aws")))]
pub mod exceptions;
#[cfg(not(any(feature = "sel4", feature = "aws")))]
pub mod mmu;

/// Waits forever with the core idle; what a fatal error ends in.
pub fn park() -> ! {
    loop {
        // SAFETY: `wfe` only waits for an event.
        unsafe { core::arch::asm!("wfe", options(nomem, nostack)) };
    }
}

/// The exception level the image runs at (1 after `_start` has dropped from EL2).
#[cfg(not(feature = "sel4"))]
pub fn current_el() -> u64 {
    let el: u64;
    // SAFETY: reading CurrentEL has no side effects.
    unsafe { core::arch::asm!("mrs {}, CurrentEL", out(reg) el, options(nomem, nostack)) };
    (el >> 2) & 3
}

/// An seL4 root task is a user thread: EL0, where CurrentEL cannot be read.
#[cfg(feature = "sel4")]
pub fn current_el() -> u64 {
    0
}
