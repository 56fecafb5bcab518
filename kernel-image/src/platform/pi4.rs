//! Raspberry Pi 4 (`--features pi4`): the PL011 UART0 at 0xFE201000 and the GENET NIC from
//! `hal/pi4`, the generic timer, boot entropy and store of `hal/virt`'s machine. The MAC
//! comes from the firmware over the mailbox. No provisioning source yet: the image boots
//! with the console closed to the network until one exists.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::addr_of_mut;

use hal_aarch64::{timer, BootEntropy, GenericTimer, Machine as Aarch64Machine};
use hal_pi4::board::{GENET_BASE, GENET_LEN, UART0_BASE, UART_LEN};
use hal_pi4::genet::BUF_LEN;
use hal_pi4::mailbox::{self, MAILBOX_BASE, MAILBOX_LEN, MESSAGE_LEN};
use hal_pi4::{DmaBuf, Genet, GenetConfig, Mmio, Pl011};
use hal_smoltcp::{Ipv4Cidr, NetConfig, SmolNet};

use crate::board::{BlobFault, Board, NetUp};

pub const NAME: &str = "pi4";

const STORE_BYTES: usize = 1 << 20;
const RX_DESCS: usize = 256;
const TX_DESCS: usize = 64;
/// A locally administered address used when the firmware does not answer.
const FALLBACK_MAC: [u8; 6] = [0x02, 0xC0, 0x4E, 0x00, 0x00, 0x01];
const DEFAULT_IP: Ipv4Cidr = Ipv4Cidr {
    addr: [192, 168, 1, 50],
    prefix_len: 24,
};

type Nic = Genet<Mmio>;

#[repr(C, align(64))]
struct Frames<const N: usize>([u8; N]);

static mut RX_FRAMES: Frames<{ RX_DESCS * BUF_LEN }> = Frames([0; RX_DESCS * BUF_LEN]);
static mut TX_FRAMES: Frames<{ TX_DESCS * BUF_LEN }> = Frames([0; TX_DESCS * BUF_LEN]);
static mut MAILBOX_MSG: Frames<MESSAGE_LEN> = Frames([0; MESSAGE_LEN]);

pub use cohesix_kernel_image::memory::pi4::memory_kind;

pub fn early_console() -> Pl011<Mmio> {
    // SAFETY: UART0 of the BCM2711, mapped as device memory (or the MMU is still off).
    Pl011::new(unsafe { Mmio::new(UART0_BASE, UART_LEN) })
}

pub struct Machine {
    hal: Aarch64Machine<Nic>,
}

pub fn bring_up() -> Machine {
    // The firmware (or QEMU) has set the UART up at 115200; it is used as found.
    // SAFETY: UART0's address; nothing else drives it through this handle.
    let uart = unsafe { hal_aarch64::Pl011::new(UART0_BASE) };
    let entropy = BootEntropy::new(None, timer::counter());
    Machine {
        hal: Aarch64Machine::new(uart, GenericTimer::new(), entropy, STORE_BYTES),
    }
}

fn board_mac() -> [u8; 6] {
    // SAFETY: the mailbox window and a static, 64-byte aligned message buffer used only here.
    let (mbox, mut msg) = unsafe {
        (
            Mmio::new(MAILBOX_BASE, MAILBOX_LEN),
            DmaBuf::identity(&mut (*addr_of_mut!(MAILBOX_MSG)).0),
        )
    };
    mailbox::board_mac(&mbox, &mut msg).unwrap_or(FALLBACK_MAC)
}

impl Board for Machine {
    type Hal = Aarch64Machine<Nic>;

    fn hal(&mut self) -> &mut Self::Hal {
        &mut self.hal
    }

    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault> {
        Err(BlobFault::Absent {
            source: "no provisioning source on pi4 yet",
        })
    }

    fn default_address(&self) -> (Ipv4Cidr, Option<[u8; 4]>) {
        (DEFAULT_IP, None)
    }

    fn seed_entropy(&mut self, seed: Option<[u8; 32]>) {
        self.hal.reseed(BootEntropy::new(seed, timer::counter()));
    }

    fn start_network(&mut self, config: NetConfig, ports: &[u16]) -> Result<NetUp, String> {
        // Nothing may listen, so GENET stays untouched: an unprovisioned board (and QEMU's
        // raspi4b, which has no GENET and faults on its window) boots to the serial console.
        if ports.is_empty() {
            return Err(String::from("no port may open, GENET left untouched"));
        }
        // SAFETY: GENET's window, and static DMA buffers used by nothing else; called once.
        let (regs, rx, tx) = unsafe {
            (
                Mmio::new(GENET_BASE, GENET_LEN),
                DmaBuf::identity(&mut (*addr_of_mut!(RX_FRAMES)).0),
                DmaBuf::identity(&mut (*addr_of_mut!(TX_FRAMES)).0),
            )
        };
        let mut cfg = GenetConfig::pi4(board_mac());
        cfg.rx_descs = RX_DESCS as u16;
        cfg.tx_descs = TX_DESCS as u16;
        let mut nic = Genet::new(regs, cfg, rx, tx).map_err(|e| format!("genet: {e:?}"))?;
        nic.init().map_err(|e| format!("genet: {e:?}"))?;
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
        // No interrupt controller is set up on this board yet, so the loop keeps polling.
        self.hal.idle(max_us);
    }

    fn idle_mode(&self) -> &'static str {
        "poll"
    }
}
