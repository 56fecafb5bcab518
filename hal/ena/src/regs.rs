//! BAR0 register access and the register map of `ena_regs_defs.h`.

pub const VERSION: usize = 0x00;
pub const CONTROLLER_VERSION: usize = 0x04;
pub const CAPS: usize = 0x08;
pub const AQ_BASE_LO: usize = 0x10;
pub const AQ_BASE_HI: usize = 0x14;
pub const AQ_CAPS: usize = 0x18;
pub const ACQ_BASE_LO: usize = 0x20;
pub const ACQ_BASE_HI: usize = 0x24;
pub const ACQ_CAPS: usize = 0x28;
pub const AQ_DB: usize = 0x2C;
pub const AENQ_CAPS: usize = 0x34;
pub const AENQ_BASE_LO: usize = 0x38;
pub const AENQ_BASE_HI: usize = 0x3C;
pub const AENQ_HEAD_DB: usize = 0x40;
pub const INTR_MASK: usize = 0x4C;
pub const DEV_CTL: usize = 0x54;
pub const DEV_STS: usize = 0x58;

pub const VERSION_MAJOR_SHIFT: u32 = 8;
pub const CAPS_RESET_TIMEOUT_SHIFT: u32 = 1;
pub const CAPS_RESET_TIMEOUT_MASK: u32 = 0x3E;
pub const CAPS_DMA_ADDR_WIDTH_SHIFT: u32 = 8;
pub const CAPS_DMA_ADDR_WIDTH_MASK: u32 = 0xFF00;
pub const QUEUE_CAPS_ENTRY_SIZE_SHIFT: u32 = 16;

pub const DEV_CTL_DEV_RESET: u32 = 1 << 0;
/// Reset reason field of DEV_CTL (bits 31:28); 0 is "normal".
pub const DEV_CTL_RESET_REASON_SHIFT: u32 = 28;
pub const DEV_STS_READY: u32 = 1 << 0;
pub const DEV_STS_RESET_IN_PROGRESS: u32 = 1 << 3;
pub const DEV_STS_FATAL_ERROR: u32 = 1 << 5;

/// A block of 32-bit device registers addressed by byte offset. Both operations take
/// `&self` so the transmit and receive halves can share the BAR.
pub trait Regs {
    fn read32(&self, offset: usize) -> u32;
    fn write32(&self, offset: usize, value: u32);
}

impl<T: Regs + ?Sized> Regs for &T {
    fn read32(&self, offset: usize) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&self, offset: usize, value: u32) {
        (**self).write32(offset, value)
    }
}

/// A memory-mapped BAR.
#[derive(Debug)]
pub struct Mmio {
    base: usize,
    len: usize,
}

impl Mmio {
    /// # Safety
    /// `[base, base + len)` must be the device's BAR0, mapped as device memory, for the life
    /// of the value, and driven by nothing else.
    pub const unsafe fn new(base: usize, len: usize) -> Self {
        Self { base, len }
    }

    fn in_window(&self, offset: usize) -> bool {
        offset & 3 == 0 && offset.checked_add(4).is_some_and(|end| end <= self.len)
    }
}

impl Regs for Mmio {
    fn read32(&self, offset: usize) -> u32 {
        // Doorbell offsets come from the device; one outside the BAR reads as all ones
        // instead of touching foreign memory.
        if !self.in_window(offset) {
            return u32::MAX;
        }
        // SAFETY: `new`'s contract makes an aligned in-window offset a device register.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u32) }
    }

    fn write32(&self, offset: usize, value: u32) {
        if !self.in_window(offset) {
            return;
        }
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }
}
