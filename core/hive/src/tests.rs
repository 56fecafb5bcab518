use super::*;
use alloc::string::ToString;
use alloc::vec;

fn hive_with(manifest: Manifest) -> Hive {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"test-seed", "hive-a"));
    let mut hive = Hive::new(manifest, keys, 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0).unwrap();
    hive
}

fn hive() -> Hive {
    hive_with(Manifest::default())
}

fn log_text(hive: &Hive) -> String {
    let read = hive.audit().read(0, usize::MAX);
    String::from_utf8(read.data).unwrap()
}

fn spawn_one(hive: &mut Hive, extra: &str) -> String {
    let ack = hive
        .ctl(
            &alloc::format!(r#"{{"spawn":"heartbeat"{extra}}}"#),
            "queen",
            0,
        )
        .unwrap();
    ack.rsplit("ids=").next().unwrap().to_string()
}

fn attach(hive: &mut Hive, id: &str, now: u64) -> Result<Principal, Refusal> {
    let ticket = hive.registry().get(id).unwrap().ticket.clone();
    let p = hive.authenticate(ticket.as_bytes(), "worker-heartbeat", id, now)?;
    hive.worker_attached(id, now);
    Ok(p)
}

#[test]
fn spawn_mints_a_verifiable_ticket_and_attach_brings_worker_online() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    assert_eq!(id, "w0001");
    let worker = hive.registry().get(&id).unwrap();
    assert_eq!(worker.state, RegistryState::Pending);
    assert!(
        worker.ticket.len() <= 224,
        "worker ticket {} chars",
        worker.ticket.len()
    );
    let p = attach(&mut hive, &id, 5).unwrap();
    assert_eq!(p.worker_id(), Some("w0001"));
    assert_eq!(
        hive.registry().get(&id).unwrap().state,
        RegistryState::Online
    );
    let log = log_text(&hive);
    assert!(log.contains("ev=spawn id=w0001"), "{log}");
    assert!(
        log.contains("ev=attach role=worker-heartbeat who=w0001"),
        "{log}"
    );
    assert!(
        !log.contains("cohesix-ticket-"),
        "tickets never reach the log"
    );
}

#[test]
fn attach_refuses_wrong_role_subject_and_forged_tickets() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    let ticket = hive.registry().get(&id).unwrap().ticket.clone();
    let err = hive
        .authenticate(ticket.as_bytes(), "queen", &id, 1)
        .unwrap_err();
    assert_eq!(err.detail, "role-mismatch");
    let err = hive
        .authenticate(ticket.as_bytes(), "worker-heartbeat", "w9999", 1)
        .unwrap_err();
    assert_eq!(err.detail, "subject-mismatch");
    let mut forged = ticket.into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let err = hive
        .authenticate(&forged, "worker-heartbeat", &id, 1)
        .unwrap_err();
    assert_eq!(err.error, Error::Perm);
    assert_eq!(hive.pressure().policy, 3);
    assert_eq!(log_text(&hive).matches("ev=deny").count(), 3);
}

#[test]
fn kill_revokes_and_lists_the_ticket_for_closing() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    let p = attach(&mut hive, &id, 1).unwrap();
    let ticket = hive.registry().get(&id).unwrap().ticket.clone();
    assert_eq!(
        hive.ctl(r#"{"kill":"w0001"}"#, "queen", 2).unwrap(),
        "kill id=w0001"
    );
    assert_eq!(hive.take_revoked(), vec![p.ticket_id.unwrap()]);
    assert_eq!(hive.charge_op(p.ticket_id.unwrap(), 3), Err(Error::Closed));
    let err = hive
        .authenticate(ticket.as_bytes(), "worker-heartbeat", &id, 3)
        .unwrap_err();
    assert_eq!(err.error, Error::Closed);
    assert!(log_text(&hive).contains("ev=revoke id=w0001 ticket=1 reason=killed"));
    let err = hive.ctl(r#"{"kill":"w0001"}"#, "queen", 4).unwrap_err();
    assert_eq!(err.error, Error::NotFound);
}

#[test]
fn ops_budget_is_spent_exactly_then_revokes() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, r#","budget":{"ops":3}"#);
    let tid = attach(&mut hive, &id, 0).unwrap().ticket_id.unwrap();
    for _ in 0..3 {
        hive.charge_op(tid, 1).unwrap();
    }
    assert_eq!(hive.charge_op(tid, 1), Err(Error::Closed));
    assert!(hive.registry().get(&id).is_none());
    assert!(log_text(&hive).contains("reason=budget-ops"));
}

#[test]
fn ticks_and_ttl_expire_workers_on_tick() {
    let mut hive = hive();
    let ticks = spawn_one(&mut hive, r#","budget":{"ticks":5}"#);
    let ttl = spawn_one(&mut hive, r#","budget":{"ttl_s":30}"#);
    attach(&mut hive, &ticks, 0).unwrap();
    for t in 1..=5 {
        hive.append_telemetry(&ticks, b"hb\n", t * 1000).unwrap();
        hive.tick(t * 1000);
    }
    assert!(
        hive.registry().get(&ticks).is_some(),
        "5 ticks are within budget"
    );
    hive.tick(6000);
    assert!(
        hive.registry().get(&ticks).is_none(),
        "the 6th tick exceeds it"
    );
    hive.tick(29_999);
    assert!(hive.registry().get(&ttl).is_some());
    hive.tick(30_000);
    assert!(hive.registry().get(&ttl).is_none());
    let log = log_text(&hive);
    assert!(
        log.contains("reason=budget-ticks") && log.contains("reason=ttl"),
        "{log}"
    );
}

#[test]
fn silent_workers_go_offline_and_come_back_when_heard() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    attach(&mut hive, &id, 0).unwrap();
    hive.tick(15_000);
    assert_eq!(
        hive.registry().get(&id).unwrap().state,
        RegistryState::Online
    );
    hive.tick(15_001);
    assert_eq!(
        hive.registry().get(&id).unwrap().state,
        RegistryState::Offline
    );
    hive.append_telemetry(&id, b"hb\n", 15_002).unwrap();
    assert_eq!(
        hive.registry().get(&id).unwrap().state,
        RegistryState::Online
    );
    let mut events = Vec::new();
    hive.drain_events(&mut events);
    assert!(events.contains(&Event::WorkerOffline {
        id: id.clone(),
        reason: "heartbeat-missed"
    }));
}

#[test]
fn envelopes_are_idempotent_and_fenced() {
    let mut hive = hive();
    spawn_one(&mut hive, "");
    let line = r#"{"id":"i-77","idempotency_key":"k-77","epoch":3,"cmd":{"kill":"w0001"}}"#;
    let first = hive.ctl(line, "relay", 1).unwrap();
    let again = hive.ctl(line, "relay", 2).unwrap();
    assert_eq!(first, again, "a replay returns the original ACK");
    assert_eq!(hive.writer_epoch(), 3);
    let stale = r#"{"id":"i-78","idempotency_key":"k-78","epoch":2,"cmd":{"kill":"w0001"}}"#;
    let err = hive.ctl(stale, "relay", 3).unwrap_err();
    assert_eq!((err.error, err.detail), (Error::Perm, "fenced"));
    assert_eq!(err.error.reason(), "policy");
}

#[test]
fn draining_refuses_work_but_takes_telemetry() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    attach(&mut hive, &id, 0).unwrap();
    let ack = hive.lifecycle_ctl("drain", "queen", 1).unwrap();
    assert_eq!(ack, "lifecycle cmd=drain old=ONLINE new=DRAINING");
    let err = hive
        .ctl(r#"{"spawn":"heartbeat"}"#, "queen", 2)
        .unwrap_err();
    assert_eq!(err.detail, "lifecycle");
    hive.append_telemetry(&id, b"hb\n", 3).unwrap();
    hive.lifecycle_ctl("quiesce", "queen", 4).unwrap();
    assert_eq!(
        hive.append_telemetry(&id, b"hb\n", 5).unwrap_err().error,
        Error::Cut
    );
    assert_eq!(
        hive.lifecycle_ctl("quiesce", "queen", 6)
            .unwrap_err()
            .detail,
        "bad-transition"
    );
    hive.lifecycle_ctl("resume", "queen", 7).unwrap();
    assert_eq!(hive.lifecycle().state, NodeState::Online);
    let log = log_text(&hive);
    assert!(
        log.contains("ev=lifecycle old=ONLINE new=DRAINING reason=drain"),
        "{log}"
    );
}

#[test]
fn telemetry_ring_reports_loss_with_absolute_cursors() {
    let mut manifest = Manifest::default();
    manifest.telemetry.ring_bytes = 512;
    let mut hive = hive_with(manifest);
    let id = spawn_one(&mut hive, "");
    let record = [b'x'; 99];
    let mut line = record.to_vec();
    line.push(b'\n');
    for t in 0..10 {
        hive.append_telemetry(&id, &line, t).unwrap();
    }
    let read = hive.read_telemetry(&id, 0, 4096).unwrap();
    assert_eq!(read.lost, 500);
    assert_eq!(read.data.len(), 500);
    assert_eq!(read.next, 1000);
}

#[test]
fn malformed_and_oversized_records_are_refused() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    let big = [b'a'; 513];
    assert_eq!(
        hive.append_telemetry(&id, &big, 0).unwrap_err().error,
        Error::TooBig
    );
    assert_eq!(
        hive.append_telemetry(&id, b"a\nb", 0).unwrap_err().error,
        Error::Invalid
    );
    assert_eq!(
        hive.append_telemetry(&id, &[0xff, 0xfe], 0)
            .unwrap_err()
            .error,
        Error::Invalid
    );
    assert_eq!(
        hive.append_telemetry(&id, b"", 0).unwrap_err().error,
        Error::Invalid
    );
    assert!(
        hive.append_telemetry(&id, &[0xa1, 0x01, 0x02], 0).is_ok(),
        "CBOR map frame"
    );
}

#[test]
fn spawn_bounds_are_named_refusals() {
    let mut manifest = Manifest::default();
    manifest.hive.workers_max = 4;
    let mut hive = hive_with(manifest);
    let err = hive
        .ctl(r#"{"spawn":"heartbeat","count":5}"#, "queen", 0)
        .unwrap_err();
    assert_eq!((err.error, err.detail), (Error::Quota, "workers-max"));
    let err = hive
        .ctl(r#"{"spawn":"heartbeat","count":0}"#, "queen", 0)
        .unwrap_err();
    assert_eq!(err.error, Error::TooBig);
    let err = hive.ctl(r#"{"spawn":"gpu"}"#, "queen", 0).unwrap_err();
    assert_eq!(err.error, Error::Unsupported);
    let ack = hive
        .ctl(r#"{"spawn":"heartbeat","count":4}"#, "queen", 0)
        .unwrap();
    assert_eq!(ack, "spawn kind=heartbeat count=4 ids=w0001..w0004");
    assert_eq!(hive.pressure().quota, 1);
}

#[test]
fn budget_command_lowering_below_spent_revokes_at_once() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    let tid = attach(&mut hive, &id, 0).unwrap().ticket_id.unwrap();
    for _ in 0..5 {
        hive.charge_op(tid, 1).unwrap();
    }
    let ack = hive
        .ctl(r#"{"budget":{"worker":"w0001","ops":10}}"#, "queen", 2)
        .unwrap();
    assert_eq!(ack, "budget id=w0001 ops=10");
    assert!(hive.registry().get(&id).is_some());
    hive.ctl(r#"{"budget":{"worker":"w0001","ops":4}}"#, "queen", 3)
        .unwrap();
    assert!(hive.registry().get(&id).is_none());
    assert_eq!(hive.take_revoked(), vec![tid]);
}

#[test]
fn binds_are_bounded_and_validated() {
    let mut manifest = Manifest::default();
    manifest.hive.binds_max = 1;
    let mut hive = hive_with(manifest);
    hive.ctl(
        r#"{"bind":{"from":"/log/queen.log","to":"/shard/00/worker/w1/log"}}"#,
        "queen",
        0,
    )
    .unwrap();
    let err = hive
        .ctl(
            r#"{"bind":{"from":"/proc/boot","to":"/shard/00/worker/w1/boot"}}"#,
            "queen",
            0,
        )
        .unwrap_err();
    assert_eq!(err.error, Error::Quota);
    let err = hive
        .ctl(r#"{"bind":{"from":"/proc/../x","to":"/a"}}"#, "queen", 0)
        .unwrap_err();
    assert_eq!(err.detail, "bad-path");
    assert_eq!(hive.binds().len(), 1);
}

#[test]
fn every_ctl_line_is_audited() {
    let mut hive = hive();
    let _ = hive.ctl(r#"{"spawn":"heartbeat"}"#, "queen", 0);
    let _ = hive.ctl(r#"{"bogus":1}"#, "queen", 0);
    let log = log_text(&hive);
    assert!(log.contains("ev=accept who=queen verb=ctl"), "{log}");
    assert!(
        log.contains("ev=deny who=queen verb=ctl reason=invalid detail=unknown-field"),
        "{log}"
    );
}

#[test]
fn shard_index_follows_spawns_and_kills() {
    let mut hive = hive();
    hive.ctl(r#"{"spawn":"heartbeat","count":40}"#, "queen", 0)
        .unwrap();
    let scanned = |hive: &Hive| {
        let set: alloc::collections::BTreeSet<ShardLabel> =
            hive.registry().iter().map(|w| w.shard).collect();
        set.into_iter().collect::<Vec<_>>()
    };
    assert_eq!(hive.registry().shards().collect::<Vec<_>>(), scanned(&hive));
    let shard = ShardLabel::of("w0001");
    let mates: Vec<String> = hive
        .registry()
        .in_shard(shard.as_str())
        .map(|w| w.id.clone())
        .collect();
    assert!(mates.contains(&"w0001".to_string()));
    for id in &mates {
        assert!(hive.registry().has_shard(shard.as_str()));
        hive.ctl(&alloc::format!(r#"{{"kill":"{id}"}}"#), "queen", 1)
            .unwrap();
    }
    assert!(!hive.registry().has_shard(shard.as_str()));
    assert_eq!(hive.registry().shards().collect::<Vec<_>>(), scanned(&hive));
    assert!(!hive.registry().has_shard("zz"));
}

#[test]
fn replay_of_a_damaged_spawn_entry_stays_within_workers_max() {
    // A spawn entry whose ids run past the end of the range, or whose count is far beyond
    // anything the live hive admitted, used to overflow (or loop for billions of workers).
    let mut manifest = Manifest::default();
    manifest.hive.workers_max = 8;
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"test-seed", "hive-a"));
    let spawn = |first, count| JournalEntry::Spawn {
        first,
        count,
        kind: "heartbeat".to_string(),
        site: None,
        key_id: 1,
        issued_at_ms: 0,
        ttl_ms: 60_000,
        budget: Default::default(),
    };
    let entries = [spawn(u64::MAX - 2, u32::MAX), spawn(1, 100)];
    let (hive, restored) = Hive::restore(
        manifest,
        keys,
        0,
        0,
        None,
        entries.iter(),
        core::iter::empty(),
    );
    assert_eq!(hive.registry().len(), 8);
    assert_eq!(restored.workers, 8);
}

#[test]
fn ticks_are_charged_only_while_online_and_read_up_to_date() {
    let mut hive = hive();
    let id = spawn_one(&mut hive, "");
    attach(&mut hive, &id, 0).unwrap();
    for t in 1..=10 {
        hive.append_telemetry(&id, b"hb\n", t * 1000).unwrap();
        hive.tick(t * 1000);
    }
    let meter = |hive: &Hive| hive.worker_meter(hive.registry().get("w0001").unwrap());
    assert_eq!(meter(&hive).ticks, 10);
    hive.worker_detached(&id, 10_500);
    hive.tick(20_000);
    assert_eq!(meter(&hive).ticks, 10, "offline workers are not charged");
    attach(&mut hive, &id, 20_000).unwrap();
    hive.tick(23_500);
    assert_eq!(meter(&hive).ticks, 13);
    // A late turn charges every tick it covers at once, like one pass would.
    hive.append_telemetry(&id, b"hb\n", 23_600).unwrap();
    hive.tick(27_000);
    assert_eq!(meter(&hive).ticks, 17);
}

#[test]
fn meter_records_are_journaled_at_each_step_boundary() {
    let mut manifest = Manifest::default();
    manifest.journal.meter_step = 4;
    let mut hive = hive_with(manifest);
    let id = spawn_one(&mut hive, "");
    let tid = attach(&mut hive, &id, 0).unwrap().ticket_id.unwrap();
    let _ = hive.take_journal();
    let mut marks = Vec::new();
    for t in 1..=9 {
        hive.append_telemetry(&id, b"hb\n", t * 1000).unwrap();
        hive.tick(t * 1000);
        for entry in hive.take_journal() {
            if let JournalEntry::Meter { ticket, ticks, .. } = entry {
                assert_eq!(ticket, tid);
                marks.push((t, ticks));
            }
        }
    }
    assert_eq!(marks, vec![(4, 4), (8, 8)]);
}

#[test]
fn an_idle_turn_looks_at_no_worker() {
    let mut manifest = Manifest::default();
    manifest.hive.workers_max = 2048;
    let mut hive = hive_with(manifest);
    hive.ctl(r#"{"spawn":"heartbeat","count":1000}"#, "queen", 0)
        .unwrap();
    hive.ctl(r#"{"spawn":"heartbeat","count":1000}"#, "queen", 0)
        .unwrap();
    let ids: Vec<String> = hive.registry().iter().map(|w| w.id.clone()).collect();
    for id in &ids {
        attach(&mut hive, id, 0).unwrap();
    }
    assert_eq!(hive.registry().queued(), 2000, "one queue entry per worker");
    hive.tick(1000);
    assert_eq!(hive.tick_due(), 0);
    hive.tick(15_001);
    assert_eq!(hive.tick_due(), 2000, "every silent worker is due at once");
    let (_, online, offline) = hive.registry().counts();
    assert_eq!((online, offline), (0, 2000));
    assert_eq!(hive.registry().queued(), 2000);
}
