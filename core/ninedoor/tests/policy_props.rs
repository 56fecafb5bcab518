//! Property: whatever a mix of queens and workers tries, a worker only ever writes its own
//! telemetry, never reads any telemetry, and nothing it does panics the namespace.

use cohesix_ninedoor::{NineDoor, SessionId, Transport};
use hive::{Hive, ShardLabel, SystemEvent};
use manifest::Manifest;
use proptest::prelude::*;
use ticket::{Claims, Keyring, Role};

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"policy-props", "hive"));
    keys
}

fn boot(workers: usize) -> (NineDoor, SessionId, Vec<(SessionId, String)>) {
    let mut hive = Hive::new(Manifest::default(), keys(), 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0).unwrap();
    let mut nd = NineDoor::new(hive, "props");
    let q = nd.open_session(Transport::Local, 0).unwrap();
    let claims = Claims::new(1, 1 << 40, Role::Queen, "operator", 0, 86_400_000);
    let ticket = ticket::mint(&keys(), &claims).unwrap();
    nd.attach(q, "queen", "operator", Some(ticket.as_bytes()), 0)
        .unwrap();
    let spawn = format!(r#"{{"spawn":"heartbeat","count":{workers}}}"#);
    nd.append(q, "/queen/ctl", spawn.as_bytes(), 0).unwrap();
    let mut ws = Vec::new();
    for n in 1..=workers {
        let id = format!("w{n:04}");
        let ticket = nd.hive().registry().get(&id).unwrap().ticket.clone();
        let sid = nd.open_session(Transport::NineP, 0).unwrap();
        nd.attach(sid, "worker-heartbeat", &id, Some(ticket.as_bytes()), 0)
            .unwrap();
        ws.push((sid, id));
    }
    (nd, q, ws)
}

fn paths(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = [
        "/",
        "/proc",
        "/proc/boot",
        "/proc/9p/sessions",
        "/proc/pressure/policy",
        "/queen/ctl",
        "/queen/lifecycle/ctl",
        "/log/queen.log",
        "/shard",
        "/gpu",
        "/nowhere",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    for id in ids {
        let dir = format!("/shard/{}/worker/{id}", ShardLabel::of(id).as_str());
        for file in ["", "/telemetry", "/status", "/ctl", "/ticket"] {
            out.push(format!("{dir}{file}"));
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Ls(usize),
    Cat(usize),
    Tail(usize, u64),
    Append(usize, Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let payload = prop_oneof![
        Just(b"hb\n".to_vec()),
        Just(br#"{"spawn":"heartbeat"}"#.to_vec()),
        Just(br#"{"kill":"w0002"}"#.to_vec()),
        Just(b"drain\n".to_vec()),
        Just(b"resume\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    prop_oneof![
        (0usize..40).prop_map(Op::Ls),
        (0usize..40).prop_map(Op::Cat),
        (0usize..40, 0u64..5000).prop_map(|(p, c)| Op::Tail(p, c)),
        ((0usize..40), payload).prop_map(|(p, d)| Op::Append(p, d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn workers_never_exceed_their_view(ops in proptest::collection::vec((0usize..4, op()), 1..60)) {
        let (mut nd, q, workers) = boot(3);
        let ids: Vec<String> = workers.iter().map(|(_, id)| id.clone()).collect();
        let paths = paths(&ids);
        for (step, (actor, op)) in ops.into_iter().enumerate() {
            let now = step as u64;
            let (sid, me) = match actor {
                0 => (q, None),
                n => (workers[n - 1].0, Some(workers[n - 1].1.clone())),
            };
            let pick = |i: usize| paths[i % paths.len()].clone();
            match op {
                Op::Ls(p) => { let _ = nd.ls(sid, &pick(p), now); }
                Op::Cat(p) if me.is_some() && pick(p).ends_with("/telemetry") => {
                    prop_assert!(nd.cat(sid, &pick(p), 4096, now).is_err(), "a worker read telemetry");
                }
                Op::Tail(p, c) if me.is_some() && pick(p).ends_with("/telemetry") => {
                    let tail = nd.tail(sid, &pick(p), Some(c), 4096, now);
                    prop_assert!(tail.is_err(), "a worker tailed telemetry");
                }
                Op::Cat(p) => { let _ = nd.cat(sid, &pick(p), 4096, now); }
                Op::Tail(p, c) => { let _ = nd.tail(sid, &pick(p), Some(c), 4096, now); }
                Op::Append(p, data) => {
                    let path = pick(p);
                    if nd.append(sid, &path, &data, now).is_ok() {
                        if let Some(id) = &me {
                            let own = format!("/shard/{}/worker/{id}/telemetry", ShardLabel::of(id).as_str());
                            prop_assert_eq!(&path, &own, "worker {} wrote outside its telemetry", id);
                        }
                    }
                }
            }
            let _ = nd.take_closed();
        }
    }
}

/// The property's refusals are not vacuous: the same telemetry that no worker may read (by
/// `cat` or `tail`) exists and is readable by the queen both ways.
#[test]
fn telemetry_is_readable_by_the_queen_and_by_no_worker() {
    let (mut nd, q, workers) = boot(2);
    let (w1, id1) = &workers[0];
    let (w2, _) = &workers[1];
    let own = format!(
        "/shard/{}/worker/{id1}/telemetry",
        ShardLabel::of(id1).as_str()
    );
    nd.append(*w1, &own, b"hb\n", 1).unwrap();
    assert!(
        nd.cat(q, &own, 4096, 2).is_ok(),
        "the queen reads telemetry"
    );
    assert!(
        nd.tail(q, &own, Some(0), 4096, 2).is_ok(),
        "the queen tails telemetry"
    );
    for sid in [*w1, *w2] {
        assert!(nd.cat(sid, &own, 4096, 3).is_err());
        assert!(nd.tail(sid, &own, Some(0), 4096, 3).is_err());
    }
}
