//! The lease broker (docs/interfaces.md §8.4): which GPUs exist, which lease holds each, and the
//! decision whether a request is granted, preempts a lower priority or is refused. Pure state:
//! `decide` only looks, `insert`/`remove` change, so the hive journals a decision before it
//! applies it and replay applies the journaled result without deciding again.
//!
//! Every index is a B-tree so a decision costs O(log leases) plus at most one pass over the
//! devices (bounded by `gpu.devices_max`), never a pass over a queue.

use crate::{Refusal, Ring};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use manifest::GpuLimits;
use secure9p::Error;

/// One GPU as its bridge published it.
pub struct Device {
    pub id: String,
    pub bridge: String,
    pub mem_mb: u32,
    pub streams: u32,
    /// Its bridge went silent or crashed: nothing may be granted on it.
    pub lost: bool,
    pub lease: Option<u64>,
    /// Jobs the lease holder submitted, and its ordered status breadcrumbs (not journaled:
    /// data, like telemetry, not authority).
    pub job: Ring,
    pub status: Ring,
}

/// A live lease: exclusive use of one GPU until `expires_ms` in hive time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: u64,
    pub gpu: String,
    pub worker: String,
    pub tenant: String,
    pub priority: u8,
    pub mem_mb: u32,
    pub streams: u32,
    pub granted_ms: u64,
    pub expires_ms: u64,
}

/// What is asked for: a named GPU, or any one that fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub worker: String,
    pub tenant: String,
    pub gpu: Option<String>,
    pub mem_mb: u32,
    pub streams: u32,
    pub ttl_ms: u64,
    pub priority: u8,
}

/// A grant the broker would make: on `gpu`, ending `victim` first when it preempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub gpu: String,
    pub victim: Option<u64>,
}

/// One preemption, for `/proc/lease/preemptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preemption {
    pub at_ms: u64,
    pub gpu: String,
    pub lease: u64,
    pub victim: String,
    pub victim_priority: u8,
    pub by: String,
    pub by_priority: u8,
}

/// Counters for `/proc/lease/summary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub grants: u64,
    pub renewals: u64,
    pub releases: u64,
    pub expiries: u64,
    pub preemptions: u64,
    pub revoked: u64,
    pub busy: u64,
    pub quota: u64,
}

pub struct Broker {
    limits: GpuLimits,
    devices: BTreeMap<String, Device>,
    leases: BTreeMap<u64, Lease>,
    /// `(expires_ms, lease)`: TTL expiry looks only at the lapsed front.
    expiry: BTreeSet<(u64, u64)>,
    /// `(priority, newest first, lease)`: the preemption victim is the lowest priority and,
    /// among equals, the youngest lease (the least work lost).
    victims: BTreeSet<(u8, u64)>,
    /// `(mem_mb, streams, gpu)` of GPUs neither leased nor lost: best fit is a range query.
    free: BTreeSet<(u32, u32, String)>,
    /// Live leases per tenant.
    held: BTreeMap<String, u32>,
    quotas: BTreeMap<String, u32>,
    by_worker: BTreeSet<(String, u64)>,
    preemptions: VecDeque<Preemption>,
    pub stats: Stats,
    next_lease: u64,
}

impl Broker {
    pub fn new(limits: GpuLimits) -> Self {
        Self {
            limits,
            devices: BTreeMap::new(),
            leases: BTreeMap::new(),
            expiry: BTreeSet::new(),
            victims: BTreeSet::new(),
            free: BTreeSet::new(),
            held: BTreeMap::new(),
            quotas: BTreeMap::new(),
            by_worker: BTreeSet::new(),
            preemptions: VecDeque::new(),
            stats: Stats::default(),
            next_lease: 1,
        }
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices.get(id)
    }

    pub fn device_mut(&mut self, id: &str) -> Option<&mut Device> {
        self.devices.get_mut(id)
    }

    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    pub fn lease(&self, id: u64) -> Option<&Lease> {
        self.leases.get(&id)
    }

    pub fn free_devices(&self) -> usize {
        self.free.len()
    }

    pub fn preemptions(&self) -> impl Iterator<Item = &Preemption> {
        self.preemptions.iter()
    }

    pub fn next_lease(&self) -> u64 {
        self.next_lease
    }

    pub fn continue_after(&mut self, lease: u64) {
        self.next_lease = self.next_lease.max(lease.saturating_add(1));
    }

    pub fn held(&self, tenant: &str) -> u32 {
        self.held.get(tenant).copied().unwrap_or(0)
    }

    pub fn quota(&self, tenant: &str) -> u32 {
        self.quotas
            .get(tenant)
            .copied()
            .unwrap_or(self.limits.tenant_leases_max)
    }

    pub fn quotas(&self) -> impl Iterator<Item = (&String, &u32)> {
        self.quotas.iter()
    }

    /// Whether `tenant` can be remembered (a quota, a lease or a request) without passing
    /// `gpu.tenants_max`.
    pub fn knows_or_fits(&self, tenant: &str, queued: &BTreeSet<String>) -> bool {
        let known = |t: &str| {
            self.held.contains_key(t) || self.quotas.contains_key(t) || queued.contains(t)
        };
        if known(tenant) {
            return true;
        }
        let mut all: BTreeSet<&str> = self.held.keys().map(String::as_str).collect();
        all.extend(self.quotas.keys().map(String::as_str));
        all.extend(queued.iter().map(String::as_str));
        all.len() < self.limits.tenants_max as usize
    }

    pub fn set_quota(&mut self, tenant: &str, leases: u32) {
        self.quotas.insert(String::from(tenant), leases);
    }

    /// A bridge publishes (or republishes) a GPU. A lost GPU published again is back.
    pub fn publish(
        &mut self,
        gpu: &str,
        bridge: &str,
        mem_mb: u32,
        streams: u32,
    ) -> Result<(), Refusal> {
        if let Some(dev) = self.devices.get(gpu) {
            if dev.bridge != bridge {
                return Err(Refusal::new(Error::Perm, "other-bridge"));
            }
        } else if self.devices.len() >= self.limits.devices_max as usize {
            return Err(Refusal::new(Error::Quota, "devices-max"));
        }
        self.set_device(gpu, bridge, mem_mb, streams, false);
        Ok(())
    }

    /// Applies a device record (live or replayed). A leased device keeps its lease.
    pub fn set_device(&mut self, gpu: &str, bridge: &str, mem_mb: u32, streams: u32, lost: bool) {
        let bytes = self.limits.stream_bytes as usize;
        let dev = self
            .devices
            .entry(String::from(gpu))
            .or_insert_with(|| Device {
                id: String::from(gpu),
                bridge: String::from(bridge),
                mem_mb,
                streams,
                lost,
                lease: None,
                job: Ring::new(bytes),
                status: Ring::new(bytes),
            });
        self.free.remove(&(dev.mem_mb, dev.streams, dev.id.clone()));
        dev.bridge = String::from(bridge);
        dev.mem_mb = mem_mb;
        dev.streams = streams;
        dev.lost = lost;
        if dev.lease.is_none() && !lost {
            self.free.insert((mem_mb, streams, dev.id.clone()));
        }
    }

    /// GPUs of `bridge`, in id order.
    pub fn bridge_devices(&self, bridge: &str) -> Vec<String> {
        self.devices
            .values()
            .filter(|d| d.bridge == bridge)
            .map(|d| d.id.clone())
            .collect()
    }

    /// Decides a request without changing anything. Only a direct grant may `preempt`: the
    /// scheduler places queued requests on free GPUs, so an aged request it grants is not
    /// taken straight back by a younger, higher one.
    pub fn decide(&self, ask: &Ask, preempt: bool) -> Result<Decision, Refusal> {
        if self.held(&ask.tenant) >= self.quota(&ask.tenant) {
            return Err(Refusal::new(Error::Quota, "tenant-quota"));
        }
        match &ask.gpu {
            Some(gpu) => self.decide_named(ask, gpu, preempt),
            None => self.decide_any(ask, preempt),
        }
    }

    fn decide_named(&self, ask: &Ask, gpu: &str, preempt: bool) -> Result<Decision, Refusal> {
        let dev = self
            .devices
            .get(gpu)
            .ok_or(Refusal::new(Error::NotFound, "no-such-gpu"))?;
        if dev.lost {
            return Err(Refusal::new(Error::Closed, "gpu-lost"));
        }
        if ask.mem_mb > dev.mem_mb || ask.streams > dev.streams {
            return Err(Refusal::new(Error::TooBig, "exceeds-gpu"));
        }
        let victim = match dev.lease.and_then(|id| self.leases.get(&id)) {
            None => None,
            Some(held) if preempt && held.priority < ask.priority => Some(held.id),
            Some(_) => return Err(Refusal::new(Error::Busy, "busy")),
        };
        if victim.is_none() && self.leases.len() >= self.limits.leases_max as usize {
            return Err(Refusal::new(Error::Busy, "leases-max"));
        }
        Ok(Decision {
            gpu: String::from(gpu),
            victim,
        })
    }

    fn decide_any(&self, ask: &Ask, preempt: bool) -> Result<Decision, Refusal> {
        let start = (ask.mem_mb, 0, String::new());
        let fit = self
            .free
            .range(start..)
            .find(|(_, streams, _)| *streams >= ask.streams);
        if let Some((_, _, gpu)) = fit {
            if self.leases.len() < self.limits.leases_max as usize {
                return Ok(Decision {
                    gpu: gpu.clone(),
                    victim: None,
                });
            }
        }
        // Strictly lower priorities only, lowest first; the walk stops at the first priority
        // that is not lower, so it is bounded by the leases it could preempt.
        let victims = self.victims.iter().filter(|_| preempt);
        for (priority, rev) in victims {
            if *priority >= ask.priority {
                break;
            }
            let lease = &self.leases[&(u64::MAX - rev)];
            let dev = &self.devices[&lease.gpu];
            if dev.mem_mb >= ask.mem_mb && dev.streams >= ask.streams {
                return Ok(Decision {
                    gpu: lease.gpu.clone(),
                    victim: Some(lease.id),
                });
            }
        }
        let fits_any = self
            .devices
            .values()
            .any(|d| d.mem_mb >= ask.mem_mb && d.streams >= ask.streams);
        if fits_any {
            Err(Refusal::new(Error::Busy, "busy"))
        } else {
            Err(Refusal::new(Error::TooBig, "exceeds-every-gpu"))
        }
    }

    /// A fresh lease id.
    pub fn mint(&mut self) -> u64 {
        let id = self.next_lease;
        self.next_lease += 1;
        id
    }

    /// Records a lease on its GPU. A replayed lease whose GPU is unknown or already held is
    /// skipped: fewer grants, never two on one GPU.
    pub fn insert(&mut self, lease: Lease) -> bool {
        self.continue_after(lease.id);
        let Some(dev) = self.devices.get_mut(&lease.gpu) else {
            return false;
        };
        if dev.lease.is_some() || dev.lost {
            return false;
        }
        dev.lease = Some(lease.id);
        self.free.remove(&(dev.mem_mb, dev.streams, dev.id.clone()));
        self.expiry.insert((lease.expires_ms, lease.id));
        self.victims.insert((lease.priority, u64::MAX - lease.id));
        *self.held.entry(lease.tenant.clone()).or_insert(0) += 1;
        self.by_worker.insert((lease.worker.clone(), lease.id));
        self.leases.insert(lease.id, lease);
        true
    }

    /// Ends a lease and frees its GPU (unless the GPU is lost).
    pub fn remove(&mut self, id: u64) -> Option<Lease> {
        let lease = self.leases.remove(&id)?;
        self.expiry.remove(&(lease.expires_ms, id));
        self.victims.remove(&(lease.priority, u64::MAX - id));
        self.by_worker.remove(&(lease.worker.clone(), id));
        if let Some(n) = self.held.get_mut(&lease.tenant) {
            *n -= 1;
            if *n == 0 {
                self.held.remove(&lease.tenant);
            }
        }
        if let Some(dev) = self.devices.get_mut(&lease.gpu) {
            dev.lease = None;
            if !dev.lost {
                self.free.insert((dev.mem_mb, dev.streams, dev.id.clone()));
            }
        }
        Some(lease)
    }

    pub fn renew(&mut self, id: u64, expires_ms: u64) -> bool {
        let Some(lease) = self.leases.get_mut(&id) else {
            return false;
        };
        self.expiry.remove(&(lease.expires_ms, id));
        lease.expires_ms = expires_ms;
        self.expiry.insert((expires_ms, id));
        true
    }

    /// Leases whose TTL has lapsed at `now_ms`, oldest deadline first.
    pub fn expired(&self, now_ms: u64) -> Vec<u64> {
        self.expiry
            .iter()
            .take_while(|(at, _)| *at <= now_ms)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Leases `worker` holds, in id order.
    pub fn leases_of(&self, worker: &str) -> Vec<u64> {
        let from = (String::from(worker), 0);
        self.by_worker
            .range(from..)
            .take_while(|(w, _)| w == worker)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Whether `worker` holds a lease on `gpu` that has not lapsed at `now_ms`.
    pub fn holds(&self, worker: &str, gpu: &str, now_ms: u64) -> bool {
        let Some(id) = self.devices.get(gpu).and_then(|d| d.lease) else {
            return false;
        };
        self.leases
            .get(&id)
            .is_some_and(|l| l.worker == worker && l.expires_ms > now_ms)
    }

    pub fn remember_preemption(&mut self, p: Preemption) {
        self.stats.preemptions += 1;
        if self.preemptions.len() >= self.limits.preemptions_kept as usize {
            self.preemptions.pop_front();
        }
        self.preemptions.push_back(p);
    }
}
