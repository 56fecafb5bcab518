//! A whole hive in one process: a queen and 1,000 workers attach over Secure9P, append
//! telemetry, get killed, and every refusal is the named error of the interfaces.

mod support;

use manifest::Manifest;
use secure9p::Error;
use support::{queen_ticket, NineClient, TestHive};

const O_WRONLY: u32 = 1;

fn worker_dir(id: &str) -> String {
    format!("/shard/{}/worker/{id}", hive::ShardLabel::of(id).as_str())
}

fn queen(hive: &mut TestHive) -> NineClient {
    let mut q = hive.connect();
    q.attach(hive, "queen", "operator", &queen_ticket(1 << 40))
        .expect("queen attaches");
    q
}

fn ticket_of(hive: &TestHive, id: &str) -> String {
    hive.pump
        .hive()
        .registry()
        .get(id)
        .expect("spawned")
        .ticket
        .clone()
}

/// Attaches many workers with their requests pipelined across connections.
fn attach_all(hive: &mut TestHive, ids: &[String]) -> Vec<NineClient> {
    let mut clients: Vec<NineClient> = ids.iter().map(|_| hive.connect()).collect();
    let steps = 4;
    let mut afids = vec![0u32; ids.len()];
    let mut roots = vec![0u32; ids.len()];
    for step in 0..steps {
        for (i, c) in clients.iter_mut().enumerate() {
            let (id, ticket) = (ids[i].clone(), ticket_of(hive, &ids[i]));
            let afid = afids[i];
            c.send(|codec, out| match step {
                0 => {
                    codec.version(out).unwrap();
                }
                1 => afids[i] = codec.auth(&id, "worker-heartbeat", out).unwrap().1,
                2 => {
                    codec.write(afid, 0, ticket.as_bytes(), out).unwrap();
                }
                _ => {
                    roots[i] = codec
                        .attach(Some(afid), &id, "worker-heartbeat", out)
                        .unwrap()
                        .1
                }
            });
        }
        let mut waiting: Vec<usize> = (0..clients.len()).collect();
        for _ in 0..256 {
            hive.turn();
            waiting.retain(|&i| match clients[i].poll() {
                Some(reply) => {
                    assert!(reply.is_ok(), "attach step {step} refused: {reply:?}");
                    false
                }
                None => true,
            });
            if waiting.is_empty() {
                break;
            }
        }
        assert!(waiting.is_empty(), "{} workers got no reply", waiting.len());
    }
    for (c, root) in clients.iter_mut().zip(roots) {
        c.root = Some(root);
    }
    clients
}

#[test]
fn a_queen_and_1000_workers_attach_report_and_are_killed() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut q = queen(&mut hive);
    q.write_file(
        &mut hive,
        "/queen/ctl",
        br#"{"spawn":"heartbeat","count":1000,"budget":{"ttl_s":600}}"#,
    )
    .unwrap();
    let reply = q.read_file(&mut hive, "/queen/ctl").unwrap();
    assert_eq!(reply, b"spawn kind=heartbeat count=1000 ids=w0001..w1000\n");

    let ids: Vec<String> = (1..=1000).map(|n| format!("w{n:04}")).collect();
    let mut workers = attach_all(&mut hive, &ids);
    assert_eq!(
        hive.pump.hive().registry().counts(),
        (0, 1000, 0),
        "all ONLINE"
    );

    // Every worker appends one heartbeat, pipelined: walk, open, write.
    for (i, w) in workers.iter_mut().enumerate() {
        let root = w.root.unwrap();
        let path = format!("{}/telemetry", worker_dir(&ids[i]));
        w.send(|c, out| {
            let fid = c.walk_path(root, &path, out).unwrap().1;
            c.lopen(fid, O_WRONLY, out).unwrap();
            c.write(fid, 0, format!("hb id={} seq=1\n", ids[i]).as_bytes(), out)
                .unwrap();
        });
    }
    hive.settle();
    for w in workers.iter_mut() {
        for _ in 0..3 {
            w.poll().expect("reply").expect("telemetry accepted");
        }
    }
    let tel = q
        .read_file(&mut hive, &format!("{}/telemetry", worker_dir("w0500")))
        .unwrap();
    assert_eq!(tel, b"hb id=w0500 seq=1\n");

    // Kill ten workers: their connections are hung up at once, the rest carry on.
    for n in 1..=10 {
        q.write_file(
            &mut hive,
            "/queen/ctl",
            format!(r#"{{"kill":"w{n:04}"}}"#).as_bytes(),
        )
        .unwrap();
    }
    hive.settle();
    for (i, w) in workers.iter().enumerate() {
        assert_eq!(w.conn.is_closed(), i < 10, "worker {} closed state", ids[i]);
    }
    assert_eq!(hive.pump.hive().registry().len(), 990);
    let live = hive
        .pump
        .ninedoor()
        .sessions()
        .filter(|(_, s)| s.transport == ninedoor::Transport::NineP);
    assert_eq!(live.count(), 991, "990 workers + queen");
    let table = String::from_utf8(q.read_file(&mut hive, "/proc/9p/sessions").unwrap()).unwrap();
    assert!(
        table.starts_with("id=1 state=SETUP transport=serial"),
        "{table}"
    );
    let w = &mut workers[500];
    assert!(w.read_file(&mut hive, "/proc/boot").is_ok());
}

#[test]
fn refusals_are_the_named_errors() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut q = queen(&mut hive);
    q.write_file(
        &mut hive,
        "/queen/ctl",
        br#"{"spawn":"heartbeat","count":2,"budget":{"ops":40}}"#,
    )
    .unwrap();
    let ids = vec!["w0001".to_string(), "w0002".to_string()];
    let mut workers = attach_all(&mut hive, &ids);
    // The audit log is for the queen and relays only: workers do not see it.
    assert_eq!(
        workers[1].open(&mut hive, "/log/queen.log", 0),
        Err(Error::NotFound)
    );
    let w = &mut workers[0];
    // Outside the view: does not exist.
    assert_eq!(
        w.open(&mut hive, "/queen/ctl", O_WRONLY),
        Err(Error::NotFound)
    );
    let other = format!("{}/telemetry", worker_dir("w0002"));
    assert_eq!(w.open(&mut hive, &other, O_WRONLY), Err(Error::NotFound));
    // Visible but not permitted.
    assert_eq!(w.open(&mut hive, "/proc/boot", O_WRONLY), Err(Error::Perm));
    let status = format!("{}/status", worker_dir("w0001"));
    assert_eq!(w.open(&mut hive, &status, O_WRONLY), Err(Error::Perm));
    // Oversized and malformed records.
    let own = format!("{}/telemetry", worker_dir("w0001"));
    assert_eq!(
        w.write_file(&mut hive, &own, &[b'x'; 600]),
        Err(Error::TooBig)
    );
    assert_eq!(
        w.write_file(&mut hive, &own, b"two\nlines"),
        Err(Error::Invalid)
    );
    // A queen writing nonsense to /queen/ctl.
    assert_eq!(
        q.write_file(&mut hive, "/queen/ctl", br#"{"bogus":1}"#),
        Err(Error::Invalid)
    );
    // Spending the op budget revokes: the next request is Closed and the line is hung up.
    let mut last = Ok(0);
    for _ in 0..40 {
        last = w.write_file(&mut hive, &own, b"hb\n");
        if last.is_err() {
            break;
        }
    }
    assert_eq!(last, Err(Error::Closed));
    hive.settle();
    assert!(w.conn.is_closed());
    let pressure = q.read_file(&mut hive, "/proc/pressure/policy").unwrap();
    assert!(
        String::from_utf8(pressure)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
            >= 2
    );
    let log = String::from_utf8(q.read_file(&mut hive, "/log/queen.log").unwrap()).unwrap();
    assert!(log.contains("reason=budget-ops"), "{log}");
}

#[test]
fn sessions_beyond_the_manifest_are_busy() {
    let mut manifest = Manifest::default();
    manifest.sessions.max = 3;
    let mut hive = TestHive::boot(manifest);
    let conns: Vec<NineClient> = (0..4).map(|_| hive.connect()).collect();
    hive.settle();
    let closed = conns.iter().filter(|c| c.conn.is_closed()).count();
    assert_eq!(closed, 1, "the fourth connection is refused");
    assert!(hive.pump.hive().pressure().busy >= 1);
}

#[test]
fn unauthenticated_connections_hit_the_auth_deadline() {
    let mut hive = TestHive::boot(Manifest::default());
    let idle = hive.connect();
    hive.settle();
    assert!(!idle.conn.is_closed());
    hive.hal.advance_ms(5_001);
    hive.settle();
    assert!(idle.conn.is_closed());
}
