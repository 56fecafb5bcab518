//! The I/O queues: a transmit and a receive submission queue with their completion queues,
//! in host memory (no LLQ), one 2 KiB buffer per request id, and smoltcp's `phy::Device`.
//! Descriptor layouts are those of `ena_eth_io_defs.h`.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::admin::Cursor;
use crate::device::Ena;
use crate::dma::{read_barrier, write_barrier, DmaBuf};
use crate::regs::Regs;

/// Bytes per frame buffer.
pub const BUF_LEN: usize = 2048;
/// Largest Ethernet frame (no FCS) exchanged with the stack: a 1500-byte MTU.
pub const MAX_FRAME: usize = 1514;
pub const TX_DESC: usize = 16;
pub const TX_CDESC: usize = 8;
pub const RX_DESC: usize = 16;
pub const RX_CDESC: usize = 16;
const MAX_DEPTH: usize = 256;

const TX_PHASE_SHIFT: u32 = 24;
const TX_FIRST: u32 = 1 << 26;
const TX_LAST: u32 = 1 << 27;
const TX_COMP_REQ: u32 = 1 << 28;
const TX_REQ_ID_HI_SHIFT: u32 = 16;
const TX_REQ_ID_LO_SHIFT: u32 = 22;
const RX_CTRL_FIRST: u8 = 1 << 2;
const RX_CTRL_LAST: u8 = 1 << 3;
const RX_CTRL_COMP_REQ: u8 = 1 << 4;
const RX_CDESC_PHASE_SHIFT: u32 = 24;
const RX_CDESC_FIRST: u32 = 1 << 26;
const RX_CDESC_LAST: u32 = 1 << 27;

pub(crate) struct TxQueue {
    sq: DmaBuf,
    cq: DmaBuf,
    bufs: DmaBuf,
    depth: u16,
    tail: Cursor,
    head: Cursor,
    sq_db: usize,
    cq_db: usize,
    free: [u16; MAX_DEPTH],
    free_len: usize,
    in_flight: [bool; MAX_DEPTH],
    scratch: [u8; BUF_LEN],
    pub(crate) frames: u64,
    pub(crate) refused: u64,
    pub(crate) bad_completions: u64,
}

impl TxQueue {
    pub(crate) fn new(
        mut sq: DmaBuf,
        mut cq: DmaBuf,
        bufs: DmaBuf,
        depth: u16,
        sq_db: usize,
        cq_db: usize,
    ) -> Self {
        sq.zero();
        cq.zero();
        let mut free = [0u16; MAX_DEPTH];
        for (i, id) in free.iter_mut().enumerate().take(usize::from(depth)) {
            *id = i as u16;
        }
        Self {
            sq,
            cq,
            bufs,
            depth,
            tail: Cursor::new(depth),
            head: Cursor::new(depth),
            sq_db,
            cq_db,
            free,
            // One descriptor stays unused so a full ring is never mistaken for an empty one.
            free_len: usize::from(depth) - 1,
            in_flight: [false; MAX_DEPTH],
            scratch: [0; BUF_LEN],
            frames: 0,
            refused: 0,
            bad_completions: 0,
        }
    }

    /// Takes back request ids the device completed. Completions naming an id that is not
    /// in flight are counted and skipped.
    pub(crate) fn reclaim<R: Regs>(&mut self, regs: &R) {
        let mut seen = 0;
        while seen < usize::from(self.depth) {
            let offset = self.head.slot() * TX_CDESC;
            let Some(flags) = self.cq.slice(offset + 3, 1).map(|b| b[0]) else {
                break;
            };
            if flags & 1 != self.head.phase() {
                break;
            }
            read_barrier();
            let id = usize::from(self.cq.read_u16(offset).unwrap_or(u16::MAX));
            self.head.advance();
            seen += 1;
            if id < usize::from(self.depth) && self.in_flight[id] && self.free_len < MAX_DEPTH {
                self.in_flight[id] = false;
                self.free[self.free_len] = id as u16;
                self.free_len += 1;
            } else {
                self.bad_completions += 1;
            }
        }
        if seen > 0 && self.cq_db != 0 {
            regs.write32(self.cq_db, u32::from(self.head.index()));
        }
    }

    pub(crate) fn has_room<R: Regs>(&mut self, regs: &R) -> bool {
        self.reclaim(regs);
        self.free_len > 0
    }

    /// Builds a frame with `f` and queues it; a frame that cannot be queued (no free
    /// request id, oversize) is built in scratch space, dropped and counted.
    pub(crate) fn send<R: Regs, T>(
        &mut self,
        regs: &R,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> T,
    ) -> T {
        if !self.has_room(regs) || len > MAX_FRAME {
            self.refused += 1;
            return f(&mut self.scratch[..len.min(BUF_LEN)]);
        }
        self.free_len -= 1;
        let id = self.free[self.free_len];
        let offset = usize::from(id) * BUF_LEN;
        let Some(buf) = self.bufs.slice_mut(offset, len) else {
            self.free_len += 1;
            self.refused += 1;
            return f(&mut self.scratch[..len]);
        };
        let result = f(buf);
        let addr = self.bufs.bus() + offset as u64;
        let len_ctrl = (len as u32 & 0xFFFF)
            | ((u32::from(id) >> 10) << TX_REQ_ID_HI_SHIFT)
            | (u32::from(self.tail.phase()) << TX_PHASE_SHIFT)
            | TX_FIRST
            | TX_LAST
            | TX_COMP_REQ;
        let meta_ctrl = (u32::from(id) & 0x3FF) << TX_REQ_ID_LO_SHIFT;
        let mut desc = [0u8; TX_DESC];
        desc[0..4].copy_from_slice(&len_ctrl.to_le_bytes());
        desc[4..8].copy_from_slice(&meta_ctrl.to_le_bytes());
        desc[8..12].copy_from_slice(&(addr as u32).to_le_bytes());
        desc[12..16].copy_from_slice(&(((addr >> 32) as u32) & 0xFFFF).to_le_bytes());
        if self
            .sq
            .write_bytes(self.tail.slot() * TX_DESC, &desc)
            .is_none()
        {
            self.free_len += 1;
            self.refused += 1;
            return result;
        }
        self.in_flight[usize::from(id)] = true;
        self.tail.advance();
        write_barrier();
        regs.write32(self.sq_db, u32::from(self.tail.index()));
        self.frames += 1;
        result
    }
}

pub(crate) struct RxQueue {
    sq: DmaBuf,
    cq: DmaBuf,
    bufs: DmaBuf,
    depth: u16,
    tail: Cursor,
    head: Cursor,
    sq_db: usize,
    cq_db: usize,
    posted: [bool; MAX_DEPTH],
    pub(crate) frames: u64,
    pub(crate) dropped: u64,
    pub(crate) bad_completions: u64,
}

impl RxQueue {
    pub(crate) fn new(
        mut sq: DmaBuf,
        mut cq: DmaBuf,
        bufs: DmaBuf,
        depth: u16,
        sq_db: usize,
        cq_db: usize,
    ) -> Self {
        sq.zero();
        cq.zero();
        Self {
            sq,
            cq,
            bufs,
            depth,
            tail: Cursor::new(depth),
            head: Cursor::new(depth),
            sq_db,
            cq_db,
            posted: [false; MAX_DEPTH],
            frames: 0,
            dropped: 0,
            bad_completions: 0,
        }
    }

    fn post(&mut self, id: u16) {
        let addr = self.bufs.bus() + (usize::from(id) * BUF_LEN) as u64;
        let mut desc = [0u8; RX_DESC];
        desc[0..2].copy_from_slice(&(BUF_LEN as u16).to_le_bytes());
        desc[3] = self.tail.phase() | RX_CTRL_FIRST | RX_CTRL_LAST | RX_CTRL_COMP_REQ;
        desc[4..6].copy_from_slice(&id.to_le_bytes());
        desc[8..12].copy_from_slice(&(addr as u32).to_le_bytes());
        desc[12..14].copy_from_slice(&((addr >> 32) as u16).to_le_bytes());
        if self
            .sq
            .write_bytes(self.tail.slot() * RX_DESC, &desc)
            .is_some()
        {
            self.posted[usize::from(id)] = true;
            self.tail.advance();
        }
    }

    fn ring_doorbell<R: Regs>(&self, regs: &R) {
        write_barrier();
        regs.write32(self.sq_db, u32::from(self.tail.index()));
    }

    /// Posts every buffer but one (a full ring would look empty).
    pub(crate) fn fill<R: Regs>(&mut self, regs: &R) {
        for id in 0..self.depth - 1 {
            self.post(id);
        }
        self.ring_doorbell(regs);
    }

    /// The request id and length of the next good frame; bad completions and frames that
    /// span buffers are skipped (their buffers re-posted) and counted.
    pub(crate) fn next_frame<R: Regs>(&mut self, regs: &R) -> Option<(u16, usize)> {
        for _ in 0..self.depth {
            let offset = self.head.slot() * RX_CDESC;
            let status = self.cq.read_u32(offset)?;
            if (status >> RX_CDESC_PHASE_SHIFT) & 1 != u32::from(self.head.phase()) {
                return None;
            }
            read_barrier();
            let status = self.cq.read_u32(offset)?;
            let len = usize::from(self.cq.read_u16(offset + 4)?);
            let id = self.cq.read_u16(offset + 6)?;
            self.head.advance();
            if self.cq_db != 0 {
                regs.write32(self.cq_db, u32::from(self.head.index()));
            }
            if usize::from(id) >= usize::from(self.depth) || !self.posted[usize::from(id)] {
                self.bad_completions += 1;
                continue;
            }
            self.posted[usize::from(id)] = false;
            let whole = status & (RX_CDESC_FIRST | RX_CDESC_LAST) == RX_CDESC_FIRST | RX_CDESC_LAST;
            if whole && (14..=BUF_LEN).contains(&len) {
                return Some((id, len));
            }
            self.dropped += 1;
            self.post(id);
            self.ring_doorbell(regs);
        }
        None
    }

    fn finish<R: Regs>(&mut self, regs: &R, id: u16) {
        self.frames += 1;
        self.post(id);
        self.ring_doorbell(regs);
    }
}

/// A received frame; its buffer goes back to the device when consumed.
pub struct EnaRxToken<'a, R: Regs> {
    regs: &'a R,
    rx: &'a mut RxQueue,
    id: u16,
    len: usize,
}

impl<R: Regs> EnaRxToken<'_, R> {
    fn consume_inner<T>(self, f: impl FnOnce(&[u8]) -> T) -> T {
        let frame = self
            .rx
            .bufs
            .slice(usize::from(self.id) * BUF_LEN, self.len)
            .unwrap_or(&[]);
        let result = f(frame);
        self.rx.finish(self.regs, self.id);
        result
    }
}

impl<R: Regs> phy::RxToken for EnaRxToken<'_, R> {
    fn consume<T, F: FnOnce(&[u8]) -> T>(self, f: F) -> T {
        self.consume_inner(f)
    }
}

/// Room for one outgoing frame; see [`Ena::transmit_with`] for refusals.
pub struct EnaTxToken<'a, R: Regs> {
    regs: &'a R,
    tx: &'a mut TxQueue,
}

impl<R: Regs> phy::TxToken for EnaTxToken<'_, R> {
    fn consume<T, F: FnOnce(&mut [u8]) -> T>(self, len: usize, f: F) -> T {
        self.tx.send(self.regs, len, f)
    }
}

/// Frame counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EnaStats {
    pub rx_frames: u64,
    pub rx_dropped: u64,
    pub tx_frames: u64,
    /// Frames refused: no free request id, or longer than 1514 bytes.
    pub tx_refused: u64,
    /// Completions that named a request id not in flight.
    pub bad_completions: u64,
}

impl<R: Regs> Ena<R> {
    /// Hands the next received frame to `f`, if one is waiting.
    pub fn receive_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        if !self.link_up() {
            return None;
        }
        let (id, len) = self.rx.next_frame(&self.regs)?;
        Some(
            EnaRxToken {
                regs: &self.regs,
                rx: &mut self.rx,
                id,
                len,
            }
            .consume_inner(f),
        )
    }

    /// Builds and queues one frame; a frame that cannot be queued is dropped and counted.
    pub fn transmit_with<T>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
        self.tx.send(&self.regs, len, f)
    }

    pub fn stats(&self) -> EnaStats {
        EnaStats {
            rx_frames: self.rx.frames,
            rx_dropped: self.rx.dropped,
            tx_frames: self.tx.frames,
            tx_refused: self.tx.refused,
            bad_completions: self.rx.bad_completions + self.tx.bad_completions,
        }
    }
}

impl<R: Regs> phy::Device for Ena<R> {
    type RxToken<'a>
        = EnaRxToken<'a, R>
    where
        Self: 'a;
    type TxToken<'a>
        = EnaTxToken<'a, R>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if !self.link_up() {
            return None;
        }
        let (id, len) = self.rx.next_frame(&self.regs)?;
        let rx = EnaRxToken {
            regs: &self.regs,
            rx: &mut self.rx,
            id,
            len,
        };
        let tx = EnaTxToken {
            regs: &self.regs,
            tx: &mut self.tx,
        };
        Some((rx, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        if !self.link_up() || !self.tx.has_room(&self.regs) {
            return None;
        }
        Some(EnaTxToken {
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
