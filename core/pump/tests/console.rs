//! The console protocol end to end through the pump: the TCP console (framed, token, ticket)
//! and the serial console (lines, prompt) drive the same dispatcher over the same namespace.

mod support;

use manifest::Manifest;
use support::{queen_ticket, ConsoleClient as Console, TestHive, TOKEN};

fn attached_queen(hive: &mut TestHive) -> Console {
    let mut c = Console::open(hive);
    assert_eq!(
        c.say(hive, &format!("AUTH {}", String::from_utf8_lossy(TOKEN))),
        ["OK AUTH"]
    );
    let ticket = queen_ticket(1 << 41);
    assert_eq!(
        c.say(hive, &format!("ATTACH queen {ticket}")),
        ["OK ATTACH role=queen"]
    );
    c
}

#[test]
fn tcp_console_session_from_auth_to_kill() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut c = attached_queen(&mut hive);
    assert_eq!(c.say(&mut hive, "ping"), ["PONG", "OK PING reply=pong"]);

    let ls = c.say(&mut hive, "ls /proc");
    assert!(ls[0].starts_with("OK LS path=/proc"), "{ls:?}");
    assert_eq!(
        &ls[1..],
        ["boot", "9p", "pressure", "lifecycle", "root", "END"]
    );

    let boot = c.say(&mut hive, "cat /proc/boot");
    assert!(boot.iter().any(|l| l == "platform=test"), "{boot:?}");
    assert_eq!(boot.last().map(String::as_str), Some("END"));

    let spawn = c.say(&mut hive, r#"spawn {"spawn":"heartbeat","count":2}"#);
    assert!(spawn[0].starts_with("OK SPAWN"), "{spawn:?}");
    assert_eq!(hive.pump.hive().registry().len(), 2);
    let reply = c.say(&mut hive, "cat /queen/ctl");
    assert_eq!(reply[1], "spawn kind=heartbeat count=2 ids=w0001..w0002");

    assert_eq!(c.say(&mut hive, "kill w0001")[0], "OK KILL id=w0001");
    assert_eq!(hive.pump.hive().registry().len(), 1);
    let err = c.say(&mut hive, "kill w0001");
    assert!(err[0].starts_with("ERR KILL reason=invalid"), "{err:?}");

    let log = c.say(&mut hive, "log");
    assert!(
        log.iter().any(|l| l.contains("ev=revoke id=w0001")),
        "{log:?}"
    );
    assert_eq!(c.say(&mut hive, "quit"), ["OK QUIT"]);
    hive.settle();
    assert!(c.conn.is_closed());
}

#[test]
fn tcp_console_refuses_bad_tokens() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut bad = Console::open(&mut hive);
    let reply = bad.say(&mut hive, "AUTH not-the-token");
    assert_eq!(reply, ["ERR AUTH reason=invalid-token"]);
    hive.settle();
    assert!(bad.conn.is_closed());

    let mut c = Console::open(&mut hive);
    assert_eq!(
        c.say(&mut hive, "ping")[0],
        "ERR AUTH reason=expected-token"
    );
}

/// Sites that set `console.queen_requires_ticket` get the ticket check on the TCP console too.
#[test]
fn tcp_console_can_require_a_queen_ticket() {
    let mut manifest = Manifest::default();
    manifest.console.queen_requires_ticket = true;
    let mut hive = TestHive::boot(manifest);
    let mut c = Console::open(&mut hive);
    c.say(
        &mut hive,
        &format!("AUTH {}", String::from_utf8_lossy(TOKEN)),
    );
    let reply = c.say(&mut hive, "ATTACH queen");
    assert!(
        reply[0].starts_with("ERR ATTACH reason=policy"),
        "{reply:?}"
    );
    let reply = c.say(&mut hive, "ATTACH queen");
    assert!(
        reply[0].contains("detail=backoff"),
        "second try is inside the back-off: {reply:?}"
    );
    assert!(hive.pump.hive().pressure().policy >= 1);
    let log = String::from_utf8(hive.pump.hive().audit().read(0, 1 << 20).data).unwrap();
    assert!(log.contains("detail=ticket-required"), "{log}");
}

/// The original Cohesix operator flow, byte for byte: length-prefixed frames, `AUTH`, then
/// `ATTACH queen` with no ticket, then the original's own spawn, lifecycle, proc and note
/// syntax.
#[test]
fn original_console_client_runs_its_session_with_the_token_alone() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut c = Console::open(&mut hive);
    assert_eq!(
        c.say(
            &mut hive,
            &format!("AUTH {}", String::from_utf8_lossy(TOKEN))
        ),
        ["OK AUTH"]
    );
    assert_eq!(c.say(&mut hive, "ATTACH queen"), ["OK ATTACH role=queen"]);

    let spawn = c.say(&mut hive, "spawn heartbeat ticks=5");
    assert_eq!(
        spawn,
        [r#"OK SPAWN payload={"spawn":"heartbeat","ticks":5} bytes=32"#]
    );
    let worker = hive.pump.hive().registry().get("w0001").expect("spawned");
    assert_eq!(worker.budget.ticks, Some(5));

    assert_eq!(
        c.say(&mut hive, "lifecycle cordon"),
        ["OK LIFECYCLE command=cordon"]
    );
    let state = c.say(&mut hive, "cat /proc/lifecycle/state");
    assert_eq!(&state[1..], ["state=DEGRADED", "END"], "{state:?}");
    let reason = c.say(&mut hive, "cat /proc/lifecycle/reason");
    assert_eq!(&reason[1..], ["reason=cordon", "END"], "{reason:?}");
    let root = c.say(&mut hive, "cat /proc/root/reachable");
    assert_eq!(&root[1..], ["reachable=yes", "END"], "{root:?}");
    assert_eq!(
        c.say(&mut hive, "echo note > /log/queen.log"),
        ["OK ECHO path=/log/queen.log bytes=5"]
    );

    let gpu = c.say(
        &mut hive,
        "spawn gpu gpu_id=GPU-0 mem_mb=4096 streams=2 ttl_s=120 priority=1",
    );
    assert_eq!(
        gpu,
        ["ERR SPAWN reason=unsupported detail=gpu-spawn-not-wired"]
    );

    // The operator's authority was the token, and the audit log says so; the note is a note.
    let log = String::from_utf8(hive.pump.hive().audit().read(0, 1 << 20).data).unwrap();
    assert!(
        log.contains("ev=accept who=console-token verb=attach what=\"role=queen transport=tcp credential=console-token\""),
        "{log}"
    );
    assert!(log.contains("ev=note who=console-token text=note"), "{log}");
    assert!(
        log.contains("ev=lifecycle old=ONLINE new=DEGRADED reason=cordon"),
        "{log}"
    );
    assert!(
        !log.contains(&String::from_utf8_lossy(TOKEN).into_owned()),
        "{log}"
    );

    // A ticket, when given, is still verified: a forged one is refused, not ignored.
    let mut forged = Console::open(&mut hive);
    forged.say(
        &mut hive,
        &format!("AUTH {}", String::from_utf8_lossy(TOKEN)),
    );
    let reply = forged.say(&mut hive, "ATTACH queen not-a-ticket");
    assert!(
        reply[0].starts_with("ERR ATTACH reason=invalid"),
        "{reply:?}"
    );

    // The spawn and the cordon were journaled before they were acknowledged (the restored
    // worker's five ticks are then spent by the crash margin, docs/journal.md, so its id is
    // what remains of it).
    hive.restart();
    assert_eq!(hive.pump.hive().registry().next_seq(), 1);
    assert_eq!(hive.pump.hive().lifecycle().state.as_str(), "DEGRADED");
}

#[test]
fn serial_console_attaches_the_queen_without_a_ticket() {
    let mut hive = TestHive::boot(Manifest::default());
    hive.pump.banner(&mut hive.hal);
    let banner = String::from_utf8(hive.hal.take_output()).unwrap();
    assert!(
        banner.starts_with("Cohesix hive=hive platform=test\r\n"),
        "{banner:?}"
    );
    assert!(banner.ends_with("cohesix> "));

    hive.hal.push_input(b"attach queen\r\n");
    hive.turn();
    let out = String::from_utf8(hive.hal.take_output()).unwrap();
    assert_eq!(out, "OK ATTACH role=queen\r\ncohesix> ");

    hive.hal
        .push_input(b"echo /queen/lifecycle/ctl drain\r\ncat /proc/lifecycle/state\r\n");
    hive.turn();
    let out = String::from_utf8(hive.hal.take_output()).unwrap();
    assert!(out.contains("OK ECHO path=/queen/lifecycle/ctl"), "{out:?}");
    assert!(out.contains("\r\nstate=DRAINING\r\n"), "{out:?}");

    // The serial console is never timed out.
    hive.hal.advance_ms(600_000);
    hive.settle();
    hive.hal.push_input(b"ping\r\n");
    hive.turn();
    let out = String::from_utf8(hive.hal.take_output()).unwrap();
    assert_eq!(out, "PONG\r\nOK PING reply=pong\r\ncohesix> ");
}

#[test]
fn tcp_and_serial_give_the_same_replies() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut tcp = attached_queen(&mut hive);
    hive.hal.push_input(b"attach queen\r\n");
    hive.turn();
    hive.hal.take_output();
    for line in [
        "ls /queen",
        "cat /proc/pressure/busy",
        "cat /nowhere",
        "tail /proc/boot",
    ] {
        let over_tcp = tcp.say(&mut hive, line);
        hive.hal.push_input(format!("{line}\r\n").as_bytes());
        hive.turn();
        let serial = String::from_utf8(hive.hal.take_output()).unwrap();
        let serial: Vec<&str> = serial
            .trim_end_matches("cohesix> ")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(over_tcp, serial, "{line}");
    }
}

#[test]
fn a_serial_paste_longer_than_the_line_buffer_is_answered_whole() {
    // The serial decoder buffers four lines' worth of bytes; a longer paste used to be read
    // from the HAL in one turn and everything past the buffer was dropped unanswered.
    let mut hive = TestHive::boot(Manifest::default());
    hive.hal.push_input(b"attach queen\r\n");
    hive.turn();
    hive.hal.take_output();
    let pings = 600;
    hive.hal.push_input("ping\r\n".repeat(pings).as_bytes());
    let mut out = String::new();
    for _ in 0..64 {
        hive.turn();
        out.push_str(&String::from_utf8(hive.hal.take_output()).unwrap());
    }
    assert_eq!(out.matches("OK PING reply=pong").count(), pings);
}
