//! The global allocator: talc over the region the linker script reserves after the stack.

use talc::source::Manual;
use talc::TalcLock;

#[global_allocator]
static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, Manual> = TalcLock::new(Manual);

extern "C" {
    static mut __heap_start: u8;
    static mut __heap_end: u8;
}

/// Hands the heap region to the allocator; returns its size in bytes.
///
/// # Safety
/// Call once, after the MMU maps the heap as normal memory and before the first allocation.
pub unsafe fn init() -> usize {
    let start = core::ptr::addr_of_mut!(__heap_start);
    let end = core::ptr::addr_of_mut!(__heap_end);
    let size = end as usize - start as usize;
    // SAFETY: the linker reserves [start, end) for the heap alone and nothing else uses it.
    let claimed = unsafe { ALLOCATOR.lock().claim(start, size) };
    if claimed.is_some() {
        size
    } else {
        0
    }
}
