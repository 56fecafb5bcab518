//! Executing `/queen/ctl` commands: spawn, kill, budget, bind, and the idempotent envelope
//! with writer-epoch fencing.

use super::grammar::{self as ctl, BindSpec, BudgetSpec, Command, Spawn};
use crate::durable::Entry;
use crate::registry::{RegistryState, Worker, WorkerKind};
use crate::{Event, Hive, Refusal, Ring, ShardLabel};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use secure9p::Error;
use ticket::{Budget, Claims, Meter, Quotas};

/// Bytes of queen-to-worker commands kept per worker.
pub const WORKER_COMMANDS_BYTES: usize = 1024;

/// Successful envelope replies remembered by `(id, idempotency_key)`, oldest evicted first.
pub(crate) struct IdempotencyCache {
    capacity: usize,
    order: VecDeque<(String, String)>,
    acks: BTreeMap<(String, String), String>,
}

impl IdempotencyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            order: VecDeque::new(),
            acks: BTreeMap::new(),
        }
    }

    fn get(&self, key: &(String, String)) -> Option<&String> {
        self.acks.get(key)
    }

    /// Remembered envelopes, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&(String, String), &String)> {
        self.order
            .iter()
            .filter_map(|key| self.acks.get_key_value(key))
    }

    pub(crate) fn insert(&mut self, key: (String, String), ack: String) {
        if self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.acks.remove(&old);
            }
        }
        self.order.push_back(key.clone());
        self.acks.insert(key, ack);
    }
}

impl Hive {
    /// Handles one line written to `/queen/ctl` by `who`. The reply is decided (and audited)
    /// before any later line runs; a refused line changes nothing.
    pub fn ctl(&mut self, line: &str, who: &str, now_ms: u64) -> Result<String, Refusal> {
        let result = if line.len() > self.manifest.hive.ctl_line_max as usize {
            Err(Refusal::new(Error::TooBig, "line-too-long"))
        } else {
            ctl::parse(line).and_then(|cmd| self.execute(cmd, now_ms))
        };
        match &result {
            Ok(ack) => self.accepted(now_ms, who, "ctl", ack),
            Err(refusal) => self.refused(now_ms, who, "ctl", *refusal),
        }
        result
    }

    fn execute(&mut self, cmd: Command, now_ms: u64) -> Result<String, Refusal> {
        match cmd {
            Command::Spawn(spawn) => self.spawn(spawn, now_ms),
            Command::Kill(id) => {
                if self.registry.get(&id).is_none() {
                    return Err(Refusal::new(Error::NotFound, "no-such-worker"));
                }
                self.revoke_worker(&id, "killed", now_ms);
                Ok(alloc::format!("kill id={id}"))
            }
            Command::Budget(spec) => self.set_budget(spec, now_ms),
            Command::Bind(bind) => self.bind(bind),
            Command::Unbind(spec) => self.unbind(&spec.to),
            Command::Revoke(spec) => self.revoke_by_id(spec.ticket, now_ms),
            Command::RetireKey(key_id) => self.retire_key(key_id, now_ms),
            Command::Envelope {
                id,
                key,
                epoch,
                cmd,
            } => self.envelope(id, key, epoch, *cmd, now_ms),
        }
    }

    fn envelope(
        &mut self,
        id: String,
        key: String,
        epoch: u64,
        cmd: Command,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        if epoch < self.writer_epoch {
            return Err(Refusal::new(Error::Perm, "fenced"));
        }
        let cache_key = (id, key);
        if let Some(ack) = self.idempotency.get(&cache_key) {
            return Ok(ack.clone());
        }
        if epoch > self.writer_epoch {
            let (old, new) = (
                alloc::format!("{}", self.writer_epoch),
                alloc::format!("{epoch}"),
            );
            self.audit
                .record(now_ms, "epoch", &[("old", &old), ("new", &new)]);
            self.writer_epoch = epoch;
            self.journal(Entry::Epoch { epoch });
        }
        let ack = self.execute(cmd, now_ms)?;
        self.journal(Entry::Envelope {
            id: cache_key.0.clone(),
            key: cache_key.1.clone(),
            ack: ack.clone(),
        });
        self.idempotency.insert(cache_key, ack.clone());
        Ok(ack)
    }

    fn spawn(&mut self, spawn: Spawn, now_ms: u64) -> Result<String, Refusal> {
        let kind = WorkerKind::parse(&spawn.kind)
            .ok_or(Refusal::new(Error::Invalid, "unknown-worker-kind"))?;
        if kind == WorkerKind::Gpu && !self.manifest.features.gpu {
            return Err(Refusal::new(Error::Unsupported, "gpu-disabled"));
        }
        if spawn.lease.is_some() && kind != WorkerKind::Gpu {
            return Err(Refusal::new(Error::Invalid, "lease-needs-gpu"));
        }
        if !self.lifecycle.state.accepts_work() {
            return Err(Refusal::new(Error::Perm, "lifecycle"));
        }
        let limits = &self.manifest.hive;
        if spawn.count == 0 || spawn.count > limits.spawn_batch_max {
            return Err(Refusal::new(Error::TooBig, "count"));
        }
        if self.registry.len() + spawn.count as usize > limits.workers_max as usize {
            return Err(Refusal::new(Error::Quota, "workers-max"));
        }
        let key_id = self
            .keys
            .active_id()
            .ok_or(Refusal::new(Error::Perm, "no-hive-key"))?;
        let ttl_s = spawn.budget.ttl_s.unwrap_or(limits.default_ttl_s);
        if ttl_s == 0 {
            return Err(Refusal::new(Error::Invalid, "ttl"));
        }
        let ops = spawn
            .budget
            .ops
            .or(Some(u64::from(limits.default_ops)).filter(|o| *o > 0));
        let budget = Budget {
            ticks: spawn.budget.ticks,
            ops,
            bytes: None,
        };
        let mut ids: Vec<String> = Vec::with_capacity(spawn.count as usize);
        let first = self.registry.next_seq() + 1;
        for _ in 0..spawn.count {
            match self.enroll(kind, &spawn.site, budget, key_id, ttl_s, now_ms) {
                Ok(id) => ids.push(id),
                Err(refusal) if ids.is_empty() => return Err(refusal),
                // Workers already enrolled stay enrolled (and journaled); the ACK counts them.
                Err(_) => break,
            }
        }
        self.journal(Entry::Spawn {
            first,
            count: ids.len() as u32,
            kind: String::from(kind.as_str()),
            site: spawn.site.clone(),
            key_id,
            issued_at_ms: now_ms,
            ttl_ms: u64::from(ttl_s) * 1000,
            budget: budget.into(),
        });
        let span = match (ids.first(), ids.last()) {
            (Some(first), Some(last)) if ids.len() > 1 => alloc::format!("{first}..{last}"),
            (Some(first), _) => first.clone(),
            _ => String::new(),
        };
        Ok(alloc::format!(
            "spawn kind={} count={} ids={span}",
            kind.as_str(),
            ids.len()
        ))
    }

    fn enroll(
        &mut self,
        kind: WorkerKind,
        site: &Option<String>,
        budget: Budget,
        key_id: u8,
        ttl_s: u32,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        let (id, ticket_id) = self.registry.allocate();
        let claims = Claims {
            version: ticket::VERSION,
            key_id,
            hive_id: self.hive_id,
            ticket_id,
            role: kind.role(),
            subject: id.clone(),
            issued_at_ms: now_ms,
            ttl_ms: u64::from(ttl_s) * 1000,
            budget,
            scopes: Vec::new(),
            quotas: Quotas::default(),
        };
        let text = ticket::mint(&self.keys, &claims)
            .map_err(|_| Refusal::new(Error::Invalid, "mint-failed"))?;
        let worker = Worker {
            shard: ShardLabel::of(&id),
            id: id.clone(),
            kind,
            site: site.clone(),
            state: RegistryState::Pending,
            state_reason: "spawned",
            ticket_id,
            ticket: text,
            budget,
            meter: Meter::default(),
            ticks_from: self.tick_count,
            expires_at_ms: claims.expires_at_ms(),
            spawned_ms: now_ms,
            last_seen_ms: now_ms,
            sessions: 0,
            telemetry: Ring::new(self.manifest.telemetry.ring_bytes as usize),
            records: 0,
            commands: Ring::new(WORKER_COMMANDS_BYTES),
            wake_ms: None,
        };
        let tid = alloc::format!("{ticket_id}");
        self.audit.record(
            now_ms,
            "spawn",
            &[
                ("id", &id),
                ("kind", kind.as_str()),
                ("ticket", &tid),
                ("site", site.as_deref().unwrap_or("-")),
            ],
        );
        self.registry.insert(worker);
        debug_assert!(
            self.registry.len() <= self.manifest.hive.workers_max as usize,
            "spawn admits no worker past workers_max"
        );
        self.schedule(ticket_id);
        self.emit(Event::WorkerSpawned {
            id: id.clone(),
            site: site.clone(),
        });
        Ok(id)
    }

    fn set_budget(&mut self, spec: BudgetSpec, now_ms: u64) -> Result<String, Refusal> {
        let id = spec.worker.unwrap_or_default();
        let worker = self
            .registry
            .get_mut(&id)
            .ok_or(Refusal::new(Error::NotFound, "no-such-worker"))?;
        if spec.ops.is_none() && spec.ticks.is_none() && spec.ttl_s.is_none() {
            return Err(Refusal::new(Error::Invalid, "empty-budget"));
        }
        if spec.ops.is_some() {
            worker.budget.ops = spec.ops;
        }
        if spec.ticks.is_some() {
            worker.budget.ticks = spec.ticks;
        }
        if let Some(ttl_s) = spec.ttl_s {
            worker.expires_at_ms = now_ms.saturating_add(u64::from(ttl_s) * 1000);
        }
        let entry = Entry::Budget {
            worker: id.clone(),
            budget: worker.budget.into(),
            expires_at_ms: worker.expires_at_ms,
        };
        let ticket = worker.ticket_id;
        self.journal(entry);
        self.schedule(ticket);
        let mut ack = alloc::format!("budget id={id}");
        for (name, value) in [("ops", spec.ops), ("ticks", spec.ticks)] {
            if let Some(v) = value {
                ack.push_str(&alloc::format!(" {name}={v}"));
            }
        }
        if let Some(ttl_s) = spec.ttl_s {
            ack.push_str(&alloc::format!(" ttl_s={ttl_s}"));
        }
        // A budget lowered below what was already spent ends the worker at once.
        self.enforce_budget(&id, now_ms);
        Ok(ack)
    }

    fn bind(&mut self, bind: BindSpec) -> Result<String, Refusal> {
        for path in [&bind.from, &bind.to] {
            if !valid_bind_path(path) {
                return Err(Refusal::new(Error::Invalid, "bad-path"));
            }
        }
        if bind.from == bind.to {
            return Err(Refusal::new(Error::Invalid, "bind-to-self"));
        }
        if protected_target(&bind.to) {
            return Err(Refusal::new(Error::Perm, "protected-target"));
        }
        if !self.binds.iter().any(|(_, to)| *to == bind.to)
            && self.binds.len() >= self.manifest.hive.binds_max as usize
        {
            return Err(Refusal::new(Error::Quota, "binds-max"));
        }
        self.apply_bind(&bind.from, &bind.to);
        self.journal(Entry::Bind {
            from: bind.from.clone(),
            to: bind.to.clone(),
        });
        Ok(alloc::format!("bind from={} to={}", bind.from, bind.to))
    }

    /// Points `to` at `from`, replacing an earlier bind onto the same target.
    pub(crate) fn apply_bind(&mut self, from: &str, to: &str) {
        if let Some(slot) = self.binds.iter_mut().find(|(_, t)| t == to) {
            slot.0 = String::from(from);
        } else {
            self.binds.push((String::from(from), String::from(to)));
        }
    }

    fn unbind(&mut self, to: &str) -> Result<String, Refusal> {
        let before = self.binds.len();
        self.binds.retain(|(_, t)| t != to);
        if self.binds.len() == before {
            return Err(Refusal::new(Error::NotFound, "no-such-bind"));
        }
        self.journal(Entry::Unbind {
            to: String::from(to),
        });
        Ok(alloc::format!("unbind to={to}"))
    }

    /// `{"revoke":{"ticket":<id>}}`: any role's ticket. A worker's ticket ends the worker.
    fn revoke_by_id(&mut self, ticket_id: u64, now_ms: u64) -> Result<String, Refusal> {
        if self.revoked.is_revoked(ticket_id) {
            return Ok(alloc::format!("revoke ticket={ticket_id} already=yes"));
        }
        // An operator ticket's expiry is known once it has attached; otherwise it is kept
        // until the longest lifetime any ticket of this hive may have.
        let expires_at_ms = self
            .external
            .get(&ticket_id)
            .map_or(u64::MAX, |m| m.expires_at_ms);
        self.revoke_ticket(ticket_id, expires_at_ms, "revoked", now_ms)?;
        Ok(alloc::format!("revoke ticket={ticket_id}"))
    }

    /// `{"key":{"retire":<key_id>}}`: the key stops verifying; sessions it authenticated close.
    fn retire_key(&mut self, key_id: u8, now_ms: u64) -> Result<String, Refusal> {
        if !self.keys.contains(key_id) {
            return Err(Refusal::new(Error::NotFound, "no-such-key"));
        }
        if self.keys.len() == 1 {
            return Err(Refusal::new(Error::Perm, "last-key"));
        }
        self.keys.retire(key_id);
        self.retired_keys.push(key_id);
        self.journal(Entry::KeyRetired { key_id });
        let operators: Vec<(u64, u64)> = self
            .external
            .iter()
            .filter(|(_, m)| m.key_id == key_id)
            .map(|(t, m)| (*t, m.expires_at_ms))
            .collect();
        for (ticket, expires_at_ms) in operators {
            // Revocations beyond the set's bound still close the sessions: the key is gone.
            if self
                .revoke_ticket(ticket, expires_at_ms, "key-retired", now_ms)
                .is_err()
            {
                self.closing.push(ticket);
            }
        }
        let ids: Vec<String> = self
            .registry
            .iter()
            .filter(|w| {
                ticket::decode(&w.ticket, usize::MAX).is_ok_and(|(c, _)| c.key_id == key_id)
            })
            .map(|w| w.id.clone())
            .collect();
        for id in &ids {
            self.revoke_worker(id, "key-retired", now_ms);
        }
        let key = alloc::format!("{key_id}");
        self.audit.record(now_ms, "key-retire", &[("key", &key)]);
        Ok(alloc::format!("key retire={key_id} workers={}", ids.len()))
    }
}

/// Bind targets that would let a bind take over the hive: its control, proc and log trees and
/// any control file anywhere.
fn protected_target(to: &str) -> bool {
    let under = |root: &str| to == root || to.starts_with(&alloc::format!("{root}/"));
    under("/queen") || under("/proc") || under("/log") || to.ends_with("/ctl")
}

/// Absolute, at most 8 elements of at most 64 bytes, no `.`/`..`/empty elements.
fn valid_bind_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let elements: Vec<&str> = rest.split('/').collect();
    path.len() <= 256
        && elements.len() <= 8
        && elements.iter().all(|e| {
            !e.is_empty()
                && *e != "."
                && *e != ".."
                && e.len() <= 64
                && e.bytes().all(|b| b.is_ascii_graphic())
        })
}
