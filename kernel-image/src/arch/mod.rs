//! AArch64 start-up: the entry point, exception vectors and the identity-mapped MMU.

pub mod boot;
pub mod exceptions;
pub mod mmu;

/// Waits forever with the core idle; what a fatal error ends in.
pub fn park() -> ! {
    loop {
        // SAFETY: `wfe` only waits for an event.
        unsafe { core::arch::asm!("wfe", options(nomem, nostack)) };
    }
}

/// The exception level the image runs at (1 after `_start` has dropped from EL2).
pub fn current_el() -> u64 {
    let el: u64;
    // SAFETY: reading CurrentEL has no side effects.
    unsafe { core::arch::asm!("mrs {}, CurrentEL", out(reg) el, options(nomem, nostack)) };
    (el >> 2) & 3
}
