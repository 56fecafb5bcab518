//! Control lines applied to the hive: every grant, renewal, release, expiry and preemption is
//! journaled (`durable::Entry`) and audited before the reply is returned, and a holder that
//! loses a lease it did not give up is told why on its command queue.

use super::grammar::{self, LeaseLine, ScheduleLine, Want};
use super::{Ask, Decision, Lease, Preemption, Request, DECIDE_SKIPS};
use crate::durable::Entry;
use crate::{Hive, Principal, Refusal};
use alloc::string::String;
use alloc::vec::Vec;
use secure9p::Error;
use ticket::Role;

/// Why a lease ended, as journaled and told to its holder.
pub const RELEASED: &str = "released";
pub const TTL: &str = "ttl";
pub const PREEMPTED: &str = "preempted";
pub const BRIDGE_LOST: &str = "bridge-lost";
pub const HOLDER_REVOKED: &str = "holder-revoked";

impl Hive {
    pub fn gpus(&self) -> &super::Gpus {
        &self.gpu
    }

    /// One line of `/queen/lease/ctl`, or of `/gpu/<on_gpu>/ctl` (renew and release of that
    /// GPU's lease only). Refusals are audited here.
    pub fn lease_ctl(
        &mut self,
        line: &str,
        principal: &Principal,
        on_gpu: Option<&str>,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        let result = self.lease_line(line, principal, on_gpu, now_ms);
        self.settle_gpu(&principal.subject, "lease", result, now_ms)
    }

    /// One line of `/queen/schedule/ctl`.
    pub fn schedule_ctl(
        &mut self,
        line: &str,
        principal: &Principal,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        let result = self.schedule_line(line, principal, now_ms);
        self.settle_gpu(&principal.subject, "schedule", result, now_ms)
    }

    fn settle_gpu(
        &mut self,
        who: &str,
        verb: &str,
        result: Result<String, Refusal>,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        match &result {
            Ok(what) => self.accepted(now_ms, who, verb, what),
            Err(refusal) => {
                match refusal.error {
                    Error::Busy => self.gpu.broker.stats.busy += 1,
                    Error::Quota => self.gpu.broker.stats.quota += 1,
                    _ => {}
                }
                self.refused(now_ms, who, verb, *refusal);
            }
        }
        // Capacity freed or a request queued by this line is placed before the reply.
        self.run_schedule(now_ms);
        result
    }

    fn gpu_enabled(&self) -> Result<(), Refusal> {
        if self.manifest.features.gpu {
            Ok(())
        } else {
            Err(Refusal::new(Error::Unsupported, "gpu-disabled"))
        }
    }

    fn lease_line(
        &mut self,
        line: &str,
        p: &Principal,
        on_gpu: Option<&str>,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        self.gpu_enabled()?;
        let parsed = grammar::parse_lease(line)?;
        if on_gpu.is_some() && !matches!(parsed, LeaseLine::Renew(_) | LeaseLine::Release(_)) {
            return Err(Refusal::new(Error::Invalid, "gpu-ctl-renew-or-release"));
        }
        match parsed {
            LeaseLine::Inventory(inv) => {
                let bridge = bridge_of(p, inv.bridge.as_deref())?;
                self.gpu
                    .broker
                    .publish(&inv.gpu, &bridge, inv.mem_mb, inv.streams)?;
                self.journal(Entry::GpuDevice {
                    gpu: inv.gpu.clone(),
                    bridge: bridge.clone(),
                    mem_mb: inv.mem_mb,
                    streams: inv.streams,
                    lost: false,
                });
                self.gpu.dirty = true;
                Ok(alloc::format!("gpu id={} bridge={bridge}", inv.gpu))
            }
            LeaseLine::Lost(lost) => {
                bridge_of(p, Some(&lost.bridge))?;
                let n = self.lose_bridge(&lost.bridge, now_ms);
                Ok(alloc::format!("lost bridge={} revoked={n}", lost.bridge))
            }
            LeaseLine::Grant(want) => self.grant_line(&want, p, now_ms),
            LeaseLine::Renew(r) => self.renew_line(r.lease, r.ttl_s, p, on_gpu, now_ms),
            LeaseLine::Release(r) => {
                self.own_lease(r.lease, p, on_gpu)?;
                self.end_lease(r.lease, RELEASED, None, now_ms);
                Ok(alloc::format!("released lease={}", r.lease))
            }
            LeaseLine::Quota(q) => {
                if p.role != Role::Queen {
                    return Err(Refusal::new(Error::Perm, "queen-only"));
                }
                if !self
                    .gpu
                    .broker
                    .knows_or_fits(&q.tenant, self.gpu.queue.tenants())
                {
                    return Err(Refusal::new(Error::Quota, "tenants-max"));
                }
                self.journal(Entry::LeaseQuota {
                    tenant: q.tenant.clone(),
                    leases: q.leases,
                });
                self.gpu.broker.set_quota(&q.tenant, q.leases);
                self.gpu.refresh(&q.tenant);
                self.gpu.dirty = true;
                Ok(alloc::format!(
                    "quota tenant={} leases={}",
                    q.tenant,
                    q.leases
                ))
            }
        }
    }

    /// Checks a request and builds what it asks for: who, for which tenant, for how long.
    fn ask_of(&self, want: &Want, p: &Principal) -> Result<Ask, Refusal> {
        if !self.lifecycle.state.accepts_work() {
            return Err(Refusal::new(Error::Perm, "lifecycle"));
        }
        let worker = match (p.role, &want.worker) {
            (Role::Queen, Some(w)) => w.clone(),
            (Role::Queen, None) => return Err(Refusal::new(Error::Invalid, "needs-worker")),
            (Role::WorkerGpu, None) => p.subject.clone(),
            (Role::WorkerGpu, Some(w)) if *w == p.subject => w.clone(),
            _ => return Err(Refusal::new(Error::Perm, "not-your-lease")),
        };
        let holder = self
            .registry
            .get(&worker)
            .ok_or(Refusal::new(Error::NotFound, "no-such-worker"))?;
        if holder.kind != crate::WorkerKind::Gpu {
            return Err(Refusal::new(Error::Perm, "not-a-gpu-worker"));
        }
        if want.ttl_s == 0 || want.ttl_s > self.manifest.gpu.ttl_max_s {
            return Err(Refusal::new(Error::TooBig, "ttl"));
        }
        // The tenant is the site the worker's ticket was minted for.
        let tenant = holder
            .site
            .clone()
            .unwrap_or_else(|| String::from("default"));
        Ok(Ask {
            worker,
            tenant,
            gpu: want.gpu.clone(),
            mem_mb: want.mem_mb,
            streams: want.streams,
            ttl_ms: u64::from(want.ttl_s) * 1000,
            priority: want.priority,
        })
    }

    fn grant_line(&mut self, want: &Want, p: &Principal, now_ms: u64) -> Result<String, Refusal> {
        let ask = self.ask_of(want, p)?;
        let queued = self.gpu.queue.tenants();
        if !self.gpu.broker.knows_or_fits(&ask.tenant, queued) {
            return Err(Refusal::new(Error::Quota, "tenants-max"));
        }
        let decision = self.gpu.broker.decide(&ask, true)?;
        let preempted = decision.victim;
        let lease = self.grant(&ask, decision, None, now_ms);
        let mut reply = alloc::format!(
            "lease id={} gpu={} worker={} expires_ms={}",
            lease.id,
            lease.gpu,
            lease.worker,
            lease.expires_ms
        );
        if let Some(victim) = preempted {
            reply.push_str(&alloc::format!(" preempted={victim}"));
        }
        Ok(reply)
    }

    fn renew_line(
        &mut self,
        id: u64,
        ttl_s: u32,
        p: &Principal,
        on_gpu: Option<&str>,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        self.own_lease(id, p, on_gpu)?;
        if ttl_s == 0 || ttl_s > self.manifest.gpu.ttl_max_s {
            return Err(Refusal::new(Error::TooBig, "ttl"));
        }
        let expires_ms = now_ms.saturating_add(u64::from(ttl_s) * 1000);
        self.journal(Entry::LeaseRenew {
            lease: id,
            expires_ms,
        });
        self.gpu.broker.renew(id, expires_ms);
        self.gpu.broker.stats.renewals += 1;
        Ok(alloc::format!("renewed lease={id} expires_ms={expires_ms}"))
    }

    /// The lease exists (and lies on `on_gpu`), and `p` is the Queen or its holder.
    fn own_lease(&self, id: u64, p: &Principal, on_gpu: Option<&str>) -> Result<(), Refusal> {
        let lease = self
            .gpu
            .broker
            .lease(id)
            .ok_or(Refusal::new(Error::NotFound, "no-such-lease"))?;
        if on_gpu.is_some_and(|g| g != lease.gpu) {
            return Err(Refusal::new(Error::NotFound, "no-such-lease"));
        }
        if p.role == Role::Queen || p.worker_id() == Some(lease.worker.as_str()) {
            Ok(())
        } else {
            Err(Refusal::new(Error::Perm, "not-your-lease"))
        }
    }

    fn schedule_line(&mut self, line: &str, p: &Principal, now_ms: u64) -> Result<String, Refusal> {
        self.gpu_enabled()?;
        match grammar::parse_schedule(line)? {
            ScheduleLine::Enqueue(want) => {
                let ask = self.ask_of(&want, p)?;
                if self.gpu.queue.len() >= self.manifest.schedule.queue_max as usize {
                    return Err(Refusal::new(Error::Busy, "queue-full"));
                }
                if !self
                    .gpu
                    .broker
                    .knows_or_fits(&ask.tenant, self.gpu.queue.tenants())
                {
                    return Err(Refusal::new(Error::Quota, "tenants-max"));
                }
                let id = self.enqueue(&ask, now_ms);
                Ok(alloc::format!("queued req={id} tenant={}", ask.tenant))
            }
            ScheduleLine::Cancel(c) => {
                let req = self
                    .gpu
                    .queue
                    .get(c.req)
                    .ok_or(Refusal::new(Error::NotFound, "no-such-request"))?;
                if p.role != Role::Queen && p.worker_id() != Some(req.worker.as_str()) {
                    return Err(Refusal::new(Error::Perm, "not-your-request"));
                }
                self.cancel_request(c.req, "cancelled");
                Ok(alloc::format!("cancelled req={}", c.req))
            }
        }
    }

    /// Queues a request (journaled) and marks the scheduler due.
    pub(crate) fn enqueue(&mut self, ask: &Ask, now_ms: u64) -> u64 {
        let id = self.gpu.queue.mint();
        let req = Request {
            id,
            worker: ask.worker.clone(),
            tenant: ask.tenant.clone(),
            mem_mb: ask.mem_mb,
            streams: ask.streams,
            ttl_ms: ask.ttl_ms,
            priority: ask.priority,
            enqueued_ms: now_ms,
        };
        self.journal(super::replay::request_entry(&req));
        self.gpu.queue.push(req);
        self.gpu.refresh(&ask.tenant);
        self.gpu.dirty = true;
        id
    }

    fn cancel_request(&mut self, id: u64, reason: &'static str) {
        if let Some(req) = self.gpu.queue.remove(id) {
            self.journal(Entry::LeaseCancel {
                req: id,
                reason: String::from(reason),
            });
            self.gpu.refresh(&req.tenant);
            let line = alloc::format!("lease-refused req={id} reason={reason}");
            let _ = self.queue_command(&req.worker, line.as_bytes());
        }
    }

    /// Applies a decision: the victim (if any) is ended first, then the lease is journaled,
    /// recorded and audited.
    pub(crate) fn grant(&mut self, ask: &Ask, d: Decision, req: Option<u64>, now_ms: u64) -> Lease {
        if let Some(victim) = d.victim {
            self.end_lease(victim, PREEMPTED, Some(ask), now_ms);
        }
        let lease = Lease {
            id: self.gpu.broker.mint(),
            gpu: d.gpu,
            worker: ask.worker.clone(),
            tenant: ask.tenant.clone(),
            priority: ask.priority,
            mem_mb: ask.mem_mb,
            streams: ask.streams,
            granted_ms: now_ms,
            expires_ms: now_ms.saturating_add(ask.ttl_ms),
        };
        self.journal(super::replay::grant_entry(&lease, req));
        let inserted = self.gpu.broker.insert(lease.clone());
        debug_assert!(inserted, "the broker decided this GPU was free");
        self.gpu.broker.stats.grants += 1;
        self.gpu.refresh(&lease.tenant);
        let what = alloc::format!(
            "lease={} gpu={} worker={} tenant={} priority={}",
            lease.id,
            lease.gpu,
            lease.worker,
            lease.tenant,
            lease.priority
        );
        self.audit.record(now_ms, "lease", &[("grant", &what)]);
        lease
    }

    /// Ends a lease for `reason`; a holder that did not release it is told why.
    pub(crate) fn end_lease(&mut self, id: u64, reason: &'static str, by: Option<&Ask>, now: u64) {
        let Some(lease) = self.gpu.broker.remove(id) else {
            return;
        };
        self.journal(Entry::LeaseEnd {
            lease: id,
            reason: String::from(reason),
        });
        let stats = &mut self.gpu.broker.stats;
        match reason {
            RELEASED => stats.releases += 1,
            TTL => stats.expiries += 1,
            PREEMPTED => {}
            _ => stats.revoked += 1,
        }
        let mut line = alloc::format!("lease-revoked lease={id} gpu={} reason={reason}", lease.gpu);
        if let Some(by) = by {
            line.push_str(&alloc::format!(
                " by={} priority={}",
                by.worker,
                by.priority
            ));
            self.gpu.broker.remember_preemption(Preemption {
                at_ms: now,
                gpu: lease.gpu.clone(),
                lease: id,
                victim: lease.worker.clone(),
                victim_priority: lease.priority,
                by: by.worker.clone(),
                by_priority: by.priority,
            });
        }
        if reason != RELEASED && reason != HOLDER_REVOKED {
            // Best effort: a full or malformed queue never keeps a lease alive.
            let _ = self.queue_command(&lease.worker, line.as_bytes());
        }
        let what = alloc::format!("lease={id} gpu={} worker={}", lease.gpu, lease.worker);
        self.audit
            .record(now, "lease", &[("end", &what), ("reason", reason)]);
        self.gpu.refresh(&lease.tenant);
        self.gpu.dirty = true;
    }

    /// A bridge crashed or went silent: its GPUs are lost and their leases revoked.
    fn lose_bridge(&mut self, bridge: &str, now_ms: u64) -> usize {
        let mut revoked = 0;
        for gpu in self.gpu.broker.bridge_devices(bridge) {
            let Some(dev) = self.gpu.broker.device(&gpu) else {
                continue;
            };
            let (mem_mb, streams, lease) = (dev.mem_mb, dev.streams, dev.lease);
            if let Some(lease) = lease {
                self.end_lease(lease, BRIDGE_LOST, None, now_ms);
                revoked += 1;
            }
            self.journal(Entry::GpuDevice {
                gpu: gpu.clone(),
                bridge: String::from(bridge),
                mem_mb,
                streams,
                lost: true,
            });
            self.gpu
                .broker
                .set_device(&gpu, bridge, mem_mb, streams, true);
        }
        revoked
    }

    /// Hive time passed: lapsed leases end, then the scheduler places what it can.
    pub(crate) fn gpu_tick(&mut self, now_ms: u64) {
        for id in self.gpu.broker.expired(now_ms) {
            self.end_lease(id, TTL, None, now_ms);
        }
        self.run_schedule(now_ms);
    }

    /// A revoked worker's leases end and its queued requests go.
    pub(crate) fn gpu_holder_gone(&mut self, worker: &str, now_ms: u64) {
        for id in self.gpu.broker.leases_of(worker) {
            self.end_lease(id, HOLDER_REVOKED, None, now_ms);
        }
        for req in self.gpu.queue.of_worker(worker) {
            self.cancel_request(req, HOLDER_REVOKED);
        }
    }

    /// Places queued requests while capacity allows: best tenant head first; a head that
    /// cannot be placed yet is passed over (at most `DECIDE_SKIPS` per round).
    pub(crate) fn run_schedule(&mut self, now_ms: u64) {
        if !self.gpu.dirty {
            return;
        }
        self.gpu.dirty = false;
        let mut skipped: Vec<String> = Vec::new();
        // The scheduler never preempts: with no free GPU nothing queued can be placed.
        while self.gpu.broker.free_devices() > 0 {
            let Some(&id) = self.gpu.queue.best(1).first() else {
                break;
            };
            let Some(req) = self.gpu.queue.get(id).cloned() else {
                break;
            };
            let ask = req.ask();
            match self.gpu.broker.decide(&ask, false) {
                Ok(decision) => {
                    self.gpu.queue.remove(id);
                    self.gpu.queue.decisions += 1;
                    self.grant(&ask, decision, Some(id), now_ms);
                    self.gpu.refresh(&req.tenant);
                    let line = alloc::format!("lease-granted req={id}");
                    let _ = self.queue_command(&req.worker, line.as_bytes());
                }
                Err(r) if matches!(r.error, Error::Busy | Error::Quota) => {
                    if r.detail == "leases-max" || skipped.len() >= DECIDE_SKIPS {
                        break;
                    }
                    self.gpu.queue.refresh(&req.tenant, 0, false);
                    skipped.push(req.tenant);
                }
                Err(r) => {
                    self.gpu.queue.decisions += 1;
                    self.cancel_request(id, r.detail);
                }
            }
        }
        for tenant in skipped {
            self.gpu.refresh(&tenant);
        }
    }
}

/// The bridge a line speaks for: a bridge only for itself, the Queen for any it names.
fn bridge_of(p: &Principal, named: Option<&str>) -> Result<String, Refusal> {
    match (p.role, named) {
        (Role::Queen, Some(b)) => Ok(String::from(b)),
        (Role::GpuBridge, None) => Ok(p.subject.clone()),
        (Role::GpuBridge, Some(b)) if b == p.subject => Ok(String::from(b)),
        (Role::Queen, None) => Err(Refusal::new(Error::Invalid, "needs-bridge")),
        _ => Err(Refusal::new(Error::Perm, "not-your-bridge")),
    }
}
