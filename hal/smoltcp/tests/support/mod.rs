//! A lab: `SmolNet` as the server on one end of an in-memory wire, a plain smoltcp client
//! stack on the other, and a shared virtual clock.
#![allow(dead_code)]

use cohesix_hal_smoltcp::loopback::{Wire, WireEnd};
use cohesix_hal_smoltcp::smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use cohesix_hal_smoltcp::smoltcp::socket::tcp;
use cohesix_hal_smoltcp::smoltcp::time::Instant;
use cohesix_hal_smoltcp::smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use cohesix_hal_smoltcp::{FrameAdapter, Ipv4Cidr, NetConfig, NetDevice, SmolNet};

pub const SERVER_IP: [u8; 4] = [10, 0, 0, 1];
pub const CLIENT_IP: [u8; 4] = [10, 0, 0, 2];
pub const PORT: u16 = 31337;

pub fn server_config() -> NetConfig {
    let mut config = NetConfig::new(Ipv4Cidr {
        addr: SERVER_IP,
        prefix_len: 24,
    });
    config.seed = 7;
    config
}

/// A bare smoltcp stack that opens client connections.
pub struct Client {
    dev: FrameAdapter<WireEnd>,
    iface: Interface,
    pub sockets: SocketSet<'static>,
    next_port: u16,
}

impl Client {
    fn new(end: WireEnd) -> Self {
        let mut dev = FrameAdapter::new(end);
        let mac = EthernetAddress(dev.device().mac());
        let mut config = Config::new(mac.into());
        config.random_seed = 99;
        let mut iface = Interface::new(config, &mut dev, Instant::ZERO);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(
                IpAddress::Ipv4(Ipv4Address::from(CLIENT_IP)),
                24,
            ))
            .unwrap();
        });
        Self {
            dev,
            iface,
            sockets: SocketSet::new(vec![]),
            next_port: 40000,
        }
    }

    pub fn connect(&mut self, port: u16, buffer: usize) -> SocketHandle {
        let rx = tcp::SocketBuffer::new(vec![0u8; buffer]);
        let tx = tcp::SocketBuffer::new(vec![0u8; buffer]);
        let mut socket = tcp::Socket::new(rx, tx);
        socket.set_ack_delay(None);
        socket.set_nagle_enabled(false);
        let local = self.next_port;
        self.next_port += 1;
        socket
            .connect(
                self.iface.context(),
                (Ipv4Address::from(SERVER_IP), port),
                local,
            )
            .unwrap();
        self.sockets.add(socket)
    }

    pub fn socket(&mut self, handle: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(handle)
    }

    pub fn send(&mut self, handle: SocketHandle, data: &[u8]) -> usize {
        self.socket(handle).send_slice(data).unwrap_or(0)
    }

    pub fn recv_all(&mut self, handle: SocketHandle) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket(handle).recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    pub fn state(&mut self, handle: SocketHandle) -> tcp::State {
        self.socket(handle).state()
    }

    fn poll(&mut self, now_us: u64) {
        let now = Instant::from_micros(now_us as i64);
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
    }
}

pub struct Lab {
    pub wire: Wire,
    pub server: SmolNet<WireEnd>,
    pub client: Client,
    pub now_us: u64,
}

impl Lab {
    pub fn new(config: NetConfig, wire_capacity: usize) -> Self {
        let (wire, a, b) = Wire::new(wire_capacity);
        let mut server = SmolNet::new(a, config, 0).unwrap();
        server.listen(PORT).unwrap();
        Self {
            wire,
            server,
            client: Client::new(b),
            now_us: 0,
        }
    }

    /// Advances the clock by one millisecond `n` times, polling both stacks each time.
    pub fn step(&mut self, n: usize) {
        for _ in 0..n {
            self.now_us += 1000;
            self.client.poll(self.now_us);
            self.server.poll(self.now_us);
        }
    }

    /// Advances virtual time by `ms` in one jump, then polls.
    pub fn jump_ms(&mut self, ms: u64) {
        self.now_us += ms * 1000;
        self.client.poll(self.now_us);
        self.server.poll(self.now_us);
    }
}
