//! The worker registry: who exists, in what state, under which ticket, with what budget.

use crate::ring::Ring;
use crate::shard::ShardLabel;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use ticket::{Budget, Meter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerKind {
    Heartbeat,
    Gpu,
}

impl WorkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerKind::Heartbeat => "heartbeat",
            WorkerKind::Gpu => "gpu",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "heartbeat" => Some(WorkerKind::Heartbeat),
            "gpu" => Some(WorkerKind::Gpu),
            _ => None,
        }
    }

    pub fn role(self) -> ticket::Role {
        match self {
            WorkerKind::Heartbeat => ticket::Role::WorkerHeartbeat,
            WorkerKind::Gpu => ticket::Role::WorkerGpu,
        }
    }
}

/// A registered worker's state as the Queen's registry sees it. Revoked workers leave the
/// registry. The agent's own view is `worker::AgentState`; the dashboard's, which adds the
/// node lifecycle states, is `DashboardWorkerState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryState {
    /// Spawned and ticketed; has not attached yet.
    Pending,
    /// Attached and heard from within the heartbeat deadline.
    Online,
    /// Detached, or silent past the heartbeat deadline.
    Offline,
}

impl RegistryState {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryState::Pending => "PENDING",
            RegistryState::Online => "ONLINE",
            RegistryState::Offline => "OFFLINE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub kind: WorkerKind,
    pub shard: ShardLabel,
    pub site: Option<String>,
    pub state: RegistryState,
    pub state_reason: &'static str,
    pub ticket_id: u64,
    /// The ticket text handed to the worker; readable by the Queen only.
    pub ticket: String,
    pub budget: Budget,
    /// Spending as of hive tick `ticks_from`: an ONLINE worker's ticks are charged lazily, so
    /// read the up-to-date value through `Hive::worker_meter`.
    pub meter: Meter,
    /// The hive tick count up to which `meter.ticks` is settled.
    pub ticks_from: u64,
    pub expires_at_ms: u64,
    pub spawned_ms: u64,
    pub last_seen_ms: u64,
    /// Live Secure9P sessions attached with this worker's ticket.
    pub sessions: u16,
    pub telemetry: Ring,
    pub records: u64,
    /// Queen-to-worker command lines (`/shard/<s>/worker/<id>/ctl`).
    pub commands: Ring,
    /// The time this worker is queued to be looked at again by `Hive::tick` (its entry in
    /// `Registry::wakes`), if any.
    pub wake_ms: Option<u64>,
}

impl Worker {
    /// Heap bytes this record holds (strings and ring), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.id.capacity()
            + self.ticket.capacity()
            + self.site.as_ref().map_or(0, String::capacity)
            + self.telemetry.heap_bytes()
            + self.commands.heap_bytes()
    }
}

/// Workers by id, with an index from ticket id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    workers: BTreeMap<String, Worker>,
    by_ticket: BTreeMap<u64, String>,
    /// Workers per shard, so whether a shard directory exists is one lookup, not a scan.
    shards: BTreeMap<ShardLabel, u32>,
    /// `(wake_ms, ticket_id)`, one entry per queued worker: `Hive::tick` looks only at the
    /// workers that are due, so a turn costs the same with 10 idle workers as with 10,000.
    wakes: BTreeSet<(u64, u64)>,
    next_seq: u64,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The next sequence number, which is also the worker's ticket id.
    pub fn allocate(&mut self) -> (String, u64) {
        self.next_seq += 1;
        (Self::id_of_seq(self.next_seq), self.next_seq)
    }

    /// The worker id a sequence number is given (`w0001`).
    pub fn id_of_seq(seq: u64) -> String {
        alloc::format!("w{seq:04}")
    }

    /// The last sequence number handed out.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Makes sure later ids come after `seq` (a restored journal's ids never repeat).
    pub fn continue_after(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq);
    }

    /// Removes the worker holding `ticket_id`, if any.
    pub fn remove_ticket(&mut self, ticket_id: u64) -> Option<Worker> {
        let id = self.by_ticket.get(&ticket_id)?.clone();
        self.remove(&id)
    }

    pub fn insert(&mut self, worker: Worker) {
        self.by_ticket.insert(worker.ticket_id, worker.id.clone());
        *self.shards.entry(worker.shard).or_insert(0) += 1;
        if let Some(at) = worker.wake_ms {
            self.wakes.insert((at, worker.ticket_id));
        }
        if let Some(replaced) = self.workers.insert(worker.id.clone(), worker) {
            self.leave_shard(replaced.shard);
            self.unqueue(&replaced);
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Worker> {
        let worker = self.workers.remove(id)?;
        self.by_ticket.remove(&worker.ticket_id);
        self.leave_shard(worker.shard);
        self.unqueue(&worker);
        Some(worker)
    }

    fn unqueue(&mut self, worker: &Worker) {
        if let Some(at) = worker.wake_ms {
            self.wakes.remove(&(at, worker.ticket_id));
        }
    }

    /// Queues the worker holding `ticket_id` to be looked at again at `at` (or never),
    /// replacing its previous entry.
    pub fn set_wake(&mut self, ticket_id: u64, at: Option<u64>) {
        let Some(worker) = self
            .by_ticket
            .get(&ticket_id)
            .and_then(|id| self.workers.get_mut(id))
        else {
            return;
        };
        if worker.wake_ms == at {
            return;
        }
        if let Some(old) = worker.wake_ms {
            self.wakes.remove(&(old, ticket_id));
        }
        worker.wake_ms = at;
        if let Some(at) = at {
            self.wakes.insert((at, ticket_id));
        }
    }

    /// Takes every worker due by `now_ms` off the wake queue; returns their ticket ids.
    pub fn take_due(&mut self, now_ms: u64) -> Vec<u64> {
        let mut due = Vec::new();
        while let Some(&(at, ticket_id)) = self.wakes.first() {
            if at > now_ms {
                break;
            }
            self.wakes.pop_first();
            if let Some(w) = self
                .by_ticket
                .get(&ticket_id)
                .and_then(|id| self.workers.get_mut(id))
            {
                w.wake_ms = None;
            }
            due.push(ticket_id);
        }
        due
    }

    /// Workers queued for a later look (at most one entry each).
    pub fn queued(&self) -> usize {
        self.wakes.len()
    }

    fn leave_shard(&mut self, shard: ShardLabel) {
        if let Some(n) = self.shards.get_mut(&shard) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.shards.remove(&shard);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Worker> {
        self.workers.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Worker> {
        self.workers.get_mut(id)
    }

    pub fn by_ticket(&self, ticket_id: u64) -> Option<&Worker> {
        self.workers.get(self.by_ticket.get(&ticket_id)?)
    }

    pub fn by_ticket_mut(&mut self, ticket_id: u64) -> Option<&mut Worker> {
        self.workers.get_mut(self.by_ticket.get(&ticket_id)?)
    }

    pub fn id_of_ticket(&self, ticket_id: u64) -> Option<&str> {
        self.by_ticket.get(&ticket_id).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Worker> {
        self.workers.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Worker> {
        self.workers.values_mut()
    }

    /// Workers in one shard, in id order.
    pub fn in_shard<'a>(&'a self, shard: &'a str) -> impl Iterator<Item = &'a Worker> + 'a {
        let label = ShardLabel::parse(shard);
        self.workers
            .values()
            .filter(move |w| Some(w.shard) == label)
    }

    /// True when some worker lives in `shard`.
    pub fn has_shard(&self, shard: &str) -> bool {
        ShardLabel::parse(shard).is_some_and(|label| self.shards.contains_key(&label))
    }

    /// Shards holding at least one worker, in label order.
    pub fn shards(&self) -> impl Iterator<Item = ShardLabel> + '_ {
        self.shards.keys().copied()
    }

    /// Counts by state: (pending, online, offline).
    pub fn counts(&self) -> (usize, usize, usize) {
        self.workers
            .values()
            .fold((0, 0, 0), |(p, on, off), w| match w.state {
                RegistryState::Pending => (p + 1, on, off),
                RegistryState::Online => (p, on + 1, off),
                RegistryState::Offline => (p, on, off + 1),
            })
    }
}
