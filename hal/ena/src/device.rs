//! Bring-up of the ENA: reset, version check, admin queue and AENQ, feature discovery, and
//! the creation of one transmit and one receive queue pair, in the order `ena_com.c` and
//! `ena_netdev.c` use.

use hal::Clock;

use crate::admin::cmd::{self, DeviceAttr};
use crate::admin::{AdminQueue, Aenq, Event};
use crate::dma::{DmaBuf, PAGE};
use crate::io::{RxQueue, TxQueue, BUF_LEN, RX_CDESC, RX_DESC, TX_CDESC, TX_DESC};
use crate::regs::{self, Regs};
use crate::wait::poll_until;

/// Lowest ENA interface version spoken here (spec 2.0, Linux `MIN_ENA_VER`).
pub const MIN_VERSION: u32 = 2 << regs::VERSION_MAJOR_SHIFT;
/// The MTU asked of the device: one frame must fit one 2 KiB buffer.
pub const MTU: u32 = 1500;
/// End of the control registers of `ena_regs_defs.h` (RSS_IND_ENTRY_UPDATE is the last).
const CONTROL_REGS_END: usize = 0x6C;
/// AENQ groups the driver asks for: link change, fatal error, warning, keep-alive.
const WANTED_GROUPS: u32 = (1 << cmd::AENQ_LINK_CHANGE)
    | (1 << cmd::AENQ_FATAL_ERROR)
    | (1 << cmd::AENQ_WARNING)
    | (1 << cmd::AENQ_KEEP_ALIVE);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnaError {
    /// Queue depths must be powers of two (2..=256) and the arena large enough.
    BadConfig,
    /// DEV_STS did not report ready before reset.
    NotReady,
    /// CAPS advertises no reset timeout.
    BadCaps(u32),
    ResetTimeout,
    /// The device speaks an older interface (VERSION register value).
    UnsupportedVersion(u32),
    AdminTimeout {
        opcode: u8,
    },
    AdminStatus {
        opcode: u8,
        status: u8,
    },
    AdminMismatch {
        expected: u16,
        got: u16,
    },
    /// The device cannot provide queues this deep.
    QueueTooDeep {
        max_sq: u32,
        max_cq: u32,
    },
    /// A doorbell offset the device returned lies outside BAR0.
    BadDoorbell(u32),
    /// The device reported a fatal error (DEV_STS or AENQ).
    Fatal,
    /// A driver invariant failed (a bounds check on its own memory).
    Internal,
}

/// Queue depths and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnaConfig {
    /// Entries in each I/O submission and completion queue (power of two, 2..=256).
    pub queue_depth: u16,
    /// Entries in the admin queues (power of two, 2..=256).
    pub admin_depth: u16,
    /// Entries in the AENQ (power of two, 2..=256).
    pub aenq_depth: u16,
    /// Size of BAR0, to validate doorbell offsets.
    pub bar_len: usize,
}

impl Default for EnaConfig {
    fn default() -> Self {
        Self {
            queue_depth: 64,
            admin_depth: 32,
            aenq_depth: 16,
            bar_len: 0x1_0000,
        }
    }
}

fn depth_ok(d: u16) -> bool {
    d.is_power_of_two() && (2..=256).contains(&d)
}

fn pages(len: usize) -> usize {
    len.div_ceil(PAGE) * PAGE
}

impl EnaConfig {
    /// Bytes of DMA memory [`Ena::init`] needs for this configuration.
    pub fn arena_bytes(&self) -> usize {
        let d = usize::from(self.queue_depth);
        let entry = cmd::ENTRY;
        PAGE + pages(usize::from(self.admin_depth) * entry) * 2
            + pages(usize::from(self.aenq_depth) * entry)
            + pages(d * TX_DESC)
            + pages(d * TX_CDESC)
            + pages(d * RX_DESC)
            + pages(d * RX_CDESC)
            + pages(d * BUF_LEN) * 2
    }

    fn valid(&self) -> bool {
        depth_ok(self.queue_depth) && depth_ok(self.admin_depth) && depth_ok(self.aenq_depth)
    }
}

/// What the device said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnaInfo {
    pub version: u32,
    pub controller_version: u32,
    pub attr: DeviceAttr,
    pub dma_width: u32,
}

/// An initialised ENA with one queue pair.
pub struct Ena<R: Regs> {
    pub(crate) regs: R,
    pub(crate) admin: AdminQueue,
    pub(crate) aenq: Aenq,
    pub(crate) tx: TxQueue,
    pub(crate) rx: RxQueue,
    pub(crate) info: EnaInfo,
    pub(crate) link_up: bool,
    pub(crate) fatal: bool,
    pub(crate) polls: u32,
}

struct Carved {
    admin_sq: DmaBuf,
    admin_cq: DmaBuf,
    aenq: DmaBuf,
    io: IoParts,
}

struct IoParts {
    tx_sq: DmaBuf,
    tx_cq: DmaBuf,
    rx_sq: DmaBuf,
    rx_cq: DmaBuf,
    tx_bufs: DmaBuf,
    rx_bufs: DmaBuf,
}

fn carve(cfg: &EnaConfig, mut arena: DmaBuf) -> Option<Carved> {
    let d = usize::from(cfg.queue_depth);
    let admin = usize::from(cfg.admin_depth) * cmd::ENTRY;
    Some(Carved {
        admin_sq: arena.take(admin, PAGE)?,
        admin_cq: arena.take(admin, PAGE)?,
        aenq: arena.take(usize::from(cfg.aenq_depth) * cmd::ENTRY, PAGE)?,
        io: IoParts {
            tx_sq: arena.take(d * TX_DESC, PAGE)?,
            tx_cq: arena.take(d * TX_CDESC, PAGE)?,
            rx_sq: arena.take(d * RX_DESC, PAGE)?,
            rx_cq: arena.take(d * RX_CDESC, PAGE)?,
            tx_bufs: arena.take(d * BUF_LEN, PAGE)?,
            rx_bufs: arena.take(d * BUF_LEN, PAGE)?,
        },
    })
}

/// Resets the device: DEV_CTL.DEV_RESET on, wait for RESET_IN_PROGRESS, off, wait for it
/// to clear, each wait bounded by the timeout CAPS advertises (units of 100 ms).
pub fn reset<R: Regs, C: Clock + ?Sized>(regs: &R, clock: &C) -> Result<(), EnaError> {
    if regs.read32(regs::DEV_STS) & regs::DEV_STS_READY == 0 {
        return Err(EnaError::NotReady);
    }
    let caps = regs.read32(regs::CAPS);
    let units = (caps & regs::CAPS_RESET_TIMEOUT_MASK) >> regs::CAPS_RESET_TIMEOUT_SHIFT;
    if units == 0 {
        return Err(EnaError::BadCaps(caps));
    }
    let timeout_us = u64::from(units) * 100_000;
    regs.write32(regs::DEV_CTL, regs::DEV_CTL_DEV_RESET);
    let started = poll_until(clock, timeout_us, || {
        (regs.read32(regs::DEV_STS) & regs::DEV_STS_RESET_IN_PROGRESS != 0).then_some(())
    });
    started.ok_or(EnaError::ResetTimeout)?;
    regs.write32(regs::DEV_CTL, 0);
    let finished = poll_until(clock, timeout_us, || {
        (regs.read32(regs::DEV_STS) & regs::DEV_STS_RESET_IN_PROGRESS == 0).then_some(())
    });
    finished.ok_or(EnaError::ResetTimeout)
}

/// Reads the device attributes and negotiates queue depth, MTU and AENQ groups.
fn negotiate<R: Regs, C: Clock + ?Sized>(
    regs: &R,
    clock: &C,
    admin: &mut AdminQueue,
    depth: u16,
) -> Result<DeviceAttr, EnaError> {
    let attr_entry = admin.execute(regs, clock, cmd::get_feature(cmd::FEAT_DEVICE_ATTRIBUTES))?;
    let attr = cmd::device_attr(&attr_entry);
    if attr.supported_features & (1 << cmd::FEAT_MAX_QUEUES_NUM) != 0 {
        let q = cmd::max_queues(&admin.execute(
            regs,
            clock,
            cmd::get_feature(cmd::FEAT_MAX_QUEUES_NUM),
        )?);
        let want = u32::from(depth);
        if q.max_sq_depth < want || q.max_cq_depth < want {
            return Err(EnaError::QueueTooDeep {
                max_sq: q.max_sq_depth,
                max_cq: q.max_cq_depth,
            });
        }
    }
    if attr.supported_features & (1 << cmd::FEAT_MTU) != 0 {
        admin.execute(regs, clock, cmd::set_mtu(MTU))?;
    }
    if attr.supported_features & (1 << cmd::FEAT_AENQ_CONFIG) != 0 {
        let (supported, _) = cmd::aenq_groups(&admin.execute(
            regs,
            clock,
            cmd::get_feature(cmd::FEAT_AENQ_CONFIG),
        )?);
        admin.execute(regs, clock, cmd::set_aenq_groups(supported & WANTED_GROUPS))?;
    }
    Ok(attr)
}

/// Creates the transmit and receive queue pairs and posts the receive buffers.
fn create_queues<R: Regs, C: Clock + ?Sized>(
    regs: &R,
    clock: &C,
    admin: &mut AdminQueue,
    cfg: &EnaConfig,
    io: IoParts,
) -> Result<(TxQueue, RxQueue), EnaError> {
    let mut ctx = QueueCtx {
        regs,
        clock,
        admin,
        depth: cfg.queue_depth,
        bar_len: cfg.bar_len,
    };
    let (tx_cq, tx_cq_db) = ctx.create_cq(TX_CDESC, &io.tx_cq)?;
    let tx_sq_db = ctx.create_sq(cmd::DIRECTION_TX, tx_cq, &io.tx_sq)?;
    let (rx_cq, rx_cq_db) = ctx.create_cq(RX_CDESC, &io.rx_cq)?;
    let rx_sq_db = ctx.create_sq(cmd::DIRECTION_RX, rx_cq, &io.rx_sq)?;

    let tx = TxQueue::new(
        io.tx_sq,
        io.tx_cq,
        io.tx_bufs,
        cfg.queue_depth,
        tx_sq_db,
        tx_cq_db,
    );
    let mut rx = RxQueue::new(
        io.rx_sq,
        io.rx_cq,
        io.rx_bufs,
        cfg.queue_depth,
        rx_sq_db,
        rx_cq_db,
    );
    rx.fill(regs);
    Ok((tx, rx))
}

impl<R: Regs> Ena<R> {
    /// Resets and brings up the device with `cfg`, using `arena` (at least
    /// [`EnaConfig::arena_bytes`]) for every queue and buffer.
    pub fn init<C: Clock + ?Sized>(
        regs: R,
        clock: &C,
        cfg: EnaConfig,
        arena: DmaBuf,
    ) -> Result<Self, EnaError> {
        if !cfg.valid() || arena.len() < cfg.arena_bytes() {
            return Err(EnaError::BadConfig);
        }
        let parts = carve(&cfg, arena).ok_or(EnaError::BadConfig)?;
        reset(&regs, clock)?;
        let version = regs.read32(regs::VERSION);
        let controller_version = regs.read32(regs::CONTROLLER_VERSION);
        if version & 0xFFFF < MIN_VERSION || controller_version & 0x00FF_FFFF == 0 {
            return Err(EnaError::UnsupportedVersion(version));
        }
        let caps = regs.read32(regs::CAPS);
        let dma_width = (caps & regs::CAPS_DMA_ADDR_WIDTH_MASK) >> regs::CAPS_DMA_ADDR_WIDTH_SHIFT;

        let mut admin = AdminQueue::new(parts.admin_sq, parts.admin_cq, cfg.admin_depth);
        admin.program(&regs, cfg.admin_depth);
        let aenq = Aenq::new(parts.aenq, cfg.aenq_depth);
        aenq.program(&regs);

        let attr = negotiate(&regs, clock, &mut admin, cfg.queue_depth)?;

        let (tx, rx) = create_queues(&regs, clock, &mut admin, &cfg, parts.io)?;

        Ok(Self {
            regs,
            admin,
            aenq,
            tx,
            rx,
            info: EnaInfo {
                version,
                controller_version,
                attr,
                dma_width,
            },
            // The link is taken as up until an AENQ link-change event says otherwise.
            link_up: true,
            fatal: false,
            polls: 0,
        })
    }

    pub fn info(&self) -> &EnaInfo {
        &self.info
    }

    pub fn mac(&self) -> [u8; 6] {
        self.info.attr.mac
    }

    pub fn link_up(&self) -> bool {
        self.link_up && !self.fatal
    }

    /// Drains the AENQ and checks DEV_STS; returns how many events were seen.
    pub fn poll_events(&mut self) -> Result<usize, EnaError> {
        let mut link = self.link_up;
        let mut fatal = self.regs.read32(regs::DEV_STS) & regs::DEV_STS_FATAL_ERROR != 0;
        let seen = self.aenq.poll(&self.regs, |event| match event {
            Event::Link(up) => link = up,
            Event::Fatal => fatal = true,
            _ => {}
        });
        self.link_up = link;
        self.fatal |= fatal;
        if self.fatal {
            return Err(EnaError::Fatal);
        }
        Ok(seen)
    }

    /// Runs one more admin command (for features this driver does not wrap).
    pub fn admin_command<C: Clock + ?Sized>(
        &mut self,
        clock: &C,
        entry: cmd::Entry,
    ) -> Result<cmd::Entry, EnaError> {
        self.admin.execute(&self.regs, clock, entry)
    }
}

struct QueueCtx<'a, R: Regs, C: Clock + ?Sized> {
    regs: &'a R,
    clock: &'a C,
    admin: &'a mut AdminQueue,
    depth: u16,
    bar_len: usize,
}

impl<R: Regs, C: Clock + ?Sized> QueueCtx<'_, R, C> {
    fn doorbell(&self, offset: u32) -> Result<usize, EnaError> {
        let o = offset as usize;
        // Doorbells never overlap the control registers documented in ena_regs_defs.h.
        if o < CONTROL_REGS_END || o & 3 != 0 || o + 4 > self.bar_len {
            return Err(EnaError::BadDoorbell(offset));
        }
        Ok(o)
    }

    /// Creates a completion queue; returns its index and head doorbell (0 when none).
    fn create_cq(&mut self, entry_bytes: usize, ring: &DmaBuf) -> Result<(u16, usize), EnaError> {
        let e = cmd::create_cq(entry_bytes, self.depth, ring.bus());
        let c = cmd::created_cq(&self.admin.execute(self.regs, self.clock, e)?);
        if c.actual_depth != 0 && c.actual_depth != self.depth {
            return Err(EnaError::QueueTooDeep {
                max_sq: u32::from(self.depth),
                max_cq: u32::from(c.actual_depth),
            });
        }
        let head_db = match c.head_db_offset {
            0 => 0,
            o => self.doorbell(o)?,
        };
        Ok((c.idx, head_db))
    }

    /// Creates a submission queue bound to `cq`; returns its doorbell offset.
    fn create_sq(&mut self, direction: u8, cq: u16, ring: &DmaBuf) -> Result<usize, EnaError> {
        let e = cmd::create_sq(direction, cq, self.depth, ring.bus());
        let s = cmd::created_sq(&self.admin.execute(self.regs, self.clock, e)?);
        self.doorbell(s.doorbell_offset)
    }
}
