//! The hardware abstraction layer: the five small traits through which the core meets the
//! world. Everything outside `core/` implements them; nothing inside `core/` calls anything else.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod conformance;
pub mod mem;

/// A connection handle, unique for the life of the HAL.
pub type ConnId = u32;

/// TCP port of the console protocol.
pub const CONSOLE_PORT: u16 = 31337;
/// TCP port of Secure9P.
pub const NINEP_PORT: u16 = 564;

/// Monotonic time since boot, and the wall clock when the machine has one.
pub trait Clock {
    fn now_us(&self) -> u64;
    fn now_ms(&self) -> u64 {
        self.now_us() / 1000
    }
    /// Milliseconds since the Unix epoch, if this machine knows them (hosted: system time;
    /// simulator: a virtual epoch; metal: provisioned time). The pump reads it once at boot to
    /// anchor hive time, so ticket lifetimes mean the same across restarts (docs/interfaces.md §5.4).
    fn wall_ms(&self) -> Option<u64> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The peer closed or the link reset; the connection is gone.
    Closed,
    /// No such connection (already closed by us).
    Unknown,
}

/// Connection-level networking. Implementations never block: `recv` returns `Ok(0)` when
/// nothing is buffered, and `send` may accept fewer bytes than offered.
pub trait Net {
    /// A newly accepted connection on `port`, if one is waiting.
    fn poll_accept(&mut self, port: u16) -> Option<ConnId>;
    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError>;
    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError>;
    fn close(&mut self, conn: ConnId);
    /// A printable peer address (`10.0.0.3:40212`) for audit lines, if known.
    fn peer(&self, conn: ConnId) -> Option<PeerAddr>;
    /// Stops (`true`) or resumes reading `conn`. The core pauses a connection whose peer does
    /// not read its replies: a paused connection's input is left in the kernel (so TCP flow
    /// control pushes back on the peer) and its readability never wakes the machine; only
    /// room to write does. Machines without readiness tracking may ignore it.
    fn set_paused(&mut self, _conn: ConnId, _paused: bool) {}
    /// What the network ran out of since boot (descriptors, sockets), for `/proc/pressure`.
    fn pressure(&self) -> NetPressure {
        NetPressure::default()
    }
}

/// Resources the network could not get, counted since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetPressure {
    /// Accepts that failed for lack of file descriptors or sockets (EMFILE, ENFILE, ENOBUFS).
    pub accept_exhausted: u64,
    /// Console connections admitted with the descriptor kept in reserve for the queen.
    pub console_reserve_used: u64,
    /// True while accepts are backing off after running out.
    pub backing_off: bool,
}

/// A bounded, printable peer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr {
    pub ip: [u8; 4],
    pub port: u16,
}

impl core::fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d] = self.ip;
        write!(f, "{a}.{b}.{c}.{d}:{}", self.port)
    }
}

/// The serial console: raw bytes in and out, never blocking.
pub trait Console {
    fn console_read(&mut self, buf: &mut [u8]) -> usize;
    fn console_write(&mut self, bytes: &[u8]);
}

/// Randomness: seeded ChaCha in the simulator, a hardware RNG or boot seed on metal.
pub trait Entropy {
    fn fill_bytes(&mut self, buf: &mut [u8]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The store is out of space (the caller refuses with `Quota`).
    Full,
    /// The medium failed.
    Io,
}

/// Small persistent key/value store plus append-only record logs (the Queen journal, spool,
/// settings, CAS staging). Every write is durable when it returns `Ok`; a write that returns an
/// error changed nothing. Records of a log have absolute indices from 0 that never change,
/// even after older records are trimmed.
pub trait Store {
    /// Copies the value of `key` into `out`, returning its length, or `None` if absent.
    fn store_get(&self, key: &str, out: &mut alloc::vec::Vec<u8>) -> Option<usize>;
    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Appends one record to `log` as a whole: after a crash it is there entirely or not at all.
    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError>;
    /// Appends to `out` up to `max` records of `log`, starting at absolute index `from` (or at
    /// the first kept record, if `from` was trimmed), and returns the index after the last one
    /// read. A missing log reads as empty.
    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut alloc::vec::Vec<alloc::vec::Vec<u8>>,
    ) -> Result<u64, StoreError>;
    /// Forgets the records of `log` before absolute index `before`; the rest keep their indices.
    fn store_trim(&mut self, log: &str, before: u64) -> Result<(), StoreError>;
}

/// A whole machine as the pump sees it.
pub trait Hal: Clock + Net + Console + Entropy + Store {}

impl<T: Clock + Net + Console + Entropy + Store> Hal for T {}
