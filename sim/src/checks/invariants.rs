//! Invariant checkers, run continuously by the driver: cheap ones after every step, the
//! rest once per virtual second. A breach becomes an `invariant.violated` line and a
//! failed run; none of them ever repairs anything.

use super::checkpoint::queen_heap;
use crate::world::World;
use ninedoor::{SessionState, Visibility};
use pump::Pump;
use std::collections::{BTreeMap, BTreeSet};
use worker::AgentState;

/// One breach, with the virtual time it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub t_us: u64,
    pub hive: String,
    pub name: &'static str,
    pub detail: String,
}

/// Violations recorded per invariant in the transcript (all are counted).
const RECORDED_MAX: usize = 8;

/// What the checkers remember between runs of themselves.
#[derive(Debug, Default)]
pub struct Invariants {
    pub violations: Vec<Violation>,
    recorded: BTreeMap<&'static str, usize>,
    hives: Vec<HiveMemory>,
}

#[derive(Debug, Default)]
struct HiveMemory {
    /// The boot and the rebuild from the store the remembered state belongs to.
    boot: (u32, u64),
    /// Per worker: (records, ring end, bytes of the ring already scanned up to).
    workers: BTreeMap<String, (u64, u64)>,
    audit_lines: u64,
    /// How far the Queen's audit log had been made durable (an absolute byte offset): no
    /// later boot or rebuild may hold less.
    audit_durable: u64,
    writer_epoch: u64,
    /// Revoked workers and their acknowledged beats when the grace period ended.
    after_revoke: BTreeMap<String, Option<u64>>,
    /// Agents cut off, with the heartbeats they had sent when the cut began.
    cut: BTreeMap<String, (u64, u64)>,
    /// Per GPU: its job stream's end and whether it was leased, at the last check.
    gpu_jobs: BTreeMap<String, (u64, bool)>,
}

impl Invariants {
    pub fn new(hives: usize) -> Self {
        Self {
            hives: (0..hives).map(|_| HiveMemory::default()).collect(),
            ..Self::default()
        }
    }

    fn breach(&mut self, world: &World, hive: usize, name: &'static str, detail: String) {
        let hive_name = world.hives[hive].name.clone();
        let seen = self.recorded.entry(name).or_insert(0);
        *seen += 1;
        if *seen <= RECORDED_MAX {
            world.record(
                &hive_name,
                "check",
                "invariant.violated",
                None,
                vec![("name", name.to_string()), ("detail", detail.clone())],
            );
        }
        world.tally.borrow_mut().violations += 1;
        self.violations.push(Violation {
            t_us: world.now_us(),
            hive: hive_name,
            name,
            detail,
        });
    }

    /// After every step: no session holding a revoked ticket survives the turn that
    /// revoked it.
    pub fn after_step(&mut self, world: &World) {
        for hive in 0..world.hives.len() {
            let breaches = {
                let cell = &world.hives[hive];
                let revoked = cell.revoked.borrow();
                let pump = cell.pump.borrow();
                match pump.as_ref() {
                    Some(pump) if !revoked.is_empty() => live_revoked_sessions(pump, &revoked),
                    _ => Vec::new(),
                }
            };
            for detail in breaches {
                self.breach(world, hive, "nothing-after-revocation", detail);
            }
        }
    }

    /// Once per virtual second: scopes, append-only, budgets, one writer, memory, and the
    /// agents' side of revocation.
    pub fn periodic(&mut self, world: &World, grace_us: u64) {
        for hive in 0..world.hives.len() {
            let mut found: Vec<(&'static str, String)> = Vec::new();
            {
                let cell = &world.hives[hive];
                let memory = &mut self.hives[hive];
                // What was made durable of the audit log survives every crash and every
                // rebuild after a store fault; lines not yet written may be lost with them
                // (docs/journal.md). Offsets are absolute, so trimming behind snapshots
                // does not move them.
                if let Some(pump) = cell.pump.borrow().as_ref() {
                    let end = pump.hive().audit().end();
                    if end < memory.audit_durable {
                        found.push((
                            "append-only",
                            format!(
                                "audit durable to {} but ends at {end}",
                                memory.audit_durable
                            ),
                        ));
                    }
                    memory.audit_durable = memory.audit_durable.max(pump.audit_durable_end());
                    let boot = (cell.boots.get(), pump.rebuilds());
                    if boot != memory.boot {
                        // A new boot (or a rebuild after a store fault) starts from what the
                        // store holds; continuity lives in the journal.
                        memory.boot = boot;
                        memory.workers.clear();
                        memory.audit_lines = 0;
                        memory.writer_epoch = 0;
                    }
                    check_pump(world, hive, pump, memory, &mut found);
                }
                for detail in super::store::store_intact(&cell.store) {
                    found.push(("store-intact", detail));
                }
                for site in world.sites_of(hive) {
                    let label = &world.sites[site].label;
                    for detail in super::store::store_intact(&world.sites[site].store) {
                        found.push(("store-intact", format!("site {label}: {detail}")));
                    }
                }
                revoked_agents(world, hive, memory, grace_us, &mut found);
                cut_agents(world, hive, memory, &mut found);
                isolation(world, hive, &mut found);
            }
            for (name, detail) in found {
                self.breach(world, hive, name, detail);
            }
        }
    }

    /// Liveness: every agent that still holds authority and can reach its Queen is ONLINE
    /// on both sides. `reachable(site)` tells whether a site can reach its Queen now.
    pub fn liveness(&mut self, world: &World, reachable: &dyn Fn(usize) -> bool, since_us: u64) {
        for hive in 0..world.hives.len() {
            let mut late: Vec<String> = Vec::new();
            {
                let pump = world.hives[hive].pump.borrow();
                let Some(pump) = pump.as_ref() else {
                    continue;
                };
                for site in world.sites_of(hive).filter(|&s| reachable(s)) {
                    for (id, view) in world.sites[site].agents.borrow().iter() {
                        let registered = pump.hive().registry().get(id);
                        let online_at_queen =
                            registered.is_some_and(|w| w.state.as_str() == "ONLINE");
                        let holds = !view.state.is_terminal() && registered.is_some();
                        if holds && (view.state != AgentState::Online || !online_at_queen) {
                            late.push(format!(
                                "{id}@{}:{}",
                                world.sites[site].label,
                                view.state.label()
                            ));
                        }
                    }
                }
            }
            if late.is_empty() {
                world.record(
                    &world.hives[hive].name,
                    "check",
                    "liveness",
                    None,
                    vec![
                        ("result", "pass".to_string()),
                        ("bound_s", (since_us / 1_000_000).to_string()),
                    ],
                );
            } else {
                let n = late.len();
                late.truncate(5);
                let detail = format!(
                    "{n} not ONLINE {}s after healing: {}",
                    since_us / 1_000_000,
                    late.join(",")
                );
                self.breach(world, hive, "liveness", detail);
            }
        }
    }
}

fn live_revoked_sessions(pump: &Pump, revoked: &BTreeMap<u64, (String, u64)>) -> Vec<String> {
    pump.ninedoor()
        .sessions()
        .filter(|(_, info)| info.state != SessionState::Closed)
        .filter_map(|(sid, info)| {
            let tid = info.principal.as_ref()?.ticket_id?;
            let (id, _) = revoked.get(&tid)?;
            Some(format!(
                "session {} of revoked {id} still {}",
                sid.0,
                info.state.as_str()
            ))
        })
        .collect()
}

/// The Queen-side checks of one hive.
fn check_pump(
    world: &World,
    hive: usize,
    pump: &Pump,
    memory: &mut HiveMemory,
    found: &mut Vec<(&'static str, String)>,
) {
    let h = pump.hive();
    // Append-only: the audit log and every telemetry ring only grow.
    let lines = h.audit().lines();
    if lines < memory.audit_lines {
        found.push((
            "append-only",
            format!("audit {} -> {lines}", memory.audit_lines),
        ));
    }
    memory.audit_lines = lines;
    let mut seen = BTreeSet::new();
    for w in h.registry().iter() {
        seen.insert(w.id.clone());
        let end = w.telemetry.end();
        let (records, scanned) = memory.workers.get(&w.id).copied().unwrap_or((0, 0));
        if w.records < records || end < scanned {
            found.push(("append-only", format!("{} telemetry shrank", w.id)));
        }
        // Scopes: every new record in a worker's ring is that worker's own heartbeat.
        let fresh = w.telemetry.read(scanned, usize::MAX);
        let own = format!("hb id={} ", w.id);
        for record in fresh.data.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
            if !record.starts_with(own.as_bytes()) {
                found.push(("scopes", format!("foreign record in {}", w.id)));
                break;
            }
        }
        memory
            .workers
            .insert(w.id.clone(), (w.records, fresh.next.max(end)));
        // Budgets: spending never passes a limit.
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|l| used > l);
        let meter = h.worker_meter(w);
        if over(w.budget.ops, meter.ops)
            || over(w.budget.ticks, meter.ticks)
            || over(w.budget.bytes, meter.bytes)
        {
            found.push((
                "budgets",
                format!("{} spent {:?} of {:?}", w.id, meter, w.budget),
            ));
        }
    }
    memory.workers.retain(|id, _| seen.contains(id));
    check_views(pump, found);
    check_gpus(h, memory, found);
    // One writer: the writer epoch never goes back within a boot.
    if h.writer_epoch() < memory.writer_epoch {
        found.push((
            "one-writer",
            format!("epoch {} -> {}", memory.writer_epoch, h.writer_epoch()),
        ));
    }
    memory.writer_epoch = h.writer_epoch();
    // Bounded memory.
    let heap = queen_heap(pump) as u64;
    let limit = world.scenario.queen_memory_bytes;
    let manifest = h.manifest();
    if heap > limit || h.registry().len() > manifest.hive.workers_max as usize {
        found.push((
            "queen-memory",
            format!("{heap} bytes, {} workers", h.registry().len()),
        ));
    }
    let _ = hive;
}

/// GPU leases: no GPU leased twice or while lost, no tenant past its quota, every preemption
/// strictly by priority, and no job accepted on a GPU that had no lease at either end of the
/// interval since the last check.
fn check_gpus(h: &hive::Hive, memory: &mut HiveMemory, found: &mut Vec<(&'static str, String)>) {
    let b = &h.gpus().broker;
    let mut leased = BTreeSet::new();
    let mut held: BTreeMap<&str, u32> = BTreeMap::new();
    for l in b.leases() {
        let on = b.device(&l.gpu);
        if !leased.insert(l.gpu.as_str()) || on.is_none_or(|d| d.lease != Some(l.id) || d.lost) {
            found.push(("gpu-exclusive", format!("{} lease {}", l.gpu, l.id)));
        }
        *held.entry(l.tenant.as_str()).or_insert(0) += 1;
    }
    for (tenant, n) in held {
        if n > b.quota(tenant) {
            found.push(("gpu-quota", format!("{tenant} holds {n}")));
        }
    }
    for p in b.preemptions() {
        if p.victim_priority >= p.by_priority {
            found.push(("gpu-preemption", format!("{p:?}")));
        }
    }
    for d in b.devices() {
        let end = d.job.end();
        let now_leased = d.lease.is_some();
        let (before, was_leased) = memory.gpu_jobs.get(&d.id).copied().unwrap_or((0, false));
        if end > before && !was_leased && !now_leased {
            found.push(("gpu-job-lease", format!("{} took a job unleased", d.id)));
        }
        memory.gpu_jobs.insert(d.id.clone(), (end, now_leased));
    }
}

/// Scopes at the session table: a worker session sees its own directory and nothing of the
/// Queen's control files or another worker's.
fn check_views(pump: &Pump, found: &mut Vec<(&'static str, String)>) {
    for (sid, info) in pump.ninedoor().sessions() {
        let Some(p) = &info.principal else { continue };
        let Some(id) = p.worker_id() else { continue };
        let foreign = if id == "w0001" { "w0002" } else { "w0001" };
        let foreign_path = worker::telemetry_path_of(foreign);
        let own_path = worker::telemetry_path_of(id);
        let leaks = info.view.visibility("/queen/ctl") != Visibility::Hidden
            || info.view.visibility(&foreign_path) != Visibility::Hidden
            || info.view.visibility(&own_path) != Visibility::Inside;
        if leaks {
            found.push((
                "scopes",
                format!("session {} of {id} sees beyond its view", sid.0),
            ));
        }
    }
}

/// The agents' side of revocation: past a grace period for replies already in flight, a
/// revoked worker's agent has no further heartbeat acknowledged.
fn revoked_agents(
    world: &World,
    hive: usize,
    memory: &mut HiveMemory,
    grace_us: u64,
    found: &mut Vec<(&'static str, String)>,
) {
    let now = world.now_us();
    let revoked = world.hives[hive].revoked.borrow();
    for (id, at_us) in revoked.values() {
        if now < at_us + grace_us {
            continue;
        }
        let view = world
            .sites_of(hive)
            .find_map(|s| world.sites[s].agents.borrow().get(id).copied());
        let Some(view) = view else { continue };
        let acked = view.stats.beats_acked;
        let baseline = memory.after_revoke.entry(id.clone()).or_insert(Some(acked));
        let grew = baseline.is_some_and(|b| acked > b);
        // An agent may still believe it is online (its stream stalled before the hang-up
        // reached it); what must not happen is the Queen accepting anything from it.
        if grew {
            found.push((
                "nothing-after-revocation",
                format!("{id} acted after revocation"),
            ));
            *baseline = Some(acked);
        }
    }
}

/// No authority while cut: an agent that is cut off sends no heartbeat until it attaches
/// again (a new attach ends the cut, so the count is taken per cut, by its start time).
fn cut_agents(
    world: &World,
    hive: usize,
    memory: &mut HiveMemory,
    found: &mut Vec<(&'static str, String)>,
) {
    let mut still = BTreeSet::new();
    for site in world.sites_of(hive) {
        for (id, view) in world.sites[site].agents.borrow().iter() {
            if !matches!(
                view.state,
                AgentState::Cut(worker::CutReason::NetworkUnreachable)
            ) {
                continue;
            }
            still.insert(id.clone());
            let entry = memory
                .cut
                .entry(id.clone())
                .or_insert((view.since_us, view.stats.beats_sent));
            if entry.0 != view.since_us {
                *entry = (view.since_us, view.stats.beats_sent);
            } else if view.stats.beats_sent > entry.1 {
                found.push((
                    "no-authority-while-cut",
                    format!("{id} sent heartbeats while cut"),
                ));
                entry.1 = view.stats.beats_sent;
            }
        }
    }
    memory.cut.retain(|id, _| still.contains(id));
}

/// Isolated authority: a ticket minted by one hive is refused by every other hive's keys.
fn isolation(world: &World, hive: usize, found: &mut Vec<(&'static str, String)>) {
    let sample = {
        let pump = world.hives[hive].pump.borrow();
        pump.as_ref()
            .and_then(|p| p.hive().registry().iter().next().map(|w| w.ticket.clone()))
    };
    let Some(text) = sample else { return };
    for (other, cell) in world.hives.iter().enumerate() {
        if other != hive && ticket::verify(&cell.keys, &text, 1024, 0).is_ok() {
            found.push((
                "isolated-authority",
                format!(
                    "hive {} accepts a ticket of hive {}",
                    cell.name, world.hives[hive].name
                ),
            ));
        }
    }
}
