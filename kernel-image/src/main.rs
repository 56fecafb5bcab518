//! The bootable Cohesix image: boot code, one platform's HAL (chosen by a cargo feature) and
//! the core pump. It serves the console protocol on TCP 31337, Secure9P on TCP 564 and the
//! serial console at once, with keys and tokens provisioned at boot, never compiled in.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod board;
mod heap;
mod panic;
mod platform;
mod say;

use alloc::vec::Vec;

use board::Board;
use cohesix_kernel_image::plan::{self, Network, Plan};
use hal::Clock;
use hal_smoltcp::NetConfig;
use pump::{Provision, Pump};
use say::say;

/// Sockets for every listener and connection: console connections, Secure9P sessions and the
/// listeners kept ready. Bounds socket memory at 64 x 32 KiB.
const SOCKETS_MAX: usize = 64;

/// Longest idle wait: serial input and timers are noticed within this.
const IDLE_MAX_US: u64 = 1_000;

/// Entered from `_start` on the boot core at EL1, stack set, `.bss` zeroed, MMU off. (As an
/// seL4 root task or a UEFI application the platform module has the entry instead.)
#[cfg(not(any(feature = "sel4", feature = "aws")))]
#[no_mangle]
extern "C" fn kernel_main(_boot_arg: u64) -> ! {
    // SAFETY: first thing on the only running core; the platform map keeps the image normal
    // memory and its devices device memory.
    unsafe { arch::mmu::enable(platform::memory_kind) };
    // SAFETY: once, after the MMU, before any allocation.
    let heap = unsafe { heap::init() };
    run(platform::bring_up(), heap)
}

/// The platform-independent boot once memory and the heap (`heap` bytes) are usable: boot
/// lines, provisioning, the network, then the serve loop.
fn run<M: Board>(mut machine: M, heap: usize) -> ! {
    say!(
        "boot platform={} el={} heap={}MiB idle={} t_ms={}",
        platform::NAME,
        arch::current_el(),
        heap >> 20,
        machine.idle_mode(),
        machine.hal().now_ms()
    );
    let blob = machine.provision_blob();
    let read_ms = machine.hal().now_ms();
    let plan = plan::plan(blob);
    for note in &plan.notes {
        say!("{note} read_t_ms={read_ms} t_ms={}", machine.hal().now_ms());
    }
    machine.seed_entropy(plan.seed);
    let listening = start_network(&mut machine, &plan);
    serve(machine, plan, listening)
}

/// Where the network listens, for the `listening` line.
struct Listening {
    ip: [u8; 4],
    ports: &'static [u16],
}

/// Opens the ports the plan allows and says which, or why none. With no port allowed the
/// interface still comes up, so connection attempts are reset at once instead of hanging.
fn start_network<M: Board>(machine: &mut M, plan: &Plan) -> Option<Listening> {
    let ports = plan.network.ports();
    let (ip, gateway) = plan.address.unwrap_or_else(|| machine.default_address());
    let mut config = NetConfig::new(ip);
    config.gateway = gateway;
    config.sockets_max = SOCKETS_MAX;
    config.rx_buffer = plan.manifest.pump.conn_buffer_bytes as usize;
    config.tx_buffer = plan.manifest.pump.conn_buffer_bytes as usize;
    let mut seed = [0u8; 8];
    hal::Entropy::fill_bytes(machine.hal(), &mut seed);
    config.seed = u64::from_le_bytes(seed);
    let up = match machine.start_network(config, ports) {
        Ok(up) => up,
        Err(why) => {
            say!("network closed: {why}; serial console only");
            return None;
        }
    };
    let [a, b, c, d] = ip.addr;
    let m = up.mac;
    say!(
        "net mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} ip={a}.{b}.{c}.{d}/{} sockets={SOCKETS_MAX}",
        m[0], m[1], m[2], m[3], m[4], m[5], ip.prefix_len
    );
    match &plan.network {
        Network::Closed { reason } => {
            say!("network closed: {reason}; every port refuses; serial console only");
            None
        }
        Network::NinePOnly { reason } => {
            say!("console port {} refused: {reason}", hal::CONSOLE_PORT);
            Some(Listening { ip: ip.addr, ports })
        }
        Network::Full => Some(Listening { ip: ip.addr, ports }),
    }
}

/// Starts the core and runs the loop forever: frames in, one pump turn, frames out.
fn serve<M: Board>(mut machine: M, plan: Plan, listening: Option<Listening>) -> ! {
    let now_ms = machine.hal().now_ms();
    say!(
        "manifest hive={} fingerprint={:016x} source={}",
        plan.manifest.hive.name,
        plan.manifest.fingerprint(),
        plan.manifest_source
    );
    let provision = Provision {
        keys: plan.keys,
        console_token: plan.console_token,
        platform: platform::NAME,
        // The provisioning blob carries no hive id yet: image hives are hive 0, so tickets
        // are bound to their key only on metal (docs/hardware.md).
        hive_id: Some(0),
    };
    let mut pump = Pump::new(plan.manifest, provision, now_ms);
    pump.ninedoor_mut()
        .set_link(if listening.is_some() { "up" } else { "down" });
    if let Some(Listening {
        ip: [a, b, c, d],
        ports,
    }) = listening
    {
        let now = machine.hal().now_ms();
        match ports {
            [ninep, console] => say!(
                "listening console={a}.{b}.{c}.{d}:{console} 9p={a}.{b}.{c}.{d}:{ninep} t_ms={now}"
            ),
            _ => say!(
                "listening 9p={a}.{b}.{c}.{d}:{} t_ms={now}",
                hal::NINEP_PORT
            ),
        }
    }
    pump.banner(machine.hal());
    let mut events = Vec::new();
    loop {
        let mut busy = machine.poll_net();
        let turn = pump.turn(machine.hal());
        busy |= machine.poll_net();
        busy |= turn.did_work();
        // The hive keeps its own audit log (/log/queen.log); the event stream is for hosts
        // that record transcripts, which the image does not.
        events.clear();
        pump.drain_events(&mut events);
        if !busy {
            machine.idle(IDLE_MAX_US);
        }
    }
}
