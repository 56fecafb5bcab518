//! The global allocator: talc over the region the linker script reserves after the stack, or,
//! in a UEFI application (PE/COFF, no linker script), over a static array, or, as an seL4
//! root task, over the frames the platform maps from untyped memory at boot.

use talc::source::Manual;
use talc::TalcLock;

#[global_allocator]
static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, Manual> = TalcLock::new(Manual);

#[cfg(not(any(feature = "aws", feature = "sel4")))]
extern "C" {
    static mut __heap_start: u8;
    static mut __heap_end: u8;
}

#[cfg(feature = "aws")]
const HEAP_BYTES: usize = 128 << 20;

#[cfg(feature = "aws")]
#[repr(C, align(4096))]
struct Arena([u8; HEAP_BYTES]);

#[cfg(feature = "aws")]
static mut HEAP: Arena = Arena([0; HEAP_BYTES]);

/// Hands the heap region to the allocator; returns its size in bytes.
///
/// # Safety
/// Call once, after the MMU maps the heap as normal memory and before the first allocation.
#[cfg(not(feature = "sel4"))]
pub unsafe fn init() -> usize {
    #[cfg(not(feature = "aws"))]
    let (start, size) = {
        let start = core::ptr::addr_of_mut!(__heap_start);
        let end = core::ptr::addr_of_mut!(__heap_end);
        (start, end as usize - start as usize)
    };
    #[cfg(feature = "aws")]
    let (start, size) = (core::ptr::addr_of_mut!(HEAP.0) as *mut u8, HEAP_BYTES);
    // SAFETY: the linker reserves [start, end) for the heap alone and nothing else uses it.
    let claimed = unsafe { ALLOCATOR.lock().claim(start, size) };
    if claimed.is_some() {
        size
    } else {
        0
    }
}

/// Hands `[start, start + size)` to the allocator; returns the bytes it took.
///
/// # Safety
/// Call once, before the first allocation, with a region mapped read-write as normal memory
/// that nothing else uses.
#[cfg(feature = "sel4")]
pub unsafe fn init_at(start: usize, size: usize) -> usize {
    // SAFETY: the caller's contract.
    let claimed = unsafe { ALLOCATOR.lock().claim(start as *mut u8, size) };
    if claimed.is_some() {
        size
    } else {
        0
    }
}
