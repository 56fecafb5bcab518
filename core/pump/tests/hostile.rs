//! Hostile clients (manifest `[guard]`): idle floods, per-peer limits, bad `AUTH` floods,
//! peers that never read their replies, and who may read the logs.

mod support;

use hal::mem::MemConn;
use hal::NINEP_PORT;
use manifest::Manifest;
use secure9p::Error;
use support::{queen_ticket, ConsoleClient as Console, NineClient, TestHive, TOKEN};

fn token() -> String {
    String::from_utf8_lossy(TOKEN).into_owned()
}

fn guarded(f: impl FnOnce(&mut manifest::GuardLimits)) -> Manifest {
    let mut m = Manifest::default();
    f(&mut m.guard);
    m
}

fn queen_9p(hive: &mut TestHive, ip: [u8; 4]) -> Result<NineClient, Error> {
    let conn = hive.hal.connect_from(NINEP_PORT, ip).expect("listening");
    let mut q = hive.connect();
    q.conn = conn;
    q.attach(hive, "queen", "operator", &queen_ticket(1 << 40))?;
    Ok(q)
}

fn text(client: &mut NineClient, hive: &mut TestHive, path: &str) -> String {
    String::from_utf8(client.read_file(hive, path).expect(path)).unwrap()
}

fn exhausted(client: &mut NineClient, hive: &mut TestHive, key: &str) -> u64 {
    let all = text(client, hive, "/proc/pressure/exhausted");
    all.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in {all}"))
        .parse()
        .unwrap()
}

#[test]
fn an_idle_flood_cannot_lock_out_a_legitimate_attach() {
    let mut hive = TestHive::boot(guarded(|g| {
        g.unauth_max = 32;
        g.per_peer_max = 8;
    }));
    // 400 idle connections from 50 addresses: the budget keeps the newest 32 waiting.
    let flood: Vec<MemConn> = (0..400u32)
        .map(|i| {
            let ip = [10, 9, (i / 8 / 250) as u8, (i / 8 % 250) as u8 + 1];
            hive.hal.connect_from(NINEP_PORT, ip).unwrap()
        })
        .collect();
    hive.settle();
    assert!(hive.pump.connections() <= 32, "{}", hive.pump.connections());
    let mut q = queen_9p(&mut hive, [192, 168, 7, 1]).expect("a legitimate attach gets in");
    // More flood after the queen attached: she is no longer waiting, so never evicted.
    let more: Vec<MemConn> = (0..100u32)
        .map(|i| {
            hive.hal
                .connect_from(NINEP_PORT, [10, 8, 0, i as u8])
                .unwrap()
        })
        .collect();
    hive.settle();
    assert!(text(&mut q, &mut hive, "/proc/boot").contains("guard.unauth_max=32"));
    assert!(exhausted(&mut q, &mut hive, "unauth") >= 400 + 100 - 32);
    let closed = flood.iter().chain(&more).filter(|c| c.is_closed()).count();
    assert!(closed >= 500 - 32, "{closed}");
    let security = text(&mut q, &mut hive, "/log/security.log");
    assert!(
        security.contains("verb=connect reason=busy detail=unauth-max"),
        "{security}"
    );
    let audit = text(&mut q, &mut hive, "/log/queen.log");
    assert!(!audit.contains("unauth-max"), "{audit}");
}

#[test]
fn one_source_is_held_to_its_connection_limit() {
    let mut hive = TestHive::boot(guarded(|g| g.per_peer_max = 4));
    let conns: Vec<MemConn> = (0..10)
        .map(|_| hive.hal.connect_from(NINEP_PORT, [10, 7, 0, 1]).unwrap())
        .collect();
    hive.settle();
    assert_eq!(conns.iter().filter(|c| c.is_closed()).count(), 6);
    let mut q = queen_9p(&mut hive, [10, 7, 0, 2]).expect("another source gets in");
    assert_eq!(exhausted(&mut q, &mut hive, "peer"), 6);
    // Five refusals after the first become one line with a count when the window closes.
    hive.hal.advance_ms(1_000);
    hive.settle();
    let security = text(&mut q, &mut hive, "/log/security.log");
    assert!(
        security.contains("ev=deny who=10.7.0.1 verb=connect reason=busy detail=per-peer"),
        "{security}"
    );
    assert!(
        security.contains(
            "ev=deny-repeated who=10.7.0.1 verb=connect reason=busy detail=per-peer count=5"
        ),
        "{security}"
    );
    // Closing frees the slots.
    drop(conns);
    hive.settle();
    let again = hive.hal.connect_from(NINEP_PORT, [10, 7, 0, 1]).unwrap();
    hive.settle();
    assert!(!again.is_closed());
}

#[test]
fn bad_auth_floods_back_off_per_source_and_never_evict_the_audit_log() {
    let mut manifest = Manifest::default();
    manifest.hive.log_ring_bytes = 4096;
    let mut hive = TestHive::boot(manifest);
    let mut q = queen_9p(&mut hive, [10, 1, 0, 1]).unwrap();
    let audit_before = text(&mut q, &mut hive, "/log/queen.log");
    assert!(audit_before.contains("ev=attach"), "{audit_before}");

    // The first bad AUTH is checked and refused; the source then waits 100 ms, and every
    // attempt inside the wait is refused unheard.
    let mut first = Console::open_from(&mut hive, [10, 66, 0, 1]);
    let reply = first.say(&mut hive, "AUTH wrong-token");
    assert_eq!(reply, ["ERR AUTH reason=invalid-token"]);
    for _ in 0..5000 {
        let mut c = Console::open_from(&mut hive, [10, 66, 0, 1]);
        c.send_frame("AUTH wrong-token");
        hive.turn();
    }
    hive.settle();
    let mut late = Console::open_from(&mut hive, [10, 66, 0, 1]);
    let reply = late.say(&mut hive, "AUTH wrong-token");
    assert_eq!(reply.len(), 1);
    assert!(
        reply[0].starts_with("ERR AUTH reason=quota detail=backoff delay_ms="),
        "{reply:?}"
    );
    // The wait grows with each failure that is heard.
    hive.hal.advance_ms(100);
    let mut heard = Console::open_from(&mut hive, [10, 66, 0, 1]);
    assert_eq!(
        heard.say(&mut hive, "AUTH wrong-token"),
        ["ERR AUTH reason=invalid-token"]
    );
    let mut early = Console::open_from(&mut hive, [10, 66, 0, 1]);
    hive.hal.advance_ms(150);
    assert!(early.say(&mut hive, "AUTH wrong-token")[0].contains("detail=backoff"));

    // The operator from another address is not slowed down at all.
    let mut operator = Console::open_from(&mut hive, [10, 1, 0, 9]);
    assert_eq!(
        operator.say(&mut hive, &format!("AUTH {}", token())),
        ["OK AUTH"]
    );

    // None of it reached the audit log; the security log has a handful of lines.
    let audit_after = text(&mut q, &mut hive, "/log/queen.log");
    assert!(
        audit_after.starts_with(audit_before.trim_end()),
        "{audit_after}"
    );
    assert!(!audit_after.contains("invalid-token"), "{audit_after}");
    hive.hal.advance_ms(1_000);
    hive.settle();
    let security = text(&mut q, &mut hive, "/log/security.log");
    assert!(security.lines().count() <= 8, "{security}");
    assert!(
        security.contains("ev=deny-repeated who=10.66.0.1 verb=AUTH reason=quota detail=backoff"),
        "{security}"
    );
    assert!(exhausted(&mut q, &mut hive, "auth_delay") >= 5000);
}

#[test]
fn a_console_slot_is_kept_for_the_operator() {
    let mut hive = TestHive::boot(Manifest::default());
    let max = hive.pump.hive().manifest().console.connections_max as u8;
    let idle: Vec<Console> = (0..max * 3)
        .map(|i| Console::open_from(&mut hive, [10, 5, 0, i]))
        .collect();
    hive.settle();
    let mut operator = Console::open_from(&mut hive, [10, 1, 0, 9]);
    assert_eq!(
        operator.say(&mut hive, &format!("AUTH {}", token())),
        ["OK AUTH"]
    );
    let ticket = queen_ticket(1 << 41);
    assert_eq!(
        operator.say(&mut hive, &format!("ATTACH queen {ticket}")),
        ["OK ATTACH role=queen"]
    );
    let open = idle.iter().filter(|c| !c.conn.is_closed()).count();
    assert!(open < max as usize, "{open}");
}

#[test]
fn a_peer_that_does_not_read_is_paused_not_served() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut slow = queen_9p(&mut hive, [10, 3, 0, 1]).unwrap();
    let fid = slow.open(&mut hive, "/proc/boot", 0).unwrap();
    // Raw Tread frames (tag 1, reused: each is answered at once), never reading a reply.
    let mut tread = Vec::new();
    tread.extend_from_slice(&23u32.to_le_bytes());
    tread.push(116);
    tread.extend_from_slice(&1u16.to_le_bytes());
    tread.extend_from_slice(&fid.to_le_bytes());
    tread.extend_from_slice(&0u64.to_le_bytes());
    tread.extend_from_slice(&4000u32.to_le_bytes());
    for _ in 0..2000 {
        if slow.conn.send(&tread) < tread.len() {
            break;
        }
        hive.turn();
    }
    hive.settle();
    let mut q = queen_9p(&mut hive, [10, 3, 0, 2]).unwrap();
    assert_eq!(exhausted(&mut q, &mut hive, "paused"), 1);
    // Paused: its input is not read, however many turns pass.
    let space = slow.conn.send_space();
    for _ in 0..100 {
        hive.turn();
    }
    assert_eq!(slow.conn.send_space(), space);
    // The peer reads again: the connection resumes and its requests are served.
    let mut drained = Vec::new();
    for _ in 0..400 {
        slow.conn.recv(&mut drained);
        hive.turn();
    }
    assert!(!slow.conn.is_closed());
    assert_eq!(exhausted(&mut q, &mut hive, "paused"), 0);
}

#[test]
fn only_the_queen_and_relays_read_the_logs() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut q = queen_9p(&mut hive, [10, 4, 0, 1]).unwrap();
    q.write_file(
        &mut hive,
        "/queen/ctl",
        br#"{"spawn":"heartbeat","count":1}"#,
    )
    .unwrap();
    let ticket = hive
        .pump
        .hive()
        .registry()
        .get("w0001")
        .unwrap()
        .ticket
        .clone();
    let mut w = hive.connect();
    w.attach(&mut hive, "worker-heartbeat", "w0001", &ticket)
        .unwrap();
    assert_eq!(w.open(&mut hive, "/log/queen.log", 0), Err(Error::NotFound));
    assert_eq!(
        w.open(&mut hive, "/log/security.log", 0),
        Err(Error::NotFound)
    );
    assert!(q.read_file(&mut hive, "/log/security.log").is_ok());
}

/// A Secure9P connection from `ip` that presents `ticket` for the queen.
fn attach_9p(hive: &mut TestHive, ip: [u8; 4], ticket: &str) -> Result<NineClient, Error> {
    let conn = hive.hal.connect_from(NINEP_PORT, ip).expect("listening");
    let mut c = hive.connect();
    c.conn = conn;
    c.attach(hive, "queen", "operator", ticket)?;
    Ok(c)
}

#[test]
fn forged_9p_tickets_go_to_the_security_log_and_back_off_their_source() {
    let mut manifest = Manifest::default();
    manifest.hive.log_ring_bytes = 4096;
    let mut hive = TestHive::boot(manifest);
    let mut q = queen_9p(&mut hive, [10, 1, 0, 1]).unwrap();
    let audit_before = text(&mut q, &mut hive, "/log/queen.log");

    // Unsigned text is refused, filed under the peer's address, and backs the source off:
    // its next connection is hung up before a byte of it is decoded.
    let forged = queen_ticket(7).replace('.', "x");
    assert!(attach_9p(&mut hive, [10, 66, 0, 2], &forged).is_err());
    for _ in 0..200 {
        let conn = hive.hal.connect_from(NINEP_PORT, [10, 66, 0, 2]).unwrap();
        let mut c = hive.connect();
        c.conn = conn;
        c.send(|codec, out| {
            codec.version(out).unwrap();
        });
        hive.turn();
        hive.turn();
        assert!(c.poll().is_none(), "a backed-off source is not answered");
        assert!(c.conn.is_closed());
    }
    // A genuine ticket refused for what it says (here: minted for another hive) is an
    // authority event: it is audited and holds nobody back.
    let claims =
        ticket::Claims::new(1, 9, ticket::Role::Queen, "operator", 0, 86_400_000).for_hive(99);
    let foreign = ticket::mint(&support::keys(), &claims).unwrap();
    assert_eq!(
        attach_9p(&mut hive, [10, 77, 0, 3], &foreign).err(),
        Some(Error::Perm)
    );
    assert!(attach_9p(&mut hive, [10, 77, 0, 3], &queen_ticket(1 << 42)).is_ok());

    let audit_after = text(&mut q, &mut hive, "/log/queen.log");
    assert!(
        audit_after.starts_with(audit_before.trim_end()),
        "{audit_after}"
    );
    assert!(audit_after.contains("detail=wrong-hive"), "{audit_after}");
    assert!(!audit_after.contains("10.66.0.2"), "{audit_after}");
    hive.hal.advance_ms(1_000);
    hive.settle();
    let security = text(&mut q, &mut hive, "/log/security.log");
    assert!(security.lines().count() <= 4, "{security}");
    assert!(
        security
            .contains("ev=deny who=10.66.0.2 verb=attach reason=invalid detail=ticket-malformed"),
        "{security}"
    );
    assert!(
        security.contains("ev=deny-repeated who=10.66.0.2 verb=attach reason=quota detail=backoff"),
        "{security}"
    );
    assert!(exhausted(&mut q, &mut hive, "auth_delay") >= 200);
}
