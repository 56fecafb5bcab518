//! The heartbeat agent against a real hive in process (the pump over the memory HAL): attach,
//! heartbeats, revocation by kill and by budget, cuts by silence and recovery.

use cohesix_worker::{AgentConfig, AgentEventKind, AgentState, CutReason, HeartbeatAgent};
use hal::mem::{MemConn, MemHal};
use hal::NINEP_PORT;
use manifest::Manifest;
use pump::{Provision, Pump};
use ticket::Keyring;

const STEP_MS: u64 = 10;

struct Hive {
    hal: MemHal,
    pump: Pump,
}

impl Hive {
    fn boot() -> Self {
        let hal = MemHal::new(1).with_net_capacity(64 * 1024);
        hal.listen(NINEP_PORT);
        let mut keys = Keyring::new();
        keys.insert(1, Keyring::derive_key(b"worker-tests", "hive"));
        let provision = Provision {
            keys,
            console_token: None,
            platform: "test",
            hive_id: Some(0),
        };
        let pump = Pump::new(Manifest::default(), provision, 0);
        Self { hal, pump }
    }

    fn now(&self) -> u64 {
        hal::Clock::now_ms(&self.hal)
    }

    fn ctl(&mut self, line: &str) -> String {
        let now = self.now();
        self.pump
            .ninedoor_mut()
            .hive_mut()
            .ctl(line, "test", now)
            .expect("ctl accepted")
    }

    fn spawn(&mut self, budget: &str) -> (String, String) {
        let ack = self.ctl(&format!(r#"{{"spawn":"heartbeat"{budget}}}"#));
        let id = ack.rsplit("ids=").next().expect("ids").to_string();
        let ticket = self.pump.hive().registry().get(&id).unwrap().ticket.clone();
        (id, ticket)
    }

    fn state_of(&self, id: &str) -> Option<&'static str> {
        self.pump
            .hive()
            .registry()
            .get(id)
            .map(|w| w.state.as_str())
    }
}

/// One agent and its memory transport; `partitioned` stops bytes in both directions.
struct Site {
    agent: HeartbeatAgent,
    conn: Option<MemConn>,
    partitioned: bool,
}

impl Site {
    fn new(id: &str, ticket: &str) -> Self {
        let config = AgentConfig::heartbeat(id, ticket).with_heartbeat_ms(1_000);
        Self {
            agent: HeartbeatAgent::new(config, 0),
            conn: None,
            partitioned: false,
        }
    }

    fn step(&mut self, hive: &mut Hive) {
        let now = hive.now();
        if self.agent.wants_connect(now) {
            match hive.hal.connect(NINEP_PORT) {
                Some(conn) if !self.partitioned => {
                    self.conn = Some(conn);
                    self.agent.on_connected(now);
                }
                _ => self.agent.on_connect_failed(now),
            }
        }
        if let Some(conn) = &self.conn {
            if !self.partitioned {
                let mut bytes = Vec::new();
                conn.recv(&mut bytes);
                self.agent.on_bytes(&bytes, now);
                if conn.is_closed() {
                    self.agent.on_disconnected(now);
                }
            }
        }
        self.agent.poll(now);
        if let Some(conn) = &self.conn {
            if !self.agent.is_connected() {
                conn.close();
                self.conn = None;
            } else if !self.partitioned {
                let mut out = Vec::new();
                self.agent.poll_transmit(&mut out);
                assert_eq!(conn.send(&out), out.len());
            }
        }
    }
}

fn run(hive: &mut Hive, sites: &mut [&mut Site], ms: u64) {
    for _ in 0..ms / STEP_MS {
        for site in sites.iter_mut() {
            site.step(hive);
        }
        hive.pump.turn(&mut hive.hal);
        hive.hal.advance_ms(STEP_MS);
    }
}

fn states(site: &mut Site) -> Vec<AgentState> {
    let mut events = Vec::new();
    site.agent.drain_events(&mut events);
    events
        .into_iter()
        .filter_map(|e| match e.kind {
            AgentEventKind::State { to, .. } => Some(to),
            AgentEventKind::Refused { .. } => None,
        })
        .collect()
}

#[test]
fn attaches_and_beats_into_its_own_telemetry() {
    let mut hive = Hive::boot();
    let (id, ticket) = hive.spawn("");
    let mut site = Site::new(&id, &ticket);
    run(&mut hive, &mut [&mut site], 5_500);
    assert_eq!(site.agent.state(), AgentState::Online);
    assert_eq!(hive.state_of(&id), Some("ONLINE"));
    assert!(site.agent.root(hive.now()).reachable);
    let stats = site.agent.stats();
    assert!(stats.beats_acked >= 5, "{stats:?}");
    assert_eq!(stats.connects, 1);
    let worker = hive.pump.hive().registry().get(&id).unwrap();
    let ring = worker.telemetry.read(0, 4096);
    let text = String::from_utf8(ring.data).unwrap();
    assert!(text.starts_with(&format!("hb id={id} seq=1 ")), "{text}");
    assert_eq!(worker.records, stats.beats_acked);
    assert_eq!(
        states(&mut site),
        [AgentState::Attaching, AgentState::Online]
    );
}

#[test]
fn a_killed_worker_stops_and_never_comes_back() {
    let mut hive = Hive::boot();
    let (id, ticket) = hive.spawn("");
    let mut site = Site::new(&id, &ticket);
    run(&mut hive, &mut [&mut site], 2_000);
    assert_eq!(site.agent.state(), AgentState::Online);
    hive.ctl(&format!(r#"{{"kill":"{id}"}}"#));
    run(&mut hive, &mut [&mut site], 40_000);
    assert_eq!(
        site.agent.state(),
        AgentState::Revoked(CutReason::SessionRevoked)
    );
    // The hang-up reads as a cut; one reconnect learns the revocation at attach; then nothing.
    assert_eq!(site.agent.stats().connects, 2);
    assert_eq!(site.agent.poll(hive.now()), None);
    assert!(!site.agent.wants_connect(hive.now() + 1_000_000));
    let seen = states(&mut site);
    assert_eq!(
        seen[seen.len() - 3..],
        [
            AgentState::Cut(CutReason::NetworkUnreachable),
            AgentState::Attaching,
            AgentState::Revoked(CutReason::SessionRevoked)
        ]
    );
}

#[test]
fn spending_the_op_budget_revokes_at_once() {
    let mut hive = Hive::boot();
    let (id, ticket) = hive.spawn(r#","budget":{"ops":8}"#);
    let mut site = Site::new(&id, &ticket);
    run(&mut hive, &mut [&mut site], 10_000);
    assert_eq!(
        site.agent.state(),
        AgentState::Revoked(CutReason::SessionRevoked)
    );
    assert_eq!(hive.state_of(&id), None, "removed from the registry");
    assert_eq!(site.agent.stats().connects, 1, "no reconnect after EBADF");
    let refused = {
        let mut events = Vec::new();
        site.agent.drain_events(&mut events);
        events
            .iter()
            .filter(|e| matches!(e.kind, AgentEventKind::Refused { step: "beat", .. }))
            .count()
    };
    assert_eq!(refused, 1);
}

#[test]
fn silence_cuts_and_healing_brings_it_back() {
    let mut hive = Hive::boot();
    let (id, ticket) = hive.spawn("");
    let mut site = Site::new(&id, &ticket);
    run(&mut hive, &mut [&mut site], 2_000);
    assert_eq!(site.agent.state(), AgentState::Online);
    site.partitioned = true;
    run(&mut hive, &mut [&mut site], 17_000);
    assert_eq!(
        site.agent.state(),
        AgentState::Cut(CutReason::NetworkUnreachable)
    );
    let root = site.agent.root(hive.now());
    assert!(!root.reachable);
    assert_eq!(root.cut_reason, Some(CutReason::NetworkUnreachable));
    // No authority while cut: not a single heartbeat leaves.
    let sent = site.agent.stats().beats_sent;
    run(&mut hive, &mut [&mut site], 20_000);
    assert_eq!(site.agent.stats().beats_sent, sent);
    assert_eq!(hive.state_of(&id), Some("OFFLINE"));
    site.partitioned = false;
    run(&mut hive, &mut [&mut site], 40_000);
    assert_eq!(site.agent.state(), AgentState::Online);
    assert_eq!(hive.state_of(&id), Some("ONLINE"));
    assert!(site.agent.stats().beats_sent > sent);
    assert!(site.agent.stats().timeouts >= 1);
}

#[test]
fn a_forged_ticket_is_a_policy_refusal() {
    let mut hive = Hive::boot();
    let (id, ticket) = hive.spawn("");
    let mut forged = ticket.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let mut site = Site::new(&id, &String::from_utf8(forged).unwrap());
    run(&mut hive, &mut [&mut site], 2_000);
    assert_eq!(
        site.agent.state(),
        AgentState::Revoked(CutReason::PolicyDenied)
    );
    assert_eq!(hive.state_of(&id), Some("PENDING"));
}

#[test]
fn many_agents_share_one_hive() {
    let mut hive = Hive::boot();
    let mut sites: Vec<Site> = (0..50)
        .map(|_| {
            let (id, ticket) = hive.spawn("");
            Site::new(&id, &ticket)
        })
        .collect();
    let mut refs: Vec<&mut Site> = sites.iter_mut().collect();
    run(&mut hive, &mut refs, 3_000);
    assert_eq!(hive.pump.hive().registry().counts(), (0, 50, 0));
    assert!(sites.iter().all(|s| s.agent.state() == AgentState::Online));
}

/// Splits what the agent sent into frames; every one must be a well-formed 9P2000.L request.
fn sent_requests(bytes: &[u8]) -> Result<Vec<secure9p::Request>, String> {
    let limits = secure9p::Limits::default();
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = secure9p::codec::frame_len(rest, limits.msize)
            .map_err(|e| format!("{e:?}"))?
            .ok_or("a partial frame")?;
        let (_, request) =
            secure9p::codec::decode_request(&rest[..len], &limits).map_err(|e| format!("{e:?}"))?;
        out.push(request);
        rest = &rest[len..];
    }
    Ok(out)
}

/// Raw bytes, or a well-framed 9P reply (any reply type, a tag the agent may be waiting on,
/// a random body) so that the agent's reply handling is reached, not only its framing.
fn noise() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let framed = (
        proptest::sample::select(vec![7u8, 101, 103, 105, 111, 113, 117, 119, 121, 13, 25]),
        prop_oneof![0u16..4, Just(u16::MAX)],
        proptest::collection::vec(any::<u8>(), 0..48),
    )
        .prop_map(|(kind, tag, body)| {
            let mut frame = ((7 + body.len()) as u32).to_le_bytes().to_vec();
            frame.push(kind);
            frame.extend_from_slice(&tag.to_le_bytes());
            frame.extend_from_slice(&body);
            frame
        });
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..64), framed]
}

proptest::proptest! {
    /// Noise from the server never brings the agent online nor makes it beat (only a real
    /// `Rattach` and `Rlopen` may), and whatever it sends meanwhile is well-formed 9P, starting
    /// with `Tversion`.
    #[test]
    fn noise_never_brings_the_agent_online(chunks in proptest::collection::vec(noise(), 0..8)) {
        let mut agent = HeartbeatAgent::new(AgentConfig::heartbeat("w0001", "t"), 0);
        agent.on_connected(0);
        let mut sent = Vec::new();
        agent.poll_transmit(&mut sent);
        for (i, chunk) in chunks.iter().enumerate() {
            agent.on_bytes(chunk, i as u64);
            agent.poll(i as u64);
            agent.poll_transmit(&mut sent);
            proptest::prop_assert_ne!(agent.state(), AgentState::Online);
        }
        proptest::prop_assert_eq!(agent.stats().beats_sent, 0);
        let requests = sent_requests(&sent).map_err(proptest::test_runner::TestCaseError::fail)?;
        proptest::prop_assert!(
            matches!(requests.first(), Some(secure9p::Request::Version { .. })),
            "{:?}", requests
        );
    }
}
