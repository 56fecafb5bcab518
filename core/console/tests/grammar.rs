//! The line grammar and reply formatting.

use cohesix_console::{parse, quote, Command, ParseError, Reply, Verb};
use proptest::prelude::*;
use secure9p::Error;

fn err(verb: Option<Verb>, detail: &'static str) -> Result<Command, ParseError> {
    Err(ParseError { verb, detail })
}

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn bare_verbs_in_any_case() {
    for (text, want) in [
        ("help", Command::Help),
        ("HELP", Command::Help),
        ("Ping", Command::Ping),
        ("  PING  ", Command::Ping),
        ("quit", Command::Quit),
        ("QuIt", Command::Quit),
    ] {
        assert_eq!(parse(text), Ok(want), "{text}");
    }
    assert_eq!(parse("ping now"), err(Some(Verb::Ping), "extra-argument"));
    assert_eq!(parse("help me"), err(Some(Verb::Help), "extra-argument"));
}

#[test]
fn empty_and_unknown() {
    assert_eq!(parse(""), err(None, "empty"));
    assert_eq!(parse("   \t "), err(None, "empty"));
    let unknown = parse("reboot now").unwrap_err();
    assert_eq!(
        unknown,
        ParseError {
            verb: None,
            detail: "unknown-verb"
        }
    );
    assert_eq!(unknown.error(), Error::Unsupported);
    assert_eq!(parse("ls").unwrap_err().error(), Error::Invalid);
}

#[test]
fn auth_takes_the_rest_of_the_line() {
    assert_eq!(
        parse("AUTH changeme"),
        Ok(Command::Auth {
            token: s("changeme")
        })
    );
    assert_eq!(parse("auth  a b "), Ok(Command::Auth { token: s("a b") }));
    assert_eq!(parse("AUTH"), err(Some(Verb::Auth), "missing-token"));
    assert_eq!(parse("AUTH    "), err(Some(Verb::Auth), "missing-token"));
}

#[test]
fn attach_role_and_optional_ticket() {
    assert_eq!(
        parse("attach queen"),
        Ok(Command::Attach {
            role: s("queen"),
            ticket: None
        })
    );
    // cohsh sends `ATTACH <role> <ticket>` with an empty ticket as a trailing space.
    assert_eq!(
        parse("ATTACH Queen "),
        Ok(Command::Attach {
            role: s("queen"),
            ticket: None
        })
    );
    assert_eq!(
        parse("ATTACH worker-heartbeat cohesix-ticket-ab.cd"),
        Ok(Command::Attach {
            role: s("worker-heartbeat"),
            ticket: Some(s("cohesix-ticket-ab.cd"))
        })
    );
    assert_eq!(parse("attach"), err(Some(Verb::Attach), "missing-role"));
    assert_eq!(parse("attach qu/een"), err(Some(Verb::Attach), "bad-role"));
    assert_eq!(
        parse(&format!("attach {}", "r".repeat(33))),
        err(Some(Verb::Attach), "bad-role")
    );
    assert_eq!(
        parse("attach queen t1 t2"),
        err(Some(Verb::Attach), "extra-argument")
    );
}

#[test]
fn ls_and_cat_take_one_path() {
    assert_eq!(parse("ls /"), Ok(Command::Ls { path: s("/") }));
    assert_eq!(parse("LS /proc/"), Ok(Command::Ls { path: s("/proc") }));
    assert_eq!(
        parse("cat /proc/boot"),
        Ok(Command::Cat {
            path: s("/proc/boot")
        })
    );
    assert_eq!(
        parse("CAT /proc/boot"),
        Ok(Command::Cat {
            path: s("/proc/boot")
        })
    );
    assert_eq!(parse("ls"), err(Some(Verb::Ls), "missing-path"));
    assert_eq!(parse("cat /a /b"), err(Some(Verb::Cat), "extra-argument"));
}

#[test]
fn paths_are_absolute_bounded_and_without_dots() {
    for (path, detail) in [
        ("proc/boot", "path-relative"),
        ("./boot", "path-relative"),
        ("/proc/../queen", "path-dot"),
        ("/proc/./boot", "path-dot"),
        ("/..", "path-dot"),
        ("/a//b", "path-empty-name"),
        ("/a/b/c/d/e/f/g/h/i", "path-too-deep"),
    ] {
        assert_eq!(
            parse(&format!("cat {path}")),
            err(Some(Verb::Cat), detail),
            "{path}"
        );
    }
    let long_name = format!("/{}", "n".repeat(65));
    assert_eq!(
        parse(&format!("cat {long_name}")),
        err(Some(Verb::Cat), "path-too-long")
    );
    let long_path = "/abcdefghij".repeat(25);
    assert_eq!(
        parse(&format!("ls {long_path}")),
        err(Some(Verb::Ls), "path-too-long")
    );
    assert_eq!(parse("cat /a\u{7}b"), err(Some(Verb::Cat), "path-char"));
    assert_eq!(
        parse("ls /a/b/c/d/e/f/g/h"),
        Ok(Command::Ls {
            path: s("/a/b/c/d/e/f/g/h")
        })
    );
    assert_eq!(
        parse("cat /queen/..x"),
        Ok(Command::Cat {
            path: s("/queen/..x")
        })
    );
}

#[test]
fn tail_and_log_cursors() {
    assert_eq!(
        parse("tail /log/queen.log"),
        Ok(Command::Tail {
            path: s("/log/queen.log"),
            cursor: None
        })
    );
    assert_eq!(
        parse("TAIL /log/queen.log 42"),
        Ok(Command::Tail {
            path: s("/log/queen.log"),
            cursor: Some(42)
        })
    );
    assert_eq!(parse("tail"), err(Some(Verb::Tail), "missing-path"));
    assert_eq!(parse("tail /x -1"), err(Some(Verb::Tail), "bad-cursor"));
    assert_eq!(parse("tail /x +1"), err(Some(Verb::Tail), "bad-cursor"));
    assert_eq!(
        parse("tail /x 99999999999999999999"),
        err(Some(Verb::Tail), "bad-cursor")
    );
    assert_eq!(
        parse("tail /x 1 2"),
        err(Some(Verb::Tail), "extra-argument")
    );
    assert_eq!(parse("log"), Ok(Command::Log { cursor: None }));
    assert_eq!(parse("LOG 7"), Ok(Command::Log { cursor: Some(7) }));
    assert_eq!(parse("log x"), err(Some(Verb::Log), "bad-cursor"));
    assert_eq!(parse("log 1 2"), err(Some(Verb::Log), "extra-argument"));
}

#[test]
fn echo_forms() {
    assert_eq!(
        parse("ECHO /queen/lifecycle/ctl drain"),
        Ok(Command::Echo {
            path: s("/queen/lifecycle/ctl"),
            line: s("drain")
        })
    );
    assert_eq!(
        parse("echo /tmp/x  two  words "),
        Ok(Command::Echo {
            path: s("/tmp/x"),
            line: s("two  words")
        })
    );
    // cohsh sends `ECHO <path>` for an empty line.
    assert_eq!(
        parse("ECHO /tmp/x"),
        Ok(Command::Echo {
            path: s("/tmp/x"),
            line: s("")
        })
    );
    assert_eq!(
        parse("echo hello world > /tmp/x"),
        Ok(Command::Echo {
            path: s("/tmp/x"),
            line: s("hello world")
        })
    );
    assert_eq!(
        parse("echo a>b > /tmp/x"),
        Ok(Command::Echo {
            path: s("/tmp/x"),
            line: s("a>b")
        })
    );
    assert_eq!(
        parse("echo > /tmp/x"),
        Ok(Command::Echo {
            path: s("/tmp/x"),
            line: s("")
        })
    );
    assert_eq!(parse("echo"), err(Some(Verb::Echo), "missing-path"));
    assert_eq!(parse("echo hello"), err(Some(Verb::Echo), "path-relative"));
    assert_eq!(
        parse("echo hi > tmp"),
        err(Some(Verb::Echo), "path-relative")
    );
    assert_eq!(
        parse("echo hi > /a /b"),
        err(Some(Verb::Echo), "extra-argument")
    );
    assert_eq!(parse("echo /../x hi"), err(Some(Verb::Echo), "path-dot"));
}

#[test]
fn spawn_needs_a_json_object() {
    let json = r#"{"spawn":"heartbeat","count":1}"#;
    assert_eq!(
        parse(&format!("SPAWN {json}")),
        Ok(Command::Spawn { json: s(json) })
    );
    assert_eq!(
        parse(r#"spawn { "spawn": "gpu" } "#),
        Ok(Command::Spawn {
            json: s(r#"{ "spawn": "gpu" }"#)
        })
    );
    assert_eq!(parse("spawn"), err(Some(Verb::Spawn), "missing-json"));
    assert_eq!(parse("spawn [1]"), err(Some(Verb::Spawn), "expected-json"));
    assert_eq!(parse("spawn {1"), err(Some(Verb::Spawn), "expected-json"));
}

#[test]
fn spawn_takes_the_original_shorthand() {
    assert_eq!(
        parse("spawn heartbeat ticks=100"),
        Ok(Command::Spawn {
            json: s(r#"{"spawn":"heartbeat","ticks":100}"#)
        })
    );
    let gpu = parse("SPAWN gpu gpu_id=GPU-0 mem_mb=4096 streams=2 ttl_s=120");
    let Ok(Command::SpawnGpu(gpu)) = gpu else {
        panic!("{gpu:?}");
    };
    assert_eq!((gpu.gpu_id.as_str(), gpu.mem_mb), ("GPU-0", 4096));
    assert_eq!(
        parse("spawn lora"),
        err(Some(Verb::Spawn), "unknown-worker-kind")
    );
    assert_eq!(
        parse("spawn heartbeat ticks"),
        err(Some(Verb::Spawn), "expected-key-value")
    );
}

#[test]
fn lifecycle_takes_one_known_command() {
    assert_eq!(
        parse("LIFECYCLE Cordon"),
        Ok(Command::Lifecycle {
            command: s("cordon")
        })
    );
    assert_eq!(
        parse("lifecycle"),
        err(Some(Verb::Lifecycle), "missing-command")
    );
    assert_eq!(
        parse("lifecycle explode"),
        err(Some(Verb::Lifecycle), "unknown-command")
    );
    assert_eq!(
        parse("lifecycle drain now"),
        err(Some(Verb::Lifecycle), "extra-argument")
    );
}

#[test]
fn kill_takes_a_plain_id() {
    assert_eq!(parse("kill w0412"), Ok(Command::Kill { id: s("w0412") }));
    assert_eq!(
        parse("KILL worker-1.a_b"),
        Ok(Command::Kill {
            id: s("worker-1.a_b")
        })
    );
    assert_eq!(parse("kill"), err(Some(Verb::Kill), "missing-id"));
    assert_eq!(parse(r#"kill w"1"#), err(Some(Verb::Kill), "bad-id"));
    assert_eq!(
        parse(&format!("kill {}", "w".repeat(65))),
        err(Some(Verb::Kill), "bad-id")
    );
    assert_eq!(parse("kill a b"), err(Some(Verb::Kill), "extra-argument"));
}

#[test]
fn verbs_know_their_labels_and_attach_needs() {
    for verb in Verb::ALL {
        assert_eq!(Verb::from_word(verb.label()), Some(verb));
        assert_eq!(Verb::from_word(&verb.label().to_lowercase()), Some(verb));
    }
    let free: Vec<Verb> = Verb::ALL
        .into_iter()
        .filter(|v| !v.needs_attach())
        .collect();
    assert_eq!(
        free,
        [Verb::Help, Verb::Ping, Verb::Auth, Verb::Attach, Verb::Quit]
    );
}

#[test]
fn reply_lines() {
    assert_eq!(Reply::ok("AUTH", &[]), "OK AUTH");
    assert_eq!(
        Reply::ok("ATTACH", &[("role", "queen")]),
        "OK ATTACH role=queen"
    );
    assert_eq!(
        Reply::ok("ECHO", &[("path", "/a b"), ("bytes", "3")]),
        r#"OK ECHO path="/a b" bytes=3"#
    );
    assert_eq!(
        Reply::err(
            "ATTACH",
            Error::Quota,
            Some("backoff"),
            &[("delay_ms", "250")]
        ),
        "ERR ATTACH reason=quota detail=backoff delay_ms=250"
    );
    assert_eq!(
        Reply::err("CAT", Error::NotFound, Some("not-found"), &[("path", "/x")]),
        "ERR CAT reason=invalid detail=not-found path=/x"
    );
    assert_eq!(
        Reply::err("AUTH", "invalid-token", None, &[]),
        "ERR AUTH reason=invalid-token"
    );
    assert_eq!(
        Reply::err("FRAME", "invalid-length", None, &[]),
        "ERR FRAME reason=invalid-length"
    );
    for (error, reason) in [
        (Error::Busy, "busy"),
        (Error::Quota, "quota"),
        (Error::Cut, "cut"),
        (Error::Perm, "policy"),
        (Error::Closed, "policy"),
        (Error::Unsupported, "unsupported"),
        (Error::Invalid, "invalid"),
    ] {
        assert_eq!(
            Reply::err("X", error, None, &[]),
            format!("ERR X reason={reason}")
        );
    }
    assert_eq!(Reply::END, "END");
    assert_eq!(Reply::PONG, "PONG");
}

#[test]
fn quoting() {
    assert_eq!(quote("plain"), "plain");
    assert_eq!(quote(r#"{"kill":"w1"}"#), r#"{"kill":"w1"}"#);
    assert_eq!(quote(""), r#""""#);
    assert_eq!(quote("two words"), r#""two words""#);
    assert_eq!(quote(r#"{"a": "b\c"}"#), r#""{\"a\": \"b\\c\"}""#);
    assert_eq!(quote(r#""lead"#), r#""\"lead""#);
    assert_eq!(quote("a\nb"), r#""a\nb""#);
}

proptest! {
    #[test]
    fn quoted_values_have_no_bare_spaces_or_breaks(value in ".{0,40}") {
        let q = quote(&value);
        prop_assert!(!q.contains(['\n', '\r']));
        if q.contains(' ') {
            prop_assert!(q.starts_with('"') && q.ends_with('"'));
        }
    }
}
