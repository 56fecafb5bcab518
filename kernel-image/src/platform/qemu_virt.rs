//! QEMU `virt` (`--features qemu-virt`, the default): PL011 console, generic timer, the first
//! virtio-net device on virtio-mmio, provisioning over fw_cfg.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hal_smoltcp::{Ipv4Cidr, NetConfig, SmolNet};
use hal_virt::board::{
    virtio_mmio_intid, virtio_mmio_slot, FW_CFG_BASE, GICD_BASE, GICR_BASE, PL011_BASE,
    VIRTIO_MMIO_COUNT,
};
use hal_virt::fwcfg::{FwCfg, FwCfgError, MmioFwCfg};
use hal_virt::provision::{FW_CFG_NAME, PROVISION_MAX};
use hal_virt::{
    probe_net, timer, BootEntropy, GenericTimer, GicV3, NicError, Pl011, VirtHal, VirtioNic,
};

use crate::board::{BlobFault, Board, NetUp};

pub const NAME: &str = "qemu-virt";

/// The in-memory store's bound.
const STORE_BYTES: usize = 1 << 20;
/// QEMU user networking (slirp): the guest is 10.0.2.15, the host's gateway 10.0.2.2.
const DEFAULT_IP: Ipv4Cidr = Ipv4Cidr {
    addr: [10, 0, 2, 15],
    prefix_len: 24,
};
const DEFAULT_GATEWAY: [u8; 4] = [10, 0, 2, 2];

pub use cohesix_kernel_image::memory::qemu_virt::memory_kind;

/// The PL011 as QEMU (or `init`) left it.
pub fn early_console() -> Pl011 {
    // SAFETY: the virt machine's PL011 is at this address, mapped as device memory (or the
    // MMU is still off, where every access is device-like).
    unsafe { Pl011::new(PL011_BASE) }
}

pub struct Machine {
    hal: VirtHal<VirtioNic>,
    nic: Result<VirtioNic, NicError>,
    sleeps: bool,
}

pub fn bring_up() -> Machine {
    let mut uart = early_console();
    uart.init();
    let entropy = BootEntropy::new(None, timer::counter());
    let mut hal = VirtHal::new(uart, GenericTimer::new(), entropy, STORE_BYTES);
    // SAFETY: these are the virt machine's virtio-mmio windows, used by nothing else.
    let nic = unsafe { probe_net((0..VIRTIO_MMIO_COUNT).map(virtio_mmio_slot)) };
    let nic_intid = nic.as_ref().ok().map(|n| virtio_mmio_intid(n.mmio_base()));
    // SAFETY: the virt machine's GIC frames, device memory; absent (GICv2) is detected.
    let sleeps = match unsafe { GicV3::probe(GICD_BASE, GICR_BASE) } {
        Some(gic) => hal.enable_wakeups(gic, nic_intid),
        None => false,
    };
    Machine { hal, nic, sleeps }
}

impl Board for Machine {
    type Hal = VirtHal<VirtioNic>;

    fn hal(&mut self) -> &mut Self::Hal {
        &mut self.hal
    }

    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault> {
        const SOURCE: &str = "fw_cfg opt/cohesix/provision";
        // SAFETY: the virt machine's fw_cfg MMIO block, mapped as device memory.
        let port = unsafe { MmioFwCfg::new(FW_CFG_BASE) };
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
        self.hal.reseed(BootEntropy::new(seed, timer::counter()));
    }

    fn start_network(&mut self, config: NetConfig, ports: &[u16]) -> Result<NetUp, String> {
        let nic = core::mem::replace(&mut self.nic, Err(NicError::NotFound)).map_err(|e| {
            format!("no virtio-net device ({e:?}); boot with -device virtio-net-device")
        })?;
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
        self.hal.idle(max_us);
    }

    fn idle_mode(&self) -> &'static str {
        if self.sleeps {
            "wfi"
        } else {
            "poll"
        }
    }
}
