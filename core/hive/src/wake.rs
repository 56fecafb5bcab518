//! Hive time driven by deadlines. Every worker sits once in the registry's wake queue, keyed by
//! the earliest moment something can happen to it: its TTL lapses, its heartbeat deadline
//! passes, its ticks cross a `journal.meter_step` boundary or exhaust its budget. `tick` looks
//! only at the workers that are due, so a pump turn with idle workers costs O(due), not
//! O(workers). Ticks are charged lazily: an ONLINE worker's `meter.ticks` is settled when its
//! state changes, and `worker_meter` adds the ticks elapsed since.

use crate::registry::{RegistryState, Worker};
use crate::Hive;
use alloc::string::String;
use alloc::vec::Vec;
use ticket::Meter;

/// A worker's spending as of hive tick `tick_count`.
pub(crate) fn meter_at(worker: &Worker, tick_count: u64) -> Meter {
    let mut meter = worker.meter;
    if worker.state == RegistryState::Online {
        meter.ticks = meter
            .ticks
            .saturating_add(tick_count.saturating_sub(worker.ticks_from));
    }
    meter
}

/// What one due worker needs, decided before any of it is applied (as one pass would).
#[derive(Default)]
struct Due {
    marks: Vec<(String, u64, Meter, Meter)>,
    expired: Vec<(String, &'static str)>,
    silent: Vec<String>,
    requeue: Vec<u64>,
}

impl Hive {
    /// A worker's up-to-date spending (ticks included): journal meter records, snapshots and
    /// `/proc` read it through here.
    pub fn worker_meter(&self, worker: &Worker) -> Meter {
        meter_at(worker, self.tick_count)
    }

    /// Workers the last `tick` looked at (for tests and benchmarks: an idle turn looks at none).
    pub fn tick_due(&self) -> usize {
        self.tick_due
    }

    /// Advances hive time: charges ticks to online workers, expires TTLs, marks silent workers
    /// offline and forgets revocations whose tickets have lapsed anyway.
    pub fn tick(&mut self, now_ms: u64) {
        let tick_ms = u64::from(self.manifest.hive.tick_ms);
        let ticks = now_ms.saturating_sub(self.last_tick_ms) / tick_ms;
        self.last_tick_ms += ticks * tick_ms;
        let before_tick = self.tick_count;
        self.tick_count += ticks;
        let mut due = Due::default();
        let tickets = self.registry.take_due(now_ms);
        self.tick_due = tickets.len();
        for ticket in tickets {
            self.look_at(ticket, before_tick, now_ms, &mut due);
        }
        // Apply in worker-id order, marks then revocations then silence, exactly as one pass
        // over the whole registry would.
        due.marks.sort_by(|a, b| a.0.cmp(&b.0));
        due.expired.sort_by(|a, b| a.0.cmp(&b.0));
        due.silent.sort();
        for (_, ticket, before, after) in due.marks {
            self.meter_mark(ticket, before, after);
        }
        for (id, reason) in due.expired {
            self.revoke_worker(&id, reason, now_ms);
        }
        for id in due.silent {
            self.set_worker_state(&id, RegistryState::Offline, "heartbeat-missed", now_ms);
        }
        for ticket in due.requeue {
            self.schedule(ticket);
        }
        self.gpu_tick(now_ms);
        self.revoked.purge(now_ms);
        // An operator ticket past its lifetime can no longer attach: its meter can go.
        if self.external_expiry <= now_ms {
            self.external.retain(|_, m| m.expires_at_ms > now_ms);
            self.external_expiry = self
                .external
                .values()
                .map(|m| m.expires_at_ms)
                .min()
                .unwrap_or(u64::MAX);
        }
    }

    /// Decides what happens to one due worker at this tick.
    fn look_at(&self, ticket: u64, before_tick: u64, now_ms: u64, due: &mut Due) {
        let Some(worker) = self.registry.by_ticket(ticket) else {
            return;
        };
        if worker.expires_at_ms <= now_ms {
            due.expired.push((worker.id.clone(), "ttl"));
            return;
        }
        due.requeue.push(ticket);
        if worker.state != RegistryState::Online {
            return;
        }
        let before = meter_at(worker, before_tick);
        let after = meter_at(worker, self.tick_count);
        let spent = |limit: Option<u64>| limit.is_some_and(|l| after.ticks > l);
        if self.tick_count > before_tick && spent(worker.budget.ticks) {
            due.requeue.pop();
            due.expired.push((worker.id.clone(), "budget-ticks"));
            return;
        }
        if after != before {
            due.marks.push((worker.id.clone(), ticket, before, after));
        }
        let deadline = u64::from(self.manifest.hive.heartbeat_deadline_ms);
        if now_ms.saturating_sub(worker.last_seen_ms) > deadline {
            due.silent.push(worker.id.clone());
        }
    }

    /// (Re)queues a worker at the earliest moment `tick` may have something to do with it.
    pub(crate) fn schedule(&mut self, ticket: u64) {
        let at = self.registry.by_ticket(ticket).map(|w| self.next_wake(w));
        self.registry.set_wake(ticket, at);
    }

    fn next_wake(&self, worker: &Worker) -> u64 {
        let mut at = worker.expires_at_ms;
        if worker.state != RegistryState::Online {
            return at;
        }
        let deadline = u64::from(self.manifest.hive.heartbeat_deadline_ms);
        at = at.min(
            worker
                .last_seen_ms
                .saturating_add(deadline)
                .saturating_add(1),
        );
        // Ticks until the next meter record is due, or until the budget would be exceeded.
        let spent = meter_at(worker, self.tick_count).ticks;
        let step = u64::from(self.manifest.journal.meter_step).max(1);
        let mut ahead = step - spent % step;
        if let Some(limit) = worker.budget.ticks {
            ahead = ahead.min(limit.saturating_sub(spent).saturating_add(1));
        }
        let tick_ms = u64::from(self.manifest.hive.tick_ms);
        at.min(
            self.last_tick_ms
                .saturating_add(ahead.saturating_mul(tick_ms)),
        )
    }
}
