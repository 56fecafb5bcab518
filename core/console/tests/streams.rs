//! The dispatcher's namespace verbs: streams, appends, and refusals.

mod common;

use cohesix_console::{ConsoleLimits, ConsoleSession, Transport};
use common::*;
use secure9p::Error;

#[test]
fn streams_end_with_end() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("cat /proc/boot", 0, &mut fake);
    assert_eq!(
        lines(&out),
        [
            "OK CAT path=/proc/boot lines=2",
            "platform=sim",
            "uptime_ms=5",
            "END"
        ]
    );
    let out = s.handle_line("LS /", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["OK LS path=/ lines=3", "proc", "queen", "log", "END"]
    );
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
        [
            ("/log/queen.log".to_string(), Some(1)),
            ("/log/queen.log".to_string(), None)
        ]
    );
    let out = s.handle_line("log 3", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["OK LOG path=/log/queen.log cursor=3 lines=0", "END"]
    );
}

#[test]
fn stream_errors_are_single_err_lines() {
    let mut fake = Fake::new();
    let mut s = attached_tcp(&mut fake);
    let out = s.handle_line("cat /nope", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR CAT reason=invalid detail=not-found path=/nope"]
    );
    assert_eq!(
        fake.last_refusal(),
        Some(("CAT", Error::NotFound, "not-found"))
    );
    let out = s.handle_line("tail /nope", 0, &mut fake);
    assert_eq!(
        lines(&out),
        ["ERR TAIL reason=invalid detail=not-found path=/nope"]
    );
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
        [
            "OK CAT path=/big lines=2 truncated=3",
            "line 1",
            "line 2",
            "END"
        ]
    );
    // Tails keep the newest lines so the returned cursor follows the last line sent.
    let out = s.handle_line("tail /big", 0, &mut fake);
    assert_eq!(
        lines(&out),
        [
            "OK TAIL path=/big cursor=5 lines=2 truncated=3",
            "line 4",
            "line 5",
            "END"
        ]
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
    assert_eq!(
        lines(&out),
        ["ERR ECHO reason=policy detail=perm path=/proc/boot"]
    );
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
        (
            "spawn heartbeat colour=red",
            "ERR SPAWN reason=invalid detail=unknown-key",
        ),
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
