//! `Machine`: an aarch64 board behind the HAL traits — PL011 console, generic timer clock,
//! smoltcp over the board's NIC, boot-seeded entropy and a bounded in-memory store. Every
//! board (QEMU virt, Pi 4, AWS, seL4) brings its machine up through this one type.

use alloc::vec::Vec;

use hal::mem::MemStore;
use hal::{Clock, ConnId, Console, Entropy, Net, NetError, PeerAddr, Store, StoreError};
use hal_smoltcp::{NetDevice, SmolNet};

use crate::entropy::BootEntropy;
use crate::gic::{GicV3, VIRTUAL_TIMER_INTID};
use crate::pl011::Pl011;
use crate::timer::{wait_for_interrupt, GenericTimer};

/// Serial bytes taken per `console_read`, so a paste flood cannot stall a turn.
const CONSOLE_READ_MAX: usize = 256;

/// The machine. Generic over the NIC: each board supplies its own, and tests a host-side wire.
pub struct Machine<D: NetDevice> {
    uart: Pl011,
    timer: GenericTimer,
    net: Option<SmolNet<D>>,
    entropy: BootEntropy,
    store: MemStore,
    /// Present when idle waits can sleep; without it `idle` returns at once (polling).
    gic: Option<GicV3>,
}

impl<D: NetDevice> Machine<D> {
    /// A machine without networking yet; the store refuses writes past `store_bytes`.
    pub fn new(uart: Pl011, timer: GenericTimer, entropy: BootEntropy, store_bytes: usize) -> Self {
        Self {
            uart,
            timer,
            net: None,
            entropy,
            store: MemStore::with_capacity(store_bytes),
            gic: None,
        }
    }

    /// Lets `idle` sleep on `gic`: the virtual timer and, if given, the NIC's interrupt wake
    /// the core. Returns `false` (and keeps polling) if the GIC would not come up.
    pub fn enable_wakeups(&mut self, mut gic: GicV3, nic_intid: Option<u32>) -> bool {
        if !gic.init() {
            return false;
        }
        gic.enable_ppi(VIRTUAL_TIMER_INTID);
        if let Some(intid) = nic_intid {
            gic.enable_spi(intid);
        }
        self.gic = Some(gic);
        true
    }

    /// Waits until the NIC signals or `max_us` passes; serial input is noticed within
    /// `max_us`. Without wake-ups enabled it returns at once.
    pub fn idle(&mut self, max_us: u64) {
        if self.gic.is_none() || self.uart.rx_ready() {
            return;
        }
        self.timer.arm_wakeup(max_us);
        wait_for_interrupt();
        self.timer.disarm_wakeup();
        if let Some(net) = self.net.as_mut() {
            net.device_mut().ack_interrupt();
        }
    }

    /// Adds the network; until then every port is closed.
    pub fn attach_net(&mut self, net: SmolNet<D>) {
        self.net = Some(net);
    }

    /// Replaces the entropy source (once the boot seed is known).
    pub fn reseed(&mut self, entropy: BootEntropy) {
        self.entropy = entropy;
    }

    pub fn net(&self) -> Option<&SmolNet<D>> {
        self.net.as_ref()
    }

    pub fn net_mut(&mut self) -> Option<&mut SmolNet<D>> {
        self.net.as_mut()
    }

    /// Moves frames; call before and after every pump turn. `true` if anything happened.
    pub fn poll_net(&mut self) -> bool {
        let now = self.timer.now_us();
        self.net.as_mut().is_some_and(|net| net.poll(now))
    }

    pub fn uart(&mut self) -> &mut Pl011 {
        &mut self.uart
    }

    pub fn timer(&self) -> GenericTimer {
        self.timer
    }
}

impl<D: NetDevice> Clock for Machine<D> {
    fn now_us(&self) -> u64 {
        self.timer.now_us()
    }
}

impl<D: NetDevice> Net for Machine<D> {
    fn poll_accept(&mut self, port: u16) -> Option<ConnId> {
        self.net.as_mut()?.poll_accept(port)
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> Result<usize, NetError> {
        self.net.as_mut().ok_or(NetError::Unknown)?.recv(conn, buf)
    }

    fn send(&mut self, conn: ConnId, buf: &[u8]) -> Result<usize, NetError> {
        self.net.as_mut().ok_or(NetError::Unknown)?.send(conn, buf)
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(net) = self.net.as_mut() {
            net.close(conn);
        }
    }

    fn peer(&self, conn: ConnId) -> Option<PeerAddr> {
        self.net.as_ref()?.peer(conn)
    }
}

impl<D: NetDevice> Console for Machine<D> {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len().min(CONSOLE_READ_MAX) {
            let Some(byte) = self.uart.read_byte() else {
                break;
            };
            buf[n] = byte;
            n += 1;
        }
        n
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.uart.write_bytes(bytes);
    }
}

impl<D: NetDevice> Entropy for Machine<D> {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        self.entropy.fill_bytes(buf);
    }
}

impl<D: NetDevice> Store for Machine<D> {
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
