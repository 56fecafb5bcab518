//! A site host: a machine running many heartbeat agents, each with its own Secure9P session
//! to its Queen. Tickets arrive on the provisioning port (`PROVISION <id> <ticket>` lines
//! from the operator host) and are kept in the site's store, so a restarted site brings its
//! agents back; an agent that stopped for good is struck from the store.

use crate::hal::{try_write, SimClock, Skew};
use crate::scenario::PROVISION_PORT;
use crate::world::{AgentView, World};
use hal::{Clock, NINEP_PORT};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use turmoil::net::{TcpListener, TcpStream};
use worker::{AgentConfig, AgentEvent, AgentEventKind, AgentState, HeartbeatAgent};

/// Store log of provisioned tickets (`<id> <ticket>` records).
const TICKETS_LOG: &str = "tickets";
/// Store log of agents that stopped for good (`<id> <ticket>` records).
const STOPPED_LOG: &str = "stopped";
/// Longest provisioning line accepted.
const PROVISION_LINE_MAX: usize = 512;

/// The site's software; `turmoil` calls it again on restart.
pub async fn run(world: Rc<World>, index: usize) -> turmoil::Result {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, PROVISION_PORT)).await?;
    let site = &world.sites[index];
    site.boots.set(site.boots.get() + 1);
    let clock = Rc::new(SimClock::new(site.skew.clone()));
    site.agents.borrow_mut().clear();
    for (id, ticket) in stored_tickets(&world, index) {
        start_agent(&world, index, &clock, id, ticket);
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let (world, clock) = (world.clone(), clock.clone());
        tokio::task::spawn_local(async move { provision_conn(world, index, clock, stream).await });
    }
}

/// Tickets provisioned to this site and not struck off, in provisioning order.
fn stored_tickets(world: &World, index: usize) -> Vec<(String, String)> {
    let store = &world.sites[index].store;
    let stopped: Vec<Vec<u8>> = store.log(STOPPED_LOG);
    // The latest ticket per id wins; one that stopped for good is not restored.
    let mut latest: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (order, record) in store.log(TICKETS_LOG).into_iter().enumerate() {
        let Ok(text) = String::from_utf8(record) else {
            continue;
        };
        if stopped.iter().any(|s| s.as_slice() == text.as_bytes()) {
            latest.remove(text.split(' ').next().unwrap_or_default());
            continue;
        }
        if let Some((id, ticket)) = text.split_once(' ') {
            latest.insert(id.to_string(), (order, ticket.to_string()));
        }
    }
    let mut restored: Vec<(usize, String, String)> = latest
        .into_iter()
        .map(|(id, (order, ticket))| (order, id, ticket))
        .collect();
    restored.sort();
    restored
        .into_iter()
        .map(|(_, id, ticket)| (id, ticket))
        .collect()
}

/// Reads `PROVISION <id> <ticket>` lines, answering `OK <id>` or `ERR <reason> <id>`.
async fn provision_conn(world: Rc<World>, index: usize, clock: Rc<SimClock>, stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read.take(1 << 24)).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = match parse_provision(&line) {
            Some((id, ticket)) => admit(&world, index, &clock, id, ticket),
            None => "ERR invalid -".to_string(),
        };
        if write
            .write_all(format!("{reply}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

fn parse_provision(line: &str) -> Option<(&str, &str)> {
    if line.len() > PROVISION_LINE_MAX {
        return None;
    }
    let rest = line.strip_prefix("PROVISION ")?;
    let (id, ticket) = rest.split_once(' ')?;
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok && !ticket.contains(' ')).then_some((id, ticket))
}

/// A stable hash of a ticket (FNV-1a), to recognise a repeated hand-off.
fn ticket_hash(ticket: &str) -> u64 {
    ticket.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn admit(world: &Rc<World>, index: usize, clock: &Rc<SimClock>, id: &str, ticket: &str) -> String {
    let site = &world.sites[index];
    let known = site.agents.borrow().get(id).map(|v| v.ticket_hash);
    if known == Some(ticket_hash(ticket)) {
        return format!("OK {id}");
    }
    // A new ticket for a known id (the Queen restarted and spawned it again) replaces the
    // old agent; only new ids count against the capacity.
    if known.is_none() && site.agents.borrow().len() >= site.capacity {
        return format!("ERR full {id}");
    }
    // Durable before the acknowledgement: a crash after `OK` keeps the ticket.
    let record = format!("{id} {ticket}");
    let _ = hal::Store::store_append(&mut site.store.clone(), TICKETS_LOG, record.as_bytes());
    start_agent(world, index, clock, id.to_string(), ticket.to_string());
    format!("OK {id}")
}

fn start_agent(world: &Rc<World>, index: usize, clock: &Rc<SimClock>, id: String, ticket: String) {
    let site = &world.sites[index];
    let scenario = &world.scenario;
    let hive = &world.hives[site.hive].spec;
    let jitter = scenario.seed
        ^ id.bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut config = AgentConfig::heartbeat(&id, &ticket);
    // A gpu worker's ticket names the worker-gpu role; the agent attaches as its ticket says.
    if let Ok((claims, _)) = ticket::decode(&ticket, usize::MAX) {
        config.role = claims.role.as_str().to_string();
    }
    let config = config
        .with_heartbeat_ms(scenario.heartbeat_ms)
        .with_deadline_ms(u64::from(hive.manifest.hive.heartbeat_deadline_ms))
        .with_reconnect(scenario.reconnect_base_ms, scenario.reconnect_cap_ms)
        .with_jitter_seed(jitter)
        .with_limits(secure9p::Limits::from_manifest(&hive.manifest));
    let agent = HeartbeatAgent::new(config, clock.now_ms());
    let generation = site.generations.get() + 1;
    site.generations.set(generation);
    site.agents.borrow_mut().insert(
        id,
        AgentView {
            state: agent.state(),
            stats: agent.stats(),
            since_us: world.now_us(),
            generation,
            ticket_hash: ticket_hash(&ticket),
        },
    );
    let (world, clock) = (world.clone(), clock.clone());
    tokio::task::spawn_local(async move { drive(world, index, clock, agent, generation).await });
}

/// Whether this agent is still the one the site runs for its id.
fn current(world: &World, index: usize, id: &str, generation: u64) -> bool {
    world.sites[index]
        .agents
        .borrow()
        .get(id)
        .is_some_and(|v| v.generation == generation)
}

/// One agent's life on the site: connect when it asks, carry bytes both ways, sleep until
/// its next timer or the next reply, and report every transition.
async fn drive(
    world: Rc<World>,
    index: usize,
    clock: Rc<SimClock>,
    mut agent: HeartbeatAgent,
    generation: u64,
) {
    let site = &world.sites[index];
    let queen = world.hives[site.hive].spec.queen_host();
    let skew = site.skew.clone();
    let mut stream: Option<TcpStream> = None;
    let mut outbox: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        if !current(&world, index, agent.worker_id(), generation) {
            return;
        }
        let now = clock.now_ms();
        if stream.is_none() && agent.wants_connect(now) {
            let timeout = Duration::from_millis(agent.connect_timeout_ms());
            match tokio::time::timeout(timeout, TcpStream::connect((queen.as_str(), NINEP_PORT)))
                .await
            {
                Ok(Ok(s)) => {
                    stream = Some(s);
                    outbox.clear();
                    agent.on_connected(clock.now_ms());
                }
                _ => agent.on_connect_failed(clock.now_ms()),
            }
        }
        let now = clock.now_ms();
        let wake = agent.poll(now);
        publish(&world, index, &mut agent);
        let Some(wake) = wake else {
            strike(&world, index, agent.worker_id(), &agent.config().ticket);
            return;
        };
        if !agent.is_connected() {
            stream = None;
        }
        agent.poll_transmit(&mut outbox);
        if let Some(s) = &stream {
            match try_write(s, &outbox) {
                Ok(n) => drop(outbox.drain(..n)),
                Err(_) => agent.on_disconnected(now),
            }
        }
        let pause = Duration::from_micros(skew_span(&skew, wake.saturating_sub(now).max(1)));
        let read = match stream.as_mut() {
            Some(s) => tokio::select! {
                biased;
                r = s.read(&mut buf) => Some(r),
                _ = tokio::time::sleep(pause) => None,
            },
            None => {
                tokio::time::sleep(pause).await;
                None
            }
        };
        match read {
            Some(Ok(n)) if n > 0 => agent.on_bytes(&buf[..n], clock.now_ms()),
            Some(_) => agent.on_disconnected(clock.now_ms()),
            None => {}
        }
    }
}

fn skew_span(skew: &Skew, local_ms: u64) -> u64 {
    skew.true_span(local_ms.saturating_mul(1000))
}

/// Publishes the agent's view and its transitions.
fn publish(world: &World, index: usize, agent: &mut HeartbeatAgent) {
    let site = &world.sites[index];
    let mut events: Vec<AgentEvent> = Vec::new();
    agent.drain_events(&mut events);
    let id = agent.worker_id().to_string();
    let hive = world.hives[site.hive].name.as_str();
    for event in &events {
        let AgentEventKind::State { to, .. } = event.kind else {
            continue;
        };
        let (ev, reason) = match to {
            AgentState::Online => ("agent.online", None),
            AgentState::Cut(r) => ("agent.cut", Some(r)),
            AgentState::Revoked(r) => ("agent.revoked", Some(r)),
            AgentState::Connecting | AgentState::Attaching => continue,
        };
        let fields = reason.map_or_else(Vec::new, |r| vec![("reason", r.as_str().to_string())]);
        world.record(hive, &site.label, ev, Some(&id), fields);
    }
    let mut agents = site.agents.borrow_mut();
    if let Some(view) = agents.get_mut(&id) {
        if view.state != agent.state() {
            view.since_us = world.now_us();
        }
        view.state = agent.state();
        view.stats = agent.stats();
    }
}

/// An agent stopped for good: its ticket is not restored after a site restart.
fn strike(world: &World, index: usize, id: &str, ticket: &str) {
    let site = &world.sites[index];
    let record = format!("{id} {ticket}");
    let _ = hal::Store::store_append(&mut site.store.clone(), STOPPED_LOG, record.as_bytes());
}
