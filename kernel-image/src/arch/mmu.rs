//! An identity map of the first 4 GiB in 2 MiB blocks, then the MMU and caches on.
//!
//! Without the MMU every access is Device-nGnRnE: slow on hardware, and exclusive loads and
//! stores (the allocator's lock) are not guaranteed to work there. The platform says, block
//! by block, what is RAM (normal write-back memory), what is device registers, and what is
//! nothing (left unmapped so a stray pointer faults instead of reading garbage).

use core::ptr::addr_of_mut;

pub use cohesix_kernel_image::memory::MemKind;
use cohesix_kernel_image::memory::{block_descriptor, BLOCK, MAIR};

const GIB_MAPPED: usize = 4;
const ENTRIES: usize = 512;

const TABLE: u64 = 0b11;

/// 39-bit addresses (walks start at level 1), write-back walks, 4 KiB granule, TTBR1 off.
const TCR_T0SZ: u64 = 25;
const TCR_IRGN0_WB: u64 = 1 << 8;
const TCR_ORGN0_WB: u64 = 1 << 10;
const TCR_SH0_INNER: u64 = 0b11 << 12;
const TCR_EPD1: u64 = 1 << 23;

const SCTLR_M: u64 = 1;
const SCTLR_A: u64 = 1 << 1;
const SCTLR_C: u64 = 1 << 2;
const SCTLR_I: u64 = 1 << 12;

#[repr(C, align(4096))]
struct Table([u64; ENTRIES]);

static mut LEVEL1: Table = Table([0; ENTRIES]);
static mut LEVEL2: [Table; GIB_MAPPED] = [const { Table([0; ENTRIES]) }; GIB_MAPPED];

/// Builds the tables from `kind_of(block address)` and turns the MMU and caches on.
///
/// # Safety
/// Call once, on the boot core, before anything relies on memory attributes, with a map
/// that keeps the running image, its stack and heap `Normal` and every device it touches
/// `Device`.
pub unsafe fn enable(kind_of: fn(u64) -> MemKind) {
    // SAFETY: single-threaded boot; nothing else refers to the tables yet.
    let (level1, level2) = unsafe { (&mut *addr_of_mut!(LEVEL1), &mut *addr_of_mut!(LEVEL2)) };
    for (gib, table) in level2.iter_mut().enumerate() {
        for (i, entry) in table.0.iter_mut().enumerate() {
            let addr = ((gib as u64) << 30) | ((i as u64) * BLOCK);
            *entry = block_descriptor(addr, kind_of(addr));
        }
        level1.0[gib] = (table as *const Table as u64) | TABLE;
    }
    let tables = [level1 as *const Table as u64]
        .into_iter()
        .chain(level2.iter().map(|t| t as *const Table as u64));
    for table in tables {
        for line in (table..table + 4096).step_by(64) {
            // SAFETY: drops stale cache lines over the tables so the walker and the CPU agree
            // once caches are on (the tables were written with the data cache off).
            unsafe { core::arch::asm!("dc ivac, {}", in(reg) line, options(nostack)) };
        }
    }
    let tcr = TCR_T0SZ
        | TCR_IRGN0_WB
        | TCR_ORGN0_WB
        | TCR_SH0_INNER
        | TCR_EPD1
        | (physical_range() << 32);
    // SAFETY: the tables map the running code identically, so execution continues at the
    // same addresses once translation is on.
    unsafe {
        core::arch::asm!(
            "dsb sy",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "ic iallu",
            "mrs {tmp}, sctlr_el1",
            "orr {tmp}, {tmp}, {on}",
            "bic {tmp}, {tmp}, {off}",
            "msr sctlr_el1, {tmp}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) tcr,
            ttbr = in(reg) level1 as *const Table as u64,
            on = in(reg) SCTLR_M | SCTLR_C | SCTLR_I,
            off = in(reg) SCTLR_A,
            tmp = out(reg) _,
            options(nostack),
        );
    }
}

/// The CPU's physical address size (ID_AA64MMFR0_EL1.PARange) as TCR's IPS field, capped at
/// 48 bits.
fn physical_range() -> u64 {
    let mmfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe {
        core::arch::asm!("mrs {}, id_aa64mmfr0_el1", out(reg) mmfr0, options(nomem, nostack))
    };
    (mmfr0 & 0xf).min(5)
}
