//! virtio-net over virtio-mmio as a `NetDevice`, on the `virtio-drivers` crate's raw driver.
//!
//! Both queues use fixed pools of heap buffers posted to the device: `QUEUE_SIZE` receive
//! buffers always posted, and `QUEUE_SIZE` transmit slots reclaimed as the device completes
//! them. A full transmit ring makes `can_transmit` false (the stack retries later); nothing
//! blocks and nothing grows.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use hal_smoltcp::{DeviceError, NetDevice};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

use crate::board::VIRTIO_MMIO_STRIDE;

/// Descriptors per queue.
pub const QUEUE_SIZE: usize = 32;
/// One buffer: virtio-net header (<= 12 bytes) plus a full Ethernet frame, rounded up.
const BUF_LEN: usize = 2048;

/// What to add to a heap address to get the physical address a device must be given: 0 on
/// bare metal (identity-mapped), the heap's physical minus virtual base when the heap is one
/// physically contiguous region mapped elsewhere (an seL4 root task's). Set once at boot,
/// before any NIC exists.
static DMA_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Declares that heap memory at virtual address `v` is at physical address `v + offset`
/// (wrapping).
///
/// # Safety
/// Must hold for every heap address, and be called before `probe_net`.
pub unsafe fn set_dma_offset(offset: u64) {
    DMA_OFFSET.store(offset, Ordering::Relaxed);
}

fn to_phys(vaddr: usize) -> PhysAddr {
    (vaddr as u64).wrapping_add(DMA_OFFSET.load(Ordering::Relaxed)) as PhysAddr
}

/// DMA on a machine whose devices see the CPU caches (QEMU virt) and whose heap is
/// physically contiguous: DMA memory is ordinary heap memory, sharing is free, and a
/// buffer's physical address is its virtual address plus the offset of `set_dma_offset`.
pub struct HeapDma;

// SAFETY: allocations are page-aligned, zeroed heap memory (contiguous in physical memory at
// the declared offset) freed with the layout they were made with; shared buffers are used in
// place.
unsafe impl Hal for HeapDma {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Ok(layout) = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: the layout has a non-zero size (virtio-drivers asks for >= 1 page).
        let ptr = unsafe { alloc_zeroed(layout) };
        match NonNull::new(ptr) {
            Some(ptr) => (to_phys(ptr.as_ptr() as usize), ptr),
            // virtio-drivers reports a zero address as a DMA error.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        match Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) {
            Ok(layout) => {
                // SAFETY: `vaddr` came from `dma_alloc` with this same layout.
                unsafe { dealloc(vaddr.as_ptr(), layout) };
                0
            }
            Err(_) => -1,
        }
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as usize as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        to_phys(buffer.as_ptr() as *mut u8 as usize)
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicError {
    /// No virtio-mmio slot holds a network device.
    NotFound,
    /// The device refused initialisation or a queue could not be set up.
    Init,
}

/// Counters of the NIC itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NicStats {
    pub rx_frames: u64,
    pub rx_oversize: u64,
    pub rx_errors: u64,
    pub tx_frames: u64,
    pub tx_errors: u64,
    /// Receive buffers the device would not take back (the ring shrinks by one each).
    pub rx_lost_buffers: u64,
}

struct Slot {
    buf: Box<[u8]>,
    /// The descriptor token while the device owns the buffer.
    token: Option<u16>,
    len: usize,
}

impl Slot {
    fn new() -> Self {
        Self {
            buf: vec![0u8; BUF_LEN].into_boxed_slice(),
            token: None,
            len: 0,
        }
    }
}

type Raw = VirtIONetRaw<HeapDma, MmioTransport<'static>, QUEUE_SIZE>;

pub struct VirtioNic {
    raw: Raw,
    base: usize,
    rx: Vec<Slot>,
    tx: Vec<Slot>,
    stats: NicStats,
}

/// Finds the first virtio network device among the transports at `bases`.
///
/// # Safety
/// Every address in `bases` must be a virtio-mmio transport window of `VIRTIO_MMIO_STRIDE`
/// bytes, mapped as device memory, not used by anything else.
pub unsafe fn probe_net(bases: impl Iterator<Item = usize>) -> Result<VirtioNic, NicError> {
    for base in bases {
        let Some(header) = NonNull::new(base as *mut VirtIOHeader) else {
            continue;
        };
        // SAFETY: the caller vouches for the window.
        let Ok(transport) = (unsafe { MmioTransport::new(header, VIRTIO_MMIO_STRIDE) }) else {
            continue;
        };
        if transport.device_type() == DeviceType::Network {
            return VirtioNic::new(transport, base);
        }
    }
    Err(NicError::NotFound)
}

impl VirtioNic {
    fn new(transport: MmioTransport<'static>, base: usize) -> Result<Self, NicError> {
        let mut raw = Raw::new(transport).map_err(|_| NicError::Init)?;
        let mut rx: Vec<Slot> = (0..QUEUE_SIZE).map(|_| Slot::new()).collect();
        for slot in &mut rx {
            // SAFETY: the buffer is heap memory owned by `self.rx` for the driver's life and
            // not touched until the device returns it.
            let token = unsafe { raw.receive_begin(&mut slot.buf) }.map_err(|_| NicError::Init)?;
            slot.token = Some(token);
        }
        let tx = (0..QUEUE_SIZE).map(|_| Slot::new()).collect();
        Ok(Self {
            raw,
            base,
            rx,
            tx,
            stats: NicStats::default(),
        })
    }

    pub fn stats(&self) -> NicStats {
        self.stats
    }

    /// The transport window the device was found at.
    pub fn mmio_base(&self) -> usize {
        self.base
    }

    /// Takes back transmit slots the device has finished with.
    fn reclaim(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let Some(slot) = self.tx.iter_mut().find(|s| s.token == Some(token)) else {
                // Not ours: leave it rather than spin on a token no slot can pop.
                self.stats.tx_errors += 1;
                return;
            };
            // SAFETY: the same buffer and length given to `transmit_begin` for this token.
            if unsafe { self.raw.transmit_complete(token, &slot.buf[..slot.len]) }.is_err() {
                self.stats.tx_errors += 1;
            }
            slot.token = None;
        }
    }

    fn repost(&mut self, index: usize) {
        let slot = &mut self.rx[index];
        // SAFETY: as in `new`: the buffer stays put and untouched while the device owns it.
        match unsafe { self.raw.receive_begin(&mut slot.buf) } {
            Ok(token) => slot.token = Some(token),
            Err(_) => self.stats.rx_lost_buffers += 1,
        }
    }
}

impl NetDevice for VirtioNic {
    fn mac(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    fn receive(&mut self, out: &mut [u8]) -> Option<usize> {
        let token = self.raw.poll_receive()?;
        let Some(index) = self.rx.iter().position(|s| s.token == Some(token)) else {
            self.stats.rx_errors += 1;
            return None;
        };
        self.rx[index].token = None;
        // SAFETY: the buffer posted under this token.
        let done = unsafe { self.raw.receive_complete(token, &mut self.rx[index].buf) };
        let result = match done {
            Ok((hdr, len)) if len <= out.len() && hdr + len <= BUF_LEN => {
                out[..len].copy_from_slice(&self.rx[index].buf[hdr..hdr + len]);
                self.stats.rx_frames += 1;
                Some(len)
            }
            Ok(_) => {
                self.stats.rx_oversize += 1;
                None
            }
            Err(_) => {
                self.stats.rx_errors += 1;
                None
            }
        };
        self.repost(index);
        result
    }

    fn ack_interrupt(&mut self) {
        self.raw.ack_interrupt();
    }

    fn can_transmit(&mut self) -> bool {
        self.reclaim();
        self.raw.can_send() && self.tx.iter().any(|s| s.token.is_none())
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        self.reclaim();
        let Some(index) = self.tx.iter().position(|s| s.token.is_none()) else {
            return Err(DeviceError::Busy);
        };
        let slot = &mut self.tx[index];
        let hdr = self
            .raw
            .fill_buffer_header(&mut slot.buf)
            .map_err(|_| DeviceError::Busy)?;
        if hdr + frame.len() > slot.buf.len() {
            self.stats.tx_errors += 1;
            return Err(DeviceError::Busy);
        }
        slot.buf[hdr..hdr + frame.len()].copy_from_slice(frame);
        slot.len = hdr + frame.len();
        // SAFETY: the slot is not touched again until `reclaim` pops this token.
        match unsafe { self.raw.transmit_begin(&slot.buf[..slot.len]) } {
            Ok(token) => {
                slot.token = Some(token);
                self.stats.tx_frames += 1;
                Ok(())
            }
            Err(_) => {
                self.stats.tx_errors += 1;
                Err(DeviceError::Busy)
            }
        }
    }
}
