//! Volatile access to memory-mapped registers at `base + offset`.

/// A block of 32-bit registers. Copyable: it is only an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regs {
    base: usize,
}

impl Regs {
    /// # Safety
    /// `base` must be the address of a device register block (or, in tests, of memory large
    /// enough for every offset used) that stays mapped for the life of the value.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    pub fn base(&self) -> usize {
        self.base
    }

    pub fn read32(&self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract makes base + offset a valid, aligned register.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u32) }
    }

    pub fn write32(&self, offset: usize, value: u32) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }

    pub fn read8(&self, offset: usize) -> u8 {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u8) }
    }

    pub fn write16(&self, offset: usize, value: u16) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u16, value) }
    }
}
