//! In-memory connections. The test side opens a `MemConn` to a listening port; the code under
//! test accepts it through the `Net` trait. Each direction is a bounded byte queue, so a full
//! queue turns into short writes exactly where a real socket would push back.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::{ConnId, Net, NetError, PeerAddr};

/// Bytes each direction of a connection buffers before `send` writes short.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// First port of the ephemeral range the fake peers appear to use.
const EPHEMERAL_BASE: u16 = 49152;

/// Both directions of one connection, keyed by its connect order.
#[derive(Debug, Default)]
struct Pipe {
    to_server: VecDeque<u8>,
    to_client: VecDeque<u8>,
    client_closed: bool,
    server_closed: bool,
    /// The source address the client chose (`connect_from`); else one derived from the id.
    source: Option<[u8; 4]>,
}

#[derive(Debug)]
struct NetState {
    capacity: usize,
    listening: BTreeSet<u16>,
    /// Connected but not yet accepted, per port, in connect order.
    backlog: BTreeMap<u16, VecDeque<u64>>,
    pipes: BTreeMap<u64, Pipe>,
    /// Server-side ids of accepted, not yet server-closed connections.
    accepted: BTreeMap<ConnId, u64>,
    next_key: u64,
    next_id: ConnId,
}

impl NetState {
    fn pipe_of(&mut self, conn: ConnId) -> Result<&mut Pipe, NetError> {
        let key = *self.accepted.get(&conn).ok_or(NetError::Unknown)?;
        self.pipes.get_mut(&key).ok_or(NetError::Unknown)
    }

    /// Forgets a pipe once neither side can use it any more.
    fn reap(&mut self, key: u64) {
        if self
            .pipes
            .get(&key)
            .is_some_and(|p| p.client_closed && p.server_closed)
        {
            self.pipes.remove(&key);
        }
    }
}

/// Appends as much of `bytes` as fits under `capacity`; returns how many were taken.
fn push_bounded(queue: &mut VecDeque<u8>, bytes: &[u8], capacity: usize) -> usize {
    let n = bytes.len().min(capacity.saturating_sub(queue.len()));
    queue.extend(bytes[..n].iter().copied());
    n
}

/// The in-memory network. Clones share one network: the code under test owns one handle
/// (through `MemHal`), the test keeps another to listen and connect.
#[derive(Clone, Debug)]
pub struct MemNet {
    state: Rc<RefCell<NetState>>,
}

impl Default for MemNet {
    fn default() -> Self {
        Self::new()
    }
}

impl MemNet {
    /// A network whose connections buffer `DEFAULT_CAPACITY` bytes per direction.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A network whose connections buffer `capacity` bytes per direction.
    pub fn with_capacity(capacity: usize) -> Self {
        let state = NetState {
            capacity,
            listening: BTreeSet::new(),
            backlog: BTreeMap::new(),
            pipes: BTreeMap::new(),
            accepted: BTreeMap::new(),
            next_key: 0,
            next_id: 1,
        };
        Self {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Per-direction buffer size of every connection.
    pub fn capacity(&self) -> usize {
        self.state.borrow().capacity
    }

    /// Starts accepting connections on `port`.
    pub fn listen(&self, port: u16) {
        self.state.borrow_mut().listening.insert(port);
    }

    /// Opens a client connection to `port`; `None` if nothing listens there. The server sees
    /// it on its next `poll_accept(port)`.
    pub fn connect(&self, port: u16) -> Option<MemConn> {
        self.connect_with(port, None)
    }

    /// Like `connect`, from source address `ip` (many connections may share one, as many
    /// sockets of one attacker do).
    pub fn connect_from(&self, port: u16, ip: [u8; 4]) -> Option<MemConn> {
        self.connect_with(port, Some(ip))
    }

    fn connect_with(&self, port: u16, source: Option<[u8; 4]>) -> Option<MemConn> {
        let mut state = self.state.borrow_mut();
        if !state.listening.contains(&port) {
            return None;
        }
        let key = state.next_key;
        state.next_key += 1;
        state.pipes.insert(
            key,
            Pipe {
                source,
                ..Pipe::default()
            },
        );
        state.backlog.entry(port).or_default().push_back(key);
        Some(MemConn {
            state: Rc::clone(&self.state),
            key,
        })
    }

    /// Connections still held by either side (for leak checks in tests).
    pub fn open_connections(&self) -> usize {
        self.state.borrow().pipes.len()
    }
}

/// The deterministic fake address of accepted connection `conn`: `10.0.x.y` from its id, and
/// a port in the ephemeral range.
pub fn peer_of(conn: ConnId) -> PeerAddr {
    let [_, _, x, y] = conn.to_be_bytes();
    // `% 16384` keeps the offset below 2^14, so the cast and the sum cannot overflow.
    let offset = (conn % 16384) as u16;
    PeerAddr {
        ip: [10, 0, x, y],
        port: EPHEMERAL_BASE + offset,
    }
}

impl Net for MemNet {
    /// Ids are handed out in accept order, starting at 1.
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        let mut state = self.state.borrow_mut();
        let key = state.backlog.get_mut(&port)?.pop_front()?;
        let id = state.next_id;
        state.next_id = state.next_id.wrapping_add(1);
        state.accepted.insert(id, key);
        Some(id)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        let mut state = self.state.borrow_mut();
        let pipe = state.pipe_of(conn)?;
        if pipe.to_server.is_empty() && pipe.client_closed {
            return Err(NetError::Closed);
        }
        let n = buf.len().min(pipe.to_server.len());
        for (slot, byte) in buf.iter_mut().zip(pipe.to_server.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        let mut state = self.state.borrow_mut();
        let capacity = state.capacity;
        let pipe = state.pipe_of(conn)?;
        if pipe.client_closed {
            return Err(NetError::Closed);
        }
        Ok(push_bounded(&mut pipe.to_client, buf, capacity))
    }

    /// Bytes already sent stay readable by the client; bytes it sent and we did not read are
    /// dropped.
    fn close(&mut self, conn: ConnId) {
        let mut state = self.state.borrow_mut();
        let Some(key) = state.accepted.remove(&conn) else {
            return;
        };
        if let Some(pipe) = state.pipes.get_mut(&key) {
            pipe.server_closed = true;
            pipe.to_server.clear();
        }
        state.reap(key);
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        let state = self.state.borrow();
        let key = state.accepted.get(&conn)?;
        let mut addr = peer_of(conn);
        if let Some(ip) = state.pipes.get(key).and_then(|p| p.source) {
            addr.ip = ip;
        }
        Some(addr)
    }
}

/// The test's end of one connection. Dropping it closes it.
#[derive(Debug)]
pub struct MemConn {
    state: Rc<RefCell<NetState>>,
    key: u64,
}

impl MemConn {
    fn with_pipe<R>(&self, f: impl FnOnce(&mut Pipe, usize) -> R) -> Option<R> {
        let mut state = self.state.borrow_mut();
        let capacity = state.capacity;
        state.pipes.get_mut(&self.key).map(|pipe| f(pipe, capacity))
    }

    /// The server-side id, once the server has accepted this connection.
    pub fn id(&self) -> Option<ConnId> {
        let state = self.state.borrow();
        state
            .accepted
            .iter()
            .find_map(|(&id, &key)| (key == self.key).then_some(id))
    }

    /// Queues bytes for the server; returns how many fit (fewer than offered when the buffer
    /// is full, zero once either side closed).
    pub fn send(&self, bytes: &[u8]) -> usize {
        self.with_pipe(|pipe, capacity| {
            if pipe.client_closed || pipe.server_closed {
                0
            } else {
                push_bounded(&mut pipe.to_server, bytes, capacity)
            }
        })
        .unwrap_or(0)
    }

    /// Free space in the buffer towards the server.
    pub fn send_space(&self) -> usize {
        self.with_pipe(|pipe, capacity| {
            if pipe.client_closed || pipe.server_closed {
                0
            } else {
                capacity.saturating_sub(pipe.to_server.len())
            }
        })
        .unwrap_or(0)
    }

    /// Moves every byte the server sent into `out`; returns how many.
    pub fn recv(&self, out: &mut Vec<u8>) -> usize {
        self.with_pipe(|pipe, _| {
            let n = pipe.to_client.len();
            out.extend(pipe.to_client.drain(..));
            n
        })
        .unwrap_or(0)
    }

    /// Every byte the server sent since the last read.
    pub fn take_all(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.recv(&mut out);
        out
    }

    /// Closes the client side: the server reads what was already sent, then `Closed`.
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        if let Some(pipe) = state.pipes.get_mut(&self.key) {
            pipe.client_closed = true;
            pipe.to_client.clear();
        }
        state.reap(self.key);
    }

    /// True once either side closed.
    pub fn is_closed(&self) -> bool {
        self.with_pipe(|pipe, _| pipe.client_closed || pipe.server_closed)
            .unwrap_or(true)
    }
}

impl Drop for MemConn {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests;
