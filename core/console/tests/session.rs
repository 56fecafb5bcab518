//! The dispatcher against an in-memory backend.

mod common;

use cohesix_console::{
    encode_frame, serial_render, ConsoleLimits, ConsoleSession, FrameDecoder, FrameError,
    FrameFault, LineError, Outcome, Transport, SERIAL_PROMPT,
};
use common::{limits, Fake, GOOD_TICKET};
use proptest::prelude::*;
use secure9p::Error;

const TOKEN: &[u8] = b"hive-token-7f3a";

fn tcp() -> ConsoleSession {
    ConsoleSession::new(Transport::Tcp, Some(TOKEN), limits())
}

fn serial() -> ConsoleSession {
    ConsoleSession::new(Transport::Serial, None, limits())
}

fn lines(outcome: &Outcome) -> Vec<&str> {
    outcome.lines.iter().map(String::as_str).collect()
}

/// A TCP session past the handshake and attached as queen.
fn attached_tcp(fake: &mut Fake) -> ConsoleSession {
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, fake);
    let out = s.handle_line(&format!("ATTACH queen {GOOD_TICKET}"), 0, fake);
    assert_eq!(lines(&out), ["OK ATTACH role=queen"]);
    s
}

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
    assert_eq!(fake.last_refusal(), Some(("AUTH", Error::Perm, "invalid-token")));
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
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid detail=already-authenticated"]);
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
    assert_eq!(lines(&out), ["ERR ATTACH reason=policy detail=perm delay_ms=250"]);
    assert_eq!(fake.attaches[0].2, false);
    assert_eq!(s.role(), None);
}

#[test]
fn attach_backoff_refuses_early_retries_then_resets() {
    let mut fake = Fake::new();
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, &mut fake);

    let out = s.handle_line("ATTACH queen bad", 1_000, &mut fake);
    assert_eq!(lines(&out), ["ERR ATTACH reason=policy detail=perm delay_ms=250"]);
    let out = s.handle_line("ATTACH queen bad", 1_100, &mut fake);
    assert_eq!(lines(&out), ["ERR ATTACH reason=quota detail=backoff delay_ms=150"]);
    assert_eq!(fake.last_refusal(), Some(("ATTACH", Error::Quota, "backoff")));
    // The early attempt never reached ticket verification.
    assert_eq!(fake.attaches.len(), 1);

    let out = s.handle_line("ATTACH queen bad", 1_250, &mut fake);
    assert_eq!(lines(&out), ["ERR ATTACH reason=policy detail=perm delay_ms=500"]);
    let out = s.handle_line("ATTACH queen bad", 1_750, &mut fake);
    assert_eq!(lines(&out), ["ERR ATTACH reason=policy detail=perm delay_ms=1000"]);
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
    assert_eq!(lines(&out), ["ERR ATTACH reason=invalid detail=not-found delay_ms=250"]);
}

#[test]
fn reattach_detaches_first() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("attach worker-heartbeat nope", 0, &mut fake);
    assert_eq!(out.lines[0], "ERR ATTACH reason=policy detail=perm delay_ms=250");
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
            assert_eq!(fake.last_refusal(), Some((verb, Error::Perm, "not-attached")));
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
    for verb in ["attach", "ls", "cat", "tail", "log", "echo", "spawn", "kill", "quit"] {
        assert!(out.lines.iter().any(|l| l.starts_with(&format!("  {verb} "))), "{verb}");
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
fn streams_end_with_end() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("cat /proc/boot", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["OK CAT path=/proc/boot lines=2", "platform=sim", "uptime_ms=5", "END"]
    );
    let out = s.handle_line("LS /", 0, &mut fake);
    assert_eq!(lines(&out), ["OK LS path=/ lines=3", "proc", "queen", "log", "END"]);
    let out = s.handle_line("tail /log/queen.log 1", 0, &mut fake);
    assert_eq!(
        lines(&out),
        [
            "OK TAIL path=/log/queen.log cursor=3 lines=2",
            "t=2 ev=attach",
            "t=3 ev=spawn",
            "END"
        ]
    );
    let out = s.handle_line("log", 0, &mut fake);
    assert_eq!(out.lines[0], "OK LOG path=/log/queen.log cursor=3 lines=3");
    assert_eq!(out.lines.last().map(String::as_str), Some("END"));
    assert_eq!(
        fake.tails,
        [("/log/queen.log".to_string(), Some(1)), ("/log/queen.log".to_string(), None)]
    );
    let out = s.handle_line("log 3", 0, &mut fake);
    assert_eq!(lines(&out), ["OK LOG path=/log/queen.log cursor=3 lines=0", "END"]);
}

#[test]
fn stream_errors_are_single_err_lines() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("cat /nope", 0, &mut fake);
    assert_eq!(lines(&out), ["ERR CAT reason=invalid detail=not-found path=/nope"]);
    assert_eq!(fake.last_refusal(), Some(("CAT", Error::NotFound, "not-found")));
    let out = s.handle_line("tail /nope", 0, &mut fake);
    assert_eq!(lines(&out), ["ERR TAIL reason=invalid detail=not-found path=/nope"]);
}

fn five_line_file(fake: &mut Fake) {
    let body = (1..=5).map(|i| format!("line {i}")).collect();
    fake.files.insert("/big".into(), body);
}

#[test]
fn streams_are_capped_and_say_so() {
    let mut fake = Fake::new();
    five_line_file(&mut fake);
    let limits = ConsoleLimits {
        stream_lines_max: 2,
        ..limits()
    };
    let mut s = ConsoleSession::new(Transport::Serial, None, limits);
    s.handle_line("attach queen", 0, &mut fake);
    let out = s.handle_line("cat /big", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["OK CAT path=/big lines=2 truncated=3", "line 1", "line 2", "END"]
    );
    // Tails keep the newest lines so the returned cursor follows the last line sent.
    let out = s.handle_line("tail /big", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["OK TAIL path=/big cursor=5 lines=2 truncated=3", "line 4", "line 5", "END"]
    );
}

#[test]
fn data_lines_fit_one_frame() {
    let mut fake = Fake::new();
    fake.files
        .insert("/wide".into(), vec!["w".repeat(100), "a\r\nb".into()]);
    let limits = ConsoleLimits {
        frame_max: 64,
        ..limits()
    };
    let mut s = ConsoleSession::new(Transport::Serial, None, limits);
    s.handle_line("attach queen", 0, &mut fake);
    let out = s.handle_line("cat /wide", 0, &mut fake);
    assert_eq!(out.lines[0], "OK CAT path=/wide lines=2 clipped=1");
    assert_eq!(out.lines[1], "w".repeat(60));
    assert_eq!(out.lines[2], "a\u{FFFD}\u{FFFD}b");
}

#[test]
fn echo_spawn_kill_append() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("ECHO /queen/lifecycle/ctl drain", 0, &mut fake);
    assert_eq!(lines(&out), ["OK ECHO path=/queen/lifecycle/ctl bytes=6"]);

    let json = r#"{"spawn":"heartbeat","count":1}"#;
    let out = s.handle_line(&format!("SPAWN {json}"), 0, &mut fake);
    assert_eq!(lines(&out), [format!("OK SPAWN payload={json} bytes=32")]);

    let out = s.handle_line(r#"spawn {"spawn": "gpu"}"#, 0, &mut fake);
    assert_eq!(
        lines(&out),
        [r#"OK SPAWN payload="{\"spawn\": \"gpu\"}" bytes=17"#]
    );

    let out = s.handle_line("KILL w0412", 0, &mut fake);
    assert_eq!(lines(&out), ["OK KILL id=w0412"]);

    let ctl = "/queen/ctl".to_string();
    assert_eq!(
        fake.appended,
        [
            ("/queen/lifecycle/ctl".to_string(), "drain".to_string()),
            (ctl.clone(), json.to_string()),
            (ctl.clone(), r#"{"spawn": "gpu"}"#.to_string()),
            (ctl, r#"{"kill":"w0412"}"#.to_string()),
        ]
    );
}

#[test]
fn append_refusals() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("echo /proc/boot x", 0, &mut fake);
    assert_eq!(lines(&out), ["ERR ECHO reason=policy detail=perm path=/proc/boot"]);
    assert_eq!(fake.last_refusal(), Some(("ECHO", Error::Perm, "perm")));
}

#[test]
fn parse_errors_are_refusals() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let cases = [
        ("ls proc", "ERR LS reason=invalid detail=path-relative"),
        ("cat /a/../b", "ERR CAT reason=invalid detail=path-dot"),
        ("frob it", "ERR FROB reason=unsupported detail=unknown-verb"),
        ("!!", "ERR PARSE reason=unsupported detail=unknown-verb"),
        ("spawn heartbeat", "ERR SPAWN reason=invalid detail=expected-json"),
    ];
    for (line, want) in cases {
        let out = s.handle_line(line, 0, &mut fake);
        assert_eq!(lines(&out), [want], "{line}");
        assert!(!out.close);
    }
    assert_eq!(fake.refusals.len(), cases.len());
}

#[test]
fn empty_lines_are_ignored_after_auth() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line("   ", 0, &mut fake);
    assert!(out.lines.is_empty() && !out.close);
    assert!(fake.refusals.is_empty());
}

#[test]
fn frame_errors() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let out = s.handle_frame_error(FrameError::Fatal(FrameFault::Length), &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
    assert_eq!(fake.last_refusal(), Some(("AUTH", Error::TooBig, "invalid-length")));

    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_frame_error(FrameError::InvalidLength, &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid-length"]);
    assert!(!out.close);
    assert_eq!(fake.last_refusal(), Some(("FRAME", Error::TooBig, "invalid-length")));
    let out = s.handle_frame_error(FrameError::InvalidLine, &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid detail=encoding"]);
    assert!(!out.close);
    let out = s.handle_frame_error(FrameError::Fatal(FrameFault::Length), &mut fake);
    assert_eq!(lines(&out), ["ERR FRAME reason=invalid-length"]);
    assert!(out.close);
    assert_eq!(fake.detaches, 1);
}

#[test]
fn serial_line_errors() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line_error(LineError::TooLong { max: 256 }, &mut fake);
    assert_eq!(lines(&out), ["ERR LINE reason=invalid detail=too-long max=256"]);
    let out = s.handle_line_error(LineError::InvalidUtf8, &mut fake);
    assert_eq!(lines(&out), ["ERR LINE reason=invalid detail=encoding"]);
    assert!(!out.close);
    let out = s.handle_line(&"x".repeat(257), 0, &mut fake);
    assert_eq!(lines(&out), ["ERR LINE reason=invalid detail=too-long max=256"]);

    let mut s = tcp();
    let out = s.handle_line(&"x".repeat(257), 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
}

fn frames(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        encode_frame(line, &mut out);
    }
    out
}

fn decode(bytes: &[u8]) -> Vec<String> {
    let mut d = FrameDecoder::new(&limits());
    d.push(bytes);
    let mut out = Vec::new();
    while let Ok(Some(line)) = d.next_line(true) {
        out.push(line);
    }
    out
}

#[test]
fn drain_frames_end_to_end() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let mut d = FrameDecoder::new(&limits());
    let mut input = frames(&["AUTH hive-token-7f3a", &format!("ATTACH queen {GOOD_TICKET}")]);
    let mut oversized = Vec::new();
    encode_frame(&"z".repeat(300), &mut oversized);
    input.extend(oversized);
    input.extend(frames(&["PING", "quit", "PING"]));
    assert_eq!(d.push(&input), input.len());

    let out = s.drain_frames(&mut d, 0, &mut fake);
    let mut wire = Vec::new();
    out.encode_frames(&mut wire);
    assert_eq!(
        decode(&wire),
        [
            "OK AUTH",
            "OK ATTACH role=queen",
            "ERR FRAME reason=invalid-length",
            "PONG",
            "OK PING reply=pong",
            "OK QUIT"
        ]
    );
    assert!(out.close);
}

#[test]
fn drain_frames_preauth_garbage_closes() {
    let mut fake = Fake::new();
    let mut s = tcp();
    let mut d = FrameDecoder::new(&limits());
    d.push(&[0xff, 0xff, 0xff, 0x7f, b'x']);
    let out = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&out), ["ERR AUTH reason=invalid-length"]);
    assert!(out.close);
}

#[test]
fn drain_frames_bounds_one_call() {
    let mut fake = Fake::new();
    let limits = ConsoleLimits {
        stream_lines_max: 2,
        ..limits()
    };
    let mut s = ConsoleSession::new(Transport::Tcp, Some(TOKEN), limits.clone());
    let mut d = FrameDecoder::new(&limits);
    d.push(&frames(&["AUTH hive-token-7f3a", "PING", "PING"]));
    let first = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&first), ["OK AUTH", "PONG", "OK PING reply=pong"]);
    let second = s.drain_frames(&mut d, 0, &mut fake);
    assert_eq!(lines(&second), ["PONG", "OK PING reply=pong"]);
    assert!(s.drain_frames(&mut d, 0, &mut fake).lines.is_empty());
}

#[test]
fn serial_rendering() {
    let mut fake = Fake::new();
    let mut s = serial();
    let out = s.handle_line("ping", 0, &mut fake);
    assert_eq!(serial_render(&out), "PONG\r\nOK PING reply=pong\r\ncohesix> ");
    assert_eq!(serial_render(&Outcome::default()), SERIAL_PROMPT);
    let out = s.handle_line("quit", 0, &mut fake);
    assert_eq!(serial_render(&out), "OK QUIT\r\n");
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

proptest! {
    #[test]
    fn sessions_never_panic(
        input in proptest::collection::vec("\\PC{0,300}", 0..12),
        tcp_transport: bool,
    ) {
        let mut fake = Fake::new();
        let mut s = if tcp_transport { tcp() } else { serial() };
        s.handle_line("attach queen", 0, &mut fake);
        for (i, line) in input.iter().enumerate() {
            let out = s.handle_line(line, i as u64, &mut fake);
            for line in &out.lines {
                prop_assert!(!line.contains(['\r', '\n']));
                prop_assert!(line.len() + 4 <= 8192);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_through_the_whole_tcp_path(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..256,
    ) {
        let mut fake = Fake::new();
        let mut s = tcp();
        let mut d = FrameDecoder::new(&limits());
        let mut input = frames(&["AUTH hive-token-7f3a"]);
        input.extend(bytes);
        for piece in input.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() && !s.is_closed() {
                let taken = d.push(rest);
                rest = &rest[taken..];
                let out = s.drain_frames(&mut d, 0, &mut fake);
                if taken == 0 && out.lines.is_empty() && !out.close {
                    prop_assert!(false, "stalled");
                }
            }
        }
    }
}
