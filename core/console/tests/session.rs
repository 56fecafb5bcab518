//! The dispatcher against an in-memory backend: handshake, attach, gating, quit.

mod common;

use cohesix_console::{ConsoleSession, Transport};
use common::*;
use secure9p::Error;

#[test]
fn tcp_handshake_succeeds() {
    let mut fake = Fake::new();
    let mut s = tcp();
    assert!(!s.is_authenticated());
    let out = s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
    assert_eq!(lines(&out), ["OK AUTH"]);
    assert!(!out.close);
    assert!(s.is_authenticated());
    assert!(fake.refusals.is_empty());
}

#[test]
fn tcp_wrong_token_closes() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let out = s.handle_line("AUTH hive-token-7f3b", 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-token"]);
    assert!(out.close);
    assert!(s.is_closed());
    assert_eq!(
        fake.last_refusal(),
        Some(("AUTH", Error::Perm, "invalid-token"))
    );
    // A closed session says nothing more and stays closed.
    let after = s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
    assert!(after.lines.is_empty() && after.close);
}

#[test]
fn tcp_first_line_must_be_auth() {
    for line in ["PING", "ATTACH queen", "help", "", "AUTH", "AUTH   "] {
        let mut fake = Fake::new();
        let mut s = tcp();
        let out = s.handle_line(line, 0, &mut fake);
        assert_eq!(lines(&out), ["ERR AUTH reason=expected-token"], "{line:?}");
        assert!(out.close);
        assert_eq!(fake.refusals.len(), 1);
    }
}

#[test]
fn tcp_without_provisioned_token_refuses_auth() {
    for token in [None, Some(&b""[..])] {
        let mut fake = Fake::new();
        let mut s = ConsoleSession::new(Transport::Tcp, token, limits());
        let out = s.handle_line("AUTH changeme", 0, &mut fake);
        assert_eq!(lines(&out), ["ERR AUTH reason=invalid-token"]);
        assert!(out.close);
    }
}

#[test]
fn repeated_auth_is_refused_without_closing() {
    let mut fake = Fake::new();
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
    let out = s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR AUTH reason=invalid detail=already-authenticated"]
    );
    assert!(!out.close);

    let mut s = serial();
    let out = s.handle_line("auth x", 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=unsupported detail=serial"]);
}

#[test]
fn serial_starts_authenticated_and_attaches_queen_without_ticket() {
    let mut fake = Fake::new();
    let mut s = serial();
    assert!(s.is_authenticated());
    let out = s.handle_line("attach queen", 5, &mut fake);
    assert_eq!(lines(&out), ["OK ATTACH role=queen"]);
    assert_eq!(s.role(), Some("queen"));
    assert_eq!(fake.attaches, [("queen".to_string(), None, true, 5)]);
}

#[test]
fn tcp_queen_needs_a_ticket() {
    let mut fake = Fake::new();
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
    let out = s.handle_line("ATTACH queen ", 10, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=policy detail=perm delay_ms=250"]
    );
    assert!(!fake.attaches[0].2, "a TCP attach is never serial");
    assert_eq!(s.role(), None);
}

#[test]
fn attach_backoff_refuses_early_retries_then_resets() {
    let mut fake = Fake::new();
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);

    let out = s.handle_line("ATTACH queen bad", 1_000, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=policy detail=perm delay_ms=250"]
    );
    let out = s.handle_line("ATTACH queen bad", 1_100, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=quota detail=backoff delay_ms=150"]
    );
    assert_eq!(
        fake.last_refusal(),
        Some(("ATTACH", Error::Quota, "backoff"))
    );
    // The early attempt never reached ticket verification.
    assert_eq!(fake.attaches.len(), 1);

    let out = s.handle_line("ATTACH queen bad", 1_250, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=policy detail=perm delay_ms=500"]
    );
    let out = s.handle_line("ATTACH queen bad", 1_750, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=policy detail=perm delay_ms=1000"]
    );
    assert_eq!(s.backoff().failures(), 3);

    let out = s.handle_line(&format!("ATTACH queen {GOOD_TICKET}"), 2_750, &mut fake);
    assert_eq!(lines(&out), ["OK ATTACH role=queen"]);
    assert_eq!(s.backoff().failures(), 0);
    assert_eq!(s.backoff().check(2_750), Ok(()));
}

#[test]
fn unknown_role_is_refused_by_the_backend() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line("attach emperor", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR ATTACH reason=invalid detail=not-found delay_ms=250"]
    );
}

#[test]
fn reattach_detaches_first() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("attach worker-heartbeat nope", 0, &mut fake);
    assert_eq!(
        out.lines[0],
        "ERR ATTACH reason=policy detail=perm delay_ms=250"
    );
    assert_eq!(fake.detaches, 1);
    assert_eq!(s.role(), None);
}

#[test]
fn namespace_verbs_need_attach() {
    for (line, verb) in [
        ("ls /", "LS"),
        ("cat /proc/boot", "CAT"),
        ("tail /log/queen.log", "TAIL"),
        ("log", "LOG"),
        ("echo /tmp/x hi", "ECHO"),
        (r#"spawn {"spawn":"heartbeat"}"#, "SPAWN"),
        ("kill w1", "KILL"),
    ] {
        for mut s in [serial(), tcp()] {
            let mut fake = Fake::new();
            if s.transport() == Transport::Tcp {
                s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);
            }
            let out = s.handle_line(line, 0, &mut fake);
            assert_eq!(
                lines(&out),
                [format!("ERR {verb} reason=policy detail=not-attached")],
                "{line}"
            );
            assert!(!out.close);
            assert_eq!(
                fake.last_refusal(),
                Some((verb, Error::Perm, "not-attached"))
            );
            assert!(fake.appended.is_empty() && fake.tails.is_empty());
        }
    }
}

#[test]
fn help_and_ping_work_before_attach() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line("HELP", 0, &mut fake);
    assert_eq!(out.lines[0], "Commands:");
    assert_eq!(out.lines.last().map(String::as_str), Some("OK HELP"));
    for verb in [
        "attach", "ls", "cat", "tail", "log", "echo", "spawn", "kill", "quit",
    ] {
        assert!(
            out.lines
                .iter()
                .any(|l| l.starts_with(&format!("  {verb} "))),
            "{verb}"
        );
    }
    let out = s.handle_line("ping", 0, &mut fake);
    assert_eq!(lines(&out), ["PONG", "OK PING reply=pong"]);
    assert!(fake.refusals.is_empty());
}

#[test]
fn quit_closes_and_detaches() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("quit", 0, &mut fake);
    assert_eq!(lines(&out), ["OK QUIT"]);
    assert!(out.close);
    assert!(s.is_closed());
    assert_eq!(fake.detaches, 1);

    let mut s = serial();
    let out = s.handle_line("QUIT", 0, &mut fake);
    assert!(out.close);
    assert_eq!(fake.detaches, 1, "not attached, nothing to detach");
}

#[test]
fn close_reports_detach_once() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    s.close(&mut fake);
    s.close(&mut fake);
    assert_eq!(fake.detaches, 1);
    assert!(s.is_closed());
}

#[test]
fn every_err_line_is_a_reported_refusal() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let script = [
        "AUTH hive-token-7f3a",
        "ls /",
        "ATTACH queen",
        "ATTACH queen",
        "frob",
        "AUTH again",
        "help",
        "ping",
    ];
    let mut errs = 0;
    for (i, line) in script.iter().enumerate() {
        let out = s.handle_line(line, i as u64, &mut fake);
        errs += out.lines.iter().filter(|l| l.starts_with("ERR ")).count();
    }
    assert_eq!(errs, 5);
    assert_eq!(fake.refusals.len(), errs);
}
