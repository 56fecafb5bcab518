use super::*;
use alloc::string::ToString;
use alloc::vec;
use hive::SystemEvent;
use manifest::Manifest;
use secure9p::Error;
use ticket::{Claims, Keyring, Role};

const KEY_SEED: &[u8] = b"ninedoor-test";

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(KEY_SEED, "hive"));
    keys
}

fn door_with(manifest: Manifest) -> NineDoor {
    let mut hive = Hive::new(manifest, keys(), 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0).unwrap();
    NineDoor::new(hive, "test")
}

fn door() -> NineDoor {
    door_with(Manifest::default())
}

fn queen_ticket(ticket_id: u64) -> String {
    let claims = Claims {
        version: ticket::VERSION,
        key_id: 1,
        hive_id: 0,
        ticket_id,
        role: Role::Queen,
        subject: "operator".to_string(),
        issued_at_ms: 0,
        ttl_ms: 3_600_000,
        budget: Default::default(),
        scopes: Vec::new(),
        quotas: Default::default(),
    };
    ticket::mint(&keys(), &claims).unwrap()
}

fn queen(nd: &mut NineDoor) -> SessionId {
    let sid = nd.open_session(Transport::Local, 0).unwrap();
    let ticket = queen_ticket(1 << 40);
    nd.attach(sid, "queen", "operator", Some(ticket.as_bytes()), 0)
        .unwrap();
    sid
}

fn spawn_worker(nd: &mut NineDoor, q: SessionId) -> (SessionId, String, String) {
    nd.append(q, "/queen/ctl", br#"{"spawn":"heartbeat"}"#, 0)
        .unwrap();
    let reply = nd.last_reply(q).unwrap().to_string();
    let id = reply.rsplit("ids=").next().unwrap().to_string();
    let w = nd.hive().registry().get(&id).unwrap();
    let (ticket, dir) = (
        w.ticket.clone(),
        alloc::format!("/shard/{}/worker/{id}", w.shard.as_str()),
    );
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    nd.attach(sid, "worker-heartbeat", &id, Some(ticket.as_bytes()), 0)
        .unwrap();
    (sid, id, dir)
}

#[test]
fn worker_view_is_its_mount_table() {
    let mut nd = door();
    let q = queen(&mut nd);
    let (w, _, dir) = spawn_worker(&mut nd, q);
    assert_eq!(nd.ls(w, "/", 0).unwrap(), ["proc", "shard"]);
    assert_eq!(nd.ls(w, "/proc", 0).unwrap(), ["boot"]);
    assert_eq!(nd.ls(q, "/", 0).unwrap(), ["proc", "queen", "shard", "log"]);
    assert_eq!(
        nd.ls(w, &dir, 0).unwrap(),
        ["ctl", "status", "telemetry", "ticket"]
    );
    assert_eq!(nd.append(w, "/queen/ctl", b"{}", 0), Err(Error::NotFound));
    assert_eq!(
        nd.cat(w, "/proc/pressure/busy", 64, 0),
        Err(Error::NotFound)
    );
    assert!(nd.cat(w, "/proc/boot", 4096, 0).is_ok());
    assert_eq!(nd.append(w, "/proc/boot", b"x", 0), Err(Error::Perm));
    assert_eq!(
        nd.cat(w, &alloc::format!("{dir}/ticket"), 4096, 0),
        Err(Error::Perm)
    );
    assert_eq!(
        nd.cat(w, &alloc::format!("{dir}/telemetry"), 4096, 0),
        Err(Error::Perm)
    );
    // The audit log is not in a worker's view at all; the queen may append notes to it, but
    // each is recorded as a note of hers, so a line shaped like a decision forges nothing.
    assert_eq!(
        nd.append(w, "/log/queen.log", b"forged\n", 0),
        Err(Error::NotFound)
    );
    let forged = b"t=0 ev=accept who=hive verb=ctl\n\nsecond note\n";
    assert_eq!(nd.append(q, "/log/queen.log", forged, 0), Ok(forged.len()));
    let log = String::from_utf8(nd.hive().audit().read(0, 1 << 20).data).unwrap();
    assert!(
        log.contains("ev=note who=operator text=\"t=0 ev=accept who=hive verb=ctl\"\n"),
        "{log}"
    );
    assert!(
        log.contains("ev=note who=operator text=\"second note\"\n"),
        "{log}"
    );
    assert!(!log.contains("\nt=0 ev=accept who=hive"), "{log}");
    assert_eq!(
        nd.append(q, "/log/queen.log", b"\n", 0),
        Err(Error::Invalid)
    );
    assert_eq!(
        nd.append(q, "/log/security.log", b"forged\n", 0),
        Err(Error::Perm)
    );
}

#[test]
fn telemetry_flows_from_worker_to_queen_with_loss_markers() {
    let mut manifest = Manifest::default();
    manifest.telemetry.ring_bytes = 512;
    let mut nd = door_with(manifest);
    let q = queen(&mut nd);
    let (w, _, dir) = spawn_worker(&mut nd, q);
    let path = alloc::format!("{dir}/telemetry");
    for i in 0..60 {
        let line = alloc::format!("hb seq={i:04}\n");
        assert_eq!(nd.append(w, &path, line.as_bytes(), i).unwrap(), line.len());
    }
    let tail = nd.tail(q, &path, Some(0), 8192, 50).unwrap();
    assert!(tail.lost > 0);
    let text = String::from_utf8(tail.data).unwrap();
    assert!(
        text.starts_with(&alloc::format!("lost={}\n", tail.lost)),
        "{text}"
    );
    assert!(text.ends_with("hb seq=0059\n"));
    assert_eq!(tail.next, 60 * 12);
    let mut out = Vec::new();
    nd.read_at(q, &path, tail.next, 8192, &mut out, 51).unwrap();
    assert!(out.is_empty(), "nothing new past the cursor");
}

#[test]
fn kill_closes_the_workers_sessions_at_once() {
    let mut nd = door();
    let q = queen(&mut nd);
    let (w, id, dir) = spawn_worker(&mut nd, q);
    nd.admit(w, 1).unwrap();
    nd.append(
        q,
        "/queen/ctl",
        alloc::format!(r#"{{"kill":"{id}"}}"#).as_bytes(),
        2,
    )
    .unwrap();
    assert_eq!(nd.take_closed(), vec![w]);
    assert_eq!(nd.admit(w, 3), Err(Error::Closed));
    assert_eq!(nd.session(w).unwrap().state, SessionState::Closed);
    assert_eq!(
        nd.append(q, &alloc::format!("{dir}/ctl"), b"stop\n", 4),
        Err(Error::NotFound)
    );
    let log = String::from_utf8(nd.cat(q, "/log/queen.log", 1 << 20, 5).unwrap()).unwrap();
    assert!(
        log.contains("ev=revoke id=w0001 ticket=1 reason=killed"),
        "{log}"
    );
    assert!(
        log.contains("ev=session-close session=2 who=w0001 reason=revoked"),
        "{log}"
    );
}

#[test]
fn ops_budget_revokes_mid_session() {
    let mut nd = door();
    let q = queen(&mut nd);
    nd.append(
        q,
        "/queen/ctl",
        br#"{"spawn":"heartbeat","budget":{"ops":2}}"#,
        0,
    )
    .unwrap();
    let w = nd.hive().registry().get("w0001").unwrap().ticket.clone();
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    nd.attach(sid, "worker-heartbeat", "w0001", Some(w.as_bytes()), 0)
        .unwrap();
    nd.admit(sid, 1).unwrap();
    nd.admit(sid, 1).unwrap();
    assert_eq!(nd.admit(sid, 1), Err(Error::Closed));
    assert_eq!(nd.admit(sid, 2), Err(Error::Closed));
    assert!(nd.take_closed().contains(&sid));
}

#[test]
fn a_console_queen_needs_no_ticket_unless_the_manifest_says_so() {
    let mut nd = door();
    let tcp = nd.open_session(Transport::ConsoleTcp, 0).unwrap();
    nd.attach(tcp, "queen", "", None, 0).unwrap();
    let owner = nd.session(tcp).and_then(|s| s.principal.clone()).unwrap();
    assert_eq!(owner.subject, "console-token");
    let ninep = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(nd.attach(ninep, "queen", "op", None, 0), Err(Error::Perm));
    let tcp = nd.open_session(Transport::ConsoleTcp, 0).unwrap();
    assert_eq!(
        nd.attach(tcp, "worker-heartbeat", "w1", None, 0),
        Err(Error::Perm)
    );

    let mut manifest = Manifest::default();
    manifest.console.queen_requires_ticket = true;
    let mut nd = door_with(manifest);
    let tcp = nd.open_session(Transport::ConsoleTcp, 0).unwrap();
    assert_eq!(nd.attach(tcp, "queen", "op", None, 0), Err(Error::Perm));
    let ticket = queen_ticket(7);
    nd.attach(tcp, "queen", "", Some(ticket.as_bytes()), 0)
        .unwrap();
}

#[test]
fn attach_needs_a_ticket_except_the_serial_queen() {
    let mut nd = door();
    let tcp = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(nd.attach(tcp, "queen", "op", None, 0), Err(Error::Perm));
    let serial = nd.open_session(Transport::Serial, 0).unwrap();
    nd.attach(serial, "queen", "console", None, 0).unwrap();
    assert_eq!(nd.ls(serial, "/queen", 0).unwrap(), ["ctl", "lifecycle"]);
    let serial2 = nd.open_session(Transport::Serial, 0).unwrap();
    assert_eq!(
        nd.attach(serial2, "worker-heartbeat", "w1", None, 0),
        Err(Error::Perm)
    );
    assert_eq!(
        nd.cat(tcp, "/proc/boot", 10, 0),
        Err(Error::Perm),
        "not attached"
    );
}

#[test]
fn gated_subtrees_are_absent_unless_enabled() {
    let mut nd = door();
    let q = queen(&mut nd);
    assert_eq!(nd.ls(q, "/gpu", 0), Err(Error::NotFound));
    let mut manifest = Manifest::default();
    manifest.features.gpu = true;
    let mut nd = door_with(manifest);
    let q = queen(&mut nd);
    assert_eq!(nd.ls(q, "/gpu", 0).unwrap(), Vec::<String>::new());
    assert!(nd.ls(q, "/", 0).unwrap().contains(&"gpu".to_string()));
}

#[test]
fn session_table_is_bounded_and_deadlines_close_sessions() {
    let mut manifest = Manifest::default();
    manifest.sessions.max = 2;
    let mut nd = door_with(manifest);
    let a = nd.open_session(Transport::NineP, 0).unwrap();
    let _b = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(nd.open_session(Transport::NineP, 0), Err(Error::Busy));
    assert_eq!(nd.hive().pressure().busy, 1);
    assert!(
        nd.open_session(Transport::Serial, 0).is_ok(),
        "the serial console is admitted even when the table is full"
    );
    nd.tick(5_001);
    let closed = nd.take_closed();
    assert!(
        closed.contains(&a),
        "unauthenticated sessions hit the auth deadline"
    );
    nd.close_session(a, 5_002);
    assert!(nd.open_session(Transport::NineP, 5_002).is_ok());
}

#[test]
fn live_session_count_follows_closes_and_ignores_serial() {
    let mut manifest = Manifest::default();
    manifest.sessions.max = 2;
    let mut nd = door_with(manifest);
    let a = nd.open_session(Transport::NineP, 0).unwrap();
    nd.tick(5_001);
    assert_eq!(nd.take_closed(), [a]);
    let b = nd.open_session(Transport::NineP, 5_001).unwrap();
    let _c = nd.open_session(Transport::NineP, 5_001).unwrap();
    assert_eq!(nd.open_session(Transport::NineP, 5_001), Err(Error::Busy));
    // Removing a session the core already closed frees nothing more.
    nd.close_session(a, 5_001);
    assert_eq!(nd.open_session(Transport::NineP, 5_001), Err(Error::Busy));
    nd.close_session(b, 5_001);
    assert!(nd.open_session(Transport::Serial, 5_001).is_ok());
    assert!(nd.open_session(Transport::NineP, 5_001).is_ok());
    assert_eq!(nd.open_session(Transport::NineP, 5_001), Err(Error::Busy));
}

#[test]
fn proc_reports_sessions_pressure_and_lifecycle() {
    let mut nd = door();
    let q = queen(&mut nd);
    let sessions = String::from_utf8(nd.cat(q, "/proc/9p/sessions", 4096, 0).unwrap()).unwrap();
    assert!(
        sessions.contains("id=1 state=ACTIVE transport=local owner=operator"),
        "{sessions}"
    );
    assert_eq!(
        nd.cat(q, "/proc/9p/session/1/state", 64, 0).unwrap(),
        b"ACTIVE\n"
    );
    let idle = nd.open_session(Transport::NineP, 0).unwrap();
    let active = String::from_utf8(nd.cat(q, "/proc/9p/session/active", 512, 0).unwrap()).unwrap();
    assert!(active.starts_with("id=1 state=ACTIVE"), "{active}");
    assert!(
        !active.contains(&alloc::format!("id={} ", idle.0)),
        "{active}"
    );
    assert_eq!(nd.ls(q, "/proc/9p/session", 0).unwrap()[0], "active");
    let _ = nd.append(q, "/queen/ctl", br#"{"bogus":1}"#, 0);
    assert_eq!(nd.cat(q, "/proc/pressure/policy", 64, 0).unwrap(), b"0\n");
    nd.append(q, "/queen/lifecycle/ctl", b"cordon\n", 0)
        .unwrap();
    assert_eq!(
        nd.cat(q, "/proc/lifecycle/state", 64, 0).unwrap(),
        b"state=DEGRADED\n"
    );
    let boot = String::from_utf8(nd.cat(q, "/proc/boot", 8192, 0).unwrap()).unwrap();
    assert!(
        boot.contains("secure9p.msize=8192") && boot.contains("platform=test"),
        "{boot}"
    );
    assert_eq!(
        nd.cat(q, "/queen/ctl", 256, 0).unwrap(),
        b"lifecycle cmd=cordon old=ONLINE new=DEGRADED\n"
    );
}

#[test]
fn ctl_replies_are_read_back_from_queen_ctl() {
    let mut nd = door();
    let q = queen(&mut nd);
    nd.append(q, "/queen/ctl", br#"{"spawn":"heartbeat","count":3}"#, 0)
        .unwrap();
    assert_eq!(
        nd.cat(q, "/queen/ctl", 256, 0).unwrap(),
        b"spawn kind=heartbeat count=3 ids=w0001..w0003\n"
    );
    assert_eq!(
        nd.append(q, "/queen/ctl", br#"{"kill":"nobody"}"#, 0),
        Err(Error::NotFound)
    );
}

#[test]
fn binds_appear_inside_the_workers_view() {
    let mut nd = door();
    let q = queen(&mut nd);
    let (w, _, dir) = spawn_worker(&mut nd, q);
    let bind = alloc::format!(r#"{{"bind":{{"from":"/proc/lifecycle/state","to":"{dir}/node"}}}}"#);
    nd.append(q, "/queen/ctl", bind.as_bytes(), 0).unwrap();
    assert!(nd.ls(w, &dir, 0).unwrap().contains(&"node".to_string()));
    assert_eq!(
        nd.cat(w, &alloc::format!("{dir}/node"), 64, 0).unwrap(),
        b"state=ONLINE\n"
    );
    assert_eq!(
        nd.cat(w, "/proc/lifecycle/state", 64, 0),
        Err(Error::NotFound)
    );
}

fn gpu_worker(nd: &mut NineDoor, q: SessionId) -> (SessionId, String) {
    nd.append(q, "/queen/ctl", br#"{"spawn":"gpu","site":"lab"}"#, 0)
        .unwrap();
    let reply = nd.last_reply(q).unwrap().to_string();
    let id = reply.rsplit("ids=").next().unwrap().to_string();
    let ticket = nd.hive().registry().get(&id).unwrap().ticket.clone();
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    nd.attach(sid, "worker-gpu", &id, Some(ticket.as_bytes()), 0)
        .unwrap();
    (sid, id)
}

#[test]
fn gpu_leases_through_the_namespace() {
    let mut manifest = Manifest::default();
    manifest.features.gpu = true;
    let mut nd = door_with(manifest);
    let q = queen(&mut nd);
    let inv = br#"{"inventory":{"gpu":"g0","bridge":"b0","mem_mb":8192,"streams":2}}"#;
    nd.append(q, "/queen/lease/ctl", inv, 0).unwrap();
    let (w1, id1) = gpu_worker(&mut nd, q);
    let (w2, _) = gpu_worker(&mut nd, q);
    assert_eq!(
        nd.ls(w1, "/gpu/g0", 0).unwrap(),
        ["ctl", "info", "job", "lease", "status"]
    );
    // No lease: the job file refuses the write.
    assert_eq!(
        nd.append(w1, "/gpu/g0/job", b"train\n", 0),
        Err(Error::Perm)
    );
    let ask = br#"{"grant":{"gpu":"g0","mem_mb":1024,"ttl_s":60,"priority":1}}"#;
    nd.append(w1, "/queen/lease/ctl", ask, 1).unwrap();
    assert!(nd.last_reply(w1).unwrap().starts_with("lease id=1 gpu=g0"));
    nd.append(w1, "/gpu/g0/job", b"train\n", 2).unwrap();
    assert_eq!(nd.append(w2, "/queen/lease/ctl", ask, 3), Err(Error::Busy));
    assert_eq!(nd.append(w2, "/gpu/g0/job", b"mine\n", 3), Err(Error::Perm));
    let active = nd.cat(q, "/proc/lease/active", 4096, 4).unwrap();
    let active = String::from_utf8(active).unwrap();
    assert!(
        active.contains(&alloc::format!("worker={id1} tenant=lab")),
        "{active}"
    );
    let lease = String::from_utf8(nd.cat(w2, "/gpu/g0/lease", 4096, 4).unwrap()).unwrap();
    assert!(lease.starts_with("lease=1 gpu=g0"), "{lease}");
    nd.append(w1, "/gpu/g0/ctl", br#"{"release":{"lease":1}}"#, 5)
        .unwrap();
    let job = nd.cat(q, "/gpu/g0/job", 4096, 6).unwrap();
    assert_eq!(job, b"train\n");
    // The lease and schedule files exist only for a hive with GPUs.
    let mut plain = door();
    let q = queen(&mut plain);
    assert_eq!(
        plain.append(q, "/queen/lease/ctl", ask, 0),
        Err(Error::NotFound)
    );
}

#[test]
fn a_ticket_in_aname_names_role_and_subject_and_is_never_logged() {
    let mut nd = door();
    let ticket = queen_ticket(9);
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    nd.attach_with_aname_ticket(sid, "alice", &ticket, 0)
        .unwrap();
    let principal = nd.session(sid).and_then(|s| s.principal.clone()).unwrap();
    assert_eq!(
        (principal.role, principal.subject.as_str()),
        (Role::Queen, "operator")
    );
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(
        nd.attach_with_aname_ticket(sid, "relay", &ticket, 0),
        Err(Error::Perm)
    );
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(
        nd.attach_with_aname_ticket(sid, "queen:someone", &ticket, 0),
        Err(Error::Perm)
    );
    let sid = nd.open_session(Transport::NineP, 0).unwrap();
    assert_eq!(
        nd.attach_with_aname_ticket(sid, "queen", "cohesix-ticket-zz", 0),
        Err(Error::Invalid)
    );
    let log = String::from_utf8(nd.hive().audit().read(0, 1 << 20).data).unwrap();
    assert!(log.contains("detail=role-mismatch"), "{log}");
    assert!(log.contains("detail=subject-mismatch"), "{log}");
    assert!(!log.contains("cohesix-ticket-"), "{log}");
}
