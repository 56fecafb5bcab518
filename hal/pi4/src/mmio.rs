//! Register access. Drivers talk to hardware only through [`Regs`], so tests can substitute
//! a simulated register file; [`Mmio`] is the real thing (volatile 32-bit accesses).

/// A block of 32-bit device registers addressed by byte offset.
///
/// Both operations take `&self`: device registers are shared state, and a driver that hands
/// out receive and transmit halves at the same time needs both to reach the registers.
pub trait Regs {
    /// Reads the register at `offset`.
    fn read32(&self, offset: usize) -> u32;
    /// Writes `value` to the register at `offset`.
    fn write32(&self, offset: usize, value: u32);
    /// Read-modify-write: clears the bits in `clear`, then sets the bits in `set`.
    fn modify32(&self, offset: usize, clear: u32, set: u32) {
        let value = self.read32(offset);
        self.write32(offset, (value & !clear) | set);
    }
}

impl<T: Regs + ?Sized> Regs for &T {
    fn read32(&self, offset: usize) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&self, offset: usize, value: u32) {
        (**self).write32(offset, value)
    }
}

/// A memory-mapped register window.
#[derive(Debug)]
pub struct Mmio {
    base: usize,
    len: usize,
}

impl Mmio {
    /// Wraps the register window `[base, base + len)`.
    ///
    /// # Safety
    /// The window must be mapped as device memory for as long as the value lives, and no
    /// other code may drive the same device concurrently.
    pub const unsafe fn new(base: usize, len: usize) -> Self {
        Self { base, len }
    }

    /// The base address of the window.
    pub fn base(&self) -> usize {
        self.base
    }

    fn in_window(&self, offset: usize) -> bool {
        offset & 3 == 0 && offset.checked_add(4).is_some_and(|end| end <= self.len)
    }
}

impl Regs for Mmio {
    fn read32(&self, offset: usize) -> u32 {
        // An offset outside the window reads as all ones, like an aborted bus read, rather
        // than touching memory the driver does not own.
        if !self.in_window(offset) {
            return u32::MAX;
        }
        // SAFETY: `new`'s contract makes the aligned in-window address a device register.
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

#[cfg(test)]
pub(crate) mod fake {
    //! A plain register file for tests: every register reads back what was last written.
    use core::cell::RefCell;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    use super::Regs;

    #[derive(Default)]
    pub struct FakeRegs {
        pub values: RefCell<BTreeMap<usize, u32>>,
        pub writes: RefCell<Vec<(usize, u32)>>,
    }

    impl FakeRegs {
        pub fn set(&self, offset: usize, value: u32) {
            self.values.borrow_mut().insert(offset, value);
        }
        pub fn get(&self, offset: usize) -> u32 {
            self.values.borrow().get(&offset).copied().unwrap_or(0)
        }
    }

    impl Regs for FakeRegs {
        fn read32(&self, offset: usize) -> u32 {
            self.get(offset)
        }
        fn write32(&self, offset: usize, value: u32) {
            self.writes.borrow_mut().push((offset, value));
            self.set(offset, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmio_refuses_offsets_outside_its_window() {
        let mut word: u32 = 0x1234_5678;
        // SAFETY: the window is one live, aligned u32 on the stack.
        let regs = unsafe { Mmio::new(&mut word as *mut u32 as usize, 4) };
        assert_eq!(regs.read32(0), 0x1234_5678);
        assert_eq!(regs.read32(4), u32::MAX);
        assert_eq!(regs.read32(2), u32::MAX);
        regs.write32(4, 7);
        regs.write32(0, 9);
        assert_eq!(word, 9);
    }

    #[test]
    fn modify_clears_then_sets() {
        let regs = fake::FakeRegs::default();
        regs.set(8, 0b1111);
        regs.modify32(8, 0b0101, 0b1_0000);
        assert_eq!(regs.get(8), 0b1_1010);
    }
}
