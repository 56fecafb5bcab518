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
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hal::{ConnId, Net, NetError, PeerAddr};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

/// Listener tokens count down from the top so they never meet connection ids.
const LISTENER_TOKEN_BASE: usize = usize::MAX - 64;
/// Readiness events taken per poll; the kernel keeps the rest for the next one.
const EVENTS_PER_POLL: usize = 1024;

struct Listener {
    port: u16,
    socket: TcpListener,
    addr: SocketAddr,
    /// A connection may be waiting (set by an event, cleared by `WouldBlock`).
    pending: bool,
}

struct Conn {
    stream: TcpStream,
    peer: Option<PeerAddr>,
    /// Bytes (or a hang-up) may be waiting (set by an event, cleared by `WouldBlock`).
    readable: bool,
}

/// The network of a hosted hive.
pub struct StdNet {
    poll: Poll,
    events: Events,
    listeners: Vec<Listener>,
    conns: BTreeMap<ConnId, Conn>,
    next_id: ConnId,
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
            });
        }
        Ok(Self {
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            listeners,
            conns: BTreeMap::new(),
            next_id: 1,
        })
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
        self.conns.len()
    }

    /// True when some socket reported work that has not been taken yet (a connection to
    /// accept, bytes or a hang-up to read): the caller should turn again before waiting.
    pub fn has_pending(&self) -> bool {
        self.listeners.iter().any(|l| l.pending) || self.conns.values().any(|c| c.readable)
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
            }
        }
        Ok(count)
    }

    fn accept(&mut self, port: u16) -> Option<ConnId> {
        // Collect readiness first: this runs at the start of every pump turn.
        let _ = self.wait(Duration::ZERO);
        let listener = self.listeners.iter_mut().find(|l| l.port == port)?;
        if !listener.pending {
            return None;
        }
        loop {
            let (mut stream, addr) = match listener.socket.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    listener.pending = false;
                    return None;
                }
                // Out of descriptors or a connection reset before it was taken: try again
                // on the next turn.
                Err(_) => return None,
            };
            let id = self.next_id;
            let token = Token(id as usize);
            let registered = self.poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            );
            if registered.is_err() {
                // Dropping the stream closes it; the peer sees a hang-up.
                continue;
            }
            // Replies are small and latency-bound.
            let _ = stream.set_nodelay(true);
            self.next_id = self.next_id.wrapping_add(1).max(1);
            let conn = Conn {
                stream,
                peer: peer_of(addr),
                // Bytes may have arrived before registration; the first read finds out.
                readable: true,
            };
            self.conns.insert(id, conn);
            return Some(id);
        }
    }
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
        let c = self.conns.get_mut(&conn).ok_or(NetError::Unknown)?;
        if buf.is_empty() || !c.readable {
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
        let c = self.conns.get_mut(&conn).ok_or(NetError::Unknown)?;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            return match c.stream.write(buf) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => Err(NetError::Closed),
            };
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(mut c) = self.conns.remove(&conn) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.conns.get(&conn)?.peer
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
    fn wait_returns_after_the_timeout_when_idle() {
        let mut net = StdNet::bind(&[(NINEP_PORT, loopback())]).unwrap();
        let start = Instant::now();
        assert_eq!(net.wait(Duration::from_millis(20)).unwrap(), 0);
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert_eq!(net.poll_accept(7), None, "unbound ports accept nothing");
    }
}
