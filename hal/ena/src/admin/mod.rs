//! The admin queue (a submission ring and a completion ring in host memory, one command in
//! flight at a time) and the asynchronous event notification queue (AENQ). Both rings use
//! phase bits: an entry is new when its phase bit equals the consumer's current phase,
//! which flips every time the ring wraps (`ena_com.c`).

pub mod cmd;

use cmd::{Entry, ENTRY};
use hal::Clock;

use crate::device::EnaError;
use crate::dma::{read_barrier, write_barrier, DmaBuf};
use crate::regs::{self, Regs};
use crate::wait::poll_until;

/// Time an admin command may take (the Linux driver's default, 3 s).
pub const ADMIN_TIMEOUT_US: u64 = 3_000_000;

/// A ring cursor: a free-running index, its slot and phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor {
    index: u16,
    depth: u16,
    phase: u8,
}

impl Cursor {
    pub(crate) fn new(depth: u16) -> Self {
        Self {
            index: 0,
            depth,
            phase: 1,
        }
    }

    pub(crate) fn starting_at(index: u16, depth: u16) -> Self {
        Self {
            index,
            depth,
            phase: 1,
        }
    }

    pub(crate) fn slot(&self) -> usize {
        usize::from(self.index & (self.depth - 1))
    }

    pub(crate) fn index(&self) -> u16 {
        self.index
    }

    pub(crate) fn phase(&self) -> u8 {
        self.phase
    }

    pub(crate) fn advance(&mut self) {
        self.index = self.index.wrapping_add(1);
        if self.index & (self.depth - 1) == 0 {
            self.phase ^= 1;
        }
    }
}

/// The admin submission and completion rings.
pub struct AdminQueue {
    sq: DmaBuf,
    cq: DmaBuf,
    sq_tail: Cursor,
    cq_head: Cursor,
    next_id: u16,
}

impl AdminQueue {
    /// `sq` and `cq` must each hold `depth` 64-byte entries; `depth` is a power of two.
    pub(crate) fn new(mut sq: DmaBuf, mut cq: DmaBuf, depth: u16) -> Self {
        sq.zero();
        cq.zero();
        Self {
            sq,
            cq,
            sq_tail: Cursor::new(depth),
            cq_head: Cursor::new(depth),
            next_id: 0,
        }
    }

    /// Tells the device where the rings are.
    pub(crate) fn program<R: Regs>(&self, regs: &R, depth: u16) {
        let caps = u32::from(depth) | ((ENTRY as u32) << regs::QUEUE_CAPS_ENTRY_SIZE_SHIFT);
        regs.write32(regs::AQ_BASE_LO, self.sq.bus() as u32);
        regs.write32(regs::AQ_BASE_HI, (self.sq.bus() >> 32) as u32);
        regs.write32(regs::ACQ_BASE_LO, self.cq.bus() as u32);
        regs.write32(regs::ACQ_BASE_HI, (self.cq.bus() >> 32) as u32);
        regs.write32(regs::AQ_CAPS, caps);
        regs.write32(regs::ACQ_CAPS, caps);
    }

    /// Submits `entry` and waits (bounded) for its completion, which is returned.
    pub fn execute<R: Regs, C: Clock + ?Sized>(
        &mut self,
        regs: &R,
        clock: &C,
        mut entry: Entry,
    ) -> Result<Entry, EnaError> {
        let id = self.next_id & 0x0FFF;
        self.next_id = self.next_id.wrapping_add(1);
        cmd::stamp(&mut entry, id, self.sq_tail.phase());
        let offset = self.sq_tail.slot() * ENTRY;
        self.sq
            .write_bytes(offset, &entry)
            .ok_or(EnaError::Internal)?;
        self.sq_tail.advance();
        write_barrier();
        regs.write32(regs::AQ_DB, u32::from(self.sq_tail.index()));

        let cq = &self.cq;
        let head = &mut self.cq_head;
        let done = poll_until(clock, ADMIN_TIMEOUT_US, || {
            let offset = head.slot() * ENTRY;
            let flags = cq.slice(offset + 3, 1)?[0];
            if flags & 1 != head.phase() {
                return None;
            }
            read_barrier();
            let mut out = [0u8; ENTRY];
            cq.read_bytes(offset, &mut out)?;
            head.advance();
            Some(out)
        });
        let Some(out) = done else {
            return Err(EnaError::AdminTimeout {
                opcode: cmd::opcode(&entry),
            });
        };
        let c = cmd::completion(&out);
        if c.command_id != id {
            return Err(EnaError::AdminMismatch {
                expected: id,
                got: c.command_id,
            });
        }
        if c.status != 0 {
            return Err(EnaError::AdminStatus {
                opcode: cmd::opcode(&entry),
                status: c.status,
            });
        }
        Ok(out)
    }
}

/// What an AENQ entry told the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Link(bool),
    KeepAlive,
    Fatal,
    Warning,
    Notification(u16),
    Unknown(u16),
}

/// The asynchronous event notification queue.
pub struct Aenq {
    ring: DmaBuf,
    head: Cursor,
    depth: u16,
}

impl Aenq {
    pub(crate) fn new(mut ring: DmaBuf, depth: u16) -> Self {
        ring.zero();
        // The driver's head starts one lap ahead (at `depth`), as Linux does, so the first
        // head doorbell hands every entry to the device.
        Self {
            ring,
            head: Cursor::starting_at(depth, depth),
            depth,
        }
    }

    pub(crate) fn program<R: Regs>(&self, regs: &R) {
        let caps = u32::from(self.depth) | ((ENTRY as u32) << regs::QUEUE_CAPS_ENTRY_SIZE_SHIFT);
        regs.write32(regs::AENQ_BASE_LO, self.ring.bus() as u32);
        regs.write32(regs::AENQ_BASE_HI, (self.ring.bus() >> 32) as u32);
        regs.write32(regs::AENQ_CAPS, caps);
        regs.write32(regs::AENQ_HEAD_DB, u32::from(self.head.index()));
    }

    /// Consumes up to one ring's worth of new events, passing each to `sink`.
    pub(crate) fn poll<R: Regs>(&mut self, regs: &R, mut sink: impl FnMut(Event)) -> usize {
        let mut seen = 0;
        while seen < usize::from(self.depth) {
            let offset = self.head.slot() * ENTRY;
            let Some(flags) = self.ring.slice(offset + 4, 1).map(|b| b[0]) else {
                break;
            };
            if flags & 1 != self.head.phase() {
                break;
            }
            read_barrier();
            let group = self.ring.read_u16(offset).unwrap_or(u16::MAX);
            let syndrome = self.ring.read_u16(offset + 2).unwrap_or(0);
            let data = self.ring.read_u32(offset + 16).unwrap_or(0);
            sink(match group {
                cmd::AENQ_LINK_CHANGE => Event::Link(data & 1 != 0),
                cmd::AENQ_KEEP_ALIVE => Event::KeepAlive,
                cmd::AENQ_FATAL_ERROR => Event::Fatal,
                cmd::AENQ_WARNING => Event::Warning,
                cmd::AENQ_NOTIFICATION => Event::Notification(syndrome),
                other => Event::Unknown(other),
            });
            self.head.advance();
            seen += 1;
        }
        if seen > 0 {
            regs.write32(regs::AENQ_HEAD_DB, u32::from(self.head.index()));
        }
        seen
    }
}
