//! DMA buffers: memory the CPU and a bus master share, with the cache maintenance the
//! BCM2711 needs (its GENET is not cache coherent).

use core::ptr::NonNull;

/// A contiguous DMA buffer: a CPU pointer, a length, and the address the device uses.
#[derive(Debug)]
pub struct DmaBuf {
    ptr: NonNull<u8>,
    len: usize,
    bus: u64,
}

// SAFETY: a `DmaBuf` is the unique owner of its memory (see `new`), like a `Box<[u8]>`.
unsafe impl Send for DmaBuf {}

impl DmaBuf {
    /// Wraps `len` bytes at `ptr` that the device sees at bus address `bus`.
    ///
    /// # Safety
    /// The memory must be valid for reads and writes of `len` bytes for the life of the value,
    /// owned by it alone on the CPU side, and reachable by the device at `bus`.
    pub unsafe fn new(ptr: NonNull<u8>, len: usize, bus: u64) -> Self {
        Self { ptr, len, bus }
    }

    /// Wraps a `'static` buffer on a machine where bus and physical addresses equal the
    /// CPU's (the identity-mapped bare-metal image).
    pub fn identity(buf: &'static mut [u8]) -> Self {
        let len = buf.len();
        let ptr = NonNull::from(buf).cast::<u8>();
        Self {
            ptr,
            len,
            bus: ptr.as_ptr() as usize as u64,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The device-side address of byte `offset`, if it is inside the buffer.
    pub fn bus_addr(&self, offset: usize) -> Option<u64> {
        (offset < self.len).then(|| self.bus + offset as u64)
    }

    /// The bytes `[offset, offset + len)`, if inside the buffer.
    pub fn slice(&self, offset: usize, len: usize) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: in bounds of memory this value owns (`new`'s contract).
        Some(unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().add(offset), len) })
    }

    /// The bytes `[offset, offset + len)` for writing, if inside the buffer.
    pub fn slice_mut(&mut self, offset: usize, len: usize) -> Option<&mut [u8]> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: in bounds, and `&mut self` makes the borrow unique.
        Some(unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr().add(offset), len) })
    }

    /// Makes CPU writes to `[offset, offset + len)` visible to the device.
    pub fn sync_for_device(&self, offset: usize, len: usize) {
        if let Some(bytes) = self.slice(offset, len) {
            cache::clean(bytes.as_ptr() as usize, bytes.len());
        }
    }

    /// Discards stale cache lines so the CPU sees what the device wrote.
    pub fn sync_for_cpu(&self, offset: usize, len: usize) {
        if let Some(bytes) = self.slice(offset, len) {
            cache::invalidate(bytes.as_ptr() as usize, bytes.len());
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod cache {
    //! Data-cache maintenance by virtual address to the point of coherency.
    const LINE: usize = 64;

    pub fn clean(addr: usize, len: usize) {
        let mut line = addr & !(LINE - 1);
        while line < addr + len {
            // SAFETY: cache maintenance on a mapped address has no memory-safety effect.
            unsafe { core::arch::asm!("dc cvac, {0}", in(reg) line, options(nostack)) };
            line += LINE;
        }
        // SAFETY: a barrier only orders memory accesses.
        unsafe { core::arch::asm!("dsb sy", options(nostack)) };
    }

    pub fn invalidate(addr: usize, len: usize) {
        let mut line = addr & !(LINE - 1);
        while line < addr + len {
            // Clean-and-invalidate rather than invalidate: a partial line at either end may
            // hold CPU data that must not be thrown away.
            // SAFETY: as above.
            unsafe { core::arch::asm!("dc civac, {0}", in(reg) line, options(nostack)) };
            line += LINE;
        }
        // SAFETY: as above.
        unsafe { core::arch::asm!("dsb sy", options(nostack)) };
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod cache {
    //! Host builds (tests): memory is coherent, only ordering matters.
    use core::sync::atomic::{fence, Ordering};

    pub fn clean(_addr: usize, _len: usize) {
        fence(Ordering::SeqCst);
    }

    pub fn invalidate(_addr: usize, _len: usize) {
        fence(Ordering::SeqCst);
    }
}

#[cfg(test)]
pub(crate) fn test_buf(len: usize) -> DmaBuf {
    use std::boxed::Box;
    use std::vec;
    DmaBuf::identity(Box::leak(vec![0u8; len].into_boxed_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_bounds_checked() {
        let mut buf = test_buf(16);
        assert!(buf.slice(0, 16).is_some());
        assert!(buf.slice(8, 9).is_none());
        assert!(buf.slice(usize::MAX, 2).is_none());
        buf.slice_mut(4, 2).unwrap().copy_from_slice(&[1, 2]);
        assert_eq!(buf.slice(4, 2).unwrap(), &[1, 2]);
        assert_eq!(buf.bus_addr(15).unwrap() - buf.bus_addr(0).unwrap(), 15);
        assert!(buf.bus_addr(16).is_none());
    }
}
