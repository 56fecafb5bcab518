//! The Queen journal across a crash: what was decided before a restart is what the restarted
//! hive holds, and nothing revoked comes back.

mod support;

use hal::mem::MemStore;
use manifest::Manifest;
use secure9p::Error;
use support::{keys, queen_ticket, TestHive};
use ticket::{Claims, Role};

const APPEND: u32 = 0o2001;

fn ctl(hive: &mut TestHive, line: &str) -> Result<u32, Error> {
    let mut queen = hive.connect();
    queen.attach(hive, "queen", "operator", &queen_ticket(1 << 41))?;
    queen.write_file(hive, "/queen/ctl", line.as_bytes())
}

fn read(hive: &mut TestHive, path: &str) -> Result<String, Error> {
    let mut queen = hive.connect();
    queen.attach(hive, "queen", "operator", &queen_ticket(1 << 41))?;
    Ok(String::from_utf8_lossy(&queen.read_file(hive, path)?).into_owned())
}

fn worker_ticket(hive: &TestHive, id: &str) -> String {
    hive.pump
        .hive()
        .registry()
        .get(id)
        .expect("registered")
        .ticket
        .clone()
}

/// The store takes writes again; the pump's next rebuild (at most a second away, see
/// `RecoveryBackoff`) finds it healthy.
fn heal_store(hive: &mut TestHive) {
    hive.hal.store().set_failing(false);
    hive.hal.advance_ms(1_000);
    hive.settle();
}

/// Opens `/queen/ctl` as the queen, lets `fault` break the store, then sends `line` without
/// waiting: its journal write will be refused, so no reply is due.
fn send_ctl_into_fault(
    hive: &mut TestHive,
    fault: fn(&MemStore),
    line: &'static [u8],
) -> support::NineClient {
    let mut queen = hive.connect();
    queen
        .attach(hive, "queen", "operator", &queen_ticket(1 << 41))
        .unwrap();
    let fid = queen.open(hive, "/queen/ctl", 1).unwrap();
    fault(hive.hal.store());
    queen.send(|c, out| {
        c.write(fid, 0, line, out).unwrap();
    });
    queen
}

fn failing_medium(store: &MemStore) {
    store.set_failing(true);
}

fn full_disk(store: &MemStore) {
    store.set_capacity(Some(store.used_bytes()));
}

/// Attaches worker `id` with `ticket` and appends one `beat` record to its telemetry; returns
/// the open connection and the telemetry path.
fn beat_once(hive: &mut TestHive, id: &str, ticket: &str) -> (support::NineClient, String) {
    let mut agent = hive.connect();
    agent.attach(hive, "worker-heartbeat", id, ticket).unwrap();
    let dir = hive.pump.hive().registry().get(id).unwrap().shard;
    let telemetry = format!("/shard/{}/worker/{id}/telemetry", dir.as_str());
    let fid = agent.open(hive, &telemetry, APPEND).unwrap();
    agent
        .call(hive, |c, out| {
            c.write(fid, 0, b"beat\n", out).unwrap();
        })
        .unwrap();
    (agent, telemetry)
}

#[test]
fn authority_survives_a_restart() {
    let mut hive = TestHive::boot(Manifest::default());
    ctl(&mut hive, r#"{"spawn":"heartbeat","count":3}"#).unwrap();
    let killed = worker_ticket(&hive, "w0001");
    let survivor = worker_ticket(&hive, "w0002");
    ctl(&mut hive, r#"{"kill":"w0001"}"#).unwrap();
    ctl(
        &mut hive,
        &format!(r#"{{"revoke":{{"ticket":{}}}}}"#, 1u64 << 42),
    )
    .unwrap();
    ctl(
        &mut hive,
        r#"{"bind":{"from":"/proc/boot","to":"/shard/x/boot"}}"#,
    )
    .unwrap();
    hive.settle();
    let log_before = read(&mut hive, "/log/queen.log").unwrap();
    assert!(log_before.contains("ev=revoke id=w0001"), "{log_before}");

    let report = hive.restart();
    assert_eq!(report.restored.workers, 2);
    assert!(report.restored.revocations >= 2);

    // The killed worker's ticket and the revoked queen ticket stay dead.
    let mut old = hive.connect();
    assert_eq!(
        old.attach(&mut hive, "worker-heartbeat", "w0001", &killed),
        Err(Error::Closed)
    );
    let mut revoked = hive.connect();
    assert_eq!(
        revoked.attach(&mut hive, "queen", "operator", &queen_ticket(1 << 42)),
        Err(Error::Closed)
    );
    // The survivor re-attaches with the ticket it holds, without a new spawn.
    let (_agent, _telemetry) = beat_once(&mut hive, "w0002", &survivor);
    // Ids continue; the bind and the audit log are still there.
    ctl(&mut hive, r#"{"spawn":"heartbeat"}"#).unwrap();
    assert!(hive.pump.hive().registry().get("w0004").is_some());
    assert_eq!(hive.pump.hive().binds().len(), 1);
    let log_after = read(&mut hive, "/log/queen.log").unwrap();
    assert!(log_after.contains("ev=revoke id=w0001"), "{log_after}");
    assert!(log_after.contains("ev=restore"), "{log_after}");
}

#[test]
fn a_ticket_for_another_hive_is_refused() {
    let mut hive = TestHive::boot(Manifest::default());
    let claims = Claims::new(1, 1 << 41, Role::Queen, "operator", 0, 86_400_000).for_hive(99);
    let foreign = ticket::mint(&keys(), &claims).unwrap();
    let mut client = hive.connect();
    assert_eq!(
        client.attach(&mut hive, "queen", "operator", &foreign),
        Err(Error::Perm)
    );
    let log = read(&mut hive, "/log/queen.log").unwrap();
    assert!(log.contains("detail=wrong-hive"), "{log}");
}

#[test]
fn an_operator_budget_is_enforced_and_survives_a_restart() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut claims = Claims::new(1, 1 << 43, Role::Relay, "relay-1", 0, 86_400_000);
    claims.budget.ops = Some(3);
    let text = ticket::mint(&keys(), &claims).unwrap();
    let mut relay = hive.connect();
    relay.attach(&mut hive, "relay", "relay-1", &text).unwrap();
    let mut done = 0;
    for _ in 0..10 {
        match relay.read_file(&mut hive, "/proc/boot") {
            Ok(_) => done += 1,
            Err(e) => {
                assert_eq!(e, Error::Closed);
                break;
            }
        }
    }
    // One read is a walk, an open, a read and a clunk: the fourth operation is refused.
    assert_eq!(
        done, 0,
        "a read needs four operations and the budget holds three"
    );
    hive.restart();
    let mut again = hive.connect();
    assert_eq!(
        again.attach(&mut hive, "relay", "relay-1", &text),
        Err(Error::Closed)
    );
}

#[test]
fn binds_cannot_take_over_the_hive() {
    let mut hive = TestHive::boot(Manifest::default());
    for to in [
        "/queen/ctl",
        "/log/queen.log",
        "/proc/boot",
        "/shard/00/worker/w0001/ctl",
    ] {
        let line = format!(r#"{{"bind":{{"from":"/proc/workers","to":"{to}"}}}}"#);
        assert_eq!(ctl(&mut hive, &line), Err(Error::Perm), "{to}");
    }
    assert!(hive.pump.hive().binds().is_empty());
    assert_eq!(
        ctl(&mut hive, r#"{"unbind":{"to":"/nowhere"}}"#),
        Err(Error::NotFound)
    );
}

#[test]
fn nothing_is_acknowledged_that_the_store_refused() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut queen = send_ctl_into_fault(
        &mut hive,
        failing_medium,
        br#"{"spawn":"heartbeat","count":2}"#,
    );
    hive.settle();
    // No reply came: the connection was dropped with its write unanswered.
    assert!(queen.poll().is_none());
    assert!(queen.conn.is_closed());
    heal_store(&mut hive);
    // The hive was rebuilt from its journal: the unacknowledged spawn is not there.
    assert!(hive.pump.hive().registry().is_empty());
    ctl(&mut hive, r#"{"spawn":"heartbeat"}"#).unwrap();
    assert!(hive.pump.hive().registry().get("w0001").is_some());
}

#[test]
fn each_boot_line_is_durable_and_in_order() {
    let mut hive = TestHive::boot(Manifest::default());
    ctl(&mut hive, r#"{"spawn":"heartbeat","count":1}"#).unwrap();
    hive.settle();
    hive.restart();
    hive.settle();
    hive.restart();
    hive.settle();
    let log = read(&mut hive, "/log/queen.log").unwrap();
    let events: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split(' ').find(|f| f.starts_with("ev=")))
        .filter(|ev| matches!(*ev, "ev=boot" | "ev=restore" | "ev=spawn"))
        .collect();
    // Every boot's own lines survive the next restart, after the history they follow.
    assert_eq!(
        events,
        [
            "ev=boot",
            "ev=spawn",
            "ev=boot",
            "ev=restore",
            "ev=boot",
            "ev=restore"
        ],
        "{log}"
    );
}

#[test]
fn a_store_fault_costs_connections_not_telemetry() {
    let mut hive = TestHive::boot(Manifest::default());
    ctl(&mut hive, r#"{"spawn":"heartbeat"}"#).unwrap();
    let ticket = worker_ticket(&hive, "w0001");
    let (agent, telemetry) = beat_once(&mut hive, "w0001", &ticket);
    // A journal write fails: every connection drops and the hive is rebuilt from its store.
    let _queen = send_ctl_into_fault(&mut hive, failing_medium, br#"{"spawn":"heartbeat"}"#);
    hive.settle();
    heal_store(&mut hive);
    assert!(agent.conn.is_closed());
    let worker = hive.pump.hive().registry().get("w0001").unwrap();
    assert_eq!(worker.records, 1);
    assert_eq!(read(&mut hive, &telemetry).unwrap(), "beat\n");
}

#[test]
fn a_revocation_the_store_refused_is_decided_again_by_the_rebuild() {
    let mut hive = TestHive::boot(Manifest::default());
    ctl(&mut hive, r#"{"spawn":"heartbeat","count":2}"#).unwrap();
    let killed = worker_ticket(&hive, "w0001");
    let _queen = send_ctl_into_fault(&mut hive, failing_medium, br#"{"kill":"w0001"}"#);
    hive.settle();
    heal_store(&mut hive);
    // The kill was never acknowledged, but its sessions were closed: the rebuilt hive
    // revokes the ticket again instead of handing it back.
    assert!(hive.pump.hive().registry().get("w0001").is_none());
    assert!(hive.pump.hive().registry().get("w0002").is_some());
    let mut agent = hive.connect();
    assert_eq!(
        agent.attach(&mut hive, "worker-heartbeat", "w0001", &killed),
        Err(Error::Closed)
    );
    // And it is durable this time.
    hive.restart();
    assert!(hive.pump.hive().registry().get("w0001").is_none());
}

#[test]
fn a_store_that_keeps_refusing_is_read_back_with_growing_pauses() {
    let mut hive = TestHive::boot(Manifest::default());
    ctl(&mut hive, r#"{"spawn":"heartbeat"}"#).unwrap();
    // A full disk: writes that grow the store are refused, reads still work.
    let _queen = send_ctl_into_fault(&mut hive, full_disk, br#"{"spawn":"heartbeat"}"#);
    // A virtual second of 1 ms turns. Each attempt to rebuild is refused by the full store
    // again, so the pump tries after 0, 10, 30, 70, 150, 310 and 630 ms, then waits until
    // 1,270 ms: not on every turn.
    for _ in 0..1_000 {
        hive.hal.advance_ms(1);
        hive.turn();
    }
    assert_eq!(hive.pump.rebuilds(), 0);
    hive.hal.store().set_capacity(None);
    hive.turn();
    assert_eq!(
        hive.pump.rebuilds(),
        0,
        "inside a pause the store is not read"
    );
    hive.hal.advance_ms(300);
    hive.turn();
    assert_eq!(
        hive.pump.rebuilds(),
        1,
        "the first read after the pause finds it healed"
    );
    ctl(&mut hive, r#"{"spawn":"heartbeat"}"#).unwrap();
    assert!(hive.pump.hive().registry().get("w0002").is_some());
}

fn write(hive: &mut TestHive, path: &str, line: &str) -> Result<u32, Error> {
    let mut queen = hive.connect();
    queen.attach(hive, "queen", "operator", &queen_ticket(1 << 41))?;
    queen.write_file(hive, path, line.as_bytes())
}

#[test]
fn gpu_leases_and_the_queue_survive_a_restart() {
    let mut manifest = Manifest::default();
    manifest.features.gpu = true;
    let mut hive = TestHive::boot(manifest);
    ctl(&mut hive, r#"{"spawn":"gpu","count":3,"site":"lab"}"#).unwrap();
    for g in ["g0", "g1"] {
        let inv =
            format!(r#"{{"inventory":{{"gpu":"{g}","bridge":"b0","mem_mb":8192,"streams":2}}}}"#);
        write(&mut hive, "/queen/lease/ctl", &inv).unwrap();
    }
    let grant = |w: &str, g: &str, p: u8| {
        format!(
            r#"{{"grant":{{"gpu":"{g}","worker":"{w}","mem_mb":1024,"ttl_s":600,"priority":{p}}}}}"#
        )
    };
    write(&mut hive, "/queen/lease/ctl", &grant("w0001", "g0", 1)).unwrap();
    write(&mut hive, "/queen/lease/ctl", &grant("w0002", "g1", 1)).unwrap();
    // A preemption, then a request that must wait.
    write(&mut hive, "/queen/lease/ctl", &grant("w0003", "g0", 5)).unwrap();
    let ask = r#"{"enqueue":{"worker":"w0001","mem_mb":1024,"ttl_s":60,"priority":2}}"#;
    write(&mut hive, "/queen/schedule/ctl", ask).unwrap();
    hive.settle();
    let active = read(&mut hive, "/proc/lease/active").unwrap();
    let queue = read(&mut hive, "/proc/schedule/queue").unwrap();
    assert_eq!(active.lines().count(), 2, "{active}");
    assert!(active.contains("worker=w0003") && !active.contains("worker=w0001"));
    assert!(
        queue.starts_with("req=1 worker=w0001 tenant=lab"),
        "{queue}"
    );

    hive.restart();
    assert_eq!(read(&mut hive, "/proc/lease/active").unwrap(), active);
    let after = read(&mut hive, "/proc/schedule/queue").unwrap();
    assert!(
        after.starts_with("req=1 worker=w0001 tenant=lab"),
        "{after}"
    );
    // Still exclusive after the restart: the same ask is busy, a release places the queued one.
    assert_eq!(
        write(&mut hive, "/queen/lease/ctl", &grant("w0001", "g0", 1)),
        Err(Error::Busy)
    );
    write(&mut hive, "/queen/lease/ctl", r#"{"release":{"lease":2}}"#).unwrap();
    let active = read(&mut hive, "/proc/lease/active").unwrap();
    assert!(active.contains("lease=4 gpu=g1 worker=w0001"), "{active}");
}
