//! The HAL on a hosted operating system: real TCP sockets, a monotonic clock, OS entropy.
//! It lets the unchanged core pump run as an ordinary process (`cohsh serve`), so a hive can
//! be tried, tested and scripted on any Linux or macOS machine without QEMU.

mod clock;
mod console;
mod entropy;
mod local;
mod net;
mod store;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

pub use clock::StdClock;
pub use console::StdConsole;
pub use entropy::OsEntropy;
use hal::{
    Clock, ConnId, Console, Entropy, Net, NetError, NetPressure, PeerAddr, Store, StoreError,
};
pub use local::LocalLinks;
pub use net::StdNet;
pub use store::StdStore;

/// A whole hosted machine; implements every HAL trait, hence `hal::Hal`.
pub struct StdHal {
    clock: StdClock,
    net: StdNet,
    console: StdConsole,
    entropy: OsEntropy,
    store: StdStore,
}

impl StdHal {
    /// A machine whose time starts now.
    pub fn new(net: StdNet, console: StdConsole, store: StdStore) -> Self {
        Self {
            clock: StdClock::new(),
            net,
            console,
            entropy: OsEntropy,
            store,
        }
    }

    /// Binds the console and Secure9P ports to these addresses (port 0: any free port), with
    /// no serial console and a memory store.
    pub fn bind(console_addr: SocketAddr, ninep_addr: SocketAddr) -> io::Result<Self> {
        let net = StdNet::bind(&[
            (hal::CONSOLE_PORT, console_addr),
            (hal::NINEP_PORT, ninep_addr),
        ])?;
        Ok(Self::new(net, StdConsole::none(), StdStore::memory()))
    }

    /// Also accepts in-process clients over `links` (see `StdNet::with_local`).
    pub fn with_local(mut self, links: &LocalLinks) -> io::Result<Self> {
        self.net.attach_local(links)?;
        Ok(self)
    }

    /// Replaces the serial console.
    pub fn with_console(mut self, console: StdConsole) -> Self {
        self.console = console;
        self
    }

    /// Replaces the store.
    pub fn with_store(mut self, store: StdStore) -> Self {
        self.store = store;
        self
    }

    pub fn net(&self) -> &StdNet {
        &self.net
    }

    pub fn store(&self) -> &StdStore {
        &self.store
    }

    /// Where a logical port (`hal::CONSOLE_PORT`, `hal::NINEP_PORT`) was bound.
    pub fn local_addr(&self, port: u16) -> Option<SocketAddr> {
        self.net.local_addr(port)
    }

    /// See `StdNet::has_pending`.
    pub fn has_pending(&self) -> bool {
        self.net.has_pending()
    }

    /// See `StdNet::wait`. Never sleeps past the end of an accept back-off.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<usize> {
        let timeout = match self.net.next_deadline() {
            Some(at) => timeout.min(at.saturating_duration_since(std::time::Instant::now())),
            None => timeout,
        };
        self.net.wait(timeout)
    }
}

impl Clock for StdHal {
    fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// System time: a hosted hive's ticket lifetimes are wall-clock lifetimes.
    fn wall_ms(&self) -> Option<u64> {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        u64::try_from(since.as_millis()).ok()
    }
}

impl Net for StdHal {
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

    fn set_paused(&mut self, conn: ConnId, paused: bool) {
        self.net.set_paused(conn, paused);
    }

    fn pressure(&self) -> NetPressure {
        self.net.pressure()
    }
}

impl Console for StdHal {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.console.console_read(buf)
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.console_write(bytes);
    }
}

impl Entropy for StdHal {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.entropy.fill_bytes(buf);
    }
}

impl Store for StdHal {
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

    fn assert_hal<H: hal::Hal>(_: &H) {}

    #[test]
    fn binds_both_ports_on_loopback() {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let hal = StdHal::bind(any, any).unwrap();
        assert_hal(&hal);
        let console = hal.local_addr(hal::CONSOLE_PORT).unwrap();
        let ninep = hal.local_addr(hal::NINEP_PORT).unwrap();
        assert_ne!(console.port(), ninep.port());
        assert!(std::net::TcpStream::connect(console).is_ok());
    }
}
