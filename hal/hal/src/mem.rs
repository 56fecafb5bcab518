//! An in-memory machine for tests: a manual clock, an in-memory network with bounded
//! per-direction buffers, a memory console, seeded entropy and a map-backed store.
//!
//! Every part is a cheap handle over shared state (`Rc<RefCell<_>>`): cloning a `MemHal` or
//! one of its parts gives another view of the same machine, so a test can hand the HAL to the
//! code under test and keep a handle to drive time, open connections and read output. It is
//! single-threaded by design and everything in it is deterministic for a given seed and script.
//!
//! ```
//! use cohesix_hal::mem::MemHal;
//! use cohesix_hal::{Clock, Net, NINEP_PORT};
//!
//! let mut hal = MemHal::new(7); // handed to the code under test
//! let driver = hal.clone(); // kept by the test: the same machine
//! driver.listen(NINEP_PORT);
//! let client = driver.connect(NINEP_PORT).expect("the port listens");
//! client.send(b"hello");
//! driver.advance_ms(5);
//!
//! // What the code under test does, through the `Net` and `Clock` traits:
//! let conn = hal.poll_accept(NINEP_PORT).expect("one connection waits");
//! let mut buf = [0u8; 16];
//! let n = hal.recv(conn, &mut buf).unwrap();
//! hal.send(conn, &buf[..n]).unwrap();
//!
//! assert_eq!(client.take_all(), b"hello");
//! assert_eq!(hal.now_ms(), 5);
//! ```

mod clock;
mod console;
mod entropy;
mod net;
mod store;

pub use clock::MemClock;
pub use console::MemConsole;
pub use entropy::MemEntropy;
pub use net::{peer_of, MemConn, MemNet, DEFAULT_CAPACITY};
pub use store::MemStore;

use alloc::vec::Vec;

use crate::{Clock, ConnId, Console, Entropy, Net, NetError, PeerAddr, Store, StoreError};

/// A whole machine in memory; implements every HAL trait, hence `Hal`.
#[derive(Clone, Debug)]
pub struct MemHal {
    clock: MemClock,
    net: MemNet,
    console: MemConsole,
    entropy: MemEntropy,
    store: MemStore,
}

impl MemHal {
    /// A machine at time zero whose entropy is drawn from `seed`, with 64 KiB network buffers
    /// and an unbounded store.
    pub fn new(seed: u64) -> Self {
        Self {
            clock: MemClock::new(),
            net: MemNet::new(),
            console: MemConsole::new(),
            entropy: MemEntropy::new(seed),
            store: MemStore::new(),
        }
    }

    /// Replaces the network with one buffering `bytes` per direction. Call before connecting:
    /// handles to the previous network no longer reach this machine.
    pub fn with_net_capacity(mut self, bytes: usize) -> Self {
        self.net = MemNet::with_capacity(bytes);
        self
    }

    /// Uses `store` (a clone shares its contents): a machine restarted over the same medium.
    pub fn with_store(mut self, store: MemStore) -> Self {
        self.store = store;
        self
    }

    /// Replaces the store with one limited to `bytes` (see `MemStore::with_capacity`).
    pub fn with_store_capacity(mut self, bytes: usize) -> Self {
        self.store = MemStore::with_capacity(bytes);
        self
    }

    pub fn clock(&self) -> &MemClock {
        &self.clock
    }

    pub fn net(&self) -> &MemNet {
        &self.net
    }

    pub fn console(&self) -> &MemConsole {
        &self.console
    }

    pub fn entropy(&self) -> &MemEntropy {
        &self.entropy
    }

    pub fn store(&self) -> &MemStore {
        &self.store
    }

    /// See `MemClock::advance_us`.
    pub fn advance_us(&self, us: u64) {
        self.clock.advance_us(us);
    }

    /// See `MemClock::advance_ms`.
    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance_ms(ms);
    }

    /// See `MemClock::set_us`.
    pub fn set_us(&self, us: u64) {
        self.clock.set_us(us);
    }

    /// See `MemNet::listen`.
    pub fn listen(&self, port: u16) {
        self.net.listen(port);
    }

    /// See `MemNet::connect`.
    pub fn connect(&self, port: u16) -> Option<MemConn> {
        self.net.connect(port)
    }

    /// See `MemNet::connect_from`.
    pub fn connect_from(&self, port: u16, ip: [u8; 4]) -> Option<MemConn> {
        self.net.connect_from(port, ip)
    }

    /// See `MemConsole::push_input`.
    pub fn push_input(&self, bytes: &[u8]) {
        self.console.push_input(bytes);
    }

    /// See `MemConsole::take_output`.
    pub fn take_output(&self) -> Vec<u8> {
        self.console.take_output()
    }
}

impl Clock for MemHal {
    fn now_us(&self) -> u64 {
        self.clock.now_us()
    }
}

impl Net for MemHal {
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
        self.net.close(conn);
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.net.peer(conn)
    }
}

impl Console for MemHal {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.console.console_read(buf)
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.console_write(bytes);
    }
}

impl Entropy for MemHal {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.entropy.fill_bytes(buf);
    }
}

impl Store for MemHal {
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
    use crate::{Hal, CONSOLE_PORT, NINEP_PORT};

    /// A miniature pump: echoes every accepted connection's bytes and the console, stamps the
    /// time, and records a nonce. It sees the machine only through `Hal`.
    fn echo_turn<H: Hal>(hal: &mut H, open: &mut Vec<ConnId>) {
        while let Some(conn) = hal.poll_accept(NINEP_PORT) {
            open.push(conn);
        }
        let mut buf = [0u8; 64];
        open.retain(|&conn| match hal.recv(conn, &mut buf) {
            Ok(n) => hal.send(conn, &buf[..n]).is_ok(),
            Err(_) => {
                hal.close(conn);
                false
            }
        });
        let n = hal.console_read(&mut buf);
        let line = buf[..n].to_vec();
        hal.console_write(&line);
        let mut nonce = [0u8; 8];
        hal.fill_bytes(&mut nonce);
        let stamp = hal.now_ms().to_le_bytes();
        // The store is unbounded here; a refusal would be a bug in the test machine.
        hal.store_append("turns", &stamp).expect("unbounded store");
        hal.store_put("nonce", &nonce).expect("unbounded store");
    }

    #[test]
    fn drives_code_written_against_the_hal_trait() {
        let mut hal = MemHal::new(1);
        let driver = hal.clone();
        driver.listen(NINEP_PORT);
        let client = driver.connect(NINEP_PORT).unwrap();
        assert!(driver.connect(CONSOLE_PORT).is_none());
        client.send(b"Tattach");
        driver.push_input(b"ping\r\n");
        driver.advance_ms(250);

        let mut open = Vec::new();
        echo_turn(&mut hal, &mut open);

        assert_eq!(client.take_all(), b"Tattach");
        assert_eq!(driver.take_output(), b"ping\r\n");
        assert_eq!(driver.store().log("turns"), [250u64.to_le_bytes().to_vec()]);
        assert_eq!(driver.net().open_connections(), 1);

        client.close();
        echo_turn(&mut hal, &mut open);
        assert!(open.is_empty());
        assert_eq!(driver.net().open_connections(), 0);
    }

    #[test]
    fn same_seed_same_machine() {
        let run = |seed| {
            let mut hal = MemHal::new(seed);
            let mut open = Vec::new();
            echo_turn(&mut hal, &mut open);
            hal.store().get("nonce")
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn builders_set_capacities() {
        let hal = MemHal::new(0).with_net_capacity(4).with_store_capacity(8);
        hal.listen(CONSOLE_PORT);
        let client = hal.connect(CONSOLE_PORT).unwrap();
        assert_eq!(client.send(b"123456"), 4);
        let mut store = hal.clone();
        assert_eq!(store.store_put("key", b"123456"), Err(StoreError::Full));
        hal.set_us(2_000);
        hal.advance_us(500);
        assert_eq!(hal.now_us(), 2_500);
    }
}
