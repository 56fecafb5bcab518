//! The root task's start: boot info, the heap from untyped memory, the physical address of
//! that heap for DMA, and the device frames (PL011, fw_cfg, virtio-mmio) mapped from device
//! untyped. Everything here runs once, before the machine exists.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::Ordering;

use hal_aarch64::Pl011;
use hal_sel4::abi::CURRENT;
use hal_sel4::bootinfo::FRAME_SIZE;
use hal_sel4::ram::RamRegion;
use hal_sel4::rt::RootKernel;
use hal_sel4::{BootInfo, DeviceMapper, MapError};
use hal_virt::board::{
    virtio_mmio_intid, FW_CFG_BASE, VIRTIO_MMIO_BASE, VIRTIO_MMIO_COUNT, VIRTIO_MMIO_STRIDE,
};
use hal_virt::{probe_net, VirtioNic};

use super::wake::Wakeups;
use super::{Devices, PL011_PADDR, UART, UART_VADDR};
use crate::say::say;

/// Where the heap is mapped (2 MiB aligned, above the devices) and how large it is.
const HEAP_VADDR: u64 = 0x2000_0000;
const HEAP_BYTES: u64 = 32 << 20;
/// Where fw_cfg and the virtio-mmio transports are mapped (one page each, in order).
const FW_CFG_VADDR: u64 = 0x1001_0000;
const VIRTIO_VADDR: u64 = 0x1002_0000;
const PAGE: u64 = 4096;

/// The root task's entry, called by `_sel4_start` on its own stack with the boot-info frame.
#[no_mangle]
extern "C" fn cohesix_sel4_main(bootinfo: *const u8) -> ! {
    // SAFETY: the kernel passes the boot-info frame, one mapped page, read only here.
    let frame = unsafe { core::slice::from_raw_parts(bootinfo, FRAME_SIZE) };
    let bi = match BootInfo::parse(frame, CURRENT.mcs) {
        Ok(bi) => bi,
        Err(e) => {
            say!("boot info unreadable: {e:?}");
            crate::arch::park()
        }
    };
    // SAFETY: the boot-info frame names the root thread's IPC buffer.
    let mut kernel = unsafe { RootKernel::new(bi.ipc_buffer) };
    let mut mapper = DeviceMapper::new(&bi);
    // The heap is not in the image (its frames would not fit the root CNode): 2 MiB frames
    // from RAM untyped, before anything allocates.
    let region = match mapper.map_ram(&mut kernel, HEAP_VADDR, HEAP_BYTES) {
        Ok(region) => region,
        Err(e) => {
            say!("fatal: heap not mapped from untyped memory: {e:?}");
            crate::arch::park()
        }
    };
    // SAFETY: just mapped read-write, cached, used by nothing else; no allocation yet.
    let heap = unsafe { crate::heap::init_at(HEAP_VADDR as usize, region.bytes() as usize) };
    if let Err(e) = map_uart(&mut mapper, &mut kernel) {
        say!("pl011 not mapped ({e:?}); console is seL4_DebugPutChar, output only");
    }
    let dma = dma_offset(&mut kernel, region);
    let fw_cfg = map_pages(
        &mut mapper,
        &mut kernel,
        FW_CFG_BASE as u64,
        FW_CFG_VADDR,
        1,
    );
    let virtio = map_pages(
        &mut mapper,
        &mut kernel,
        VIRTIO_MMIO_BASE as u64,
        VIRTIO_VADDR,
        (VIRTIO_MMIO_COUNT * VIRTIO_MMIO_STRIDE) as u64 / PAGE,
    );
    let nic = probe_nic(dma, virtio);
    // The NIC's interrupt line, from where its transport sits among the 32.
    let nic_intid = nic.as_ref().ok().map(|n| {
        let paddr = VIRTIO_MMIO_BASE + (n.mmio_base() - VIRTIO_VADDR as usize);
        u64::from(virtio_mmio_intid(paddr))
    });
    // SAFETY: the same IPC buffer; the boot's own `kernel` is not used after this.
    let wake_kernel = unsafe { RootKernel::new(bi.ipc_buffer) };
    let wake = Wakeups::new(&mut mapper, wake_kernel, nic_intid)
        .map_err(|e| say!("interrupts not bound ({e:?}); the idle loop yields instead"))
        .ok();
    let devices = Devices { fw_cfg, nic, wake };
    crate::run(super::bring_up(devices), heap)
}

/// The virtio-net device among the mapped transports, if DMA is possible at all.
fn probe_nic(dma: Option<u64>, virtio: Result<usize, MapError>) -> Result<VirtioNic, String> {
    match (dma, virtio) {
        (None, _) => Err(String::from(
            "the heap's physical address is unknown, so no DMA",
        )),
        (_, Err(e)) => Err(format!("virtio-mmio not mapped ({e:?})")),
        (Some(_), Ok(base)) => {
            let bases = (0..VIRTIO_MMIO_COUNT).map(move |i| base + i * VIRTIO_MMIO_STRIDE);
            // SAFETY: every transport window was mapped there as device memory, for the NIC
            // alone.
            unsafe { probe_net(bases) }.map_err(|e| {
                format!("no virtio-net device ({e:?}); boot with -device virtio-net-device")
            })
        }
    }
}

/// Maps the PL011's page and switches the console to it.
fn map_uart(mapper: &mut DeviceMapper, kernel: &mut RootKernel) -> Result<(), MapError> {
    mapper.map_device(kernel, PL011_PADDR, UART_VADDR)?;
    let va = (UART_VADDR | (PL011_PADDR & 0xfff)) as usize;
    // SAFETY: the PL011's page was just mapped there, uncached, and nothing else uses it.
    let mut uart = unsafe { Pl011::new(va) };
    uart.init();
    UART.store(va, Ordering::Release);
    Ok(())
}

/// Maps `pages` device pages from `paddr` at `vaddr`; the virtual base, or `Err` with why.
fn map_pages(
    mapper: &mut DeviceMapper,
    kernel: &mut RootKernel,
    paddr: u64,
    vaddr: u64,
    pages: u64,
) -> Result<usize, MapError> {
    for i in 0..pages {
        mapper.map_device(kernel, paddr + i * PAGE, vaddr + i * PAGE)?;
    }
    Ok(vaddr as usize)
}

/// The heap's physical minus virtual base, if the kernel confirms (`seL4_ARM_Page_GetAddress`
/// on every frame) that the heap is one physically contiguous run; devices are told heap
/// addresses plus this offset.
fn dma_offset(kernel: &mut RootKernel, region: RamRegion) -> Option<u64> {
    let large = region.bytes() / region.count.max(1);
    let base = kernel.page_address(region.first_cap).ok()?;
    for i in 1..region.count {
        if kernel.page_address(region.first_cap + i).ok()? != base + i * large {
            say!("heap frames are not physically contiguous; no DMA");
            return None;
        }
    }
    let offset = base.wrapping_sub(HEAP_VADDR);
    // SAFETY: every heap address maps to heap paddr + offset (checked above); no NIC yet.
    unsafe { hal_virt::set_dma_offset(offset) };
    Some(base)
}
