//! What the hive writes to the Queen journal and how a restarted hive is rebuilt from it
//! (docs/interfaces.md §12). Live code pushes an [`Entry`] at every authority decision; the
//! pump makes the pending entries durable before any reply leaves. `restore` applies a snapshot
//! and the entries after it without auditing or emitting anything a second time.

use crate::lifecycle::{LifecycleCommand, NodeState, SystemEvent};
use crate::registry::{RegistryState, Worker, WorkerKind};
use crate::{Hive, Lifecycle, Ring, ShardLabel};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use manifest::Manifest;
use serde::{Deserialize, Serialize};
use ticket::{Budget, Claims, Keyring, Meter, Quotas};

/// A spending limit as journaled (`None` is unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Limits {
    pub ticks: Option<u64>,
    pub ops: Option<u64>,
    pub bytes: Option<u64>,
}

impl From<Budget> for Limits {
    fn from(b: Budget) -> Self {
        Limits {
            ticks: b.ticks,
            ops: b.ops,
            bytes: b.bytes,
        }
    }
}

impl From<Limits> for Budget {
    fn from(l: Limits) -> Self {
        Budget {
            ticks: l.ticks,
            ops: l.ops,
            bytes: l.bytes,
        }
    }
}

/// One authority decision. The names are the journal's wire format: change them only with a
/// reader for the old ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Entry {
    /// `count` workers enrolled by one spawn, ids and ticket ids `first..first+count`.
    Spawn {
        first: u64,
        count: u32,
        kind: String,
        site: Option<String>,
        key_id: u8,
        issued_at_ms: u64,
        ttl_ms: u64,
        budget: Limits,
    },
    /// A ticket revoked (kill, budget, TTL, explicit revoke, key retired).
    Revoke {
        ticket: u64,
        expires_at_ms: u64,
        worker: Option<String>,
        reason: String,
    },
    /// A worker's budget or lifetime changed.
    Budget {
        worker: String,
        budget: Limits,
        expires_at_ms: u64,
    },
    Bind {
        from: String,
        to: String,
    },
    Unbind {
        to: String,
    },
    Lifecycle {
        state: String,
        reason: String,
    },
    KeyRetired {
        key_id: u8,
    },
    Epoch {
        epoch: u64,
    },
    /// An envelope's ACK, so a repeated `(id, idempotency_key)` is answered, not re-applied.
    Envelope {
        id: String,
        key: String,
        ack: String,
    },
    /// What a ticket had spent when it crossed a `journal.meter_step` boundary.
    Meter {
        ticket: u64,
        ops: u64,
        ticks: u64,
        bytes: u64,
    },
    /// Snapshot only: one live worker as it stood.
    Worker {
        seq: u64,
        kind: String,
        site: Option<String>,
        key_id: u8,
        issued_at_ms: u64,
        ttl_ms: u64,
        minted: Limits,
        budget: Limits,
        expires_at_ms: u64,
        ops: u64,
        ticks: u64,
        bytes: u64,
    },
    /// Snapshot only: the id sequence, so ids never repeat even after every worker is gone.
    Counters {
        next_seq: u64,
    },
    /// A GPU published by its bridge, or marked lost with it (docs/interfaces.md §8.4).
    GpuDevice {
        gpu: String,
        bridge: String,
        mem_mb: u32,
        streams: u32,
        lost: bool,
    },
    /// A lease granted (`req` when the scheduler placed a queued request).
    LeaseGrant {
        lease: u64,
        gpu: String,
        worker: String,
        tenant: String,
        priority: u8,
        mem_mb: u32,
        streams: u32,
        granted_ms: u64,
        expires_ms: u64,
        req: Option<u64>,
    },
    LeaseRenew {
        lease: u64,
        expires_ms: u64,
    },
    /// A lease ended: released, ttl, preempted, bridge-lost or holder-revoked.
    LeaseEnd {
        lease: u64,
        reason: String,
    },
    LeaseQuota {
        tenant: String,
        leases: u32,
    },
    /// A lease request queued for the scheduler.
    LeaseRequest {
        req: u64,
        worker: String,
        tenant: String,
        mem_mb: u32,
        streams: u32,
        ttl_ms: u64,
        priority: u8,
        enqueued_ms: u64,
    },
    LeaseCancel {
        req: u64,
        reason: String,
    },
    /// Snapshot only: lease and request id sequences.
    GpuCounters {
        next_lease: u64,
        next_req: u64,
    },
}

/// The whole authority state, as a snapshot stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub entries: Vec<Entry>,
    /// Absolute offset of the oldest audit byte kept, total audit lines, and the kept lines.
    pub audit_start: u64,
    pub audit_lines: u64,
    pub audit_tail: String,
}

/// What a restore found, for the boot report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    pub workers: usize,
    pub revocations: usize,
    pub entries: usize,
    /// End of the audit history read back from the store: lines after it (this boot's
    /// `boot` and `restore` lines) are not durable yet.
    pub audit_end: u64,
}

impl Hive {
    /// Entries decided since the last call, in order; the pump makes them durable before it
    /// sends any reply.
    #[must_use = "dropped entries are authority decisions a restart would forget"]
    pub fn take_journal(&mut self) -> Vec<Entry> {
        core::mem::take(&mut self.journal)
    }

    /// Whether decisions are waiting to be made durable.
    pub fn journal_pending(&self) -> bool {
        !self.journal.is_empty()
    }

    pub(crate) fn journal(&mut self, entry: Entry) {
        self.journal.push(entry);
    }

    /// The whole authority state as snapshot entries.
    pub fn snapshot(&self) -> State {
        let mut entries = Vec::new();
        entries.push(Entry::Counters {
            next_seq: self.registry.next_seq(),
        });
        entries.push(Entry::Lifecycle {
            state: String::from(self.lifecycle.state.as_str()),
            reason: String::from(self.lifecycle.reason),
        });
        entries.push(Entry::Epoch {
            epoch: self.writer_epoch,
        });
        entries.extend(
            self.retired_keys
                .iter()
                .map(|k| Entry::KeyRetired { key_id: *k }),
        );
        entries.extend(
            self.registry
                .iter()
                .map(|w| worker_entry(w, self.worker_meter(w))),
        );
        entries.extend(
            self.revoked
                .iter()
                .map(|(ticket, expires_at_ms)| Entry::Revoke {
                    ticket,
                    expires_at_ms,
                    worker: None,
                    reason: String::from("snapshot"),
                }),
        );
        entries.extend(self.binds.iter().map(|(from, to)| Entry::Bind {
            from: from.clone(),
            to: to.clone(),
        }));
        entries.extend(
            self.idempotency
                .iter()
                .map(|((id, key), ack)| Entry::Envelope {
                    id: id.clone(),
                    key: key.clone(),
                    ack: ack.clone(),
                }),
        );
        entries.extend(self.external.iter().map(|(ticket, m)| Entry::Meter {
            ticket: *ticket,
            ops: m.meter.ops,
            ticks: m.meter.ticks,
            bytes: m.meter.bytes,
        }));
        self.gpu_snapshot(&mut entries);
        let (audit_start, audit_lines, audit_tail) = self.audit.retained();
        State {
            entries,
            audit_start,
            audit_lines,
            audit_tail,
        }
    }

    /// Rebuilds a hive from a snapshot, the entries after it and the audit lines after it.
    /// Nothing is audited or emitted again; workers come back OFFLINE until they re-attach, and
    /// every ticket's meter is charged one `meter_step` beyond its last durable record, so a
    /// crash can cost budget but never give any back.
    pub fn restore<'a>(
        manifest: Manifest,
        keys: Keyring,
        hive_id: u64,
        now_ms: u64,
        state: Option<&'a State>,
        entries: impl Iterator<Item = &'a Entry>,
        audit: impl Iterator<Item = &'a [u8]>,
    ) -> (Hive, Restored) {
        let mut hive = Hive::new(manifest, keys, hive_id, now_ms);
        hive.journal.clear();
        // The history comes first; this boot's own line is written again after it.
        let boot_line = hive.audit.read(hive.audit.start(), usize::MAX).data;
        hive.audit = crate::audit::AuditLog::new(hive.manifest.hive.log_ring_bytes as usize);
        if let Some(state) = state {
            hive.audit.restore(
                state.audit_start,
                state.audit_lines,
                state.audit_tail.as_bytes(),
            );
        }
        for record in audit {
            hive.audit.restore_lines(record);
        }
        let mut report = Restored {
            audit_end: hive.audit.end(),
            ..Restored::default()
        };
        hive.audit.restore_lines(&boot_line);
        let mut marks: BTreeMap<u64, Meter> = BTreeMap::new();
        for entry in state.iter().flat_map(|s| s.entries.iter()).chain(entries) {
            hive.apply(entry, now_ms, &mut marks);
            report.entries += 1;
        }
        hive.gpu_restored();
        hive.charge_crash_margin(&marks, now_ms);
        report.workers = hive.registry.len();
        report.revocations = hive.revoked.len();
        // The restart itself is audited, after the lines that came before it.
        debug_assert!(hive.registry.len() <= hive.manifest.hive.workers_max as usize);
        if report.entries > 0 || state.is_some() {
            let entries = alloc::format!("{}", report.entries);
            let workers = alloc::format!("{}", report.workers);
            hive.audit.record(
                now_ms,
                "restore",
                &[("entries", &entries), ("workers", &workers)],
            );
        }
        (hive, report)
    }

    fn apply(&mut self, entry: &Entry, now_ms: u64, marks: &mut BTreeMap<u64, Meter>) {
        match entry {
            Entry::Spawn {
                first,
                count,
                kind,
                site,
                key_id,
                issued_at_ms,
                ttl_ms,
                budget,
            } => {
                // The live hive never held more than `workers_max` workers, so an honest
                // journal replays within it; a damaged one (a huge count, ids near the end of
                // the range) must neither overflow nor make replay grow without bound.
                let end = first.saturating_add(u64::from(*count));
                if *count > 0 {
                    self.registry.continue_after(end - 1);
                }
                for seq in *first..end {
                    if self.registry.len() >= self.manifest.hive.workers_max as usize {
                        break;
                    }
                    let restored = RestoredWorker {
                        seq,
                        kind,
                        site,
                        key_id: *key_id,
                        issued_at_ms: *issued_at_ms,
                        ttl_ms: *ttl_ms,
                        minted: *budget,
                        budget: *budget,
                        expires_at_ms: issued_at_ms.saturating_add(*ttl_ms),
                        meter: Meter::default(),
                    };
                    self.restore_worker(restored, now_ms);
                }
            }
            Entry::Worker {
                seq,
                kind,
                site,
                key_id,
                issued_at_ms,
                ttl_ms,
                minted,
                budget,
                expires_at_ms,
                ops,
                ticks,
                bytes,
            } => {
                let restored = RestoredWorker {
                    seq: *seq,
                    kind,
                    site,
                    key_id: *key_id,
                    issued_at_ms: *issued_at_ms,
                    ttl_ms: *ttl_ms,
                    minted: *minted,
                    budget: *budget,
                    expires_at_ms: *expires_at_ms,
                    meter: Meter {
                        ops: *ops,
                        ticks: *ticks,
                        bytes: *bytes,
                    },
                };
                let ticket = seq;
                marks.insert(*ticket, restored.meter);
                self.restore_worker(restored, now_ms);
            }
            Entry::Revoke {
                ticket,
                expires_at_ms,
                worker,
                ..
            } => {
                if let Some(id) = worker {
                    self.registry.remove(id);
                }
                self.registry.remove_ticket(*ticket);
                // A full set only shortens what is remembered of an already-gone worker.
                let _ = self.revoked.revoke(*ticket, *expires_at_ms, now_ms);
                self.external.remove(ticket);
            }
            Entry::Budget {
                worker,
                budget,
                expires_at_ms,
            } => {
                if let Some(w) = self.registry.get_mut(worker) {
                    w.budget = (*budget).into();
                    w.expires_at_ms = *expires_at_ms;
                    let ticket = w.ticket_id;
                    self.schedule(ticket);
                }
            }
            Entry::Bind { from, to } => self.apply_bind(from, to),
            Entry::Unbind { to } => self.binds.retain(|(_, t)| t != to),
            Entry::Lifecycle { state, reason } => {
                if let Some(state) = NodeState::parse(state) {
                    self.lifecycle = Lifecycle {
                        state,
                        reason: static_reason(reason),
                        since_ms: now_ms,
                    };
                }
            }
            Entry::KeyRetired { key_id } => {
                self.keys.retire(*key_id);
                if !self.retired_keys.contains(key_id) {
                    self.retired_keys.push(*key_id);
                }
            }
            Entry::Epoch { epoch } => self.writer_epoch = self.writer_epoch.max(*epoch),
            Entry::Envelope { id, key, ack } => {
                self.idempotency
                    .insert((id.clone(), key.clone()), ack.clone());
            }
            Entry::Meter {
                ticket,
                ops,
                ticks,
                bytes,
            } => {
                let mark = marks.entry(*ticket).or_default();
                mark.ops = mark.ops.max(*ops);
                mark.ticks = mark.ticks.max(*ticks);
                mark.bytes = mark.bytes.max(*bytes);
            }
            Entry::Counters { next_seq } => self.registry.continue_after(*next_seq),
            other => {
                let applied = self.apply_gpu(other);
                debug_assert!(applied, "every entry has a replay");
            }
        }
    }

    fn restore_worker(&mut self, w: RestoredWorker<'_>, now_ms: u64) {
        self.registry.continue_after(w.seq);
        let Some(kind) = WorkerKind::parse(w.kind) else {
            return;
        };
        let id = crate::Registry::id_of_seq(w.seq);
        // Past `workers_max` a restored worker stays out: fewer authorities, never more.
        let full = self.registry.len() >= self.manifest.hive.workers_max as usize;
        if full && self.registry.get(&id).is_none() {
            return;
        }
        let claims = Claims {
            version: ticket::VERSION,
            key_id: w.key_id,
            hive_id: self.hive_id,
            ticket_id: w.seq,
            role: kind.role(),
            subject: id.clone(),
            issued_at_ms: w.issued_at_ms,
            ttl_ms: w.ttl_ms,
            budget: w.minted.into(),
            scopes: Vec::new(),
            quotas: Quotas::default(),
        };
        // A worker whose key is no longer provisioned cannot be handed its ticket again: it
        // stays out, which is the safe direction.
        let Ok(text) = ticket::mint(&self.keys, &claims) else {
            return;
        };
        self.registry.insert(Worker {
            shard: ShardLabel::of(&id),
            id,
            kind,
            site: w.site.clone(),
            state: RegistryState::Offline,
            state_reason: "restored",
            ticket_id: w.seq,
            ticket: text,
            budget: w.budget.into(),
            meter: w.meter,
            ticks_from: self.tick_count,
            expires_at_ms: w.expires_at_ms,
            spawned_ms: w.issued_at_ms,
            last_seen_ms: now_ms,
            sessions: 0,
            telemetry: Ring::new(self.manifest.telemetry.ring_bytes as usize),
            records: 0,
            commands: Ring::new(crate::ctl::WORKER_COMMANDS_BYTES),
            wake_ms: None,
        });
        self.schedule(w.seq);
    }

    /// Charges every restored ticket one step past its last durable meter record, then ends
    /// the workers that this leaves over budget.
    fn charge_crash_margin(&mut self, marks: &BTreeMap<u64, Meter>, now_ms: u64) {
        let step = u64::from(self.manifest.journal.meter_step);
        let mut ids = Vec::new();
        for worker in self.registry.iter_mut() {
            let mark = marks.get(&worker.ticket_id).copied().unwrap_or_default();
            worker.meter.ops = worker.meter.ops.max(mark.ops) + step;
            worker.meter.ticks = worker.meter.ticks.max(mark.ticks) + step;
            worker.meter.bytes = worker.meter.bytes.max(mark.bytes);
            ids.push(worker.id.clone());
        }
        for (ticket, mark) in marks {
            if let Some(meter) = self.external.get_mut(ticket) {
                meter.meter.ops = meter.meter.ops.max(mark.ops) + step;
                meter.meter.bytes = meter.meter.bytes.max(mark.bytes);
            } else if self.registry.by_ticket(*ticket).is_none() {
                self.spent.insert(*ticket, *mark);
            }
        }
        for id in ids {
            self.enforce_budget(&id, now_ms);
        }
    }

    /// Records a meter checkpoint when `before..after` crossed a `meter_step` boundary.
    pub(crate) fn meter_mark(&mut self, ticket: u64, before: Meter, after: Meter) {
        let step = u64::from(self.manifest.journal.meter_step).max(1);
        let crossed = |a: u64, b: u64| a / step != b / step;
        if crossed(before.ops, after.ops) || crossed(before.ticks, after.ticks) {
            self.journal(Entry::Meter {
                ticket,
                ops: after.ops,
                ticks: after.ticks,
                bytes: after.bytes,
            });
        }
    }
}

struct RestoredWorker<'a> {
    seq: u64,
    kind: &'a str,
    site: &'a Option<String>,
    key_id: u8,
    issued_at_ms: u64,
    ttl_ms: u64,
    minted: Limits,
    budget: Limits,
    expires_at_ms: u64,
    meter: Meter,
}

fn worker_entry(w: &Worker, meter: Meter) -> Entry {
    // The hive minted this text itself, so it always decodes; the fallbacks only keep a
    // snapshot writable if that ever stopped being true.
    let claims = ticket::decode(&w.ticket, usize::MAX).map(|(c, _)| c).ok();
    Entry::Worker {
        seq: w.ticket_id,
        kind: String::from(w.kind.as_str()),
        site: w.site.clone(),
        key_id: claims.as_ref().map_or(0, |c| c.key_id),
        issued_at_ms: w.spawned_ms,
        ttl_ms: claims.as_ref().map_or(0, |c| c.ttl_ms),
        minted: claims.as_ref().map_or(w.budget, |c| c.budget).into(),
        budget: w.budget.into(),
        expires_at_ms: w.expires_at_ms,
        ops: meter.ops,
        ticks: meter.ticks,
        bytes: meter.bytes,
    }
}

/// Lifecycle reasons are static tags; a journaled one maps back to its tag.
fn static_reason(reason: &str) -> &'static str {
    let commands = [
        LifecycleCommand::Cordon,
        LifecycleCommand::Drain,
        LifecycleCommand::Resume,
        LifecycleCommand::Quiesce,
        LifecycleCommand::Reset,
    ];
    let events = [SystemEvent::BootComplete, SystemEvent::PowerOff];
    commands
        .iter()
        .map(|c| c.as_str())
        .chain(events.iter().map(|e| e.as_str()))
        .find(|tag| *tag == reason)
        .unwrap_or("restored")
}
