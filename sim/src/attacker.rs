//! Hostile clients (`[[attackers]]`): each runs on its own host `<hive>-atkNN`, so it has its
//! own source address, and writes one transcript line saying what the Queen did to it:
//! `attack.idle-flood`, `attack.bad-auth`, `attack.slow-reader`, `attack.replayed-ticket`,
//! `attack.foreign-ticket`. A ticket attack that gets in is a violation.

use crate::hal::{try_read, SimClock};
use crate::scenario::{AttackKind, AttackerSpec};
use crate::world::World;
use console::frame::{encode_frame, FrameDecoder};
use hal::{Clock, CONSOLE_PORT, NINEP_PORT};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::TcpStream;
use worker::{AgentConfig, AgentState, HeartbeatAgent};

/// How long a connection attempt or a reply is waited for.
const PATIENCE: Duration = Duration::from_secs(2);
/// How long a ticket attack keeps trying before it reports.
const TICKET_TRIES: Duration = Duration::from_secs(10);

/// The attacker host's software.
pub async fn run(world: Rc<World>, index: usize) -> turmoil::Result {
    let spec = world.scenario.attackers[index].clone();
    let mut stolen = None;
    if spec.kind == AttackKind::ReplayedTicket {
        sleep_until(&world, spec.capture_us).await;
        stolen = steal(&world, &spec);
    }
    sleep_until(&world, spec.at_us).await;
    let fields = match spec.kind {
        AttackKind::IdleFlood => idle_flood(&world, &spec).await,
        AttackKind::BadAuth => bad_auth(&world, &spec).await,
        AttackKind::SlowReader => slow_reader(&world, &spec).await,
        AttackKind::ReplayedTicket => match stolen {
            Some(ticket) => ticket_attack(&world, &spec, &spec.worker, &ticket).await,
            None => vec![("result", "nothing-to-steal".to_string())],
        },
        AttackKind::ForeignTicket => {
            let ticket = foreign(&world, &spec);
            ticket_attack(&world, &spec, "w9999", &ticket).await
        }
    };
    let hive = world.hives[spec.hive].name.clone();
    let ev = match spec.kind {
        AttackKind::IdleFlood => "attack.idle-flood",
        AttackKind::BadAuth => "attack.bad-auth",
        AttackKind::SlowReader => "attack.slow-reader",
        AttackKind::ReplayedTicket => "attack.replayed-ticket",
        AttackKind::ForeignTicket => "attack.foreign-ticket",
    };
    let label = spec.host.rsplit('-').next().unwrap_or("atk").to_string();
    world.record(&hive, &label, ev, None, fields);
    // Stay up: an idle flood keeps its connections open until the run ends.
    std::future::pending::<()>().await;
    Ok(())
}

async fn sleep_until(world: &World, at_us: u64) {
    let wait = at_us.saturating_sub(world.now_us());
    tokio::time::sleep(Duration::from_micros(wait)).await;
}

fn gap(spec: &AttackerSpec) -> Duration {
    Duration::from_micros(1_000_000 / u64::from(spec.rate_per_s.max(1)))
}

fn queen(world: &World, spec: &AttackerSpec) -> String {
    world.hives[spec.hive].spec.queen_host()
}

async fn connect(host: &str, port: u16) -> Option<TcpStream> {
    match tokio::time::timeout(PATIENCE, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => Some(stream),
        _ => None,
    }
}

/// `count` Secure9P connections that never say a word; how many the Queen hung up on.
async fn idle_flood(world: &World, spec: &AttackerSpec) -> Vec<(&'static str, String)> {
    let host = queen(world, spec);
    let mut conns = Vec::new();
    for _ in 0..spec.count {
        if let Some(stream) = connect(&host, NINEP_PORT).await {
            conns.push(stream);
        }
        tokio::time::sleep(gap(spec)).await;
    }
    // Less than the auth deadline: what closes them now is the guard.
    tokio::time::sleep(PATIENCE).await;
    let mut buf = [0u8; 64];
    let mut closed = 0usize;
    for stream in &mut conns {
        if try_read(stream, &mut buf).is_err() {
            closed += 1;
        }
    }
    vec![
        ("opened", conns.len().to_string()),
        ("closed_by_queen", closed.to_string()),
    ]
}

/// One reply line on a fresh console connection, if any comes.
async fn first_reply(stream: &mut TcpStream) -> Option<String> {
    let mut decoder = FrameDecoder::with_bounds(8192, 8188, 16 * 1024);
    let mut buf = vec![0u8; 1024];
    loop {
        if let Ok(Some(line)) = decoder.next_line(true) {
            return Some(line);
        }
        let n = match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return None,
        };
        let _ = decoder.push(&buf[..n]);
    }
}

/// `count` console connections, each with a wrong token; the replies, by `detail=`.
async fn bad_auth(world: &World, spec: &AttackerSpec) -> Vec<(&'static str, String)> {
    let host = queen(world, spec);
    let mut replies: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..spec.count {
        let detail = match connect(&host, CONSOLE_PORT).await {
            Some(mut stream) => {
                let mut frame = Vec::new();
                encode_frame(&format!("AUTH guess-{i:05}"), &mut frame);
                let _ = stream.write_all(&frame).await;
                match first_reply(&mut stream).await {
                    Some(line) => detail_of(&line),
                    None => "no-reply".to_string(),
                }
            }
            None => "no-connect".to_string(),
        };
        *replies.entry(detail).or_insert(0) += 1;
        tokio::time::sleep(gap(spec)).await;
    }
    let mut fields = vec![("sent", spec.count.to_string())];
    fields.push(("replies", summarize(&replies)));
    fields
}

/// The reply's `detail=`, else its `reason=` (`ok` for a success).
fn detail_of(line: &str) -> String {
    let find = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key).map(str::to_string))
    };
    find("detail=")
        .or_else(|| find("reason="))
        .unwrap_or_else(|| if line.starts_with("OK") { "ok" } else { "none" }.to_string())
}

/// `detail:count,...`, in name order.
fn summarize(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k}:{n}")).collect();
    parts.join(",")
}

/// A queen console that pipelines `count` reads and never reads a reply. Reports how many
/// requests the Queen took before it stopped reading (it pauses such a connection).
async fn slow_reader(world: &World, spec: &AttackerSpec) -> Vec<(&'static str, String)> {
    let cell = &world.hives[spec.hive];
    let host = queen(world, spec);
    let client = crate::console_client::ConsoleClient::open(
        &host,
        CONSOLE_PORT,
        &cell.console_token,
        &cell.operator_ticket,
    );
    let Ok(Ok(mut client)) = tokio::time::timeout(PATIENCE, client).await else {
        return vec![("result", "no-session".to_string())];
    };
    let mut sent = 0u32;
    for _ in 0..spec.count {
        match tokio::time::timeout(PATIENCE, client.send("cat /proc/boot")).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
    }
    vec![
        ("requests", spec.count.to_string()),
        ("sent", sent.to_string()),
    ]
}

/// The worker's current ticket, as an attacker who read it off the wire would have it.
fn steal(world: &World, spec: &AttackerSpec) -> Option<String> {
    let pump = world.hives[spec.hive].pump.borrow();
    let worker = pump.as_ref()?.hive().registry().get(&spec.worker)?;
    Some(worker.ticket.clone())
}

/// A worker ticket signed with this hive's key but minted for another hive.
fn foreign(world: &World, spec: &AttackerSpec) -> String {
    let cell = &world.hives[spec.hive];
    let ttl_ms = world.scenario.duration_us / 1000 + 86_400_000;
    let claims = ticket::Claims::new(1, 9_999, ticket::Role::WorkerHeartbeat, "w9999", 0, ttl_ms)
        .for_hive(cell.hive_id ^ 0x5a5a);
    ticket::mint(&cell.keys, &claims).unwrap_or_default()
}

/// Presents `ticket` for worker `id` over Secure9P, as the real agent would.
async fn ticket_attack(
    world: &World,
    spec: &AttackerSpec,
    id: &str,
    ticket: &str,
) -> Vec<(&'static str, String)> {
    let host = queen(world, spec);
    let clock = SimClock::new(Default::default());
    let config = AgentConfig::heartbeat(id, ticket).with_reconnect(500, 2_000);
    let mut agent = HeartbeatAgent::new(config, clock.now_ms());
    let mut stream: Option<TcpStream> = None;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    let deadline = world.now_us() + TICKET_TRIES.as_micros() as u64;
    while world.now_us() < deadline {
        let now = clock.now_ms();
        if stream.is_none() && agent.wants_connect(now) {
            stream = connect(&host, NINEP_PORT).await;
            match stream {
                Some(_) => agent.on_connected(clock.now_ms()),
                None => agent.on_connect_failed(clock.now_ms()),
            }
        }
        let wake = agent.poll(clock.now_ms());
        if matches!(agent.state(), AgentState::Online | AgentState::Revoked(_)) || wake.is_none() {
            break;
        }
        agent.poll_transmit(&mut out);
        if let Some(s) = stream.as_mut() {
            if s.write_all(&out).await.is_err() {
                agent.on_disconnected(clock.now_ms());
                stream = None;
            }
            out.clear();
        }
        let read = match stream.as_mut() {
            Some(s) => tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await,
            None => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        match read {
            Ok(Ok(n)) if n > 0 => agent.on_bytes(&buf[..n], clock.now_ms()),
            Ok(_) => {
                agent.on_disconnected(clock.now_ms());
                stream = None;
            }
            Err(_) => {}
        }
    }
    let result = match agent.state() {
        AgentState::Online => {
            world.tally.borrow_mut().violations += 1;
            "accepted".to_string()
        }
        AgentState::Revoked(reason) => format!("refused:{}", reason.as_str()),
        other => format!("stuck:{}", other.label()),
    };
    vec![("worker", id.to_string()), ("result", result)]
}
