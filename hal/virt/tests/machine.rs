//! The image's composition on the host: `VirtHal` with smoltcp over an in-memory wire instead
//! of virtio-net, a fake PL011 in ordinary memory, and the real pump. A plain smoltcp client
//! speaks the console protocol to it, as an operator over QEMU's forwarded port would.

use cohesix_hal_virt::{BootEntropy, GenericTimer, Pl011, VirtHal};
use hal::{CONSOLE_PORT, NINEP_PORT};
use hal_smoltcp::loopback::{Wire, WireEnd};
use hal_smoltcp::smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use hal_smoltcp::smoltcp::socket::tcp;
use hal_smoltcp::smoltcp::time::Instant;
use hal_smoltcp::smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use hal_smoltcp::{FrameAdapter, Ipv4Cidr, NetConfig, NetDevice, SmolNet};
use pump::{Provision, Pump};
use ticket::Keyring;

const TOKEN: &str = "console-token-0123";
const HIVE_IP: [u8; 4] = [10, 0, 2, 15];

/// PL011 registers in memory: FR reads "receive FIFO empty, transmit FIFO not full".
fn fake_uart() -> (Box<[u32; 32]>, Pl011) {
    let mut regs = Box::new([0u32; 32]);
    regs[0x18 / 4] = 1 << 4;
    let base = regs.as_mut_ptr() as usize;
    // SAFETY: the box outlives the machine in every test and covers the PL011's offsets.
    (regs, unsafe { Pl011::new(base) })
}

struct Operator {
    dev: FrameAdapter<WireEnd>,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    inbuf: Vec<u8>,
}

impl Operator {
    fn connect(end: WireEnd, port: u16) -> Self {
        let mut dev = FrameAdapter::new(end);
        let mac = EthernetAddress(dev.device().mac());
        let mut iface = Interface::new(Config::new(mac.into()), &mut dev, Instant::ZERO);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::v4(10, 0, 2, 2), 24)).unwrap();
        });
        let buf = || tcp::SocketBuffer::new(vec![0u8; 16 * 1024]);
        let mut socket = tcp::Socket::new(buf(), buf());
        socket
            .connect(iface.context(), (Ipv4Address::from(HIVE_IP), port), 50000)
            .unwrap();
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(socket);
        Self {
            dev,
            iface,
            sockets,
            handle,
            inbuf: Vec::new(),
        }
    }

    fn poll(&mut self) {
        self.iface
            .poll(Instant::ZERO, &mut self.dev, &mut self.sockets);
        let socket = self.sockets.get_mut::<tcp::Socket>(self.handle);
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            self.inbuf.extend_from_slice(&buf[..n]);
        }
    }

    fn send_line(&mut self, line: &str) {
        let mut frame = ((line.len() + 4) as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(line.as_bytes());
        let socket = self.sockets.get_mut::<tcp::Socket>(self.handle);
        assert_eq!(socket.send_slice(&frame), Ok(frame.len()));
    }

    fn lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while self.inbuf.len() >= 4 {
            let len = u32::from_le_bytes(self.inbuf[..4].try_into().unwrap()) as usize;
            if self.inbuf.len() < len {
                break;
            }
            let frame: Vec<u8> = self.inbuf.drain(..len).collect();
            out.push(String::from_utf8(frame[4..].to_vec()).unwrap());
        }
        out
    }
}

struct Rig {
    _uart_regs: Box<[u32; 32]>,
    hal: VirtHal<WireEnd>,
    pump: Pump,
    operator: Operator,
}

impl Rig {
    fn boot(ports: &[u16], token: Option<&str>) -> Self {
        let (_wire, hive_end, operator_end) = Wire::new(64);
        let (regs, uart) = fake_uart();
        let timer = GenericTimer::with_frequency(62_500_000);
        let mut hal = VirtHal::new(uart, timer, BootEntropy::new(Some([4; 32]), 0), 1 << 20);
        let mut config = NetConfig::new(Ipv4Cidr {
            addr: HIVE_IP,
            prefix_len: 24,
        });
        config.gateway = Some([10, 0, 2, 2]);
        let mut net = SmolNet::new(hive_end, config, 0).unwrap();
        for port in ports {
            net.listen(*port).unwrap();
        }
        hal.attach_net(net);
        let mut keys = Keyring::new();
        keys.insert(1, [7u8; 32]);
        let provision = Provision {
            keys,
            console_token: token.map(|t| t.as_bytes().to_vec()),
            platform: "qemu-virt",
            hive_id: Some(0),
        };
        let mut pump = Pump::new(manifest::Manifest::default(), provision, 0);
        pump.banner(&mut hal);
        let operator = Operator::connect(operator_end, CONSOLE_PORT);
        Self {
            _uart_regs: regs,
            hal,
            pump,
            operator,
        }
    }

    /// The image's loop, interleaved with the operator's stack.
    fn spin(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.operator.poll();
            self.hal.poll_net();
            self.pump.turn(&mut self.hal);
            self.hal.poll_net();
        }
        self.operator.poll();
    }

    fn say(&mut self, line: &str) -> Vec<String> {
        self.operator.send_line(line);
        self.spin(20);
        self.operator.lines()
    }
}

#[test]
fn the_console_protocol_runs_over_the_machine() {
    let mut rig = Rig::boot(&[NINEP_PORT, CONSOLE_PORT], Some(TOKEN));
    rig.spin(10);
    assert_eq!(rig.say(&format!("AUTH {TOKEN}")), ["OK AUTH"]);
    assert_eq!(rig.say("ping"), ["PONG", "OK PING reply=pong"]);
    // The console token is the operator's credential for a ticketless queen
    // (`console.queen_requires_ticket` off, docs/interfaces.md §2.3).
    assert_eq!(rig.say("ATTACH queen"), ["OK ATTACH role=queen"]);
    let stats = rig.hal.net().unwrap().stats();
    assert_eq!(stats.accepted, 1);
    assert!(stats.frames.rx_frames > 0 && stats.frames.tx_frames > 0);
}

#[test]
fn without_a_listener_the_console_port_refuses() {
    let mut rig = Rig::boot(&[NINEP_PORT], None);
    rig.spin(10);
    let state = rig
        .operator
        .sockets
        .get::<tcp::Socket>(rig.operator.handle)
        .state();
    assert_eq!(state, tcp::State::Closed, "reset, not accepted");
    assert_eq!(rig.hal.net().unwrap().stats().accepted, 0);
}
