//! Running one scenario: build the turmoil world (Queens, sites, operators), step it tick by
//! tick while applying the fault plan, run the checkers, and return the transcript with a
//! summary. Nothing here reads the wall clock except the summary's wall time and the
//! progress bar, neither of which reaches the transcript.

use crate::checks::{checkpoint, Invariants, Violation};
use crate::faults;
use crate::report::Progress;
use crate::scenario::{FaultAction, Scenario};
use crate::world::{BootHook, World};
use crate::{attacker, operator, queen, site};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::{Duration, Instant, UNIX_EPOCH};
use turmoil::Sim;
use worker::AgentState;

/// Where every simulation's calendar starts (2023-11-14T22:13:20Z); nothing depends on it
/// but it is fixed so nothing can depend on the host's clock either.
const EPOCH_S: u64 = 1_700_000_000;
/// Segments per stream window and connections per accept backlog.
const TCP_CAPACITY: usize = 4096;
/// Periodic invariants run this often in virtual time.
const PERIODIC_US: u64 = 1_000_000;

#[derive(Clone, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Draw a progress bar on stderr once the run has taken a second.
    pub progress: bool,
    pub boot_hook: Option<BootHook>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub scenario: String,
    pub seed: u64,
    pub transcript: String,
    pub summary: Summary,
    pub violations: Vec<Violation>,
    /// The operator scripts' replies in full (the transcript keeps only their digests).
    pub replies: Vec<crate::operator::OpReply>,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub virtual_us: u64,
    pub wall: Duration,
    pub steps: u64,
    pub events: u64,
    pub lines: usize,
    pub hosts: usize,
    pub workers_online: usize,
    pub workers_offline: usize,
    pub workers_pending: usize,
    pub agents_online: usize,
    pub agents_cut: usize,
    pub agents_revoked: usize,
    pub refusals: BTreeMap<&'static str, u64>,
    pub provisioned: u64,
    pub expectations_failed: u64,
    pub peak_queen_bytes: usize,
}

impl Summary {
    /// Virtual seconds per wall second.
    pub fn speedup(&self) -> f64 {
        let wall = self.wall.as_secs_f64().max(1e-9);
        self.virtual_us as f64 / 1e6 / wall
    }
}

/// Which links are cut, which hosts are down, which links lose packets.
#[derive(Debug, Default)]
struct NetState {
    cut: BTreeSet<(String, String)>,
    /// Links cut in one direction (either), and links clogged.
    oneway: BTreeSet<(String, String)>,
    held: BTreeSet<(String, String)>,
    down: BTreeSet<String>,
    lossy: BTreeSet<(String, String)>,
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

impl NetState {
    fn apply(&mut self, action: &FaultAction) {
        match action {
            FaultAction::Partition { a, b } => drop(self.cut.insert(pair(a, b))),
            FaultAction::Heal { a, b } => drop(self.cut.remove(&pair(a, b))),
            FaultAction::Crash { host } => drop(self.down.insert(host.clone())),
            FaultAction::Restart { host } => drop(self.down.remove(host)),
            FaultAction::Loss { a, b, rate } if *rate > 0.0 => drop(self.lossy.insert(pair(a, b))),
            FaultAction::Loss { a, b, .. } => drop(self.lossy.remove(&pair(a, b))),
            // A one-way cut or a clog stops the heartbeat's round trip like a cut does.
            FaultAction::PartitionOneway { a, b } => drop(self.oneway.insert(pair(a, b))),
            FaultAction::HealOneway { a, b } => drop(self.oneway.remove(&pair(a, b))),
            FaultAction::Hold { a, b } => drop(self.held.insert(pair(a, b))),
            FaultAction::Release { a, b } => drop(self.held.remove(&pair(a, b))),
            FaultAction::Latency { .. }
            | FaultAction::Skew { .. }
            | FaultAction::StoreFull { .. }
            | FaultAction::StoreIo { .. }
            | FaultAction::StoreTorn { .. }
            | FaultAction::StoreHeal { .. } => {}
        }
    }

    fn reachable(&self, world: &World, site: usize) -> bool {
        let host = &world.sites[site].host;
        let queen = world.hives[world.sites[site].hive].spec.queen_host();
        let link = pair(host, &queen);
        !self.down.contains(host)
            && !self.down.contains(&queen)
            && !self.cut.contains(&link)
            && !self.oneway.contains(&link)
            && !self.held.contains(&link)
            && !self.lossy.contains(&link)
    }
}

/// Liveness is checked `bound` after each healing fault not followed by another
/// disturbance within the bound, and at the end of a run quiet for at least the bound.
fn liveness_times(scenario: &Scenario) -> Vec<u64> {
    let bound = scenario.liveness_us;
    let disturbs: Vec<u64> = scenario
        .faults
        .iter()
        .filter(|f| !f.action.heals() && !matches!(f.action, FaultAction::Skew { .. }))
        .map(|f| f.at_us)
        .collect();
    let quiet = |from: u64| !disturbs.iter().any(|&d| d > from && d <= from + bound);
    let mut times: Vec<u64> = scenario
        .faults
        .iter()
        .filter(|f| f.action.heals() && quiet(f.at_us))
        .map(|f| f.at_us + bound)
        .filter(|&t| t < scenario.duration_us)
        .collect();
    times.sort_unstable();
    times.dedup();
    times
}

/// Runs `scenario` to its end.
pub fn run(mut scenario: Scenario, options: RunOptions) -> anyhow::Result<Outcome> {
    if let Some(seed) = options.seed {
        scenario.seed = seed;
    }
    let started = Instant::now();
    let world = Rc::new(World::new(scenario.clone(), options.boot_hook.clone()));
    let mut sim = build(&scenario);
    let hosts = register(&mut sim, &world);
    let tick_us = scenario.tick_ms * 1000;
    let steps = scenario.duration_us.div_ceil(tick_us);
    let mut driver = Driver {
        invariants: Invariants::new(scenario.hives.len()),
        net: NetState::default(),
        next_checkpoint: scenario.checkpoint_us,
        next_periodic: PERIODIC_US,
        peak: 0,
        grace_us: 2 * tick_us + 4 * scenario.max_latency_ms * 1000 + 1_000_000,
    };
    let mut faults = scenario.faults.iter().peekable();
    let mut liveness = liveness_times(&scenario).into_iter().peekable();
    let mut progress = Progress::new(options.progress, steps, started);
    for step in 0..steps {
        let now = step * tick_us;
        world.clock_us.set(now);
        while let Some(fault) = faults.next_if(|f| f.at_us <= now) {
            faults::apply(&mut sim, &world, &fault.action);
            driver.net.apply(&fault.action);
        }
        sim.step()
            .map_err(|e| anyhow::anyhow!("simulation failed at t={now}us: {e}"))?;
        let after = now + tick_us;
        world.clock_us.set(after);
        let heal_check = liveness.next_if(|&t| t <= after).is_some();
        driver.after_step(&world, after, heal_check);
        progress.tick(step + 1);
    }
    progress.finish();
    let end = steps * tick_us;
    world.clock_us.set(end);
    driver.invariants.periodic(&world, driver.grace_us);
    // The last step already wrote one when the run ends on a checkpoint boundary.
    if !end.is_multiple_of(scenario.checkpoint_us) {
        checkpoint::record(&world);
    }
    let mut summary = summarize(&world, end, steps, hosts, started.elapsed(), driver.peak);
    record_summary(&world, &summary);
    let transcript = world.transcript.borrow().render();
    summary.lines = transcript.lines().count();
    summary.events = world.transcript.borrow().events();
    Ok(Outcome {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        transcript,
        summary,
        violations: driver.invariants.violations,
        replies: world.replies.take(),
    })
}

/// The turmoil world: fixed epoch, the scenario's seed, tick and latency range.
fn build<'a>(scenario: &Scenario) -> Sim<'a> {
    turmoil::Builder::new()
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_S))
        .rng_seed(scenario.seed)
        .tick_duration(Duration::from_millis(scenario.tick_ms))
        .simulation_duration(
            Duration::from_micros(scenario.duration_us) + Duration::from_secs(3_600),
        )
        .min_message_latency(Duration::from_millis(scenario.min_latency_ms))
        .max_message_latency(Duration::from_millis(scenario.max_latency_ms))
        // Room for a whole site connecting at once (turmoil sizes the accept backlog and
        // each stream's window from this).
        .tcp_capacity(TCP_CAPACITY)
        .build()
}

/// Queens first, then sites, then operators: hosts run in this order every step.
fn register(sim: &mut Sim<'_>, world: &Rc<World>) -> usize {
    let hives = world.scenario.hives.clone();
    for (i, hive) in hives.iter().enumerate() {
        let w = world.clone();
        sim.host(hive.queen_host(), move || queen::run(w.clone(), i));
    }
    for i in 0..world.sites.len() {
        let w = world.clone();
        sim.host(world.sites[i].host.clone(), move || site::run(w.clone(), i));
    }
    for (i, hive) in hives.iter().enumerate() {
        let w = world.clone();
        sim.host(hive.operator_host(), move || operator::run(w.clone(), i));
    }
    let attackers = world.scenario.attackers.len();
    for i in 0..attackers {
        let w = world.clone();
        let host = world.scenario.attackers[i].host.clone();
        sim.host(host, move || attacker::run(w.clone(), i));
    }
    2 * hives.len() + world.sites.len() + attackers
}

/// The driver's memory between steps.
struct Driver {
    invariants: Invariants,
    net: NetState,
    next_checkpoint: u64,
    next_periodic: u64,
    peak: usize,
    grace_us: u64,
}

impl Driver {
    fn after_step(&mut self, world: &World, now: u64, heal_check: bool) {
        self.invariants.after_step(world);
        if now >= self.next_periodic {
            self.invariants.periodic(world, self.grace_us);
            self.peak = self.peak.max(queen_peak(world));
            self.next_periodic += PERIODIC_US;
        }
        if now >= self.next_checkpoint {
            checkpoint::record(world);
            self.next_checkpoint += world.scenario.checkpoint_us;
        }
        if heal_check {
            let net = &self.net;
            let reachable = |site: usize| net.reachable(world, site);
            self.invariants
                .liveness(world, &reachable, world.scenario.liveness_us);
        }
    }
}

fn queen_peak(world: &World) -> usize {
    world
        .hives
        .iter()
        .filter_map(|h| h.pump.borrow().as_ref().map(checkpoint::queen_heap))
        .sum()
}

fn summarize(
    world: &World,
    end: u64,
    steps: u64,
    hosts: usize,
    wall: Duration,
    peak: usize,
) -> Summary {
    let tally = world.tally.borrow().clone();
    let mut s = Summary {
        virtual_us: end,
        wall,
        steps,
        hosts,
        refusals: tally.refusals,
        provisioned: tally.provisioned,
        expectations_failed: tally.expectations_failed,
        peak_queen_bytes: peak,
        ..Summary::default()
    };
    for cell in &world.hives {
        if let Some(pump) = cell.pump.borrow().as_ref() {
            let (pending, online, offline) = pump.hive().registry().counts();
            s.workers_pending += pending;
            s.workers_online += online;
            s.workers_offline += offline;
        }
    }
    for site in &world.sites {
        for view in site.agents.borrow().values() {
            match view.state {
                AgentState::Online => s.agents_online += 1,
                AgentState::Revoked(_) => s.agents_revoked += 1,
                _ => s.agents_cut += 1,
            }
        }
    }
    s
}

/// The final transcript lines: totals that a reviewer reads first.
fn record_summary(world: &World, s: &Summary) {
    let tally = world.tally.borrow().clone();
    let mut fields = vec![
        ("virtual_s", format!("{}", s.virtual_us / 1_000_000)),
        ("hosts", s.hosts.to_string()),
        ("workers_online", s.workers_online.to_string()),
        ("workers_offline", s.workers_offline.to_string()),
        ("workers_pending", s.workers_pending.to_string()),
        ("agents_online", s.agents_online.to_string()),
        ("agents_cut", s.agents_cut.to_string()),
        ("agents_revoked", s.agents_revoked.to_string()),
        ("provisioned", tally.provisioned.to_string()),
        ("provision_failed", tally.provision_failed.to_string()),
        ("commands", tally.commands.to_string()),
        ("expect_failed", tally.expectations_failed.to_string()),
    ];
    for class in ["busy", "quota", "cut", "policy", "invalid", "unsupported"] {
        let n = tally.refusals.get(class).copied().unwrap_or(0);
        fields.push((refusal_key(class), n.to_string()));
    }
    fields.push(("violations", tally.violations.to_string()));
    world.record("*", "sim", "summary", None, fields);
}

fn refusal_key(class: &str) -> &'static str {
    match class {
        "busy" => "refused_busy",
        "quota" => "refused_quota",
        "cut" => "refused_cut",
        "policy" => "refused_policy",
        "invalid" => "refused_invalid",
        _ => "refused_unsupported",
    }
}
