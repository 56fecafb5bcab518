//! A behavioural model of the GENET v5 and its PHY for host tests: DMA index registers,
//! on-chip descriptors, a transmit engine that reads frames out of the driver's buffers, a
//! receive engine the test feeds, and a clause-22 PHY with the Broadcom shadow registers.

use core::cell::{Cell, RefCell};
use std::vec::Vec;

use super::mdio::*;
use super::regs::*;
use crate::mmio::fake::FakeRegs;
use crate::mmio::Regs;

pub struct PhyModel {
    pub regs: [u16; 32],
    pub link_up: bool,
    pub partner_gig: bool,
    pub partner_lpa: u16,
    pub aux_misc: u16,
    pub aux_read_select: bool,
    pub shadow: [u16; 32],
    pub shadow_select: usize,
}

impl Default for PhyModel {
    fn default() -> Self {
        let mut shadow = [0u16; 32];
        // The PHY comes out of reset with its transmit clock delay on.
        shadow[3] = 1 << 9;
        Self {
            regs: [0; 32],
            link_up: false,
            partner_gig: true,
            partner_lpa: ADVERTISE_100FULL | ADVERTISE_10FULL,
            aux_misc: 0,
            aux_read_select: false,
            shadow,
            shadow_select: 0,
        }
    }
}

impl PhyModel {
    fn read(&mut self, reg: u8) -> u16 {
        match reg {
            MII_BMSR if self.link_up => BMSR_LSTATUS | BMSR_ANEGCOMPLETE,
            MII_BMSR => 0,
            MII_LPA => self.partner_lpa,
            MII_STAT1000 if self.partner_gig => LPA_1000FULL,
            MII_STAT1000 => 0,
            0x18 if self.aux_read_select => self.aux_misc,
            0x1C => self.shadow[self.shadow_select],
            r => self.regs[usize::from(r & 0x1F)],
        }
    }

    fn write(&mut self, reg: u8, value: u16) {
        match reg {
            // Reset completes at once and clears itself.
            MII_BMCR => self.regs[0] = value & !BMCR_RESET,
            0x18 => {
                if value & 0x7 == 0x7 && (value >> 12) & 0x7 == 0x7 {
                    self.aux_read_select = true;
                } else if value & 0x7 == 0x7 {
                    self.aux_misc = value & !0x7;
                    self.aux_read_select = false;
                }
            }
            0x1C => {
                let select = usize::from((value >> 10) & 0x1F);
                self.shadow_select = select;
                if value & 0x8000 != 0 {
                    self.shadow[select] = value & 0x03FF;
                }
            }
            r => self.regs[usize::from(r & 0x1F)] = value,
        }
    }
}

#[derive(Default)]
pub struct GenetModel {
    pub regs: FakeRegs,
    pub phy: RefCell<PhyModel>,
    pub sent: RefCell<Vec<Vec<u8>>>,
    /// Buffers the device may touch: (bus address, length).
    pub memory: RefCell<Vec<(u64, usize)>>,
    pub revision: Cell<u32>,
    pub tx_stuck: Cell<bool>,
    pub dma_stuck: Cell<bool>,
    pub mdio_dead: Cell<bool>,
    pub rx_overflows: Cell<u64>,
    pub stray_dma: Cell<u64>,
}

impl GenetModel {
    pub fn new() -> Self {
        let model = Self::default();
        model.revision.set(0x0600_0000);
        model
    }

    pub fn allow(&self, bus: u64, len: usize) {
        self.memory.borrow_mut().push((bus, len));
    }

    fn checked_ptr(&self, bus: u64, len: usize) -> Option<*mut u8> {
        let ok = self
            .memory
            .borrow()
            .iter()
            .any(|&(base, size)| bus >= base && bus + len as u64 <= base + size as u64);
        if !ok {
            self.stray_dma.set(self.stray_dma.get() + 1);
            return None;
        }
        Some(bus as usize as *mut u8)
    }

    fn ring_size(&self, ring: usize) -> u32 {
        (self.regs.get(ring + DMA_RING_BUF_SIZE) >> DMA_RING_SIZE_SHIFT).max(1)
    }

    fn desc_addr(&self, base: usize, slot: usize) -> u64 {
        let d = desc(base, slot);
        u64::from(self.regs.get(d + DESC_ADDRESS_LO))
            | (u64::from(self.regs.get(d + DESC_ADDRESS_HI)) << 32)
    }

    /// The transmit engine: sends every descriptor between the consumer and producer index.
    fn run_tx(&self) {
        if self.tx_stuck.get() {
            return;
        }
        let size = self.ring_size(TDMA_RING);
        let prod = self.regs.get(TDMA_RING + TDMA_PROD_INDEX) & 0xFFFF;
        let mut cons = self.regs.get(TDMA_RING + TDMA_CONS_INDEX) & 0xFFFF;
        while cons != prod {
            let slot = (cons % size) as usize;
            let status = self.regs.get(desc(TX_DESC_BASE, slot) + DESC_LENGTH_STATUS);
            let len = ((status >> DMA_BUFLENGTH_SHIFT) & DMA_BUFLENGTH_MASK) as usize;
            let addr = self.desc_addr(TX_DESC_BASE, slot);
            if let Some(ptr) = self.checked_ptr(addr, len) {
                // SAFETY: the range was registered by the test as a live buffer.
                let frame = unsafe { core::slice::from_raw_parts(ptr, len) }.to_vec();
                self.sent.borrow_mut().push(frame);
            }
            cons = (cons + 1) & 0xFFFF;
        }
        self.regs.set(TDMA_RING + TDMA_CONS_INDEX, cons);
    }

    /// The receive engine: writes `frame` (after two bytes of padding) into the next
    /// descriptor's buffer with the given extra status bits. False if the ring is full.
    pub fn inject(&self, frame: &[u8], extra_status: u32) -> bool {
        let size = self.ring_size(RDMA_RING);
        let prod = self.regs.get(RDMA_RING + RDMA_PROD_INDEX) & 0xFFFF;
        let cons = self.regs.get(RDMA_RING + RDMA_CONS_INDEX) & 0xFFFF;
        if (prod.wrapping_sub(cons) & 0xFFFF) >= size {
            self.rx_overflows.set(self.rx_overflows.get() + 1);
            return false;
        }
        let slot = (prod % size) as usize;
        let addr = self.desc_addr(RX_DESC_BASE, slot);
        let total = frame.len() + 2;
        let Some(ptr) = self.checked_ptr(addr, total) else {
            return false;
        };
        // SAFETY: registered live buffer, checked above.
        let buf = unsafe { core::slice::from_raw_parts_mut(ptr, total) };
        buf[..2].fill(0);
        buf[2..].copy_from_slice(frame);
        let status = ((total as u32) << DMA_BUFLENGTH_SHIFT) | DMA_SOP | DMA_EOP | extra_status;
        self.regs
            .set(desc(RX_DESC_BASE, slot) + DESC_LENGTH_STATUS, status);
        self.regs
            .set(RDMA_RING + RDMA_PROD_INDEX, (prod + 1) & 0xFFFF);
        true
    }

    fn mdio(&self, cmd: u32) {
        if self.mdio_dead.get() {
            self.regs.set(MDIO_CMD, cmd);
            return;
        }
        let phy = (cmd >> MDIO_PMD_SHIFT) & 0x1F;
        let reg = ((cmd >> MDIO_REG_SHIFT) & 0x1F) as u8;
        let mut result = cmd & !MDIO_START_BUSY;
        if phy != u32::from(crate::board::GENET_PHY_ADDR) {
            result |= MDIO_READ_FAIL;
        } else if cmd & MDIO_RD != 0 {
            let value = self.phy.borrow_mut().read(reg);
            result = (result & !0xFFFF & !MDIO_READ_FAIL) | u32::from(value);
        } else if cmd & MDIO_WR != 0 {
            self.phy.borrow_mut().write(reg, (cmd & 0xFFFF) as u16);
        }
        self.regs.set(MDIO_CMD, result);
    }
}

impl Regs for GenetModel {
    fn read32(&self, offset: usize) -> u32 {
        match offset {
            SYS_REV_CTRL => self.revision.get(),
            o if o == TDMA_CTRL_BASE + DMA_STATUS || o == RDMA_CTRL_BASE + DMA_STATUS => {
                let ctrl = self.regs.get(o - DMA_STATUS + DMA_CTRL);
                if ctrl & DMA_EN == 0 && !self.dma_stuck.get() {
                    DMA_DISABLED
                } else {
                    0
                }
            }
            o => self.regs.get(o),
        }
    }

    fn write32(&self, offset: usize, value: u32) {
        match offset {
            MDIO_CMD if value & MDIO_START_BUSY != 0 => self.mdio(value),
            // The device owns the receive producer and transmit consumer indices.
            o if o == RDMA_RING + RDMA_PROD_INDEX || o == TDMA_RING + TDMA_CONS_INDEX => {}
            o if o == TDMA_RING + TDMA_PROD_INDEX => {
                self.regs.write32(o, value);
                self.run_tx();
            }
            o => self.regs.write32(o, value),
        }
    }
}
