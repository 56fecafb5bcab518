//! AWS Graviton (`--features aws`): a UEFI application (`cohesix-aws.efi`). `efi_main` finds
//! the console UART (ACPI SPCR) and PCI configuration space (ACPI MCFG) from the RSDP in the
//! UEFI configuration table, takes the memory map and exits boot services; the firmware's
//! identity map and vectors stay. The NIC is the ENA from `hal/ena` on PCIe. Only a PL011
//! console is driven. Not yet: DHCP and provisioning from instance user data, so the image
//! boots with the console closed to the network.

mod acpi;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hal_aarch64::{timer, BootEntropy, GenericTimer, Machine as Aarch64Machine, Pl011};
use hal_ena::pci::{self, Ecam};
use hal_ena::{DmaBuf, Ena, EnaConfig, Mmio};
use hal_smoltcp::{Ipv4Cidr, NetConfig, SmolNet};
use r_efi::efi;

use crate::board::{BlobFault, Board, NetUp};

pub const NAME: &str = "aws";

const STORE_BYTES: usize = 1 << 20;
/// A placeholder until DHCP exists: the address a provisioning blob should name.
const DEFAULT_IP: Ipv4Cidr = Ipv4Cidr {
    addr: [10, 0, 0, 10],
    prefix_len: 24,
};
/// DMA memory for the ENA's queues and buffers (`EnaConfig::arena_bytes()` must fit).
const ARENA_BYTES: usize = 1 << 20;
/// Room for the firmware's memory map (descriptors are ~48 bytes).
const MEMORY_MAP_BYTES: usize = 64 << 10;

type Nic = Ena<Mmio>;

#[repr(C, align(4096))]
struct Pages<const N: usize>([u8; N]);

static mut ARENA: Pages<ARENA_BYTES> = Pages([0; ARENA_BYTES]);
static mut MEMORY_MAP: Pages<MEMORY_MAP_BYTES> = Pages([0; MEMORY_MAP_BYTES]);

/// The PL011's address from SPCR; 0 until known (the early console then writes nothing).
static UART: AtomicUsize = AtomicUsize::new(0);
/// MCFG's first ECAM window: base, and the bus range as `start << 8 | end`.
static ECAM_BASE: AtomicU64 = AtomicU64::new(0);
static ECAM_BUSES: AtomicU64 = AtomicU64::new(0);

/// The UEFI entry. Returns to the firmware only when the machine cannot be driven.
#[no_mangle]
extern "efiapi" fn efi_main(image: efi::Handle, st: *mut efi::SystemTable) -> efi::Status {
    // SAFETY: the firmware passes a valid system table to the image's entry point.
    let st = unsafe { &*st };
    uefi_print(st, "cohesix: uefi entry\r\n");
    let tables = find_rsdp(st).map(|rsdp| {
        // SAFETY: the RSDP from the configuration table; ACPI memory is mapped.
        unsafe { acpi::read(rsdp) }
    });
    let Some(tables) = tables else {
        uefi_print(st, "cohesix: no ACPI 2.0 RSDP; cannot find the console\r\n");
        return efi::Status::UNSUPPORTED;
    };
    match tables.uart {
        Some((acpi::SPCR_PL011, base)) if base != 0 => {
            UART.store(base as usize, Ordering::Release);
        }
        _ => {
            uefi_print(
                st,
                "cohesix: SPCR names no PL011; only a PL011 console is driven\r\n",
            );
            return efi::Status::UNSUPPORTED;
        }
    }
    if let Some((base, start, end)) = tables.ecam {
        ECAM_BASE.store(base, Ordering::Release);
        ECAM_BUSES.store(u64::from(start) << 8 | u64::from(end), Ordering::Release);
    }
    if let Err(status) = exit_boot_services(image, st) {
        uefi_print(st, "cohesix: ExitBootServices failed\r\n");
        return status;
    }
    // SAFETY: once, before any allocation; the heap is a static array in the image.
    let heap = unsafe { crate::heap::init() };
    crate::run(bring_up(), heap)
}

/// Writes ASCII `text` on the firmware's console (boot services only).
fn uefi_print(st: &efi::SystemTable, text: &str) {
    let mut buf = [0u16; 128];
    for chunk in text.as_bytes().chunks(buf.len() - 1) {
        for (d, &c) in buf.iter_mut().zip(chunk) {
            *d = u16::from(c);
        }
        buf[chunk.len()] = 0;
        // SAFETY: con_out is the firmware's console protocol while boot services run; the
        // string is NUL-terminated UCS-2.
        unsafe { ((*st.con_out).output_string)(st.con_out, buf.as_mut_ptr()) };
    }
}

fn find_rsdp(st: &efi::SystemTable) -> Option<u64> {
    // SAFETY: the firmware's configuration table has this many entries.
    let entries =
        unsafe { core::slice::from_raw_parts(st.configuration_table, st.number_of_table_entries) };
    entries
        .iter()
        .find(|e| e.vendor_guid == efi::ACPI_20_TABLE_GUID)
        .map(|e| e.vendor_table as u64)
}

/// Takes the memory map and exits boot services; the map key can go stale between the two
/// calls (the firmware's own events), so a second try takes a fresh map.
fn exit_boot_services(image: efi::Handle, st: &efi::SystemTable) -> Result<(), efi::Status> {
    let bs = st.boot_services;
    let mut status = efi::Status::SUCCESS;
    for _ in 0..2 {
        let mut size = MEMORY_MAP_BYTES;
        let mut key = 0usize;
        let mut desc_size = 0usize;
        let mut version = 0u32;
        // SAFETY: boot services are live; the buffer is a static of `size` bytes, 4 KiB
        // aligned, used by nothing else.
        status = unsafe {
            ((*bs).get_memory_map)(
                &mut size,
                addr_of_mut!(MEMORY_MAP.0) as *mut efi::MemoryDescriptor,
                &mut key,
                &mut desc_size,
                &mut version,
            )
        };
        if status.is_error() {
            return Err(status);
        }
        // SAFETY: the image handle and the key of the map just taken.
        status = unsafe { ((*bs).exit_boot_services)(image, key) };
        if !status.is_error() {
            return Ok(());
        }
    }
    Err(status)
}

pub fn early_console() -> Pl011 {
    // SAFETY: SPCR's PL011, identity-mapped as device memory by the firmware. `efi_main`
    // stores it before anything prints through here.
    unsafe { Pl011::new(UART.load(Ordering::Acquire)) }
}

pub struct Machine {
    hal: Aarch64Machine<Nic>,
}

pub fn bring_up() -> Machine {
    let uart = early_console();
    let entropy = BootEntropy::new(None, timer::counter());
    Machine {
        hal: Aarch64Machine::new(uart, GenericTimer::new(), entropy, STORE_BYTES),
    }
}

/// Finds the ENA on PCIe and brings it up.
fn start_ena(clock: &GenericTimer) -> Result<Nic, String> {
    let base = ECAM_BASE.load(Ordering::Acquire);
    if base == 0 {
        return Err(String::from(
            "no ACPI MCFG: PCI configuration space unknown",
        ));
    }
    let buses = ECAM_BUSES.load(Ordering::Acquire);
    let (start, end) = ((buses >> 8) as u8, buses as u8);
    // SAFETY: MCFG's ECAM window for these buses, identity-mapped by the firmware.
    let ecam = unsafe { Ecam::new(base as usize, start..=end) };
    let (function, _device) =
        pci::find_ena(&ecam, start..=end).ok_or_else(|| String::from("no ENA on PCIe"))?;
    let bar = pci::bar0(&ecam, function).map_err(|e| format!("ENA BAR0: {e:?}"))?;
    pci::enable(&ecam, function);
    let cfg = EnaConfig {
        bar_len: bar.size as usize,
        ..EnaConfig::default()
    };
    if cfg.arena_bytes() > ARENA_BYTES {
        return Err(format!("ENA needs {} DMA bytes", cfg.arena_bytes()));
    }
    // SAFETY: BAR0 as sized by `bar0`, mapped by the firmware, driven only by this NIC; a
    // static, page-aligned arena used by nothing else (identity: bus = physical = virtual).
    let (regs, arena) = unsafe {
        (
            Mmio::new(bar.addr as usize, bar.size as usize),
            DmaBuf::identity(&mut (*addr_of_mut!(ARENA)).0),
        )
    };
    Ena::init(regs, clock, cfg, arena).map_err(|e| format!("ENA: {e:?}"))
}

impl Board for Machine {
    type Hal = Aarch64Machine<Nic>;

    fn hal(&mut self) -> &mut Self::Hal {
        &mut self.hal
    }

    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault> {
        Err(BlobFault::Absent {
            source: "instance user data is not read yet",
        })
    }

    fn default_address(&self) -> (Ipv4Cidr, Option<[u8; 4]>) {
        (DEFAULT_IP, None)
    }

    fn seed_entropy(&mut self, seed: Option<[u8; 32]>) {
        self.hal.reseed(BootEntropy::new(seed, timer::counter()));
    }

    fn start_network(&mut self, config: NetConfig, ports: &[u16]) -> Result<NetUp, String> {
        let nic = start_ena(&self.hal.timer())?;
        let now = hal::Clock::now_us(&self.hal);
        let mut net = SmolNet::new(nic, config, now).map_err(|e| format!("{e:?}"))?;
        for &port in ports {
            net.listen(port)
                .map_err(|e| format!("port {port}: {e:?}"))?;
        }
        let mac = hal_smoltcp::NetDevice::mac(net.device());
        self.hal.attach_net(net);
        Ok(NetUp { mac })
    }

    fn poll_net(&mut self) -> bool {
        self.hal.poll_net()
    }

    fn idle(&mut self, max_us: u64) {
        // No interrupt controller is set up: the loop keeps polling.
        self.hal.idle(max_us);
    }

    fn idle_mode(&self) -> &'static str {
        "poll"
    }
}
