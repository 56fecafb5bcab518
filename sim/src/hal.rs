//! The sim HAL: the pump's five traits over turmoil. The clock is the host's virtual tokio
//! clock (with an optional skew), the network is turmoil's simulated TCP polled without
//! blocking, entropy is ChaCha seeded from the scenario, and the store is in memory and
//! survives a host crash (`MemStore`: every write durable when it returns).

use hal::mem::{MemConsole, MemEntropy, MemStore};
use hal::{Clock, ConnId, Console, Entropy, Net, NetError, PeerAddr, Store, StoreError};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;
use turmoil::net::{TcpListener, TcpStream};

/// A host's clock error: a fixed offset plus a rate error in parts per million. Shared, so a
/// fault can change it while the host runs.
#[derive(Debug, Clone, Default)]
pub struct Skew {
    offset_ms: Rc<Cell<i64>>,
    drift_ppm: Rc<Cell<i64>>,
}

impl Skew {
    pub fn set(&self, offset_ms: i64, drift_ppm: i64) {
        self.offset_ms.set(offset_ms);
        self.drift_ppm.set(drift_ppm.clamp(-500_000, 500_000));
    }

    /// Local microseconds for `true_us` of virtual time since boot.
    pub fn apply(&self, true_us: u64) -> u64 {
        let drift = i128::from(self.drift_ppm.get());
        let scaled = i128::from(true_us) * (1_000_000 + drift) / 1_000_000;
        let shifted = scaled + i128::from(self.offset_ms.get()) * 1000;
        u64::try_from(shifted.max(0)).unwrap_or(u64::MAX)
    }

    /// True microseconds that pass while the local clock advances `local_us`.
    pub fn true_span(&self, local_us: u64) -> u64 {
        let drift = i128::from(self.drift_ppm.get());
        let span = i128::from(local_us) * 1_000_000 / (1_000_000 + drift);
        u64::try_from(span.max(0)).unwrap_or(u64::MAX)
    }
}

/// Monotonic time since the host (re)booted, as the host's own skewed clock reads it.
#[derive(Debug, Clone)]
pub struct SimClock {
    boot: Instant,
    pub(crate) skew: Skew,
}

impl SimClock {
    /// Must be called inside the host's runtime.
    pub fn new(skew: Skew) -> Self {
        Self {
            boot: Instant::now(),
            skew,
        }
    }
}

impl Clock for SimClock {
    fn now_us(&self) -> u64 {
        let elapsed = Instant::now().saturating_duration_since(self.boot);
        self.skew
            .apply(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }
}

/// Polls a future once with a waker that does nothing: the hosts are driven by their tick,
/// so nobody needs waking.
pub fn poll_once<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(fut).poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Reads what is buffered on `stream` into `buf` without waiting. `Err` means the peer
/// closed or reset the connection.
pub fn try_read(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, NetError> {
    read_with(stream, buf, Waker::noop())
}

/// `try_read`, leaving `waker` registered for the next arrival.
fn read_with(stream: &mut TcpStream, buf: &mut [u8], waker: &Waker) -> Result<usize, NetError> {
    let mut cx = Context::from_waker(waker);
    let mut filled = 0;
    while filled < buf.len() {
        let mut rb = ReadBuf::new(&mut buf[filled..]);
        match Pin::new(&mut *stream).poll_read(&mut cx, &mut rb) {
            Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                return if filled > 0 {
                    Ok(filled)
                } else {
                    Err(NetError::Closed)
                };
            }
            Poll::Ready(Ok(())) => filled += rb.filled().len(),
            Poll::Ready(Err(_)) if filled == 0 => return Err(NetError::Closed),
            Poll::Ready(Err(_)) | Poll::Pending => break,
        }
    }
    Ok(filled)
}

/// Writes what the stream takes now; `Ok(0)` when its window is full.
pub fn try_write(stream: &TcpStream, buf: &[u8]) -> Result<usize, NetError> {
    match stream.try_write(buf) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
        Err(_) => Err(NetError::Closed),
    }
}

/// Set by the stream's waker when bytes (or a close) arrive: the readiness an `epoll`
/// would report. A connection that is not ready is not polled at all, so the pump's
/// round-robin over a thousand idle sessions costs next to nothing.
#[derive(Debug, Default)]
struct Ready(AtomicBool);

impl Wake for Ready {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct SimConn {
    stream: TcpStream,
    peer: SocketAddr,
    ready: Arc<Ready>,
    waker: Waker,
}

/// Connection-level networking over turmoil listeners and streams.
pub struct SimNet {
    listeners: BTreeMap<u16, TcpListener>,
    conns: BTreeMap<ConnId, SimConn>,
    next: ConnId,
}

impl SimNet {
    pub fn new(listeners: Vec<(u16, TcpListener)>) -> Self {
        Self {
            listeners: listeners.into_iter().collect(),
            conns: BTreeMap::new(),
            next: 0,
        }
    }

    pub fn open(&self) -> usize {
        self.conns.len()
    }
}

impl Net for SimNet {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        let listener = self.listeners.get(&port)?;
        // `accept` completes synchronously once a SYN is queued, so one poll either takes a
        // connection whole or leaves everything as it was.
        let mut accept = Box::pin(listener.accept());
        let (stream, peer) = poll_once(&mut accept)?.ok()?;
        self.next = self.next.wrapping_add(1);
        let ready = Arc::new(Ready(AtomicBool::new(true)));
        let waker = Waker::from(ready.clone());
        self.conns.insert(
            self.next,
            SimConn {
                stream,
                peer,
                ready,
                waker,
            },
        );
        Some(self.next)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        let conn = self.conns.get_mut(&conn).ok_or(NetError::Unknown)?;
        if !conn.ready.0.swap(false, Ordering::Relaxed) {
            return Ok(0);
        }
        let n = read_with(&mut conn.stream, buf, &conn.waker)?;
        if n == buf.len() {
            // The buffer filled: more may be waiting.
            conn.ready.0.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        let conn = self.conns.get(&conn).ok_or(NetError::Unknown)?;
        try_write(&conn.stream, buf)
    }

    fn close(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        let addr = self.conns.get(&conn)?.peer;
        match addr.ip() {
            IpAddr::V4(ip) => Some(PeerAddr {
                ip: ip.octets(),
                port: addr.port(),
            }),
            IpAddr::V6(_) => None,
        }
    }
}

/// A whole simulated machine for the pump.
pub struct SimHal {
    pub clock: SimClock,
    pub net: SimNet,
    pub console: MemConsole,
    pub entropy: MemEntropy,
    pub store: MemStore,
}

impl Clock for SimHal {
    fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// The simulation's virtual epoch: time since the run began, as this host's skewed clock
    /// sees it. It keeps counting while a host is down, like a real wall clock.
    fn wall_ms(&self) -> Option<u64> {
        let elapsed = turmoil::sim_elapsed()?;
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        Some(self.clock.skew.apply(us) / 1000)
    }
}

impl Net for SimHal {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        self.net.poll_accept(port)
    }
    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        self.net.recv(conn, buf)
    }
    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        self.net.send(conn, buf)
    }
    fn close(&mut self, conn: ConnId) {
        self.net.close(conn)
    }
    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.net.peer(conn)
    }
}

impl Console for SimHal {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.console.console_read(buf)
    }
    fn console_write(&mut self, bytes: &[u8]) {
        // The serial console has no reader in the simulator; keep nothing.
        let _ = bytes;
    }
}

impl Entropy for SimHal {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.entropy.fill_bytes(buf)
    }
}

impl Store for SimHal {
    fn store_get(&self, key: &str, out: &mut Vec<u8>) -> Option<usize> {
        self.store.store_get(key, out)
    }
    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.store.store_put(key, value)
    }
    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError> {
        self.store.store_append(log, record)
    }

    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        self.store.store_read(log, from, max, out)
    }

    fn store_trim(&mut self, log: &str, before: u64) -> Result<(), StoreError> {
        self.store.store_trim(log, before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_scales_and_shifts_and_inverts() {
        let skew = Skew::default();
        assert_eq!(skew.apply(1_000_000), 1_000_000);
        skew.set(5, 1_000);
        assert_eq!(skew.apply(1_000_000), 1_001_000 + 5_000);
        assert_eq!(skew.true_span(1_001_000), 1_000_000);
        skew.set(-10_000, 0);
        assert_eq!(skew.apply(1_000), 0, "never before boot");
    }
}
