//! `SmolNet`: the HAL's connection-level `Net` over a smoltcp interface and a `NetDevice`.
//!
//! Each listening port keeps `backlog` listening sockets; a socket whose handshake completed
//! is handed out by `poll_accept` and replaced by a fresh listener while the socket budget
//! allows. Closed connections linger until their FIN exchange ends or `linger_ms` passes,
//! then their sockets are freed. Nothing here panics on anything a peer or device does.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use hal::{ConnId, Net, NetError, PeerAddr};
use smoltcp::iface::{
    Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};

use crate::config::NetConfig;
use crate::device::{FrameAdapter, FrameStats, NetDevice};

/// Why the adapter could not be set up as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupError {
    /// The device reported a multicast or zero MAC address.
    BadMac,
    /// The address or prefix length is not a usable IPv4 interface address.
    BadAddress,
    /// The port is zero or already listening.
    BadPort,
}

/// Counters of the adapter since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    pub accepted: u64,
    /// Connections reset because they outlived `linger_ms` after we closed them.
    pub lingered_out: u64,
    /// Times a listener could not be replaced because every socket was in use.
    pub socket_budget_hits: u64,
    pub frames: FrameStats,
    pub open: usize,
    pub listening: usize,
    pub closing: usize,
}

struct Conn {
    handle: SocketHandle,
    peer: Option<PeerAddr>,
}

struct Closing {
    handle: SocketHandle,
    deadline: Instant,
    aborted: bool,
}

/// The `Net` trait over smoltcp for any `NetDevice`. Call [`SmolNet::poll`] every loop
/// iteration (before and after the pump's turn) to move frames.
pub struct SmolNet<D: NetDevice> {
    frames: FrameAdapter<D>,
    iface: Interface,
    sockets: SocketSet<'static>,
    config: NetConfig,
    /// Listening sockets by port, oldest first.
    listeners: BTreeMap<u16, Vec<SocketHandle>>,
    conns: BTreeMap<ConnId, Conn>,
    closing: Vec<Closing>,
    next_id: ConnId,
    now: Instant,
    stats: NetStats,
}

impl<D: NetDevice> SmolNet<D> {
    /// Brings the interface up on `device` with the address and bounds of `config`.
    pub fn new(device: D, config: NetConfig, now_us: u64) -> Result<Self, SetupError> {
        let mac = EthernetAddress(device.mac());
        if !mac.is_unicast() {
            return Err(SetupError::BadMac);
        }
        let addr = Ipv4Address::from(config.ip.addr);
        if config.ip.prefix_len == 0
            || config.ip.prefix_len > 32
            || addr.is_unspecified()
            || addr.is_broadcast()
            || addr.is_multicast()
        {
            return Err(SetupError::BadAddress);
        }
        let now = instant(now_us);
        let mut frames = FrameAdapter::new(device);
        let mut iface_config = Config::new(mac.into());
        iface_config.random_seed = config.seed;
        let mut iface = Interface::new(iface_config, &mut frames, now);
        iface.update_ip_addrs(|addrs| {
            // One address on an empty list always fits.
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(addr), config.ip.prefix_len));
        });
        if let Some(gw) = config.gateway {
            // The route table is empty, so the default route always fits.
            let _ = iface
                .routes_mut()
                .add_default_ipv4_route(Ipv4Address::from(gw));
        }
        Ok(Self {
            frames,
            iface,
            sockets: SocketSet::new(vec![]),
            config,
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            closing: Vec::new(),
            next_id: 1,
            now,
            stats: NetStats::default(),
        })
    }

    /// Starts accepting connections on `port`, with up to `backlog` listeners as the socket
    /// budget allows.
    pub fn listen(&mut self, port: u16) -> Result<(), SetupError> {
        if port == 0 || self.listeners.contains_key(&port) {
            return Err(SetupError::BadPort);
        }
        self.listeners.insert(port, Vec::new());
        self.top_up();
        Ok(())
    }

    /// Whether `port` accepts connections.
    pub fn is_listening(&self, port: u16) -> bool {
        self.listeners.contains_key(&port)
    }

    /// Moves frames: bounded ingress, egress, timers, then socket bookkeeping. Returns whether
    /// anything happened, so an idle loop can tell it may wait.
    pub fn poll(&mut self, now_us: u64) -> bool {
        let now = instant(now_us).max(self.now);
        self.now = now;
        let mut activity = false;
        for _ in 0..self.config.frames_per_poll {
            match self
                .iface
                .poll_ingress_single(now, &mut self.frames, &mut self.sockets)
            {
                PollIngressSingleResult::None => break,
                _ => activity = true,
            }
        }
        for _ in 0..self.config.frames_per_poll {
            match self
                .iface
                .poll_egress(now, &mut self.frames, &mut self.sockets)
            {
                PollResult::None => break,
                PollResult::SocketStateChanged => activity = true,
            }
        }
        self.iface.poll_maintenance(now);
        self.reap(now);
        self.recycle_listeners();
        self.top_up();
        activity
    }

    /// Microseconds until the stack next needs a poll, if it knows (`Some(0)`: now).
    pub fn poll_delay_us(&mut self, now_us: u64) -> Option<u64> {
        self.iface
            .poll_delay(instant(now_us), &self.sockets)
            .map(|d| d.total_micros())
    }

    /// Resets every open and closing connection (a link reset or address change); listeners
    /// stay. Peers see a reset; the pump sees `Closed` on their next use.
    pub fn reset_connections(&mut self) {
        for conn in self.conns.values() {
            self.sockets.get_mut::<tcp::Socket>(conn.handle).abort();
        }
        for closing in &mut self.closing {
            self.sockets.get_mut::<tcp::Socket>(closing.handle).abort();
            closing.aborted = true;
        }
    }

    pub fn stats(&self) -> NetStats {
        NetStats {
            frames: self.frames.stats,
            open: self.conns.len(),
            listening: self.listeners.values().map(Vec::len).sum(),
            closing: self.closing.len(),
            ..self.stats
        }
    }

    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    pub fn device(&self) -> &D {
        &self.frames.dev
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.frames.dev
    }

    fn sockets_in_use(&self) -> usize {
        self.listeners.values().map(Vec::len).sum::<usize>() + self.conns.len() + self.closing.len()
    }

    fn new_socket(&self) -> tcp::Socket<'static> {
        let rx = tcp::SocketBuffer::new(vec![0u8; self.config.rx_buffer]);
        let tx = tcp::SocketBuffer::new(vec![0u8; self.config.tx_buffer]);
        let mut socket = tcp::Socket::new(rx, tx);
        // Console and 9P are request/response: coalescing or delaying segments only adds
        // latency to every round trip.
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        socket.set_timeout(Some(Duration::from_millis(self.config.timeout_ms)));
        socket.set_keep_alive(self.config.keep_alive_ms.map(Duration::from_millis));
        socket
    }

    /// Adds listeners, one per port per round so ports share a scarce budget fairly.
    fn top_up(&mut self) {
        let ports: Vec<u16> = self.listeners.keys().copied().collect();
        loop {
            let mut added = false;
            for &port in &ports {
                let short = self
                    .listeners
                    .get(&port)
                    .is_some_and(|l| l.len() < self.config.backlog);
                if !short {
                    continue;
                }
                if self.sockets_in_use() >= self.config.sockets_max {
                    return;
                }
                let mut socket = self.new_socket();
                if socket.listen(port).is_err() {
                    continue;
                }
                let handle = self.sockets.add(socket);
                if let Some(list) = self.listeners.get_mut(&port) {
                    list.push(handle);
                    added = true;
                }
            }
            if !added {
                return;
            }
        }
    }

    /// Listeners whose half-open handshake was reset go back to listening.
    fn recycle_listeners(&mut self) {
        for (port, list) in &self.listeners {
            for handle in list {
                let socket = self.sockets.get_mut::<tcp::Socket>(*handle);
                if socket.state() == State::Closed {
                    let _ = socket.listen(*port);
                }
            }
        }
    }

    /// Frees the sockets of closed connections once their exchange ended or lingered out.
    fn reap(&mut self, now: Instant) {
        let sockets = &mut self.sockets;
        let stats = &mut self.stats;
        self.closing.retain_mut(|closing| {
            let socket = sockets.get_mut::<tcp::Socket>(closing.handle);
            match socket.state() {
                State::Closed | State::TimeWait => {
                    sockets.remove(closing.handle);
                    false
                }
                _ if !closing.aborted && now >= closing.deadline => {
                    // The reset goes out on the next egress; the socket is freed after it.
                    socket.abort();
                    closing.aborted = true;
                    stats.lingered_out += 1;
                    true
                }
                _ => true,
            }
        });
    }

    /// The next connection id not in use. Ids count up from 1 and skip live ones after a wrap;
    /// the loop ends because fewer than 2^32 connections are ever open.
    fn fresh_id(&mut self) -> ConnId {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            if !self.conns.contains_key(&id) {
                return id;
            }
        }
    }

    fn take_established(&mut self, port: u16) -> Option<SocketHandle> {
        let list = self.listeners.get_mut(&port)?;
        let index = list.iter().position(|handle| {
            let state = self.sockets.get::<tcp::Socket>(*handle).state();
            !matches!(state, State::Listen | State::SynReceived | State::Closed)
        })?;
        Some(list.remove(index))
    }
}

impl<D: NetDevice> Net for SmolNet<D> {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        let handle = self.take_established(port)?;
        let id = self.fresh_id();
        let peer = self
            .sockets
            .get::<tcp::Socket>(handle)
            .remote_endpoint()
            .and_then(|ep| peer_addr(ep.addr, ep.port));
        self.conns.insert(id, Conn { handle, peer });
        self.stats.accepted += 1;
        if self.sockets_in_use() >= self.config.sockets_max {
            self.stats.socket_budget_hits += 1;
        }
        self.top_up();
        Some(id)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        let handle = self.conns.get(&conn).ok_or(NetError::Unknown)?.handle;
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        if buf.is_empty() {
            return Ok(0);
        }
        // Finished (the peer's FIN after all its data) and InvalidState (reset, timed out)
        // both mean nothing more will ever arrive.
        socket.recv_slice(buf).map_err(|_| NetError::Closed)
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        let handle = self.conns.get(&conn).ok_or(NetError::Unknown)?.handle;
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        if !socket.may_send() {
            return Err(NetError::Closed);
        }
        socket.send_slice(buf).map_err(|_| NetError::Closed)
    }

    fn close(&mut self, conn: ConnId) {
        let Some(conn) = self.conns.remove(&conn) else {
            return;
        };
        self.sockets.get_mut::<tcp::Socket>(conn.handle).close();
        self.closing.push(Closing {
            handle: conn.handle,
            deadline: self.now + Duration::from_millis(self.config.linger_ms),
            aborted: false,
        });
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.conns.get(&conn)?.peer
    }
}

fn instant(now_us: u64) -> Instant {
    Instant::from_micros(i64::try_from(now_us).unwrap_or(i64::MAX))
}

#[allow(unreachable_patterns)]
fn peer_addr(addr: IpAddress, port: u16) -> Option<PeerAddr> {
    match addr {
        IpAddress::Ipv4(v4) => Some(PeerAddr {
            ip: v4.octets(),
            port,
        }),
        _ => None,
    }
}
