//! The GENET v5 Ethernet MAC of the BCM2711, driven by polling with one receive and one
//! transmit ring on the default queue (16), like U-Boot's driver. Descriptors live in the
//! MAC's register space; frame buffers are caller-provided [`DmaBuf`]s. Link bring-up is a
//! non-blocking state machine ([`Genet::poll_link`]) so the pump never waits on a cable.

mod io;
pub mod mdio;
mod netdev;
pub mod regs;
pub mod ring;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use io::{GenetRxToken, GenetTxToken};
pub use netdev::LINK_POLL_EVERY;

use crate::dma::DmaBuf;
use crate::mmio::Regs;
use io::{RxPath, TxPath};
use mdio::Mdio;
use regs::*;
use ring::{RingError, RxRing, TxRing};

/// Bytes per DMA buffer (one frame each).
pub const BUF_LEN: usize = 2048;
/// Padding the MAC puts before each received frame (RBUF_ALIGN_2B) so IP headers align.
pub const RX_PAD: usize = 2;
/// Largest Ethernet frame handed to or taken from the stack, without FCS.
pub const MAX_FRAME: usize = 1514;
/// Shortest frame on the wire without FCS; shorter frames are zero-padded.
pub const MIN_FRAME: usize = 60;
/// Polls of DMA_STATUS while waiting for the DMA engines to stop.
pub const DMA_STOP_POLL_LIMIT: u32 = 100_000;
/// GENET v5 reports major revision 6 in SYS_REV_CTRL.
const GENET_V5_MAJOR: u32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    Mbps10,
    Mbps100,
    Mbps1000,
}

impl Speed {
    /// The UMAC_CMD speed field.
    fn umac_code(self) -> u32 {
        match self {
            Speed::Mbps10 => 0,
            Speed::Mbps100 => 1,
            Speed::Mbps1000 => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Down,
    Up { speed: Speed, full_duplex: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenetError {
    /// SYS_REV_CTRL does not identify a GENET v5 (the raw register is kept).
    UnsupportedVersion(u32),
    /// Ring sizes must be powers of two up to 256 with buffers of `BUF_LEN` each.
    BadConfig,
    MdioTimeout,
    MdioReadFail,
    PhyResetTimeout,
    /// The DMA engines did not report stopped.
    DmaStopTimeout,
    /// The device reported an impossible ring index; the driver has stopped using the ring.
    Ring(RingError),
    /// Used before [`Genet::init`] succeeded.
    NotStarted,
}

/// Static configuration of the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenetConfig {
    pub mac: [u8; 6],
    pub phy_addr: u8,
    pub rx_descs: u16,
    pub tx_descs: u16,
}

impl GenetConfig {
    /// The Pi 4 board: PHY at MDIO address 1, 256 receive and 64 transmit descriptors.
    pub fn pi4(mac: [u8; 6]) -> Self {
        Self {
            mac,
            phy_addr: crate::board::GENET_PHY_ADDR,
            rx_descs: 256,
            tx_descs: 64,
        }
    }

    /// Bytes of receive and transmit buffer memory this configuration needs.
    pub fn buffer_bytes(&self) -> (usize, usize) {
        (
            usize::from(self.rx_descs) * BUF_LEN,
            usize::from(self.tx_descs) * BUF_LEN,
        )
    }
}

/// Counters for operators and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GenetStats {
    pub rx_frames: u64,
    pub rx_dropped: u64,
    pub tx_frames: u64,
    /// Frames refused because every transmit descriptor was in flight.
    pub tx_full: u64,
}

/// The GENET driver.
pub struct Genet<R: Regs> {
    regs: R,
    cfg: GenetConfig,
    rx: RxPath,
    tx: TxPath,
    link: Link,
    started: bool,
    polls: u32,
}

impl<R: Regs> Genet<R> {
    /// Checks the configuration against the buffers; touches no register.
    pub fn new(
        regs: R,
        cfg: GenetConfig,
        rx_bufs: DmaBuf,
        tx_bufs: DmaBuf,
    ) -> Result<Self, GenetError> {
        let (rx_need, tx_need) = cfg.buffer_bytes();
        let sizes_ok = ring::valid_size(cfg.rx_descs) && ring::valid_size(cfg.tx_descs);
        if !sizes_ok || rx_bufs.len() < rx_need || tx_bufs.len() < tx_need {
            return Err(GenetError::BadConfig);
        }
        // Placeholder rings; `init` realigns them to the device's indices.
        let rx_ring = RxRing::new(cfg.rx_descs, 0).ok_or(GenetError::BadConfig)?;
        let tx_ring = TxRing::new(cfg.tx_descs, 0).ok_or(GenetError::BadConfig)?;
        Ok(Self {
            regs,
            cfg,
            rx: RxPath::new(rx_ring, rx_bufs),
            tx: TxPath::new(tx_ring, tx_bufs),
            link: Link::Down,
            started: false,
            polls: 0,
        })
    }

    /// Brings the MAC up: checks the revision, resets the UniMAC, programs the address and
    /// both rings, enables DMA and starts PHY auto-negotiation. Frames flow once
    /// [`poll_link`](Self::poll_link) has seen the link come up.
    pub fn init(&mut self) -> Result<(), GenetError> {
        self.started = false;
        let rev = self.regs.read32(SYS_REV_CTRL);
        if (rev >> 24) & 0x0F != GENET_V5_MAJOR {
            return Err(GenetError::UnsupportedVersion(rev));
        }
        self.regs.write32(SYS_PORT_CTRL, PORT_MODE_EXT_GPHY);
        self.reset_umac();
        self.mask_interrupts();
        self.write_mac();
        self.stop_dma()?;
        self.init_rx_ring();
        self.init_tx_ring();
        self.start_dma();
        let mdio = Mdio::new(&self.regs, self.cfg.phy_addr);
        mdio.reset_phy()?;
        mdio.configure_rgmii_rxid()?;
        mdio.start_autoneg()?;
        self.link = Link::Down;
        self.started = true;
        Ok(())
    }

    /// Reads the PHY and, when the link changed, reprograms the MAC for it.
    pub fn poll_link(&mut self) -> Result<Link, GenetError> {
        if !self.started {
            return Err(GenetError::NotStarted);
        }
        let link = Mdio::new(&self.regs, self.cfg.phy_addr).link()?;
        if link != self.link {
            self.apply_link(link);
            self.link = link;
        }
        Ok(link)
    }

    pub fn link(&self) -> Link {
        self.link
    }

    pub fn mac(&self) -> [u8; 6] {
        self.cfg.mac
    }

    pub fn stats(&self) -> GenetStats {
        GenetStats {
            rx_frames: self.rx.frames,
            rx_dropped: self.rx.dropped,
            tx_frames: self.tx.frames,
            tx_full: self.tx.full,
        }
    }

    /// A ring fault the device caused, if one stopped a path.
    pub fn fault(&self) -> Option<GenetError> {
        self.rx.fault.or(self.tx.fault).map(GenetError::Ring)
    }

    fn ready(&self) -> bool {
        self.started && matches!(self.link, Link::Up { .. })
    }

    /// Lets the hardware settle after a reset-type write (U-Boot waits 2-10 µs); a register
    /// read costs well over 100 ns on this bus, so a hundred of them cover it.
    fn settle(&self) {
        for _ in 0..100 {
            let _ = self.regs.read32(SYS_REV_CTRL);
        }
    }

    fn reset_umac(&self) {
        self.regs.modify32(SYS_RBUF_FLUSH_CTRL, 0, 1 << 1);
        self.settle();
        self.regs.modify32(SYS_RBUF_FLUSH_CTRL, 1 << 1, 0);
        self.settle();
        self.regs.write32(SYS_RBUF_FLUSH_CTRL, 0);
        self.settle();
        // Soft reset with local loopback keeps the receive clock stable during the reset.
        self.regs.write32(UMAC_CMD, CMD_SW_RESET | CMD_LCL_LOOP_EN);
        self.settle();
        self.regs
            .write32(UMAC_MIB_CTRL, MIB_RESET_RX | MIB_RESET_TX | MIB_RESET_RUNT);
        self.regs.write32(UMAC_MIB_CTRL, 0);
        self.regs.write32(UMAC_MAX_FRAME_LEN, MAX_FRAME_LEN);
        self.regs.modify32(RBUF_CTRL, 0, RBUF_ALIGN_2B);
        self.regs.write32(RBUF_TBUF_SIZE_CTRL, 1);
    }

    fn mask_interrupts(&self) {
        for block in [INTRL2_0, INTRL2_1] {
            self.regs.write32(block + INTRL2_CPU_MASK_SET, u32::MAX);
            self.regs.write32(block + INTRL2_CPU_CLEAR, u32::MAX);
        }
    }

    fn write_mac(&self) {
        let m = self.cfg.mac;
        let hi = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
        let lo = u32::from(u16::from_be_bytes([m[4], m[5]]));
        self.regs.write32(UMAC_MAC0, hi);
        self.regs.write32(UMAC_MAC1, lo);
    }

    fn stop_dma(&self) -> Result<(), GenetError> {
        self.regs.modify32(TDMA_CTRL_BASE + DMA_CTRL, DMA_EN, 0);
        self.regs.modify32(RDMA_CTRL_BASE + DMA_CTRL, DMA_EN, 0);
        let mut stopped = false;
        for _ in 0..DMA_STOP_POLL_LIMIT {
            let tx = self.regs.read32(TDMA_CTRL_BASE + DMA_STATUS);
            let rx = self.regs.read32(RDMA_CTRL_BASE + DMA_STATUS);
            if tx & rx & DMA_DISABLED != 0 {
                stopped = true;
                break;
            }
        }
        if !stopped {
            return Err(GenetError::DmaStopTimeout);
        }
        self.regs.write32(UMAC_TX_FLUSH, 1);
        self.settle();
        self.regs.write32(UMAC_TX_FLUSH, 0);
        Ok(())
    }

    fn ring_geometry(descs: u16) -> (u32, u32) {
        let end_word = u32::from(descs) * (DESC_SIZE as u32 / 4) - 1;
        let buf_size = (u32::from(descs) << DMA_RING_SIZE_SHIFT) | BUF_LEN as u32;
        (end_word, buf_size)
    }

    fn init_rx_ring(&mut self) {
        let descs = self.cfg.rx_descs;
        let (end_word, buf_size) = Self::ring_geometry(descs);
        let r = &self.regs;
        r.write32(RDMA_CTRL_BASE + DMA_SCB_BURST_SIZE, DMA_MAX_BURST_LENGTH);
        r.write32(RDMA_RING + DMA_START_ADDR, 0);
        r.write32(RDMA_RING + RDMA_READ_PTR, 0);
        r.write32(RDMA_RING + RDMA_WRITE_PTR, 0);
        r.write32(RDMA_RING + DMA_END_ADDR, end_word);
        // The producer index cannot be reset; the consumer index is aligned to it instead.
        let start = (r.read32(RDMA_RING + RDMA_PROD_INDEX) & ring::INDEX_MASK) as u16;
        r.write32(RDMA_RING + RDMA_CONS_INDEX, u32::from(start));
        r.write32(RDMA_RING + DMA_RING_BUF_SIZE, buf_size);
        let xon_xoff = (5 << 16) | (u32::from(descs) >> 4);
        r.write32(RDMA_RING + RDMA_XON_XOFF_THRESH, xon_xoff);
        r.write32(RDMA_CTRL_BASE + DMA_RING_CFG, 1 << DEFAULT_Q);
        self.rx.reset(start, r);
    }

    fn init_tx_ring(&mut self) {
        let (end_word, buf_size) = Self::ring_geometry(self.cfg.tx_descs);
        let r = &self.regs;
        r.write32(TDMA_CTRL_BASE + DMA_SCB_BURST_SIZE, DMA_MAX_BURST_LENGTH);
        r.write32(TDMA_RING + DMA_START_ADDR, 0);
        r.write32(TDMA_RING + TDMA_READ_PTR, 0);
        r.write32(TDMA_RING + TDMA_WRITE_PTR, 0);
        r.write32(TDMA_RING + DMA_END_ADDR, end_word);
        let start = (r.read32(TDMA_RING + TDMA_CONS_INDEX) & ring::INDEX_MASK) as u16;
        r.write32(TDMA_RING + TDMA_PROD_INDEX, u32::from(start));
        r.write32(TDMA_RING + TDMA_MBUF_DONE_THRESH, 1);
        r.write32(TDMA_RING + TDMA_FLOW_PERIOD, 0);
        r.write32(TDMA_RING + DMA_RING_BUF_SIZE, buf_size);
        r.write32(TDMA_CTRL_BASE + DMA_RING_CFG, 1 << DEFAULT_Q);
        self.tx.reset(start);
    }

    fn start_dma(&self) {
        let ctrl = (1 << (DEFAULT_Q as u32 + DMA_RING_BUF_EN_SHIFT)) | DMA_EN;
        self.regs.write32(TDMA_CTRL_BASE + DMA_CTRL, ctrl);
        self.regs.modify32(RDMA_CTRL_BASE + DMA_CTRL, 0, ctrl);
    }

    fn apply_link(&self, link: Link) {
        match link {
            Link::Up { speed, full_duplex } => {
                // rgmii-rxid: RGMII mode on, in-band status off, MAC-side delay off.
                self.regs.modify32(
                    EXT_RGMII_OOB_CTRL,
                    OOB_DISABLE,
                    RGMII_LINK | RGMII_MODE_EN | ID_MODE_DIS,
                );
                let half = if full_duplex { 0 } else { CMD_HD_EN };
                let cmd = (speed.umac_code() << CMD_SPEED_SHIFT) | half;
                self.regs.write32(UMAC_CMD, cmd);
                self.regs.modify32(UMAC_CMD, 0, CMD_TX_EN | CMD_RX_EN);
            }
            Link::Down => {
                self.regs.modify32(UMAC_CMD, CMD_TX_EN | CMD_RX_EN, 0);
                self.regs.modify32(EXT_RGMII_OOB_CTRL, RGMII_LINK, 0);
            }
        }
    }
}
