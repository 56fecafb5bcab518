//! GPU decisions as journal entries, the snapshot of the broker and queue, and their replay:
//! a restarted hive holds the same leases, quotas and queue as the one that stopped.

use super::{Lease, Request};
use crate::durable::Entry;
use crate::Hive;
use alloc::string::String;
use alloc::vec::Vec;

pub(crate) fn grant_entry(lease: &Lease, req: Option<u64>) -> Entry {
    Entry::LeaseGrant {
        lease: lease.id,
        gpu: lease.gpu.clone(),
        worker: lease.worker.clone(),
        tenant: lease.tenant.clone(),
        priority: lease.priority,
        mem_mb: lease.mem_mb,
        streams: lease.streams,
        granted_ms: lease.granted_ms,
        expires_ms: lease.expires_ms,
        req,
    }
}

pub(crate) fn request_entry(r: &Request) -> Entry {
    Entry::LeaseRequest {
        req: r.id,
        worker: r.worker.clone(),
        tenant: r.tenant.clone(),
        mem_mb: r.mem_mb,
        streams: r.streams,
        ttl_ms: r.ttl_ms,
        priority: r.priority,
        enqueued_ms: r.enqueued_ms,
    }
}

impl Hive {
    /// The broker and queue as snapshot entries: devices before the leases that name them.
    pub(crate) fn gpu_snapshot(&self, out: &mut Vec<Entry>) {
        let gpu = &self.gpu;
        let untouched = gpu.broker.next_lease() == 1
            && gpu.queue.next_req() == 1
            && gpu.broker.devices().next().is_none()
            && gpu.broker.quotas().next().is_none();
        if untouched {
            // A hive that never saw a GPU writes the snapshot it wrote before leases existed.
            return;
        }
        out.push(Entry::GpuCounters {
            next_lease: gpu.broker.next_lease(),
            next_req: gpu.queue.next_req(),
        });
        out.extend(gpu.broker.devices().map(|d| Entry::GpuDevice {
            gpu: d.id.clone(),
            bridge: d.bridge.clone(),
            mem_mb: d.mem_mb,
            streams: d.streams,
            // A lost GPU's lease is already gone; it is written as published, then lost.
            lost: d.lost,
        }));
        out.extend(gpu.broker.quotas().map(|(t, n)| Entry::LeaseQuota {
            tenant: t.clone(),
            leases: *n,
        }));
        out.extend(gpu.broker.leases().map(|l| grant_entry(l, None)));
        out.extend(gpu.queue.requests().map(request_entry));
    }

    /// Applies one GPU entry; returns false for entries that are not about GPUs.
    pub(crate) fn apply_gpu(&mut self, entry: &Entry) -> bool {
        let gpu = &mut self.gpu;
        match entry {
            Entry::GpuDevice {
                gpu: id,
                bridge,
                mem_mb,
                streams,
                lost,
            } => {
                // Past `devices_max` a replayed device stays out, as the live hive kept it.
                let known = gpu.broker.device(id).is_some();
                if known || gpu.broker.devices().count() < self.manifest.gpu.devices_max as usize {
                    gpu.broker.set_device(id, bridge, *mem_mb, *streams, *lost);
                }
            }
            Entry::LeaseGrant { req, .. } => {
                if let Some(req) = req {
                    gpu.queue.remove(*req);
                }
                if let Some(lease) = lease_of(entry) {
                    gpu.broker.insert(lease);
                }
            }
            Entry::LeaseRenew { lease, expires_ms } => {
                gpu.broker.renew(*lease, *expires_ms);
            }
            Entry::LeaseEnd { lease, .. } => {
                gpu.broker.remove(*lease);
            }
            Entry::LeaseQuota { tenant, leases } => gpu.broker.set_quota(tenant, *leases),
            Entry::LeaseRequest { .. } => {
                if let Some(r) = request_of(entry) {
                    if gpu.queue.len() < self.manifest.schedule.queue_max as usize {
                        gpu.queue.push(r);
                    }
                }
            }
            Entry::LeaseCancel { req, .. } => {
                gpu.queue.remove(*req);
            }
            Entry::GpuCounters {
                next_lease,
                next_req,
            } => {
                gpu.broker.continue_after(next_lease.saturating_sub(1));
                gpu.queue.continue_after(next_req.saturating_sub(1));
            }
            _ => return false,
        }
        true
    }

    /// After replay: every queued tenant's head is placed again and the scheduler is due.
    pub(crate) fn gpu_restored(&mut self) {
        let tenants: Vec<String> = self.gpu.queue.tenants().iter().cloned().collect();
        for tenant in tenants {
            self.gpu.refresh(&tenant);
        }
        self.gpu.dirty = true;
    }
}

fn lease_of(entry: &Entry) -> Option<Lease> {
    let Entry::LeaseGrant {
        lease,
        gpu,
        worker,
        tenant,
        priority,
        mem_mb,
        streams,
        granted_ms,
        expires_ms,
        ..
    } = entry
    else {
        return None;
    };
    Some(Lease {
        id: *lease,
        gpu: gpu.clone(),
        worker: worker.clone(),
        tenant: tenant.clone(),
        priority: *priority,
        mem_mb: *mem_mb,
        streams: *streams,
        granted_ms: *granted_ms,
        expires_ms: *expires_ms,
    })
}

fn request_of(entry: &Entry) -> Option<Request> {
    let Entry::LeaseRequest {
        req,
        worker,
        tenant,
        mem_mb,
        streams,
        ttl_ms,
        priority,
        enqueued_ms,
    } = entry
    else {
        return None;
    };
    Some(Request {
        id: *req,
        worker: worker.clone(),
        tenant: tenant.clone(),
        mem_mb: *mem_mb,
        streams: *streams,
        ttl_ms: *ttl_ms,
        priority: *priority,
        enqueued_ms: *enqueued_ms,
    })
}
