//! Text of `/gpu/<id>/{info,lease}`, `/proc/lease/*` and `/proc/schedule/*`.

use crate::Hive;
use alloc::string::String;
use core::fmt::Write;

/// Lines `/proc/schedule/queue` lists at most; the rest is summed up in one `more=` line.
pub const QUEUE_LISTED: usize = 256;

impl Hive {
    /// `/gpu/<id>/info`.
    pub fn gpu_info(&self, gpu: &str) -> Option<String> {
        let d = self.gpu.broker.device(gpu)?;
        let state = match (d.lost, d.lease) {
            (true, _) => "lost",
            (false, Some(_)) => "leased",
            (false, None) => "free",
        };
        Some(alloc::format!(
            "id={} bridge={} mem_mb={} streams={} state={state}\n",
            d.id,
            d.bridge,
            d.mem_mb,
            d.streams
        ))
    }

    /// `/gpu/<id>/lease`: the live lease, or `none`.
    pub fn gpu_lease(&self, gpu: &str) -> Option<String> {
        let d = self.gpu.broker.device(gpu)?;
        let mut out = String::new();
        match d.lease.and_then(|id| self.gpu.broker.lease(id)) {
            Some(l) => lease_line(&mut out, l),
            None => out.push_str("none\n"),
        }
        Some(out)
    }

    /// `/proc/lease/summary`, `active` or `preemptions`.
    pub fn lease_proc(&self, file: &str) -> Option<String> {
        let b = &self.gpu.broker;
        let mut out = String::new();
        match file {
            "summary" => {
                let s = b.stats;
                let devices = b.devices().count();
                let lost = b.devices().filter(|d| d.lost).count();
                let _ = writeln!(
                    out,
                    "devices={devices} free={} lost={lost} leases={} leases_max={} grants={} renewals={} releases={} expiries={} preemptions={} revoked={} busy={} quota={}",
                    b.free_devices(),
                    b.leases().count(),
                    self.manifest.gpu.leases_max,
                    s.grants,
                    s.renewals,
                    s.releases,
                    s.expiries,
                    s.preemptions,
                    s.revoked,
                    s.busy,
                    s.quota
                );
            }
            "active" => b.leases().for_each(|l| lease_line(&mut out, l)),
            "preemptions" => {
                for p in b.preemptions() {
                    let _ = writeln!(
                        out,
                        "at_ms={} gpu={} lease={} victim={} victim_priority={} by={} by_priority={}",
                        p.at_ms, p.gpu, p.lease, p.victim, p.victim_priority, p.by, p.by_priority
                    );
                }
            }
            _ => return None,
        }
        Some(out)
    }

    /// `/proc/schedule/summary` or `queue`.
    pub fn schedule_proc(&self, file: &str, now_ms: u64) -> Option<String> {
        let q = &self.gpu.queue;
        let mut out = String::new();
        match file {
            "summary" => {
                let _ = writeln!(
                    out,
                    "queued={} queue_max={} tenants={} decisions={} age_step_ms={}",
                    q.len(),
                    self.manifest.schedule.queue_max,
                    q.tenants().len(),
                    q.decisions,
                    self.manifest.schedule.age_step_ms
                );
            }
            "queue" => {
                for r in q.listing(QUEUE_LISTED) {
                    let _ = writeln!(
                        out,
                        "req={} worker={} tenant={} priority={} aged={} mem_mb={} streams={} ttl_ms={} enqueued_ms={}",
                        r.id,
                        r.worker,
                        r.tenant,
                        r.priority,
                        q.aged_priority(r, now_ms),
                        r.mem_mb,
                        r.streams,
                        r.ttl_ms,
                        r.enqueued_ms
                    );
                }
                if q.len() > QUEUE_LISTED {
                    let _ = writeln!(out, "more={}", q.len() - QUEUE_LISTED);
                }
            }
            _ => return None,
        }
        Some(out)
    }
}

fn lease_line(out: &mut String, l: &super::Lease) {
    let _ = writeln!(
        out,
        "lease={} gpu={} worker={} tenant={} priority={} mem_mb={} streams={} granted_ms={} expires_ms={}",
        l.id, l.gpu, l.worker, l.tenant, l.priority, l.mem_mb, l.streams, l.granted_ms, l.expires_ms
    );
}
