//! The scheduler's queue of lease requests (docs/interfaces.md §8.4, `/queen/schedule/ctl`).
//!
//! Ageing raises a waiting request one priority level per `schedule.age_step_ms`. Because every
//! request ages at the same rate, the order between two requests never changes with time: a
//! request's rank is `enqueued_ms - priority * age_step_ms` (smaller is served first), fixed
//! at enqueue. So the queue is a B-tree keyed by rank and a decision costs O(log n), not a pass
//! over the queue.
//!
//! Fairness across tenants: each tenant's requests wait in their own tree, and only each
//! tenant's best request stands in `heads`, where its rank is raised by one age step for every
//! lease that tenant already holds. A tenant at its quota has no head at all, so it neither
//! blocks nor costs the others anything.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

/// One queued request: any GPU with at least `mem_mb` and `streams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: u64,
    pub worker: String,
    pub tenant: String,
    pub mem_mb: u32,
    pub streams: u32,
    pub ttl_ms: u64,
    pub priority: u8,
    pub enqueued_ms: u64,
}

impl Request {
    /// What the broker is asked for on this request's behalf: any GPU that fits.
    pub fn ask(&self) -> super::broker::Ask {
        super::broker::Ask {
            worker: self.worker.clone(),
            tenant: self.tenant.clone(),
            gpu: None,
            mem_mb: self.mem_mb,
            streams: self.streams,
            ttl_ms: self.ttl_ms,
            priority: self.priority,
        }
    }
}

type Key = (i128, u64);

pub struct Queue {
    age_step_ms: u64,
    requests: BTreeMap<u64, Request>,
    per_tenant: BTreeMap<String, BTreeSet<Key>>,
    /// Each eligible tenant's best request, with its fairness-adjusted rank.
    heads: BTreeSet<Key>,
    head_of: BTreeMap<String, Key>,
    tenants: BTreeSet<String>,
    /// `(worker, request)`: a revoked worker's requests are found without a pass.
    by_worker: BTreeSet<(String, u64)>,
    next_req: u64,
    pub decisions: u64,
}

impl Queue {
    pub fn new(age_step_ms: u32) -> Self {
        Self {
            age_step_ms: u64::from(age_step_ms.max(1)),
            requests: BTreeMap::new(),
            per_tenant: BTreeMap::new(),
            heads: BTreeSet::new(),
            head_of: BTreeMap::new(),
            tenants: BTreeSet::new(),
            by_worker: BTreeSet::new(),
            next_req: 1,
            decisions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Tenants with at least one queued request.
    pub fn tenants(&self) -> &BTreeSet<String> {
        &self.tenants
    }

    pub fn get(&self, id: u64) -> Option<&Request> {
        self.requests.get(&id)
    }

    pub fn next_req(&self) -> u64 {
        self.next_req
    }

    pub fn continue_after(&mut self, id: u64) {
        self.next_req = self.next_req.max(id.saturating_add(1));
    }

    pub fn mint(&mut self) -> u64 {
        let id = self.next_req;
        self.next_req += 1;
        id
    }

    fn rank(&self, r: &Request) -> i128 {
        i128::from(r.enqueued_ms) - i128::from(r.priority) * i128::from(self.age_step_ms)
    }

    /// The priority a request has reached by `now_ms` (for `/proc/schedule/queue`).
    pub fn aged_priority(&self, r: &Request, now_ms: u64) -> u64 {
        u64::from(r.priority) + now_ms.saturating_sub(r.enqueued_ms) / self.age_step_ms
    }

    /// Queues a request; the caller refreshes the tenant's head afterwards.
    pub fn push(&mut self, r: Request) {
        self.continue_after(r.id);
        let key = (self.rank(&r), r.id);
        self.per_tenant
            .entry(r.tenant.clone())
            .or_default()
            .insert(key);
        self.tenants.insert(r.tenant.clone());
        self.by_worker.insert((r.worker.clone(), r.id));
        self.requests.insert(r.id, r);
    }

    /// Takes a request out; the caller refreshes the tenant's head afterwards.
    pub fn remove(&mut self, id: u64) -> Option<Request> {
        let r = self.requests.remove(&id)?;
        let key = (self.rank(&r), id);
        self.by_worker.remove(&(r.worker.clone(), id));
        if let Some(set) = self.per_tenant.get_mut(&r.tenant) {
            set.remove(&key);
            if set.is_empty() {
                self.per_tenant.remove(&r.tenant);
                self.tenants.remove(&r.tenant);
            }
        }
        Some(r)
    }

    /// Re-places `tenant`'s head: `held` leases raise its rank one age step each; `eligible`
    /// false (at quota) takes it out of contention.
    pub fn refresh(&mut self, tenant: &str, held: u32, eligible: bool) {
        if let Some(old) = self.head_of.remove(tenant) {
            self.heads.remove(&old);
        }
        if !eligible {
            return;
        }
        let Some(&(rank, id)) = self.per_tenant.get(tenant).and_then(|s| s.first()) else {
            return;
        };
        let key = (rank + i128::from(held) * i128::from(self.age_step_ms), id);
        self.heads.insert(key);
        self.head_of.insert(String::from(tenant), key);
    }

    /// Tenant heads in the order they are served, best first (a bounded prefix).
    pub fn best(&self, n: usize) -> Vec<u64> {
        self.heads.iter().take(n).map(|(_, id)| *id).collect()
    }

    /// Requests in the order each tenant's queue serves them (tenant by tenant, bounded).
    pub fn listing(&self, max: usize) -> Vec<&Request> {
        self.per_tenant
            .values()
            .flat_map(|set| set.iter())
            .take(max)
            .filter_map(|(_, id)| self.requests.get(id))
            .collect()
    }

    /// Ids of `worker`'s queued requests, in id order (a revoked worker's are dropped).
    pub fn of_worker(&self, worker: &str) -> Vec<u64> {
        self.by_worker
            .range((String::from(worker), 0)..)
            .take_while(|(w, _)| w == worker)
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn requests(&self) -> impl Iterator<Item = &Request> {
        self.requests.values()
    }
}
