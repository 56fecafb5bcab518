//! `FakeEna`: a model of the ENA at the level the driver sees it — BAR0 registers, the
//! reset handshake, an admin queue that reads submissions from and writes completions to
//! host memory (checking phase bits and command ids), I/O queues that move frames through
//! the driver's descriptors and buffers, and an AENQ the test can post events to.

use core::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::vec::Vec;

use crate::admin::cmd::{self, le16, le32, Entry, ENTRY};
use crate::regs::*;

pub const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
const SQ_DB_BASE: u32 = 0x1000;
const CQ_DB_BASE: u32 = 0x2000;

#[derive(Debug, Clone, Copy)]
pub struct Ring {
    pub base: u64,
    pub depth: u16,
    pub index: u16,
    pub phase: u8,
}

impl Ring {
    fn new(base: u64, depth: u16) -> Self {
        Self {
            base,
            depth,
            index: 0,
            phase: 1,
        }
    }
    fn slot(&self) -> u64 {
        u64::from(self.index & (self.depth - 1))
    }
    fn advance(&mut self) {
        self.index = self.index.wrapping_add(1);
        if self.index & (self.depth - 1) == 0 {
            self.phase ^= 1;
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Cq {
    pub ring: Ring,
    pub entry_bytes: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Sq {
    pub ring: Ring,
    pub direction: u8,
    pub cq: u16,
}

#[derive(Default)]
pub struct State {
    pub in_reset: bool,
    pub aq: Option<Ring>,
    pub acq: Option<Ring>,
    pub aenq: Option<Ring>,
    pub cqs: Vec<Cq>,
    pub sqs: Vec<Sq>,
    pub opcodes: Vec<(u8, u8)>,
    pub set_features: Vec<(u8, u32)>,
    pub sent: Vec<Vec<u8>>,
    pub rx_posted: VecDeque<(u16, u64, usize)>,
    pub protocol_errors: Vec<&'static str>,
}

pub struct FakeEna {
    pub regs: RefCell<BTreeMap<usize, u32>>,
    pub memory: RefCell<Vec<(u64, usize)>>,
    pub state: RefCell<State>,
    pub never_ready: Cell<bool>,
    pub reset_stuck: Cell<bool>,
    pub admin_silent: Cell<bool>,
    pub fail_opcode: Cell<Option<(u8, u8)>>,
    pub wrong_command_id: Cell<bool>,
    pub version: Cell<u32>,
    pub caps: Cell<u32>,
    pub features: Cell<u32>,
    pub max_depth: Cell<u32>,
    pub sq_doorbell_base: Cell<u32>,
    pub tx_stall: Cell<bool>,
}

impl FakeEna {
    pub fn new() -> Self {
        Self {
            regs: RefCell::default(),
            memory: RefCell::default(),
            state: RefCell::default(),
            never_ready: Cell::new(false),
            reset_stuck: Cell::new(false),
            admin_silent: Cell::new(false),
            fail_opcode: Cell::new(None),
            wrong_command_id: Cell::new(false),
            version: Cell::new(0x0201),
            caps: Cell::new((48 << 8) | (5 << 1)),
            features: Cell::new((1 << 1) | (1 << 2) | (1 << 14) | (1 << 26)),
            max_depth: Cell::new(1024),
            sq_doorbell_base: Cell::new(SQ_DB_BASE),
            tx_stall: Cell::new(false),
        }
    }

    pub fn allow(&self, bus: u64, len: usize) {
        self.memory.borrow_mut().push((bus, len));
    }

    fn reg(&self, offset: usize) -> u32 {
        self.regs.borrow().get(&offset).copied().unwrap_or(0)
    }

    fn ptr(&self, bus: u64, len: usize) -> Option<*mut u8> {
        let ok = self
            .memory
            .borrow()
            .iter()
            .any(|&(b, l)| bus >= b && bus + len as u64 <= b + l as u64);
        if !ok {
            self.state
                .borrow_mut()
                .protocol_errors
                .push("DMA outside the driver's memory");
            return None;
        }
        Some(bus as usize as *mut u8)
    }

    pub fn read_mem(&self, bus: u64, out: &mut [u8]) -> bool {
        let Some(p) = self.ptr(bus, out.len()) else {
            return false;
        };
        // SAFETY: inside a region the test registered as live memory.
        out.copy_from_slice(unsafe { core::slice::from_raw_parts(p, out.len()) });
        true
    }

    pub fn write_mem(&self, bus: u64, data: &[u8]) -> bool {
        let Some(p) = self.ptr(bus, data.len()) else {
            return false;
        };
        // SAFETY: as above.
        unsafe { core::slice::from_raw_parts_mut(p, data.len()) }.copy_from_slice(data);
        true
    }

    fn queue_base(&self, lo: usize, hi: usize) -> u64 {
        u64::from(self.reg(lo)) | (u64::from(self.reg(hi)) << 32)
    }

    fn run_admin(&self, tail: u32) {
        let (Some(mut aq), Some(_)) = (self.state.borrow().aq, self.state.borrow().acq) else {
            self.state
                .borrow_mut()
                .protocol_errors
                .push("doorbell before admin queue setup");
            return;
        };
        while aq.index != tail as u16 {
            let mut e = [0u8; ENTRY];
            if !self.read_mem(aq.base + aq.slot() * ENTRY as u64, &mut e) {
                return;
            }
            if e[3] & 1 != aq.phase {
                self.state
                    .borrow_mut()
                    .protocol_errors
                    .push("admin submission with a stale phase");
            }
            aq.advance();
            self.state.borrow_mut().aq = Some(aq);
            if self.admin_silent.get() {
                continue;
            }
            let mut resp = self.execute(&e);
            let id = le16(&e, 0) & 0x0FFF;
            let id = if self.wrong_command_id.get() {
                (id + 1) & 0x0FFF
            } else {
                id
            };
            resp[0..2].copy_from_slice(&id.to_le_bytes());
            self.complete_admin(resp);
        }
    }

    fn complete_admin(&self, mut resp: Entry) {
        let mut st = self.state.borrow_mut();
        let Some(mut acq) = st.acq else { return };
        resp[3] = acq.phase;
        let addr = acq.base + acq.slot() * ENTRY as u64;
        acq.advance();
        st.acq = Some(acq);
        drop(st);
        self.write_mem(addr, &resp);
    }

    fn execute(&self, e: &Entry) -> Entry {
        let mut r = [0u8; ENTRY];
        let op = cmd::opcode(e);
        let feature = e[17];
        let named = if matches!(op, cmd::OP_GET_FEATURE | cmd::OP_SET_FEATURE) {
            feature
        } else {
            0
        };
        self.state.borrow_mut().opcodes.push((op, named));
        if let Some((fail_op, status)) = self.fail_opcode.get() {
            if fail_op == op {
                r[2] = status;
                return r;
            }
        }
        match op {
            cmd::OP_GET_FEATURE => self.get_feature(feature, &mut r),
            cmd::OP_SET_FEATURE => {
                let value = if feature == cmd::FEAT_AENQ_CONFIG {
                    le32(e, 24)
                } else {
                    le32(e, 20)
                };
                self.state.borrow_mut().set_features.push((feature, value));
            }
            cmd::OP_CREATE_CQ => self.create_cq(e, &mut r),
            cmd::OP_CREATE_SQ => self.create_sq(e, &mut r),
            _ => r[2] = 2,
        }
        r
    }

    fn get_feature(&self, feature: u8, r: &mut Entry) {
        match feature {
            cmd::FEAT_DEVICE_ATTRIBUTES => {
                r[16..20].copy_from_slice(&self.features.get().to_le_bytes());
                r[24..28].copy_from_slice(&48u32.to_le_bytes());
                r[32..38].copy_from_slice(&MAC);
                r[40..44].copy_from_slice(&9216u32.to_le_bytes());
            }
            cmd::FEAT_MAX_QUEUES_NUM => {
                let d = self.max_depth.get();
                r[8..12].copy_from_slice(&8u32.to_le_bytes());
                r[12..16].copy_from_slice(&d.to_le_bytes());
                r[16..20].copy_from_slice(&8u32.to_le_bytes());
                r[20..24].copy_from_slice(&d.to_le_bytes());
            }
            cmd::FEAT_AENQ_CONFIG => r[8..12].copy_from_slice(&0x1Fu32.to_le_bytes()),
            _ => r[2] = 3,
        }
    }

    fn create_cq(&self, e: &Entry, r: &mut Entry) {
        let depth = le16(e, 6);
        let base = u64::from(le32(e, 12)) | (u64::from(le16(e, 16)) << 32);
        let mut st = self.state.borrow_mut();
        let idx = st.cqs.len() as u16;
        st.cqs.push(Cq {
            ring: Ring::new(base, depth),
            entry_bytes: usize::from(e[5] & 0x1F) * 4,
        });
        r[8..10].copy_from_slice(&idx.to_le_bytes());
        r[10..12].copy_from_slice(&depth.to_le_bytes());
        r[16..20].copy_from_slice(&(CQ_DB_BASE + 4 * u32::from(idx)).to_le_bytes());
    }

    fn create_sq(&self, e: &Entry, r: &mut Entry) {
        let base = u64::from(le32(e, 12)) | (u64::from(le16(e, 16)) << 32);
        let mut st = self.state.borrow_mut();
        let idx = st.sqs.len() as u16;
        st.sqs.push(Sq {
            ring: Ring::new(base, le16(e, 10)),
            direction: e[4] >> 5,
            cq: le16(e, 8),
        });
        r[8..10].copy_from_slice(&idx.to_le_bytes());
        r[12..16]
            .copy_from_slice(&(self.sq_doorbell_base.get() + 4 * u32::from(idx)).to_le_bytes());
    }

    fn sq_doorbell(&self, idx: usize, tail: u32) {
        let Some(sq) = self.state.borrow().sqs.get(idx).copied() else {
            return;
        };
        if sq.direction == cmd::DIRECTION_TX {
            self.run_tx(idx, tail);
        } else {
            self.take_rx_buffers(idx, tail);
        }
    }

    /// Sends every TX descriptor up to `tail` and posts a completion for each.
    pub fn run_tx(&self, idx: usize, tail: u32) {
        if self.tx_stall.get() {
            return;
        }
        let Some(mut sq) = self.state.borrow().sqs.get(idx).copied() else {
            return;
        };
        while sq.ring.index != tail as u16 {
            let mut d = [0u8; 16];
            if !self.read_mem(sq.ring.base + sq.ring.slot() * 16, &mut d) {
                return;
            }
            let len_ctrl = le32(&d, 0);
            if (len_ctrl >> 24) & 1 != u32::from(sq.ring.phase) {
                self.state
                    .borrow_mut()
                    .protocol_errors
                    .push("tx descriptor with a stale phase");
            }
            let len = (len_ctrl & 0xFFFF) as usize;
            let id = (((len_ctrl >> 16) & 0x3F) << 10) | (le32(&d, 4) >> 22);
            let addr = u64::from(le32(&d, 8)) | (u64::from(le32(&d, 12) & 0xFFFF) << 32);
            let mut frame = std::vec![0u8; len];
            if self.read_mem(addr, &mut frame) {
                self.state.borrow_mut().sent.push(frame);
            }
            sq.ring.advance();
            self.tx_complete(sq.cq, id as u16);
        }
        self.state.borrow_mut().sqs[idx] = sq;
    }

    /// Writes a TX completion naming `id` (tests also use it to forge bogus ones).
    pub fn tx_complete(&self, cq_idx: u16, id: u16) {
        let mut st = self.state.borrow_mut();
        let Some(cq) = st.cqs.get_mut(usize::from(cq_idx)) else {
            return;
        };
        let mut c = [0u8; 8];
        c[0..2].copy_from_slice(&id.to_le_bytes());
        c[3] = cq.ring.phase;
        let addr = cq.ring.base + cq.ring.slot() * cq.entry_bytes as u64;
        cq.ring.advance();
        drop(st);
        self.write_mem(addr, &c);
    }

    fn take_rx_buffers(&self, idx: usize, tail: u32) {
        let Some(mut sq) = self.state.borrow().sqs.get(idx).copied() else {
            return;
        };
        while sq.ring.index != tail as u16 {
            let mut d = [0u8; 16];
            if !self.read_mem(sq.ring.base + sq.ring.slot() * 16, &mut d) {
                return;
            }
            if d[3] & 1 != sq.ring.phase {
                self.state
                    .borrow_mut()
                    .protocol_errors
                    .push("rx descriptor with a stale phase");
            }
            let addr = u64::from(le32(&d, 8)) | (u64::from(le16(&d, 12)) << 32);
            self.state.borrow_mut().rx_posted.push_back((
                le16(&d, 4),
                addr,
                usize::from(le16(&d, 0)),
            ));
            sq.ring.advance();
        }
        self.state.borrow_mut().sqs[idx] = sq;
    }

    /// Delivers a frame into the next posted RX buffer with the given first/last flags.
    pub fn inject_rx_flags(&self, frame: &[u8], first: bool, last: bool) -> bool {
        let Some((id, addr, cap)) = self.state.borrow_mut().rx_posted.pop_front() else {
            return false;
        };
        if frame.len() > cap || !self.write_mem(addr, frame) {
            return false;
        }
        let cq_idx = {
            let st = self.state.borrow();
            st.sqs
                .iter()
                .find(|s| s.direction == cmd::DIRECTION_RX)
                .map(|s| s.cq)
        };
        let Some(cq_idx) = cq_idx else { return false };
        let mut st = self.state.borrow_mut();
        let cq = &mut st.cqs[usize::from(cq_idx)];
        let status =
            (u32::from(cq.ring.phase) << 24) | (u32::from(first) << 26) | (u32::from(last) << 27);
        let mut c = [0u8; 16];
        c[0..4].copy_from_slice(&status.to_le_bytes());
        c[4..6].copy_from_slice(&(frame.len() as u16).to_le_bytes());
        c[6..8].copy_from_slice(&id.to_le_bytes());
        let addr = cq.ring.base + cq.ring.slot() * cq.entry_bytes as u64;
        cq.ring.advance();
        drop(st);
        self.write_mem(addr, &c)
    }

    pub fn inject_rx(&self, frame: &[u8]) -> bool {
        self.inject_rx_flags(frame, true, true)
    }

    /// Posts an AENQ event.
    pub fn post_event(&self, group: u16, syndrome: u16, data: u32) {
        let mut st = self.state.borrow_mut();
        let Some(mut q) = st.aenq else { return };
        let mut e = [0u8; ENTRY];
        e[0..2].copy_from_slice(&group.to_le_bytes());
        e[2..4].copy_from_slice(&syndrome.to_le_bytes());
        e[4] = q.phase;
        e[16..20].copy_from_slice(&data.to_le_bytes());
        let addr = q.base + q.slot() * ENTRY as u64;
        q.advance();
        st.aenq = Some(q);
        drop(st);
        self.write_mem(addr, &e);
    }

    /// Releases a stalled transmitter.
    pub fn unstall_tx(&self) {
        self.tx_stall.set(false);
        let sqs = self.state.borrow().sqs.clone();
        for (i, sq) in sqs.iter().enumerate() {
            if sq.direction == cmd::DIRECTION_TX {
                let tail = self.reg(self.sq_doorbell_base.get() as usize + 4 * i);
                self.run_tx(i, tail);
            }
        }
    }
}

impl crate::regs::Regs for FakeEna {
    fn read32(&self, offset: usize) -> u32 {
        match offset {
            VERSION => self.version.get(),
            CONTROLLER_VERSION => 0x0001_0001,
            CAPS => self.caps.get(),
            DEV_STS => {
                let ready = if self.never_ready.get() {
                    0
                } else {
                    DEV_STS_READY
                };
                let resetting = if self.state.borrow().in_reset {
                    DEV_STS_RESET_IN_PROGRESS
                } else {
                    0
                };
                ready | resetting
            }
            o => self.reg(o),
        }
    }

    fn write32(&self, offset: usize, value: u32) {
        self.regs.borrow_mut().insert(offset, value);
        match offset {
            DEV_CTL => {
                let resetting = value & DEV_CTL_DEV_RESET != 0 && !self.reset_stuck.get();
                self.state.borrow_mut().in_reset = resetting;
            }
            AQ_CAPS => {
                let base = self.queue_base(AQ_BASE_LO, AQ_BASE_HI);
                self.state.borrow_mut().aq = Some(Ring::new(base, value as u16));
            }
            ACQ_CAPS => {
                let base = self.queue_base(ACQ_BASE_LO, ACQ_BASE_HI);
                self.state.borrow_mut().acq = Some(Ring::new(base, value as u16));
            }
            AENQ_CAPS => {
                let base = self.queue_base(AENQ_BASE_LO, AENQ_BASE_HI);
                self.state.borrow_mut().aenq = Some(Ring::new(base, value as u16));
            }
            AQ_DB => self.run_admin(value),
            o if o >= self.sq_doorbell_base.get() as usize && o < CQ_DB_BASE as usize => {
                self.sq_doorbell((o - self.sq_doorbell_base.get() as usize) / 4, value);
            }
            _ => {}
        }
    }
}
