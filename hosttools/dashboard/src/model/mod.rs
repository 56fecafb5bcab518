//! The dashboard's picture of one hive: workers with lifecycle states, sessions, pressure,
//! leases and the scheduler queue, the audit tail and root reachability. Sources feed it; the
//! renderer only reads it. Every collection in it is bounded.

mod apply;
mod live;
mod worker;

pub use live::{parse_sessions, parse_status};
pub use worker::{sample_of, DashboardWorkerState, Term, Worker, SAMPLES, TAIL_LINES};

use std::collections::{BTreeMap, VecDeque};

/// Audit lines kept for the audit panel.
pub const AUDIT_TAIL: usize = 512;
/// Leases and queue entries kept.
pub const TABLE_MAX: usize = 1024;
/// Default bound on workers tracked; more are counted in `dropped_workers`.
pub const WORKERS_MAX: usize = 100_000;

/// Refusal classes, in the order `/proc/pressure` lists them.
pub const PRESSURE: [&str; 6] = ["busy", "quota", "cut", "policy", "invalid", "unsupported"];

/// Secure9P session counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sessions {
    pub setup: u64,
    pub active: u64,
    pub draining: u64,
    pub closed: u64,
    /// Attaches ever seen.
    pub opened: u64,
}

/// A GPU lease or scheduler entry: a key and a one-line description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub detail: String,
}

/// Whether the hive's authority is reachable: from the transcript's cut and heal events, from
/// `/proc/root/*`, or (live) from whether the dashboard itself still reaches the hive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Root {
    /// Sources currently cut off, with the reason.
    pub cut: BTreeMap<String, String>,
    /// Set once anything has said something about reachability.
    pub known: bool,
}

impl Root {
    pub fn reachable(&self) -> bool {
        self.cut.is_empty()
    }
}

/// The hive model.
#[derive(Debug, Clone)]
pub struct Model {
    pub hive: String,
    /// Hive (or virtual) time of the newest thing applied, in milliseconds.
    pub now_ms: u64,
    pub lifecycle: String,
    workers: Vec<Worker>,
    index: BTreeMap<String, usize>,
    counts: [usize; 8],
    pub sessions: Sessions,
    pub pressure: [u64; 6],
    pub leases: Vec<Row>,
    pub preemptions: u64,
    pub queue: Vec<Row>,
    pub audit: VecDeque<String>,
    pub root: Root,
    /// Live mode: the dashboard's own link to the hive (`None` in replay).
    pub link: Option<Result<(), String>>,
    /// Bumped whenever the roster or a state changes, so views can cache filters.
    pub generation: u64,
    pub max_workers: usize,
    pub dropped_workers: u64,
    /// Records applied since the last reset.
    pub events: u64,
}

impl Default for Model {
    fn default() -> Self {
        Self::new("-")
    }
}

impl Model {
    pub fn new(hive: &str) -> Self {
        Self {
            hive: hive.to_string(),
            now_ms: 0,
            lifecycle: String::from("-"),
            workers: Vec::new(),
            index: BTreeMap::new(),
            counts: [0; 8],
            sessions: Sessions::default(),
            pressure: [0; 6],
            leases: Vec::new(),
            preemptions: 0,
            queue: Vec::new(),
            audit: VecDeque::new(),
            root: Root::default(),
            link: None,
            generation: 0,
            max_workers: WORKERS_MAX,
            dropped_workers: 0,
            events: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Workers in the order they were first seen.
    pub fn workers(&self) -> &[Worker] {
        &self.workers
    }

    pub fn worker(&self, index: usize) -> Option<&Worker> {
        self.workers.get(index)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<&Worker> {
        self.workers.get(self.index_of(id)?)
    }

    pub fn count(&self, state: DashboardWorkerState) -> usize {
        self.counts[state.index()]
    }

    /// The worker named `id`, registering it (PENDING) if new; `None` once the bound is hit.
    pub fn upsert(&mut self, id: &str) -> Option<&mut Worker> {
        if let Some(&i) = self.index.get(id) {
            return self.workers.get_mut(i);
        }
        if self.workers.len() >= self.max_workers || id.is_empty() {
            self.dropped_workers += 1;
            return None;
        }
        let i = self.workers.len();
        self.workers.push(Worker::new(id));
        self.index.insert(id.to_string(), i);
        self.counts[DashboardWorkerState::Pending.index()] += 1;
        self.generation += 1;
        self.workers.get_mut(i)
    }

    pub fn worker_mut(&mut self, id: &str) -> Option<&mut Worker> {
        let i = self.index_of(id)?;
        self.workers.get_mut(i)
    }

    /// Moves a worker to `state`, registering it if new; keeps the counters in step.
    pub fn set_state(&mut self, id: &str, state: DashboardWorkerState, reason: &str) {
        let Some(w) = self.upsert(id) else { return };
        let old = w.state;
        w.state = state;
        // A new state without a reason must not keep the old state's reason.
        if !reason.is_empty() || old != state {
            w.reason = reason.to_string();
        }
        if old != state {
            self.counts[old.index()] -= 1;
            self.counts[state.index()] += 1;
            self.generation += 1;
        }
    }

    /// Appends one line to the audit tail, dropping the oldest past `AUDIT_TAIL`.
    pub fn push_audit(&mut self, line: String) {
        if self.audit.len() == AUDIT_TAIL {
            self.audit.pop_front();
        }
        self.audit.push_back(line);
    }

    pub fn pressure_slot(&mut self, class: &str) -> &mut u64 {
        let i = PRESSURE
            .iter()
            .position(|c| *c == class)
            .unwrap_or(PRESSURE.len() - 2);
        &mut self.pressure[i]
    }

    /// Clears everything the sources filled in, keeping the hive name and bounds.
    pub fn reset(&mut self) {
        let (hive, max) = (self.hive.clone(), self.max_workers);
        *self = Self::new(&hive);
        self.max_workers = max;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// Inserts or replaces a keyed row, keeping at most `TABLE_MAX` (oldest dropped).
pub(crate) fn put_row(rows: &mut Vec<Row>, key: &str, detail: String) {
    if let Some(row) = rows.iter_mut().find(|r| r.key == key) {
        row.detail = detail;
        return;
    }
    if rows.len() == TABLE_MAX {
        rows.remove(0);
    }
    rows.push(Row {
        key: key.to_string(),
        detail,
    });
}

pub(crate) fn drop_row(rows: &mut Vec<Row>, key: &str) -> bool {
    let before = rows.len();
    rows.retain(|r| r.key != key);
    rows.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_states() {
        let mut m = Model::new("h");
        m.set_state("w1", DashboardWorkerState::Online, "attach");
        m.set_state("w2", DashboardWorkerState::Pending, "");
        m.set_state("w1", DashboardWorkerState::Offline, "silent");
        assert_eq!(m.len(), 2);
        assert_eq!(m.count(DashboardWorkerState::Offline), 1);
        assert_eq!(m.count(DashboardWorkerState::Pending), 1);
        assert_eq!(m.count(DashboardWorkerState::Online), 0);
        assert_eq!(m.get("w1").map(|w| w.reason.as_str()), Some("silent"));
    }

    #[test]
    fn roster_is_bounded() {
        let mut m = Model::new("h");
        m.max_workers = 2;
        for id in ["a", "b", "c"] {
            m.set_state(id, DashboardWorkerState::Online, "");
        }
        assert_eq!(m.len(), 2);
        assert_eq!(m.dropped_workers, 1);
    }

    #[test]
    fn audit_is_bounded() {
        let mut m = Model::new("h");
        for i in 0..(AUDIT_TAIL + 10) {
            m.push_audit(format!("{i}"));
        }
        assert_eq!(m.audit.len(), AUDIT_TAIL);
        assert_eq!(m.audit.front().map(String::as_str), Some("10"));
    }
}
