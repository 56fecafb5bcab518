//! Real TCP for a hosted hive: non-blocking sockets (mio) behind the connection-level `Net`
//! trait, plus a readiness wait so an idle pump sleeps instead of spinning.
//!
//! The core names ports by their protocol (`CONSOLE_PORT`, `NINEP_PORT`); each such logical
//! port is bound to a real address chosen at start-up (port 0 picks a free one, which tests
//! use), and `local_addr` tells where it ended up.
//!
//! Readiness is tracked per socket from the kernel's (edge-triggered) events: a connection
//! that has reported nothing since its last `WouldBlock` answers `recv` with `Ok(0)` without a
//! system call, so a pump sweeping a thousand idle connections costs almost nothing. Events
//! are collected on every `poll_accept` (the start of each pump turn) and every `wait`, so the
//! tracking never depends on the caller.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hal::{ConnId, Net, NetError, NetPressure, PeerAddr, CONSOLE_PORT};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::local::LocalLinks;

/// Listener tokens count down from the top so they never meet connection ids.
const LISTENER_TOKEN_BASE: usize = usize::MAX - 64;
/// Readiness events taken per poll; the kernel keeps the rest for the next one.
const EVENTS_PER_POLL: usize = 1024;
/// The waker local pipes use to end a readiness wait (below every listener token).
const LOCAL_WAKE: Token = Token(LISTENER_TOKEN_BASE - 1);
/// First and longest pause of a listener's accepts after the process ran out of descriptors
/// (doubling in between), so exhaustion costs a few syscalls a second instead of a spinning
/// core.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

struct Listener {
    port: u16,
    socket: TcpListener,
    addr: SocketAddr,
    /// A connection may be waiting (set by an event, cleared by `WouldBlock`).
    pending: bool,
    /// Out of descriptors: no accept is tried before this instant.
    backoff_until: Option<Instant>,
    backoff: Duration,
}

struct Conn {
    stream: TcpStream,
    peer: Option<PeerAddr>,
    /// Bytes (or a hang-up) may be waiting (set by an event, cleared by `WouldBlock`).
    readable: bool,
    /// The core stopped reading (its peer does not read replies): readability is ignored.
    paused: bool,
    /// Paused, and the kernel reported room to write since the last send: worth a turn.
    writable: bool,
}

/// The network of a hosted hive.
pub struct StdNet {
    poll: Poll,
    events: Events,
    listeners: Vec<Listener>,
    conns: BTreeMap<ConnId, Conn>,
    /// In-process clients (`with_local`): connection id -> pipe.
    local: Option<LocalLinks>,
    local_conns: BTreeMap<ConnId, u64>,
    next_id: ConnId,
    /// A descriptor held back so the console can still accept the queen when the process
    /// has none left (released for that accept, taken again when one is free).
    reserve: Option<File>,
    pressure: NetPressure,
}

impl StdNet {
    /// Binds every `(logical port, address)` pair and starts listening.
    pub fn bind(bindings: &[(u16, SocketAddr)]) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        for (index, (port, addr)) in bindings.iter().enumerate() {
            let mut socket = TcpListener::bind(*addr)?;
            let addr = socket.local_addr()?;
            poll.registry().register(
                &mut socket,
                Token(LISTENER_TOKEN_BASE + index),
                Interest::READABLE,
            )?;
            listeners.push(Listener {
                port: *port,
                socket,
                addr,
                pending: true,
                backoff_until: None,
                backoff: ACCEPT_BACKOFF_MIN,
            });
        }
        Ok(Self {
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            listeners,
            conns: BTreeMap::new(),
            local: None,
            local_conns: BTreeMap::new(),
            next_id: 1,
            reserve: File::open("/dev/null").ok(),
            pressure: NetPressure::default(),
        })
    }

    /// Also accepts in-process clients over `links` (no file descriptor per connection):
    /// a pipe opened to a logical port is accepted on that port like a socket.
    pub fn with_local(mut self, links: &LocalLinks) -> io::Result<Self> {
        self.attach_local(links)?;
        Ok(self)
    }

    /// `with_local` in place.
    pub fn attach_local(&mut self, links: &LocalLinks) -> io::Result<()> {
        let waker = Waker::new(self.poll.registry(), LOCAL_WAKE)?;
        links.set_hive_waker(std::sync::Arc::new(waker));
        self.local = Some(links.clone());
        Ok(())
    }

    /// A fresh connection id, never one in use by a socket or a pipe.
    fn allocate_id(&mut self) -> ConnId {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.conns.contains_key(&id) && !self.local_conns.contains_key(&id) {
                return id;
            }
        }
    }

    fn local_pipe(&self, conn: ConnId) -> Option<(&LocalLinks, u64)> {
        let pipe = *self.local_conns.get(&conn)?;
        Some((self.local.as_ref()?, pipe))
    }

    /// The address a logical port was bound to.
    pub fn local_addr(&self, port: u16) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|l| l.port == port)
            .map(|l| l.addr)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.conns.len() + self.local_conns.len()
    }

    /// True when some socket reported work that has not been taken yet (a connection to
    /// accept, bytes or a hang-up to read): the caller should turn again before waiting.
    pub fn has_pending(&self) -> bool {
        let now = Instant::now();
        self.listeners
            .iter()
            .any(|l| l.pending && l.backoff_until.is_none_or(|t| now >= t))
            || self
                .conns
                .values()
                .any(|c| if c.paused { c.writable } else { c.readable })
            || self.local.as_ref().is_some_and(LocalLinks::hive_pending)
    }

    /// How long the caller may sleep at most: until the earliest accept back-off ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.listeners.iter().filter_map(|l| l.backoff_until).min()
    }

    /// Sleeps until a socket reports readiness or `timeout` passes; returns how many events
    /// arrived. `Duration::ZERO` only collects what is already there.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<usize> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        let mut count = 0;
        for event in self.events.iter() {
            count += 1;
            let token = event.token().0;
            if token >= LISTENER_TOKEN_BASE {
                if let Some(l) = self.listeners.get_mut(token - LISTENER_TOKEN_BASE) {
                    l.pending = true;
                }
            } else if let Some(c) = ConnId::try_from(token)
                .ok()
                .and_then(|id| self.conns.get_mut(&id))
            {
                // Writable-only events need no read; everything else (bytes, hang-ups,
                // errors) is found by reading.
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    c.readable = true;
                }
                if event.is_writable() && c.paused {
                    c.writable = true;
                }
            }
        }
        Ok(count)
    }

    fn accept(&mut self, port: u16) -> Option<ConnId> {
        // Collect readiness first: this runs at the start of every pump turn.
        let _ = self.wait(Duration::ZERO);
        if self.reserve.is_none() {
            self.reserve = File::open("/dev/null").ok();
        }
        if let Some(pipe) = self.local.as_ref().and_then(|l| l.accept(port)) {
            let id = self.allocate_id();
            self.local_conns.insert(id, pipe);
            return Some(id);
        }
        let index = self.listeners.iter().position(|l| l.port == port)?;
        let listener = &mut self.listeners[index];
        let now = Instant::now();
        if !listener.pending || listener.backoff_until.is_some_and(|t| now < t) {
            return None;
        }
        listener.backoff_until = None;
        self.pressure.backing_off = self.listeners.iter().any(|l| l.backoff_until.is_some());
        loop {
            let (stream, addr) = match self.listeners[index].socket.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.listeners[index].pending = false;
                    return None;
                }
                Err(e) if out_of_descriptors(&e) => self.exhausted(index, port)?,
                // A connection reset before it was taken: the next one may be fine.
                Err(_) => continue,
            };
            if let Some(id) = self.register(stream, addr) {
                self.listeners[index].backoff = ACCEPT_BACKOFF_MIN;
                return Some(id);
            }
        }
    }

    /// The process is out of descriptors. The console spends the reserve descriptor to take
    /// the queen's connection; every other accept backs off (doubling), so the pump sleeps
    /// instead of spinning on a listener that stays readable.
    fn exhausted(&mut self, index: usize, port: u16) -> Option<(TcpStream, SocketAddr)> {
        self.pressure.accept_exhausted += 1;
        if port == CONSOLE_PORT && self.reserve.take().is_some() {
            if let Ok(accepted) = self.listeners[index].socket.accept() {
                self.pressure.console_reserve_used += 1;
                return Some(accepted);
            }
        }
        let listener = &mut self.listeners[index];
        listener.backoff_until = Some(Instant::now() + listener.backoff);
        listener.backoff = (listener.backoff * 2).min(ACCEPT_BACKOFF_MAX);
        self.pressure.backing_off = true;
        None
    }

    fn register(&mut self, mut stream: TcpStream, addr: SocketAddr) -> Option<ConnId> {
        let id = self.allocate_id();
        let token = Token(id as usize);
        let registered = self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        );
        // On failure dropping the stream closes it; the peer sees a hang-up.
        registered.ok()?;
        // Replies are small and latency-bound.
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            stream,
            peer: peer_of(addr),
            // Bytes may have arrived before registration; the first read finds out.
            readable: true,
            paused: false,
            writable: false,
        };
        self.conns.insert(id, conn);
        Some(id)
    }
}

/// EMFILE, ENFILE, ENOBUFS, ENOMEM: the process or the system ran out of something an
/// accept needs.
fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(23 | 24 | 105 | 12))
}

fn peer_of(addr: SocketAddr) -> Option<PeerAddr> {
    let ip = match addr.ip() {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => v6.to_ipv4_mapped()?,
    };
    Some(PeerAddr {
        ip: ip.octets(),
        port: addr.port(),
    })
}

impl Net for StdNet {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        self.accept(port)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        if let Some((links, pipe)) = self.local_pipe(conn) {
            return match links.hive_read(pipe, buf) {
                Some(Some(n)) => Ok(n),
                _ => Err(NetError::Closed),
            };
        }
        let c = self.conns.get_mut(&conn).ok_or(NetError::Unknown)?;
        if buf.is_empty() || !c.readable || c.paused {
            return Ok(0);
        }
        loop {
            return match c.stream.read(buf) {
                Ok(0) => Err(NetError::Closed),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.readable = false;
                    Ok(0)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => Err(NetError::Closed),
            };
        }
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        if let Some((links, pipe)) = self.local_pipe(conn) {
            return links.hive_write(pipe, buf).ok_or(NetError::Closed);
        }
        let c = self.conns.get_mut(&conn).ok_or(NetError::Unknown)?;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            return match c.stream.write(buf) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Still full: wait for the kernel's next writable edge.
                    c.writable = false;
                    Ok(0)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => Err(NetError::Closed),
            };
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(pipe) = self.local_conns.remove(&conn) {
            if let Some(links) = &self.local {
                links.hive_close(pipe);
            }
            return;
        }
        if let Some(mut c) = self.conns.remove(&conn) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// In-process pipes have no network address.
    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.conns.get(&conn)?.peer
    }

    fn set_paused(&mut self, conn: ConnId, paused: bool) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.paused = paused;
            c.writable = false;
        }
    }

    fn pressure(&self) -> NetPressure {
        self.pressure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hal::NINEP_PORT;
    use std::time::Instant;

    /// How long an event (a connection, bytes, a hang-up) may take before the test gives up:
    /// a bound on a wait, not a timing claim, so it is generous for loaded CI machines.
    const EVENT_DEADLINE: Duration = Duration::from_secs(60);

    fn loopback() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    fn accept_within(net: &mut StdNet, port: u16) -> ConnId {
        let start = Instant::now();
        loop {
            if let Some(id) = net.poll_accept(port) {
                return id;
            }
            assert!(start.elapsed() < EVENT_DEADLINE, "no connection");
            net.wait(Duration::from_millis(50)).unwrap();
        }
    }

    #[test]
    fn accepts_echoes_and_sees_hang_ups() {
        let mut net = StdNet::bind(&[(NINEP_PORT, loopback())]).unwrap();
        let addr = net.local_addr(NINEP_PORT).unwrap();
        assert_ne!(addr.port(), 0);
        assert_eq!(net.poll_accept(NINEP_PORT), None);
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let id = accept_within(&mut net, NINEP_PORT);
        let peer = net.peer(id).unwrap();
        assert_eq!(peer.ip, [127, 0, 0, 1]);

        let mut buf = [0u8; 16];
        assert_eq!(net.recv(id, &mut buf), Ok(0), "nothing sent yet");
        client.write_all(b"Tversion").unwrap();
        let start = Instant::now();
        let n = loop {
            match net.recv(id, &mut buf).unwrap() {
                0 if start.elapsed() < EVENT_DEADLINE => {
                    net.wait(Duration::from_millis(50)).unwrap();
                }
                n => break n,
            }
        };
        assert_eq!(&buf[..n], b"Tversion");
        assert_eq!(net.send(id, b"Rversion"), Ok(8));
        let mut got = [0u8; 8];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"Rversion");

        drop(client);
        let start = Instant::now();
        while net.recv(id, &mut buf) != Err(NetError::Closed) {
            assert!(start.elapsed() < EVENT_DEADLINE, "hang-up not seen");
            net.wait(Duration::from_millis(50)).unwrap();
        }
        net.close(id);
        assert_eq!(net.recv(id, &mut buf), Err(NetError::Unknown));
        assert_eq!(net.open_connections(), 0);
    }

    #[test]
    fn idle_connections_are_skipped_until_the_kernel_reports_bytes() {
        let mut net = StdNet::bind(&[(NINEP_PORT, loopback())]).unwrap();
        let addr = net.local_addr(NINEP_PORT).unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let id = accept_within(&mut net, NINEP_PORT);
        let mut buf = [0u8; 8];
        assert_eq!(net.recv(id, &mut buf), Ok(0));
        assert_eq!(net.poll_accept(NINEP_PORT), None);
        assert!(!net.has_pending(), "drained connection and listener");
        client.write_all(b"ping").unwrap();
        let start = Instant::now();
        while !net.has_pending() {
            assert!(start.elapsed() < EVENT_DEADLINE, "no readiness");
            net.wait(Duration::from_millis(50)).unwrap();
        }
        assert_eq!(net.recv(id, &mut buf), Ok(4));
        assert_eq!(net.recv(id, &mut buf), Ok(0));
        assert!(!net.has_pending());
    }

    #[test]
    fn a_paused_connection_never_reports_pending_input() {
        let mut net = StdNet::bind(&[(NINEP_PORT, loopback())]).unwrap();
        let addr = net.local_addr(NINEP_PORT).unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let id = accept_within(&mut net, NINEP_PORT);
        // Take the listener's last readiness, then fill the peer's window: it reads nothing.
        assert_eq!(net.poll_accept(NINEP_PORT), None);
        let block = vec![0u8; 65536];
        while net.send(id, &block).unwrap() > 0 {}
        net.wait(Duration::from_millis(20)).unwrap();
        net.set_paused(id, true);
        client.write_all(b"unread request").unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(200) {
            net.wait(Duration::from_millis(20)).unwrap();
            assert!(
                !net.has_pending(),
                "a paused connection must let the pump sleep"
            );
        }
        let mut buf = [0u8; 32];
        assert_eq!(net.recv(id, &mut buf), Ok(0), "its input is left unread");
        net.set_paused(id, false);
        assert!(net.has_pending(), "resumed: the bytes are still there");
        assert_eq!(net.recv(id, &mut buf), Ok(14));
        assert_eq!(net.pressure(), NetPressure::default());
    }

    #[test]
    fn wait_returns_after_the_timeout_when_idle() {
        let mut net = StdNet::bind(&[(NINEP_PORT, loopback())]).unwrap();
        let start = Instant::now();
        assert_eq!(net.wait(Duration::from_millis(20)).unwrap(), 0);
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert_eq!(net.poll_accept(7), None, "unbound ports accept nothing");
    }
}
