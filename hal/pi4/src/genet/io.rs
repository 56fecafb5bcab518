//! The frame paths: receive and transmit bookkeeping, and smoltcp's `phy::Device` on top.
//! Receive and transmit state are separate fields so smoltcp can hold one token of each at
//! once (it answers a received frame from inside the receive token).

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::regs::*;
use super::ring::{RingError, RxRing, TxRing, INDEX_MASK};
use super::{Genet, BUF_LEN, MAX_FRAME, MIN_FRAME, RX_PAD};
use crate::dma::DmaBuf;
use crate::mmio::Regs;

pub(crate) struct RxPath {
    ring: RxRing,
    bufs: DmaBuf,
    pub(crate) frames: u64,
    pub(crate) dropped: u64,
    pub(crate) fault: Option<RingError>,
}

impl RxPath {
    pub(crate) fn new(ring: RxRing, bufs: DmaBuf) -> Self {
        Self {
            ring,
            bufs,
            frames: 0,
            dropped: 0,
            fault: None,
        }
    }

    /// Aligns to the device's producer index and points every descriptor at its buffer.
    pub(crate) fn reset<R: Regs>(&mut self, start: u16, regs: &R) {
        let size = self.ring_size();
        if let Some(ring) = RxRing::new(size, start) {
            self.ring = ring;
        }
        self.fault = None;
        for i in 0..usize::from(size) {
            let bus = self.bufs.bus_addr(i * BUF_LEN).unwrap_or(0);
            let d = desc(RX_DESC_BASE, i);
            regs.write32(d + DESC_ADDRESS_LO, bus as u32);
            regs.write32(d + DESC_ADDRESS_HI, (bus >> 32) as u32);
            regs.write32(
                d + DESC_LENGTH_STATUS,
                ((BUF_LEN as u32) << DMA_BUFLENGTH_SHIFT) | DMA_OWN,
            );
        }
        // Nothing the CPU cached over these buffers may be written back over device data.
        self.bufs.sync_for_cpu(0, usize::from(size) * BUF_LEN);
    }

    fn ring_size(&self) -> u16 {
        (self.bufs.len() / BUF_LEN).min(256) as u16
    }

    /// The slot and length (padding included) of the next good frame. Damaged frames are
    /// returned to the device and counted; at most one ring's worth is examined per call.
    fn next_frame<R: Regs>(&mut self, regs: &R) -> Option<(usize, usize)> {
        if self.fault.is_some() {
            return None;
        }
        let produced = (regs.read32(RDMA_RING + RDMA_PROD_INDEX) & INDEX_MASK) as u16;
        let mut waiting = match self.ring.pending(produced) {
            Ok(n) => n,
            Err(e) => {
                self.fault = Some(e);
                return None;
            }
        };
        while waiting > 0 {
            let slot = usize::from(self.ring.slot());
            let status = regs.read32(desc(RX_DESC_BASE, slot) + DESC_LENGTH_STATUS);
            let len = ((status >> DMA_BUFLENGTH_SHIFT) & DMA_BUFLENGTH_MASK) as usize;
            let whole = status & (DMA_SOP | DMA_EOP) == DMA_SOP | DMA_EOP;
            let sane = (RX_PAD + 14..=RX_PAD + MAX_FRAME).contains(&len);
            if whole && sane && status & DMA_RX_ERRORS == 0 {
                return Some((slot, len));
            }
            self.dropped += 1;
            self.release(regs);
            waiting -= 1;
        }
        None
    }

    fn release<R: Regs>(&mut self, regs: &R) {
        self.ring.advance();
        regs.write32(RDMA_RING + RDMA_CONS_INDEX, u32::from(self.ring.consumer()));
    }
}

pub(crate) struct TxPath {
    ring: TxRing,
    bufs: DmaBuf,
    /// Where a frame goes when no descriptor is free: smoltcp's token contract requires a
    /// buffer, so the frame is built here and dropped.
    scratch: [u8; BUF_LEN],
    pub(crate) frames: u64,
    pub(crate) full: u64,
    pub(crate) fault: Option<RingError>,
}

impl TxPath {
    pub(crate) fn new(ring: TxRing, bufs: DmaBuf) -> Self {
        Self {
            ring,
            bufs,
            scratch: [0; BUF_LEN],
            frames: 0,
            full: 0,
            fault: None,
        }
    }

    pub(crate) fn reset(&mut self, start: u16) {
        if let Some(ring) = TxRing::new(self.ring.size(), start) {
            self.ring = ring;
        }
        self.fault = None;
    }

    /// Takes back descriptors the device has finished with.
    fn reclaim<R: Regs>(&mut self, regs: &R) {
        if self.fault.is_some() {
            return;
        }
        let consumed = (regs.read32(TDMA_RING + TDMA_CONS_INDEX) & INDEX_MASK) as u16;
        if let Err(e) = self.ring.complete(consumed) {
            self.fault = Some(e);
        }
    }

    fn has_room<R: Regs>(&mut self, regs: &R) -> bool {
        self.reclaim(regs);
        self.fault.is_none() && self.ring.free() > 0
    }

    /// Builds a frame of `len` bytes with `f` and queues it; a frame that cannot be queued
    /// (ring full, device fault, oversize) is built in scratch space, dropped and counted.
    fn send<R: Regs, T>(&mut self, regs: &R, len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
        let slot = match self.has_room(regs) {
            true if len <= MAX_FRAME => self.ring.next_slot().ok(),
            _ => None,
        };
        let Some(slot) = slot else {
            self.full += 1;
            let n = len.min(BUF_LEN);
            return f(&mut self.scratch[..n]);
        };
        let offset = usize::from(slot) * BUF_LEN;
        let wire_len = len.max(MIN_FRAME);
        let Some(buf) = self.bufs.slice_mut(offset, wire_len) else {
            self.full += 1;
            return f(&mut self.scratch[..len]);
        };
        buf[len..].fill(0);
        let result = f(&mut buf[..len]);
        self.bufs.sync_for_device(offset, wire_len);
        let bus = self.bufs.bus_addr(offset).unwrap_or(0);
        let d = desc(TX_DESC_BASE, usize::from(slot));
        regs.write32(d + DESC_ADDRESS_LO, bus as u32);
        regs.write32(d + DESC_ADDRESS_HI, (bus >> 32) as u32);
        let status = ((wire_len as u32) << DMA_BUFLENGTH_SHIFT)
            | (DMA_TX_QTAG_MASK << DMA_TX_QTAG_SHIFT)
            | DMA_TX_APPEND_CRC
            | DMA_SOP
            | DMA_EOP;
        regs.write32(d + DESC_LENGTH_STATUS, status);
        if self.ring.claim().is_ok() {
            regs.write32(TDMA_RING + TDMA_PROD_INDEX, u32::from(self.ring.producer()));
            self.frames += 1;
        }
        result
    }
}

impl<R: Regs> Genet<R> {
    /// Hands the next received frame (without padding or FCS) to `f`, if one is waiting.
    pub fn receive_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        if !self.ready() {
            return None;
        }
        let (slot, len) = self.rx.next_frame(&self.regs)?;
        Some(
            GenetRxToken {
                regs: &self.regs,
                rx: &mut self.rx,
                slot,
                len,
            }
            .consume_inner(f),
        )
    }

    /// Builds and queues one frame of `len` bytes; see [`GenetTxToken`] for refusals.
    pub fn transmit_with<T>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
        self.tx.send(&self.regs, len, f)
    }

    /// True when a frame could be queued now.
    pub fn can_transmit(&mut self) -> bool {
        self.ready() && self.tx.has_room(&self.regs)
    }
}

/// A received frame, returned to the device when consumed.
pub struct GenetRxToken<'a, R: Regs> {
    regs: &'a R,
    rx: &'a mut RxPath,
    slot: usize,
    len: usize,
}

impl<R: Regs> GenetRxToken<'_, R> {
    fn consume_inner<T>(self, f: impl FnOnce(&[u8]) -> T) -> T {
        let offset = self.slot * BUF_LEN;
        self.rx.bufs.sync_for_cpu(offset, self.len);
        let frame = self
            .rx
            .bufs
            .slice(offset + RX_PAD, self.len - RX_PAD)
            .unwrap_or(&[]);
        let result = f(frame);
        self.rx.frames += 1;
        self.rx.release(self.regs);
        result
    }
}

impl<R: Regs> phy::RxToken for GenetRxToken<'_, R> {
    fn consume<T, F: FnOnce(&[u8]) -> T>(self, f: F) -> T {
        self.consume_inner(f)
    }
}

/// Room for one outgoing frame. A token whose frame cannot be queued (ring full or
/// faulted, frame longer than 1514 bytes) drops the frame and counts it in `tx_full`.
pub struct GenetTxToken<'a, R: Regs> {
    regs: &'a R,
    tx: &'a mut TxPath,
}

impl<R: Regs> phy::TxToken for GenetTxToken<'_, R> {
    fn consume<T, F: FnOnce(&mut [u8]) -> T>(self, len: usize, f: F) -> T {
        self.tx.send(self.regs, len, f)
    }
}

impl<R: Regs> phy::Device for Genet<R> {
    type RxToken<'a>
        = GenetRxToken<'a, R>
    where
        Self: 'a;
    type TxToken<'a>
        = GenetTxToken<'a, R>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if !self.ready() {
            return None;
        }
        let (slot, len) = self.rx.next_frame(&self.regs)?;
        let rx = GenetRxToken {
            regs: &self.regs,
            rx: &mut self.rx,
            slot,
            len,
        };
        let tx = GenetTxToken {
            regs: &self.regs,
            tx: &mut self.tx,
        };
        Some((rx, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        if !self.can_transmit() {
            return None;
        }
        Some(GenetTxToken {
            regs: &self.regs,
            tx: &mut self.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(1);
        caps
    }
}
