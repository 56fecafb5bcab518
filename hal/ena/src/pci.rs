//! Finding the ENA on PCI Express through an ECAM configuration window: vendor 0x1D0F,
//! device ids from the Linux `ena_pci_id_tbl`, BAR0 decoding and enabling memory decoding
//! and bus mastering. The firmware (UEFI on AWS) has already assigned the BARs.

use core::ops::RangeInclusive;

pub const VENDOR_AMAZON: u16 = 0x1D0F;
/// ENA physical and virtual functions, with and without LLQ.
pub const ENA_DEVICE_IDS: [u16; 4] = [0x0EC2, 0x1EC2, 0xEC20, 0xEC21];

const VENDOR_DEVICE: u16 = 0x00;
const COMMAND: u16 = 0x04;
const HEADER_TYPE: u16 = 0x0C;
const BAR0: u16 = 0x10;
const CMD_MEMORY: u32 = 1 << 1;
const CMD_BUS_MASTER: u32 = 1 << 2;
const CMD_INTX_DISABLE: u32 = 1 << 10;

/// Access to configuration space.
pub trait ConfigSpace {
    fn read32(&self, f: Function, offset: u16) -> u32;
    fn write32(&self, f: Function, offset: u16, value: u32);
}

/// A PCI function address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Function {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciError {
    /// BAR0 is an I/O BAR or unassigned.
    BadBar(u32),
}

/// A memory BAR: its bus address and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub addr: u64,
    pub size: u64,
}

/// An ECAM window covering `buses`.
#[derive(Debug)]
pub struct Ecam {
    base: usize,
    buses: RangeInclusive<u8>,
}

impl Ecam {
    /// # Safety
    /// `base` must map the ECAM region of `buses` (1 MiB per bus) as device memory.
    pub unsafe fn new(base: usize, buses: RangeInclusive<u8>) -> Self {
        Self { base, buses }
    }

    fn address(&self, f: Function, offset: u16) -> Option<usize> {
        if !self.buses.contains(&f.bus)
            || f.device > 31
            || f.function > 7
            || offset > 0xFFC
            || offset & 3 != 0
        {
            return None;
        }
        let bus = usize::from(f.bus - self.buses.start());
        Some(
            self.base
                + (bus << 20)
                + (usize::from(f.device) << 15)
                + (usize::from(f.function) << 12)
                + usize::from(offset),
        )
    }
}

impl ConfigSpace for Ecam {
    fn read32(&self, f: Function, offset: u16) -> u32 {
        match self.address(f, offset) {
            // SAFETY: `new`'s contract; the address is inside the window and aligned.
            Some(a) => unsafe { core::ptr::read_volatile(a as *const u32) },
            None => u32::MAX,
        }
    }

    fn write32(&self, f: Function, offset: u16, value: u32) {
        if let Some(a) = self.address(f, offset) {
            // SAFETY: as above.
            unsafe { core::ptr::write_volatile(a as *mut u32, value) }
        }
    }
}

/// The first ENA function on `buses` (at most 256 × 32 × 8 probes).
pub fn find_ena<C: ConfigSpace>(cfg: &C, buses: RangeInclusive<u8>) -> Option<(Function, u16)> {
    for bus in buses {
        for device in 0..32u8 {
            for function in 0..8u8 {
                let f = Function {
                    bus,
                    device,
                    function,
                };
                let id = cfg.read32(f, VENDOR_DEVICE);
                if id & 0xFFFF == 0xFFFF {
                    if function == 0 {
                        break;
                    }
                    continue;
                }
                let device_id = (id >> 16) as u16;
                if id as u16 == VENDOR_AMAZON && ENA_DEVICE_IDS.contains(&device_id) {
                    return Some((f, device_id));
                }
                let multi = cfg.read32(f, HEADER_TYPE) & (0x80 << 16) != 0;
                if function == 0 && !multi {
                    break;
                }
            }
        }
    }
    None
}

/// Decodes BAR0 (32- or 64-bit memory) and sizes it, restoring the original value.
pub fn bar0<C: ConfigSpace>(cfg: &C, f: Function) -> Result<Bar, PciError> {
    let lo = cfg.read32(f, BAR0);
    if lo & 1 != 0 {
        return Err(PciError::BadBar(lo));
    }
    let is64 = (lo >> 1) & 0b11 == 0b10;
    let hi = if is64 { cfg.read32(f, BAR0 + 4) } else { 0 };
    let addr = (u64::from(hi) << 32) | u64::from(lo & !0xF);
    cfg.write32(f, BAR0, u32::MAX);
    let mask_lo = cfg.read32(f, BAR0) & !0xF;
    cfg.write32(f, BAR0, lo);
    let mask_hi = if is64 {
        cfg.write32(f, BAR0 + 4, u32::MAX);
        let m = cfg.read32(f, BAR0 + 4);
        cfg.write32(f, BAR0 + 4, hi);
        m
    } else {
        u32::MAX
    };
    let mask = (u64::from(mask_hi) << 32) | u64::from(mask_lo);
    let size = (!mask).wrapping_add(1);
    if addr == 0 || mask_lo == 0 || size == 0 {
        return Err(PciError::BadBar(lo));
    }
    Ok(Bar { addr, size })
}

/// Turns on memory decoding and bus mastering and masks legacy interrupts (the driver
/// polls).
pub fn enable<C: ConfigSpace>(cfg: &C, f: Function) {
    let cmd = cfg.read32(f, COMMAND) & 0xFFFF;
    cfg.write32(
        f,
        COMMAND,
        cmd | CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use std::collections::BTreeMap;

    /// Config space of a few functions; BARs answer sizing writes like hardware.
    #[derive(Default)]
    struct FakeConfig {
        regs: RefCell<BTreeMap<(Function, u16), u32>>,
        bar_masks: BTreeMap<(Function, u16), u32>,
    }

    impl ConfigSpace for FakeConfig {
        fn read32(&self, f: Function, offset: u16) -> u32 {
            self.regs
                .borrow()
                .get(&(f, offset))
                .copied()
                .unwrap_or(u32::MAX)
        }
        fn write32(&self, f: Function, offset: u16, value: u32) {
            let value = match self.bar_masks.get(&(f, offset)) {
                Some(mask) if value == u32::MAX => mask | (self.read32(f, offset) & 0xF),
                _ => value,
            };
            self.regs.borrow_mut().insert((f, offset), value);
        }
    }

    fn func(bus: u8, device: u8) -> Function {
        Function {
            bus,
            device,
            function: 0,
        }
    }

    #[test]
    fn finds_the_ena_among_other_devices_and_sizes_its_64_bit_bar() {
        let mut cfg = FakeConfig::default();
        let other = func(0, 1);
        let ena = func(0, 5);
        {
            let mut r = cfg.regs.borrow_mut();
            r.insert((other, VENDOR_DEVICE), 0x1234_1AF4);
            r.insert((other, HEADER_TYPE), 0);
            r.insert((ena, VENDOR_DEVICE), 0xEC20_1D0F);
            r.insert((ena, HEADER_TYPE), 0);
            r.insert((ena, BAR0), 0x8010_0004);
            r.insert((ena, BAR0 + 4), 0x0000_0001);
            r.insert((ena, COMMAND), 0);
        }
        cfg.bar_masks.insert((ena, BAR0), 0xFFFF_C000);
        cfg.bar_masks.insert((ena, BAR0 + 4), 0xFFFF_FFFF);
        assert_eq!(find_ena(&cfg, 0..=0), Some((ena, 0xEC20)));
        let bar = bar0(&cfg, ena).unwrap();
        assert_eq!(
            bar,
            Bar {
                addr: 0x1_8010_0000,
                size: 0x4000
            }
        );
        // Sizing restored the BAR.
        assert_eq!(cfg.read32(ena, BAR0), 0x8010_0004);
        enable(&cfg, ena);
        assert_eq!(
            cfg.read32(ena, COMMAND),
            CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE
        );
    }

    #[test]
    fn an_empty_bus_finds_nothing_and_io_bars_are_refused() {
        let cfg = FakeConfig::default();
        assert_eq!(find_ena(&cfg, 0..=3), None);
        let f = func(0, 0);
        cfg.regs.borrow_mut().insert((f, BAR0), 0xE001);
        assert_eq!(bar0(&cfg, f), Err(PciError::BadBar(0xE001)));
        cfg.regs.borrow_mut().insert((f, BAR0), 0);
        assert!(bar0(&cfg, f).is_err());
    }

    #[test]
    fn ecam_refuses_addresses_outside_its_window() {
        // SAFETY: no access is made; only address arithmetic is checked.
        let ecam = unsafe { Ecam::new(0x4000_0000, 2..=3) };
        let f = Function {
            bus: 3,
            device: 1,
            function: 2,
        };
        assert_eq!(
            ecam.address(f, 0x10),
            Some(0x4000_0000 + (1 << 20) + (1 << 15) + (2 << 12) + 0x10)
        );
        assert_eq!(ecam.address(Function { bus: 1, ..f }, 0), None);
        assert_eq!(ecam.address(Function { device: 32, ..f }, 0), None);
        assert_eq!(ecam.address(f, 0x1000), None);
        assert_eq!(ecam.read32(Function { bus: 9, ..f }, 0), u32::MAX);
    }
}
