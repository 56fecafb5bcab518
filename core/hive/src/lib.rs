//! The Queen's authority: the worker registry and lifecycle, the `/queen/ctl` grammar, budgets
//! with revocation, per-worker telemetry rings and the audit journal. It is pure state: callers
//! hand it inputs with the current time and read back replies, audit lines and events.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod audit;
mod auth;
mod budget;
pub mod ctl;
mod cut;
pub mod durable;
mod events;
pub mod gpu;
pub mod lifecycle;
mod rates;
pub mod registry;
pub mod ring;
mod shard;
mod telemetry;
mod wake;

pub use audit::{AuditLog, AUDIT_LINE_MAX};
pub use auth::{AttachRefusal, Principal};
pub use cut::{CutReason, RootView};
pub use durable::{Entry as JournalEntry, Restored, State as JournalState};
pub use events::{Event, Pressure};
pub use lifecycle::{Lifecycle, LifecycleCommand, NodeState, SystemEvent};
pub use registry::{Registry, RegistryState, Worker, WorkerKind};
pub use ring::{Ring, RingRead};
pub use shard::ShardLabel;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use manifest::Manifest;
use secure9p::Error;
use ticket::{Budget, Keyring, Meter, RevocationSet};

/// What a ticket minted outside the hive (operator, relay, bridge, vendor) may spend, and has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketMeter {
    pub key_id: u8,
    pub budget: Budget,
    pub meter: Meter,
    pub expires_at_ms: u64,
}

/// A refusal with its named class and a short stable detail tag for replies and audit lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub error: Error,
    pub detail: &'static str,
}

impl Refusal {
    pub const fn new(error: Error, detail: &'static str) -> Self {
        Self { error, detail }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Refusal::new(error, error.name())
    }
}

/// The hive's whole authority state.
pub struct Hive {
    manifest: Manifest,
    /// `manifest.fingerprint()`, computed once: the manifest never changes after boot and
    /// `/proc/boot` reports it on every read.
    fingerprint: u64,
    keys: Keyring,
    /// This hive's identity: tickets naming another hive are refused.
    hive_id: u64,
    registry: Registry,
    revoked: RevocationSet,
    /// Meters for tickets minted outside the hive (operators, relays), by ticket id.
    external: BTreeMap<u64, TicketMeter>,
    /// The earliest expiry among `external`, so `tick` sweeps it only when one has lapsed.
    external_expiry: u64,
    /// Spending restored from the journal for tickets not attached since the restart.
    spent: BTreeMap<u64, Meter>,
    /// Keys retired at run time; they stay retired across restarts.
    retired_keys: Vec<u8>,
    /// Authority decisions not yet durable (`take_journal`).
    journal: Vec<durable::Entry>,
    audit: AuditLog,
    lifecycle: Lifecycle,
    pressure: Pressure,
    binds: Vec<(String, String)>,
    /// Token buckets of scopes with a request rate.
    rates: rates::ScopeRates,
    idempotency: ctl::IdempotencyCache,
    writer_epoch: u64,
    events: VecDeque<Event>,
    events_dropped: u64,
    /// Ticket ids revoked since the last `take_revoked`: their sessions must close now.
    closing: Vec<u64>,
    last_tick_ms: u64,
    /// Hive ticks since this hive object was made; lazily charged ticks count from it.
    tick_count: u64,
    /// Workers the last `tick` took off the wake queue.
    tick_due: usize,
    boot_ms: u64,
    /// GPU leases and the lease request queue.
    gpu: gpu::Gpus,
}

impl Hive {
    /// A hive in BOOTING state. `manifest` must already be validated.
    pub fn new(manifest: Manifest, keys: Keyring, hive_id: u64, now_ms: u64) -> Self {
        let audit = AuditLog::new(manifest.hive.log_ring_bytes as usize);
        let revoked = RevocationSet::new(manifest.ticket.revocations_max as usize);
        let idempotency = ctl::IdempotencyCache::new(manifest.hive.idempotency_window as usize);
        let gpu = gpu::Gpus::new(&manifest);
        let mut hive = Self {
            fingerprint: manifest.fingerprint(),
            manifest,
            keys,
            hive_id,
            registry: Registry::default(),
            revoked,
            external: BTreeMap::new(),
            external_expiry: u64::MAX,
            spent: BTreeMap::new(),
            retired_keys: Vec::new(),
            journal: Vec::new(),
            audit,
            lifecycle: Lifecycle::booting(now_ms),
            pressure: Pressure::default(),
            binds: Vec::new(),
            rates: rates::ScopeRates::default(),
            idempotency,
            writer_epoch: 0,
            events: VecDeque::new(),
            events_dropped: 0,
            closing: Vec::new(),
            last_tick_ms: now_ms,
            tick_count: 0,
            tick_due: 0,
            boot_ms: now_ms,
            gpu,
        };
        let fingerprint = alloc::format!("{:016x}", hive.fingerprint);
        let name = hive.manifest.hive.name.clone();
        hive.audit.record(
            now_ms,
            "boot",
            &[("hive", &name), ("manifest", &fingerprint)],
        );
        hive
    }

    /// After the hive was rebuilt from its store (a store fault), keeps what the store does
    /// not hold: each surviving worker's telemetry and command streams, so a fault costs
    /// connections, never data already accepted.
    pub fn adopt_streams(&mut self, old: &mut Hive) {
        for worker in self.registry.iter_mut() {
            if let Some(prev) = old.registry.get_mut(&worker.id) {
                core::mem::swap(&mut worker.telemetry, &mut prev.telemetry);
                core::mem::swap(&mut worker.commands, &mut prev.commands);
                worker.records = prev.records;
            }
        }
    }

    /// After a rebuild from the store, decides again every revocation in entries the store
    /// refused: their sessions were closed already, and forgetting them would hand authority
    /// back. Revoking is never unsafe to repeat; the other decisions in those entries were
    /// never acknowledged and stay forgotten.
    pub fn redecide_revocations<'a>(
        &mut self,
        refused: impl Iterator<Item = &'a durable::Entry>,
        now_ms: u64,
    ) {
        for entry in refused {
            let durable::Entry::Revoke {
                ticket,
                expires_at_ms,
                reason,
                ..
            } = entry
            else {
                continue;
            };
            let reason = revocation_tag(reason);
            if !self.revoked.is_revoked(*ticket) {
                // A full revocation set is audited by `revoke_ticket`; nothing else to do.
                let _ = self.revoke_ticket(*ticket, *expires_at_ms, reason, now_ms);
            }
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest's fingerprint (`Manifest::fingerprint`).
    pub fn manifest_fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    pub fn pressure(&self) -> &Pressure {
        &self.pressure
    }

    pub fn binds(&self) -> &[(String, String)] {
        &self.binds
    }

    pub fn writer_epoch(&self) -> u64 {
        self.writer_epoch
    }

    pub fn boot_ms(&self) -> u64 {
        self.boot_ms
    }

    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// This hive's identity, carried in every ticket it accepts.
    pub fn hive_id(&self) -> u64 {
        self.hive_id
    }

    /// The meter of a ticket minted outside the hive, once it has attached.
    pub fn ticket_meter(&self, ticket_id: u64) -> Option<&TicketMeter> {
        self.external.get(&ticket_id)
    }

    /// Revoked tickets remembered until their TTL lapses.
    pub fn revocations(&self) -> usize {
        self.revoked.len()
    }

    /// Ticket ids revoked since the last call; every session holding one must close now.
    pub fn take_revoked(&mut self) -> Vec<u64> {
        core::mem::take(&mut self.closing)
    }

    /// Moves buffered core events into `out` (for the transcript and the pump's logs).
    pub fn drain_events(&mut self, out: &mut Vec<Event>) -> u64 {
        out.extend(self.events.drain(..));
        self.events_dropped
    }

    /// Records a refusal decided anywhere in the core: counts it and audits it.
    pub fn refused(&mut self, now_ms: u64, who: &str, verb: &str, refusal: Refusal) {
        self.record_refusal(now_ms, who, verb, refusal.error, refusal.detail);
        self.emit(Event::Refused {
            error: refusal.error,
            detail: refusal.detail,
        });
    }

    /// `refused` for details that are not static tags (console verbs, peer-supplied words).
    pub fn record_refusal(
        &mut self,
        now_ms: u64,
        who: &str,
        verb: &str,
        error: Error,
        detail: &str,
    ) {
        self.pressure.count(error);
        self.audit.record(
            now_ms,
            "deny",
            &[
                ("who", who),
                ("verb", verb),
                ("reason", error.reason()),
                ("detail", detail),
            ],
        );
    }

    /// Counts a refusal in `/proc/pressure` without an audit line (refusals of peers that
    /// never authenticated are written to the security log instead).
    pub fn count_refusal(&mut self, error: Error) {
        self.pressure.count(error);
    }

    /// Total refusals ever counted, across classes.
    pub fn refusals(&self) -> u64 {
        self.pressure.list().iter().map(|(_, n)| n).sum()
    }

    /// Records an accepted decision in the audit log.
    pub fn accepted(&mut self, now_ms: u64, who: &str, verb: &str, what: &str) {
        self.audit.record(
            now_ms,
            "accept",
            &[("who", who), ("verb", verb), ("what", what)],
        );
    }

    /// An operator's note appended to `/log/queen.log`: audited as a note by `who`, never
    /// mistaken for a decision of the hive (the line is one `text=` value, quoted).
    pub fn note(&mut self, now_ms: u64, who: &str, text: &str) {
        self.audit
            .record(now_ms, "note", &[("who", who), ("text", text)]);
    }

    /// Applies an enumerated system event to the node lifecycle.
    pub fn system_event(&mut self, event: SystemEvent, now_ms: u64) -> Result<(), Refusal> {
        let to = event
            .target(self.lifecycle.state)
            .ok_or(Refusal::new(Error::Invalid, "bad-transition"))?;
        self.transition(to, event.as_str(), now_ms);
        Ok(())
    }

    /// Handles one line written to `/queen/lifecycle/ctl`.
    pub fn lifecycle_ctl(&mut self, line: &str, who: &str, now_ms: u64) -> Result<String, Refusal> {
        let result = LifecycleCommand::parse(line)
            .ok_or(Refusal::new(Error::Invalid, "unknown-command"))
            .and_then(|cmd| {
                let to = cmd
                    .target(self.lifecycle.state)
                    .ok_or(Refusal::new(Error::Invalid, "bad-transition"))?;
                Ok((cmd, to))
            });
        match result {
            Ok((cmd, to)) => {
                let from = self.lifecycle.state;
                self.transition(to, cmd.as_str(), now_ms);
                if to == NodeState::Booting {
                    // A reset re-establishes authority at once: the node has no slow boot.
                    self.transition(NodeState::Online, "boot-complete", now_ms);
                }
                Ok(alloc::format!(
                    "lifecycle cmd={} old={} new={}",
                    cmd.as_str(),
                    from,
                    self.lifecycle.state
                ))
            }
            Err(refusal) => {
                self.refused(now_ms, who, "lifecycle", refusal);
                Err(refusal)
            }
        }
    }

    fn transition(&mut self, to: NodeState, reason: &'static str, now_ms: u64) {
        let from = self.lifecycle.state;
        self.lifecycle = Lifecycle {
            state: to,
            reason,
            since_ms: now_ms,
        };
        self.journal(durable::Entry::Lifecycle {
            state: String::from(to.as_str()),
            reason: String::from(reason),
        });
        self.audit.record(
            now_ms,
            "lifecycle",
            &[
                ("old", from.as_str()),
                ("new", to.as_str()),
                ("reason", reason),
            ],
        );
        self.emit(Event::Lifecycle { from, to, reason });
    }

    fn emit(&mut self, event: Event) {
        if self.events.len() >= self.manifest.hive.events_max as usize {
            self.events_dropped += 1;
            return;
        }
        self.events.push_back(event);
    }

    /// Approximate heap bytes held for registered workers (registry entries and rings).
    pub fn worker_heap_bytes(&self) -> usize {
        self.registry
            .iter()
            .map(|w| core::mem::size_of::<Worker>() + w.heap_bytes() + 2 * w.id.len() + 48)
            .sum()
    }
}

#[cfg(test)]
mod tests;

/// A journaled revocation reason as the static tag audit lines use.
fn revocation_tag(reason: &str) -> &'static str {
    [
        "budget-ops",
        "budget-ticks",
        "budget-bytes",
        "ttl",
        "killed",
        "key-retired",
    ]
    .into_iter()
    .find(|known| *known == reason)
    .unwrap_or("revoked")
}
