//! The frame-level seam every NIC driver implements, and the adapter that presents it to
//! smoltcp as a `phy::Device` through two bounded scratch buffers.

use alloc::vec;
use alloc::vec::Vec;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Largest Ethernet frame without FCS: 1500 bytes of payload plus the 14-byte header.
pub const ETHERNET_FRAME_MAX: usize = 1514;

/// Why a frame could not be handed to the hardware. Neither is fatal: the frame is dropped and
/// TCP retransmits it later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// Every transmit descriptor is in use.
    Busy,
    /// The link is down or the device is resetting.
    Down,
}

/// A frame-level network interface card (virtio-net, GENET, ENA, an in-memory wire).
///
/// Drivers copy frames in and out, so they keep their own descriptor rings private and never
/// lend DMA memory to the TCP/IP stack. Every method returns at once.
pub trait NetDevice {
    /// The station's MAC address.
    fn mac(&self) -> [u8; 6];

    /// Largest frame the device sends or receives, Ethernet header included, FCS excluded.
    fn max_frame(&self) -> usize {
        ETHERNET_FRAME_MAX
    }

    /// Copies the next received frame into `buf` and returns its length, or `None` when no
    /// frame is waiting. A frame longer than `buf` is dropped by the driver, not truncated.
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize>;

    /// Whether a transmit descriptor is free right now.
    fn can_transmit(&mut self) -> bool;

    /// Queues one frame for transmission.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), DeviceError>;

    /// Lowers the device's interrupt after an idle wait it may have ended. Devices that are
    /// only polled keep the default, which does nothing.
    fn ack_interrupt(&mut self) {}
}

/// Frame counters kept by the adapter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    pub rx_frames: u64,
    pub tx_frames: u64,
    /// Transmissions refused because no descriptor was free (the stack retries later).
    pub tx_busy: u64,
    /// Frames lost because the device refused them at the last moment (link down, busy).
    pub tx_dropped: u64,
}

/// A `NetDevice` seen through smoltcp's `phy::Device`, with one receive and one transmit
/// buffer of `max_frame` bytes each: the only frame memory the adapter ever holds.
pub struct FrameAdapter<D> {
    pub(crate) dev: D,
    rx: Vec<u8>,
    tx: Vec<u8>,
    pub(crate) stats: FrameStats,
}

impl<D: NetDevice> FrameAdapter<D> {
    pub fn new(dev: D) -> Self {
        let max = dev.max_frame().max(64);
        Self {
            dev,
            rx: vec![0; max],
            tx: vec![0; max],
            stats: FrameStats::default(),
        }
    }

    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    pub fn device(&self) -> &D {
        &self.dev
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.dev
    }
}

pub struct RxToken<'a> {
    frame: &'a [u8],
}

pub struct TxToken<'a, D> {
    dev: &'a mut D,
    buf: &'a mut [u8],
    stats: &'a mut FrameStats,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.frame)
    }
}

impl<D: NetDevice> phy::TxToken for TxToken<'_, D> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        // smoltcp never asks for more than the advertised MTU; clamp anyway so a stack bug
        // cannot index past the buffer.
        let len = len.min(self.buf.len());
        let frame = &mut self.buf[..len];
        let result = f(frame);
        match self.dev.transmit(frame) {
            Ok(()) => self.stats.tx_frames += 1,
            Err(_) => self.stats.tx_dropped += 1,
        }
        result
    }
}

impl<D: NetDevice> phy::Device for FrameAdapter<D> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let Self { dev, rx, tx, stats } = self;
        let len = dev.receive(rx)?.min(rx.len());
        stats.rx_frames += 1;
        let rx_token = RxToken { frame: &rx[..len] };
        let tx_token = TxToken {
            dev,
            buf: tx,
            stats,
        };
        Some((rx_token, tx_token))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        if !self.dev.can_transmit() {
            self.stats.tx_busy += 1;
            return None;
        }
        let Self { dev, tx, stats, .. } = self;
        Some(TxToken {
            dev,
            buf: tx,
            stats,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.rx.len();
        caps
    }
}
