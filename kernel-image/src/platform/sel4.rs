//! The image as an seL4 root task (`--features sel4`): `hal_sel4::rt`'s `_sel4_start` enters
//! [`cohesix_sel4_main`] with the boot-info frame; capabilities replace the MMU set-up. The
//! console is the PL011 of QEMU `virt` mapped through `DeviceMapper`, or, when the kernel keeps
//! that UART for itself, `seL4_DebugPutChar` (output only). The clock is the generic timer
//! the kernel exports to user level. No network yet: NIC DMA needs the physical address of
//! each buffer (`seL4_ARM_Page_GetAddress`), which `hal/sel4` does not invoke. No
//! provisioning source either, so the image boots with the console closed to the network.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use hal::mem::MemStore;
use hal::{Clock, ConnId, Console, Entropy, Net, NetError, PeerAddr, Store, StoreError};
use hal_sel4::abi::CURRENT;
use hal_sel4::bootinfo::FRAME_SIZE;
use hal_sel4::rt::{yield_now, DebugConsole, RootKernel};
use hal_sel4::{BootInfo, DeviceMapper, MapError};
use hal_smoltcp::{Ipv4Cidr, NetConfig};
use hal_virt::{timer, BootEntropy, GenericTimer, Pl011};

use crate::board::{BlobFault, Board, NetUp};
use crate::say::say;

pub const NAME: &str = "sel4";

/// The PL011 of QEMU `virt` (seL4 platform `qemu-arm-virt`).
const PL011_PADDR: u64 = 0x0900_0000;
/// Where the root task maps it; `link/sel4.ld` keeps the image below this.
const UART_VADDR: u64 = 0x1000_0000;
const STORE_BYTES: usize = 1 << 20;
/// Where the heap is mapped (2 MiB aligned, above the UART) and how large it is.
const HEAP_VADDR: u64 = 0x2000_0000;
const HEAP_BYTES: u64 = 32 << 20;
/// Serial bytes taken per `console_read`, so a paste flood cannot stall a turn.
const CONSOLE_READ_MAX: usize = 256;
const DEFAULT_IP: Ipv4Cidr = Ipv4Cidr {
    addr: [10, 0, 2, 15],
    prefix_len: 24,
};

/// The mapped PL011's virtual address once it is mapped; 0 means the debug console.
static UART: AtomicUsize = AtomicUsize::new(0);

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
    let heap = match mapper.map_ram(&mut kernel, HEAP_VADDR, HEAP_BYTES) {
        // SAFETY: just mapped read-write, cached, used by nothing else; no allocation yet.
        Ok(bytes) => unsafe { crate::heap::init_at(HEAP_VADDR as usize, bytes as usize) },
        Err(e) => {
            say!("fatal: heap not mapped from untyped memory: {e:?}");
            crate::arch::park()
        }
    };
    match map_uart(&mut mapper, &mut kernel) {
        Ok(()) => {}
        Err(e) => say!("pl011 not mapped ({e:?}); console is seL4_DebugPutChar, output only"),
    }
    crate::run(bring_up(), heap)
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

/// The serial console as it stands: the mapped PL011 or the kernel's debug output.
#[derive(Clone, Copy)]
pub enum Serial {
    Uart(Pl011),
    Debug,
}

impl Serial {
    fn current() -> Self {
        match UART.load(Ordering::Acquire) {
            0 => Self::Debug,
            // SAFETY: stored only after the PL011's page was mapped there as device memory.
            va => Self::Uart(unsafe { Pl011::new(va) }),
        }
    }
}

impl core::fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.console_write(s.as_bytes());
        Ok(())
    }
}

impl Console for Serial {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let Self::Uart(uart) = self else {
            return 0;
        };
        let mut n = 0;
        while n < buf.len().min(CONSOLE_READ_MAX) {
            let Some(byte) = uart.read_byte() else {
                break;
            };
            buf[n] = byte;
            n += 1;
        }
        n
    }

    fn console_write(&mut self, bytes: &[u8]) {
        match self {
            Self::Uart(uart) => uart.write_bytes(bytes),
            Self::Debug => DebugConsole.console_write(bytes),
        }
    }
}

pub fn early_console() -> Serial {
    Serial::current()
}

/// The root task's machine: serial console, generic timer, boot entropy, in-memory store and
/// no network (every port stays closed).
pub struct Sel4Hal {
    serial: Serial,
    timer: GenericTimer,
    entropy: BootEntropy,
    store: MemStore,
}

impl Clock for Sel4Hal {
    fn now_us(&self) -> u64 {
        self.timer.now_us()
    }
}

impl Net for Sel4Hal {
    fn poll_accept(&mut self, _port: u16) -> Option<ConnId> {
        None
    }

    fn recv(&mut self, _conn: ConnId, _buf: &mut [u8]) -> Result<usize, NetError> {
        Err(NetError::Unknown)
    }

    fn send(&mut self, _conn: ConnId, _buf: &[u8]) -> Result<usize, NetError> {
        Err(NetError::Unknown)
    }

    fn close(&mut self, _conn: ConnId) {}

    fn peer(&self, _conn: ConnId) -> Option<PeerAddr> {
        None
    }
}

impl Console for Sel4Hal {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.serial.console_read(buf)
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.serial.console_write(bytes);
    }
}

impl Entropy for Sel4Hal {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.entropy.fill_bytes(buf);
    }
}

impl Store for Sel4Hal {
    fn store_get(&self, key: &str, out: &mut Vec<u8>) -> Option<usize> {
        self.store.store_get(key, out)
    }

    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.store.store_put(key, value)
    }

    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError> {
        self.store.store_append(log, record)
    }

    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        self.store.store_read(log, from, max, out)
    }

    fn store_trim(&mut self, log: &str, before: u64) -> Result<(), StoreError> {
        self.store.store_trim(log, before)
    }
}

pub struct Machine {
    hal: Sel4Hal,
}

pub fn bring_up() -> Machine {
    Machine {
        hal: Sel4Hal {
            serial: Serial::current(),
            timer: GenericTimer::new(),
            entropy: BootEntropy::new(None, timer::counter()),
            store: MemStore::with_capacity(STORE_BYTES),
        },
    }
}

impl Board for Machine {
    type Hal = Sel4Hal;

    fn hal(&mut self) -> &mut Self::Hal {
        &mut self.hal
    }

    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault> {
        Err(BlobFault::Absent {
            source: "no provisioning source under seL4 yet",
        })
    }

    fn default_address(&self) -> (Ipv4Cidr, Option<[u8; 4]>) {
        (DEFAULT_IP, None)
    }

    fn seed_entropy(&mut self, seed: Option<[u8; 32]>) {
        self.hal.entropy = BootEntropy::new(seed, timer::counter());
    }

    fn start_network(&mut self, _config: NetConfig, _ports: &[u16]) -> Result<NetUp, String> {
        Err(String::from(
            "no NIC under seL4 yet (DMA needs seL4_ARM_Page_GetAddress)",
        ))
    }

    fn poll_net(&mut self) -> bool {
        false
    }

    fn idle(&mut self, _max_us: u64) {
        // The only thread: yielding returns at once, but lets the kernel run its own work.
        yield_now(&CURRENT);
    }

    fn idle_mode(&self) -> &'static str {
        "yield"
    }
}
