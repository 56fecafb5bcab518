//! DMA memory shared with the device: one arena from the platform, split into exclusively
//! owned pieces (queues, buffers), with volatile accessors for descriptors the device writes.

use core::ptr::NonNull;

/// Page alignment the ENA requires for queue base addresses.
pub const PAGE: usize = 4096;

/// A contiguous, exclusively owned piece of DMA memory and its device-side address.
#[derive(Debug)]
pub struct DmaBuf {
    ptr: NonNull<u8>,
    len: usize,
    bus: u64,
}

// SAFETY: a `DmaBuf` uniquely owns its memory (see `new`), like a `Box<[u8]>`.
unsafe impl Send for DmaBuf {}

impl DmaBuf {
    /// # Safety
    /// `[ptr, ptr + len)` must be valid for reads and writes for the life of the value, owned
    /// by it alone on the CPU side, and visible to the device at `bus`.
    pub unsafe fn new(ptr: NonNull<u8>, len: usize, bus: u64) -> Self {
        Self { ptr, len, bus }
    }

    /// Wraps a `'static` buffer where device addresses equal CPU addresses.
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

    /// The device address of the start of the buffer.
    pub fn bus(&self) -> u64 {
        self.bus
    }

    /// Splits off a piece of `len` bytes whose device address is aligned to `align` (a
    /// power of two), discarding the padding before it. `None` if it does not fit.
    pub fn take(&mut self, len: usize, align: usize) -> Option<DmaBuf> {
        let mask = (align.max(1) as u64).checked_next_power_of_two()? - 1;
        let pad = ((self.bus + mask) & !mask).checked_sub(self.bus)? as usize;
        let need = pad.checked_add(len)?;
        if need > self.len {
            return None;
        }
        // SAFETY: `pad + len <= self.len`; the piece and the remainder are disjoint.
        let piece_ptr = unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(pad)) };
        let piece = DmaBuf {
            ptr: piece_ptr,
            len,
            bus: self.bus + pad as u64,
        };
        // SAFETY: as above; `need <= self.len`.
        self.ptr = unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(need)) };
        self.len -= need;
        self.bus += need as u64;
        Some(piece)
    }

    fn range(&self, offset: usize, len: usize) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        // SAFETY: in bounds of memory this value owns.
        (end <= self.len).then(|| unsafe { self.ptr.as_ptr().add(offset) })
    }

    pub fn slice(&self, offset: usize, len: usize) -> Option<&[u8]> {
        let p = self.range(offset, len)?;
        // SAFETY: in bounds, owned.
        Some(unsafe { core::slice::from_raw_parts(p, len) })
    }

    pub fn slice_mut(&mut self, offset: usize, len: usize) -> Option<&mut [u8]> {
        let p = self.range(offset, len)?;
        // SAFETY: in bounds, and `&mut self` makes the borrow unique.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    /// Volatile little-endian read of a word the device may have written.
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        let p = self.range(offset, 4)?;
        let mut bytes = [0u8; 4];
        for (i, b) in bytes.iter_mut().enumerate() {
            // SAFETY: in bounds; byte accesses need no alignment.
            *b = unsafe { core::ptr::read_volatile(p.add(i)) };
        }
        Some(u32::from_le_bytes(bytes))
    }

    pub fn read_u16(&self, offset: usize) -> Option<u16> {
        let p = self.range(offset, 2)?;
        // SAFETY: in bounds.
        let lo = unsafe { core::ptr::read_volatile(p) };
        // SAFETY: in bounds.
        let hi = unsafe { core::ptr::read_volatile(p.add(1)) };
        Some(u16::from_le_bytes([lo, hi]))
    }

    /// Volatile copy into the buffer (descriptors the device will read).
    pub fn write_bytes(&mut self, offset: usize, data: &[u8]) -> Option<()> {
        let p = self.range(offset, data.len())?;
        for (i, &b) in data.iter().enumerate() {
            // SAFETY: in bounds.
            unsafe { core::ptr::write_volatile(p.add(i), b) };
        }
        Some(())
    }

    /// Volatile copy out of the buffer (entries the device wrote).
    pub fn read_bytes(&self, offset: usize, out: &mut [u8]) -> Option<()> {
        let p = self.range(offset, out.len())?;
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: in bounds.
            *b = unsafe { core::ptr::read_volatile(p.add(i)) };
        }
        Some(())
    }

    /// Zeroes the whole buffer (queues start with every phase bit clear).
    pub fn zero(&mut self) {
        let len = self.len;
        if let Some(s) = self.slice_mut(0, len) {
            s.fill(0);
        }
        write_barrier();
    }
}

/// Orders CPU writes to DMA memory before a following doorbell write (Linux `wmb()`).
pub fn write_barrier() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier has no memory-safety effect.
    unsafe {
        core::arch::asm!("dsb st", options(nostack))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

/// Orders a read of a phase bit before reads of the rest of the entry (Linux `dma_rmb()`).
pub fn read_barrier() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier has no memory-safety effect.
    unsafe {
        core::arch::asm!("dsb ld", options(nostack))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
pub(crate) fn test_arena(len: usize) -> DmaBuf {
    use std::boxed::Box;
    use std::vec;
    DmaBuf::identity(Box::leak(vec![0u8; len].into_boxed_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_aligns_and_never_overlaps() {
        let mut arena = test_arena(5 * PAGE);
        let start = arena.bus();
        let a = arena.take(100, PAGE).unwrap();
        assert_eq!(a.bus() % PAGE as u64, 0);
        assert!(a.bus() >= start);
        let b = arena.take(PAGE, PAGE).unwrap();
        assert_eq!(b.bus() % PAGE as u64, 0);
        assert!(b.bus() >= a.bus() + 100);
        assert!(arena.take(10 * PAGE, 1).is_none());
        let rest = arena.len();
        assert!(arena.take(rest, 1).is_some());
        assert!(arena.take(1, 1).is_none());
    }

    #[test]
    fn accessors_are_bounds_checked_and_little_endian() {
        let mut buf = test_arena(8);
        buf.write_bytes(0, &[0x78, 0x56, 0x34, 0x12, 0xCD, 0xAB])
            .unwrap();
        assert_eq!(buf.read_u32(0), Some(0x1234_5678));
        assert_eq!(buf.read_u16(4), Some(0xABCD));
        assert_eq!(buf.read_u32(6), None);
        assert!(buf.write_bytes(7, &[1, 2]).is_none());
        let mut out = [0u8; 2];
        assert!(buf.read_bytes(usize::MAX, &mut out).is_none());
    }
}
