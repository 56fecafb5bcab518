//! The pump: the cooperative event loop that drives the whole core over a HAL. Each turn it
//! reads the clock, expires budgets and sessions, accepts and services connections with a
//! bounded amount of work each, and writes replies; the same loop runs on metal and in the
//! simulator.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod admission;
mod console_backend;
mod console_conn;
mod durability;
mod guard;
mod ninep_conn;

use durability::Durability;
pub use durability::{BootError, BootReport, HIVE_ID_KEY};

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use console_conn::{ConsoleConn, SerialConsole};
use guard::Guard;
use hal::{ConnId, Hal};
use hive::{Event, Hive, SystemEvent};
use manifest::Manifest;
use ninedoor::{NineDoor, SessionId};
use ninep_conn::NinePConn;
use ticket::Keyring;

/// Secrets and facts provisioned at boot (never compiled in).
pub struct Provision {
    /// Keys that sign and verify tickets.
    pub keys: Keyring,
    /// The TCP console token; without one the network console refuses every handshake.
    pub console_token: Option<Vec<u8>>,
    /// Platform name reported by `/proc/boot` (`sim`, `qemu-virt`, `pi4`, ...).
    pub platform: &'static str,
    /// The hive's identity when provisioned (machines without a persistent store); otherwise
    /// it is generated once and kept in the store.
    pub hive_id: Option<u64>,
}

/// Counters of one turn, for benchmarks and the simulator's reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnStats {
    pub accepted: u32,
    pub serviced: u32,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub hung_up: u32,
    /// Connections paused this turn because their peers stopped reading replies ...
    pub paused: u32,
    /// ... and resumed because they read again.
    pub resumed: u32,
    /// Connections left holding whole requests past `secure9p.batch_max`: the next turn has
    /// work even if no new bytes arrive, so a host loop must not sleep.
    pub backlog: u32,
}

impl TurnStats {
    /// The turn moved bytes or connections, or left work for the next one: a host loop
    /// should turn again at once rather than wait for input.
    pub fn did_work(&self) -> bool {
        self.accepted > 0
            || self.bytes_in > 0
            || self.bytes_out > 0
            || self.hung_up > 0
            || self.backlog > 0
    }
}

/// Connections accepted per port per turn, so a connect storm cannot starve serving.
pub(crate) const ACCEPTS_PER_TURN: usize = 64;

pub struct Pump {
    nd: NineDoor,
    durability: Durability,
    /// Kept to rebuild the hive from its journal after a store fault.
    manifest: Manifest,
    keys: Keyring,
    platform: &'static str,
    token: Option<Vec<u8>>,
    ninep: BTreeMap<ConnId, NinePConn>,
    consoles: BTreeMap<ConnId, ConsoleConn>,
    serial: SerialConsole,
    /// Where the next turn starts servicing, so every connection gets its turn.
    rotor: ConnId,
    /// Admission of unauthenticated connections (manifest `[guard]`).
    guard: Guard,
    /// Connections paused now (their peers do not read replies).
    paused: usize,
    /// Times the hive was rebuilt from its store after a store fault.
    rebuilds: u64,
    /// When the next rebuild may be tried (see `RecoveryBackoff`).
    recovery: RecoveryBackoff,
}

/// A store that keeps refusing writes (a full disk) is re-read at most every `delay_ms`,
/// doubling from `RECOVERY_DELAY_MIN_MS` to `RECOVERY_DELAY_MAX_MS`, not on every turn: each
/// rebuild reads the whole journal back, and a pump that did so in a loop would spin.
#[derive(Debug, Clone, Copy, Default)]
struct RecoveryBackoff {
    not_before_ms: u64,
    delay_ms: u64,
}

const RECOVERY_DELAY_MIN_MS: u64 = 10;
const RECOVERY_DELAY_MAX_MS: u64 = 1_000;

impl RecoveryBackoff {
    fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.not_before_ms
    }

    fn tried(&mut self, now_ms: u64) {
        self.delay_ms = (self.delay_ms * 2).clamp(RECOVERY_DELAY_MIN_MS, RECOVERY_DELAY_MAX_MS);
        self.not_before_ms = now_ms.saturating_add(self.delay_ms);
    }
}

impl Pump {
    /// A fresh hive that ignores whatever the store holds (tests and benchmarks). Its
    /// decisions are still journaled to the HAL's store as it runs.
    pub fn new(manifest: Manifest, provision: Provision, now_ms: u64) -> Self {
        let keys = provision.keys.clone();
        let hive = Hive::new(
            manifest.clone(),
            provision.keys.clone(),
            provision.hive_id.unwrap_or(0),
            now_ms,
        );
        let durability = Durability::fresh(&manifest, &hive);
        Self::assemble(hive, durability, manifest, keys, provision, now_ms)
    }

    /// Boots the core from the HAL's store: the hive id, the latest snapshot and the journal
    /// after it. Refuses to boot from a journal it cannot read.
    pub fn boot<H: Hal>(
        hal: &mut H,
        manifest: Manifest,
        provision: Provision,
    ) -> Result<(Self, BootReport), BootError> {
        let keys = provision.keys.clone();
        let (hive, durability, report) = durability::boot(
            hal,
            manifest.clone(),
            provision.keys.clone(),
            provision.hive_id,
        )?;
        let now_ms = hal.now_ms() + durability.offset_ms;
        let pump = Self::assemble(hive, durability, manifest, keys, provision, now_ms);
        Ok((pump, report))
    }

    fn assemble(
        mut hive: Hive,
        durability: Durability,
        manifest: Manifest,
        keys: Keyring,
        provision: Provision,
        now_ms: u64,
    ) -> Self {
        // Nothing else is needed before the hive can take authority (a restored hive may
        // already be past BOOTING, which this leaves as it was).
        let _ = hive.system_event(SystemEvent::BootComplete, now_ms);
        let mut nd = NineDoor::new(hive, provision.platform);
        let serial = SerialConsole::new(&mut nd, now_ms);
        let guard = Guard::new(&manifest.guard);
        Self {
            guard,
            paused: 0,
            rebuilds: 0,
            recovery: RecoveryBackoff::default(),
            nd,
            durability,
            manifest,
            keys,
            platform: provision.platform,
            token: provision.console_token,
            ninep: BTreeMap::new(),
            consoles: BTreeMap::new(),
            serial,
            rotor: 0,
        }
    }

    /// Hive time: the HAL's monotonic clock anchored at boot (see `durability`).
    pub fn now_ms<H: Hal>(&self, hal: &H) -> u64 {
        hal.now_ms() + self.durability.offset_ms
    }

    /// The store refused a journal write: every connection is dropped unanswered and the
    /// hive is rebuilt from what the store holds, so memory never runs ahead of the journal.
    fn recover_from_fault<H: Hal>(&mut self, hal: &mut H) {
        for (conn, _) in core::mem::take(&mut self.ninep) {
            hal.close(conn);
        }
        for (conn, _) in core::mem::take(&mut self.consoles) {
            hal.close(conn);
        }
        self.guard = Guard::new(&self.manifest.guard);
        self.paused = 0;
        let provision = Provision {
            keys: self.keys.clone(),
            console_token: self.token.clone(),
            platform: self.platform,
            hive_id: Some(self.nd.hive().hive_id()),
        };
        if let Ok((mut pump, _)) = Self::boot(hal, self.manifest.clone(), provision) {
            let now_ms = pump.now_ms(hal);
            let fault = alloc::format!("{:?}", self.durability.fault);
            pump.nd
                .hive_mut()
                .accepted(now_ms, "pump", "journal-fault", &fault);
            pump.nd.hive_mut().adopt_streams(self.nd.hive_mut());
            let mut refused = core::mem::take(&mut self.durability.refused);
            refused.extend(self.nd.hive_mut().take_journal());
            pump.nd
                .hive_mut()
                .redecide_revocations(refused.iter(), now_ms);
            pump.rebuilds = self.rebuilds + 1;
            pump.recovery = self.recovery;
            *self = pump;
        }
        // If the store cannot even be read, the fault stays set: every reply is withheld and
        // a later turn tries again (see `RecoveryBackoff`).
    }

    /// Times the hive was rebuilt from its store after a store fault: like a restart, a
    /// rebuild forgets what was decided but never made durable.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    /// Where the durable part of the audit log ends (an absolute offset in the audit ring):
    /// every boot after a crash, and every rebuild after a store fault, holds at least this.
    pub fn audit_durable_end(&self) -> u64 {
        self.durability.audit_cursor()
    }

    pub fn ninedoor(&self) -> &NineDoor {
        &self.nd
    }

    pub fn ninedoor_mut(&mut self) -> &mut NineDoor {
        &mut self.nd
    }

    pub fn hive(&self) -> &Hive {
        self.nd.hive()
    }

    /// Moves buffered core events out (transcripts, logs); returns events dropped so far.
    pub fn drain_events(&mut self, out: &mut Vec<Event>) -> u64 {
        self.nd.hive_mut().drain_events(out)
    }

    pub fn connections(&self) -> usize {
        self.ninep.len() + self.consoles.len()
    }

    /// Memory the pump holds per live Secure9P connection (engine, buffers), in bytes.
    pub fn ninep_heap_bytes(&self) -> usize {
        self.ninep.values().map(NinePConn::heap_bytes).sum()
    }

    /// Writes the serial banner and first prompt.
    pub fn banner<H: Hal>(&mut self, hal: &mut H) {
        let name = alloc::string::String::from(self.nd.hive().manifest().hive.name.as_str());
        self.serial.banner(hal, &name, self.nd.platform());
    }

    /// One turn of the loop. Work per turn is bounded by the manifest's `pump` limits.
    pub fn turn<H: Hal>(&mut self, hal: &mut H) -> TurnStats {
        if self.durability.fault.is_some() {
            let now_ms = self.now_ms(hal);
            if self.recovery.due(now_ms) {
                self.recovery.tried(now_ms);
                self.recover_from_fault(hal);
            }
        }
        let now_ms = self.now_ms(hal);
        let mut stats = TurnStats::default();
        self.nd.tick(now_ms);
        self.accept(hal, now_ms, &mut stats);
        self.service(hal, now_ms, &mut stats);
        self.serial.service(
            hal,
            &mut self.nd,
            &mut self.durability,
            self.token.as_deref(),
            now_ms,
        );
        self.hang_up_closed(hal, now_ms, &mut stats);
        self.durability.settle(hal, &mut self.nd, now_ms);
        if self.durability.fault.is_none() {
            self.recovery = RecoveryBackoff::default();
        }
        stats
    }

    fn service<H: Hal>(&mut self, hal: &mut H, now_ms: u64, stats: &mut TurnStats) {
        let budget = self.nd.hive().manifest().pump.conns_per_turn as usize;
        let ids: Vec<ConnId> = self
            .ninep
            .range(self.rotor..)
            .chain(self.ninep.range(..self.rotor))
            .map(|(id, _)| *id)
            .take(budget)
            .collect();
        let mut gone: Vec<ConnId> = Vec::new();
        for id in &ids {
            let Some(conn) = self.ninep.get_mut(id) else {
                continue;
            };
            stats.serviced += 1;
            let alive = conn.service(
                hal,
                *id,
                &mut self.nd,
                &mut self.durability,
                &mut self.guard,
                now_ms,
                stats,
            );
            if !alive {
                gone.push(*id);
            } else if self.guard.is_waiting(*id) && conn.authenticated(&self.nd) {
                self.guard.authenticated(*id);
            }
        }
        self.rotor = ids.last().map_or(0, |last| last.wrapping_add(1));
        for id in gone {
            if self.drop_conn(hal, id, now_ms) {
                stats.hung_up += 1;
            }
        }
        let ids: Vec<ConnId> = self.consoles.keys().copied().collect();
        for id in ids {
            let Some(conn) = self.consoles.get_mut(&id) else {
                continue;
            };
            let alive = conn.service(
                hal,
                id,
                &mut self.nd,
                &mut self.durability,
                &mut self.guard,
                now_ms,
                stats,
            );
            if !alive && self.drop_conn(hal, id, now_ms) {
                stats.hung_up += 1;
            }
        }
        self.paused = (self.paused + stats.paused as usize).saturating_sub(stats.resumed as usize);
    }

    /// Hangs up connections whose sessions the core closed (revocation, deadlines).
    fn hang_up_closed<H: Hal>(&mut self, hal: &mut H, now_ms: u64, stats: &mut TurnStats) {
        let closed = self.nd.take_closed();
        if closed.is_empty() {
            return;
        }
        let closed: alloc::collections::BTreeSet<SessionId> = closed.into_iter().collect();
        let conns: Vec<ConnId> = self
            .ninep
            .iter()
            .filter(|(_, n)| closed.contains(&n.sid()))
            .map(|(c, _)| *c)
            .chain(
                self.consoles
                    .iter()
                    .filter(|(_, n)| closed.contains(&n.sid()))
                    .map(|(c, _)| *c),
            )
            .collect();
        for conn in conns {
            if self.drop_conn(hal, conn, now_ms) {
                stats.hung_up += 1;
            }
        }
    }
}
