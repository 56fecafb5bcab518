//! The image as an seL4 root task (`--features sel4`): `hal_sel4::rt`'s `_sel4_start` enters
//! `boot::cohesix_sel4_main` with the boot-info frame; capabilities replace the MMU set-up.
//! The heap is 2 MiB frames from RAM untyped; the devices of QEMU `virt` are device frames
//! mapped from device untyped: the PL011 (the console, or `seL4_DebugPutChar`, output only,
//! when the kernel keeps that UART), fw_cfg (the provisioning blob, as on the bare virt
//! image) and the virtio-mmio transports (virtio-net through `hal_virt`, its DMA addresses
//! the heap's physical addresses, which the kernel reports). The clock is the generic timer
//! the kernel exports to user level. The loop polls the NIC and yields when idle.

mod boot;
mod wake;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use hal::mem::MemStore;
use hal::{Clock, ConnId, Console, Entropy, Net, NetError, PeerAddr, Store, StoreError};
use hal_aarch64::{timer, BootEntropy, GenericTimer, Pl011};
use hal_sel4::abi::CURRENT;
use hal_sel4::rt::{yield_now, DebugConsole};
use hal_sel4::MapError;
use hal_smoltcp::{Ipv4Cidr, NetConfig, SmolNet};
use hal_virt::board::FW_CFG_BASE;
use hal_virt::fwcfg::{FwCfg, FwCfgError, MmioFwCfg};
use hal_virt::provision::{FW_CFG_NAME, PROVISION_MAX};
use hal_virt::VirtioNic;

use wake::Wakeups;

use crate::board::{BlobFault, Board, NetUp};

pub const NAME: &str = "sel4";

/// The PL011 of QEMU `virt` (seL4 platform `qemu-arm-virt`).
const PL011_PADDR: u64 = 0x0900_0000;
/// Where the root task maps it; `link/sel4.ld` keeps the image below this.
const UART_VADDR: u64 = 0x1000_0000;
const STORE_BYTES: usize = 1 << 20;
/// Serial bytes taken per `console_read`, so a paste flood cannot stall a turn.
const CONSOLE_READ_MAX: usize = 256;
const DEFAULT_IP: Ipv4Cidr = Ipv4Cidr {
    addr: [10, 0, 2, 15],
    prefix_len: 24,
};
const DEFAULT_GATEWAY: [u8; 4] = [10, 0, 2, 2];

/// The mapped PL011's virtual address once it is mapped; 0 means the debug console.
static UART: AtomicUsize = AtomicUsize::new(0);

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

/// What `boot` set up: fw_cfg's virtual base, the NIC, and the interrupts the idle loop
/// sleeps on (or why each is missing).
pub struct Devices {
    pub fw_cfg: Result<usize, MapError>,
    pub nic: Result<VirtioNic, String>,
    pub wake: Option<Wakeups>,
}

/// The root task's machine: serial console, generic timer, boot entropy, in-memory store and,
/// once started, smoltcp over virtio-net.
pub struct Sel4Hal {
    serial: Serial,
    timer: GenericTimer,
    entropy: BootEntropy,
    store: MemStore,
    net: Option<SmolNet<VirtioNic>>,
}

impl Clock for Sel4Hal {
    fn now_us(&self) -> u64 {
        self.timer.now_us()
    }
}

impl Net for Sel4Hal {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        self.net.as_mut()?.poll_accept(port)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        self.net.as_mut().ok_or(NetError::Unknown)?.recv(conn, buf)
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        self.net.as_mut().ok_or(NetError::Unknown)?.send(conn, buf)
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(net) = self.net.as_mut() {
            net.close(conn);
        }
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.net.as_ref()?.peer(conn)
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
    fw_cfg: Result<usize, MapError>,
    nic: Result<VirtioNic, String>,
    wake: Option<Wakeups>,
}

pub fn bring_up(devices: Devices) -> Machine {
    Machine {
        hal: Sel4Hal {
            serial: Serial::current(),
            timer: GenericTimer::new(),
            entropy: BootEntropy::new(None, timer::counter()),
            store: MemStore::with_capacity(STORE_BYTES),
            net: None,
        },
        fw_cfg: devices.fw_cfg,
        nic: devices.nic,
        wake: devices.wake,
    }
}

impl Board for Machine {
    type Hal = Sel4Hal;

    fn hal(&mut self) -> &mut Self::Hal {
        &mut self.hal
    }

    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault> {
        const SOURCE: &str = "fw_cfg opt/cohesix/provision";
        let base = self.fw_cfg.map_err(|e| BlobFault::Unreadable {
            source: SOURCE,
            why: format!("fw_cfg not mapped ({e:?})"),
        })?;
        // SAFETY: boot mapped fw_cfg's page there as device memory, used only here.
        let port = unsafe { MmioFwCfg::new(base + (FW_CFG_BASE & 0xfff)) };
        let mut fw = FwCfg::probe(port).map_err(|_| BlobFault::Unreadable {
            source: SOURCE,
            why: String::from("no fw_cfg device"),
        })?;
        match fw.read_file(FW_CFG_NAME, PROVISION_MAX) {
            Ok(blob) => Ok(blob),
            Err(FwCfgError::Absent) => Err(BlobFault::Absent { source: SOURCE }),
            Err(e) => Err(BlobFault::Unreadable {
                source: SOURCE,
                why: format!("{e:?}"),
            }),
        }
    }

    fn default_address(&self) -> (Ipv4Cidr, Option<[u8; 4]>) {
        (DEFAULT_IP, Some(DEFAULT_GATEWAY))
    }

    fn seed_entropy(&mut self, seed: Option<[u8; 32]>) {
        self.hal.entropy = BootEntropy::new(seed, timer::counter());
    }

    fn start_network(&mut self, config: NetConfig, ports: &[u16]) -> Result<NetUp, String> {
        let nic = core::mem::replace(&mut self.nic, Err(String::from("already started")))?;
        let now = self.hal.timer.now_us();
        let mut net = SmolNet::new(nic, config, now).map_err(|e| format!("{e:?}"))?;
        for &port in ports {
            net.listen(port)
                .map_err(|e| format!("port {port}: {e:?}"))?;
        }
        let mac = hal_smoltcp::NetDevice::mac(net.device());
        self.hal.net = Some(net);
        Ok(NetUp { mac })
    }

    fn poll_net(&mut self) -> bool {
        let now = self.hal.timer.now_us();
        self.hal.net.as_mut().is_some_and(|net| net.poll(now))
    }

    fn idle(&mut self, max_us: u64) {
        let Some(wake) = self.wake.as_mut() else {
            // No interrupts bound: yielding returns at once (the loop polls).
            yield_now(&CURRENT);
            return;
        };
        // Serial input raises no interrupt here: it is noticed within `max_us`.
        if let Serial::Uart(uart) = self.hal.serial {
            if uart.rx_ready() {
                return;
            }
        }
        let freq = self.hal.timer.frequency();
        let net = &mut self.hal.net;
        wake.sleep(max_us, freq, || {
            if let Some(net) = net.as_mut() {
                hal_smoltcp::NetDevice::ack_interrupt(net.device_mut());
            }
        });
    }

    fn idle_mode(&self) -> &'static str {
        if self.wake.is_some() {
            "notification"
        } else {
            "yield"
        }
    }
}
