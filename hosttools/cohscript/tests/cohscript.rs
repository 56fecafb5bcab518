use cohesix_cohscript::{
    check, parse_command, parse_reply, parse_script, status_line, Command, Op, Step,
};
use proptest::prelude::*;

#[test]
fn friendly_syntax_becomes_console_lines() {
    let cases = [
        ("ping", "PING", "PING"),
        ("ls", "LS /", "LS"),
        ("ls /proc", "LS /proc", "LS"),
        ("cat /proc/boot", "CAT /proc/boot", "CAT"),
        ("tail -f /log/queen.log", "TAIL /log/queen.log", "TAIL"),
        ("log", "LOG", "LOG"),
        (
            "echo hello world > /shard/1a/worker/w1/telemetry",
            "ECHO /shard/1a/worker/w1/telemetry hello world",
            "ECHO",
        ),
        ("echo /x/y hi", "ECHO /x/y hi", "ECHO"),
        (
            "spawn heartbeat ticks=100",
            r#"SPAWN {"spawn":"heartbeat","budget":{"ticks":100}}"#,
            "SPAWN",
        ),
        (
            "spawn heartbeat count=3 site=s2 ops=5 ttl_s=60",
            r#"SPAWN {"spawn":"heartbeat","count":3,"site":"s2","budget":{"ops":5,"ttl_s":60}}"#,
            "SPAWN",
        ),
        (
            r#"spawn {"spawn":"gpu"}"#,
            r#"SPAWN {"spawn":"gpu"}"#,
            "SPAWN",
        ),
        ("kill w0001", "KILL w0001", "KILL"),
        ("lifecycle DRAIN", "ECHO /queen/lifecycle/ctl drain", "ECHO"),
        (
            r#"lease {"gpu":"GPU-0"}"#,
            r#"ECHO /queen/lease/ctl {"gpu":"GPU-0"}"#,
            "ECHO",
        ),
        ("attach queen", "ATTACH queen", "ATTACH"),
        (
            "attach worker-heartbeat cohesix-ticket-ab.cd",
            "ATTACH worker-heartbeat cohesix-ticket-ab.cd",
            "ATTACH",
        ),
        ("quit", "QUIT", "QUIT"),
    ];
    for (input, line, label) in cases {
        let command = parse_command(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(command.console_line(), line, "{input}");
        assert_eq!(command.reply_label(), label, "{input}");
    }
}

#[test]
fn file_ops_match_the_console_targets() {
    let kill = parse_command("kill w7").unwrap();
    assert_eq!(
        kill.file_op(),
        Some(Op::Append {
            path: "/queen/ctl".into(),
            line: r#"{"kill":"w7"}"#.into()
        })
    );
    assert_eq!(
        parse_command("log").unwrap().file_op(),
        Some(Op::Tail("/log/queen.log".into()))
    );
    assert_eq!(
        parse_command("ls /proc").unwrap().file_op(),
        Some(Op::List("/proc".into()))
    );
    assert_eq!(parse_command("ping").unwrap().file_op(), None);
}

#[test]
fn bad_commands_say_what_is_wrong() {
    let message = |line: &str| parse_command(line).unwrap_err().to_string();
    assert!(message("frobnicate").contains("unknown command `frobnicate`"));
    assert!(message("cat proc/boot").contains("must be absolute"));
    assert!(message("spawn heartbeat ticks=ten").contains("whole number"));
    assert!(message("spawn heartbeat colour=red").contains("unknown spawn option"));
    assert!(message("spawn heartbeat ops=1 ops=2").contains("given twice"));
    assert!(message("spawn {not json").contains("bad JSON"));
    assert!(message("lifecycle explode").contains("usage: lifecycle"));
    assert!(message("kill w 1").contains("usage: kill"));
    assert!(message("kill w\"1").contains("worker id"));
    assert!(message(&"ls /".repeat(100)).contains("limit is 256"));
    assert!(message("ping now").contains("takes no arguments"));
}

#[test]
fn replies_parse_with_quoted_values() {
    let reply = parse_reply(r#"ERR ATTACH reason=policy detail=Perm delay_ms=250"#).unwrap();
    assert!(!reply.ok);
    assert_eq!(reply.label, "ATTACH");
    assert_eq!(reply.reason.as_deref(), Some("policy"));
    assert_eq!(reply.detail.as_deref(), Some("Perm"));
    assert_eq!(reply.field("delay_ms"), Some("250"));
    let reply = parse_reply(r#"OK ECHO path="/a b" text="say \"hi\"\n""#).unwrap();
    assert_eq!(reply.field("path"), Some("/a b"));
    assert_eq!(reply.field("text"), Some("say \"hi\"\n"));
    assert!(parse_reply("PONG").is_none());
    assert!(parse_reply("OK ").is_none());
    assert!(parse_reply(r#"OK X k="unterminated"#).is_none());
    let status = status_line(["PONG", "OK PING reply=pong"]).unwrap();
    assert_eq!(status.label, "PING");
}

#[test]
fn scripts_parse_and_check() {
    let src =
        "# pack\nping\nEXPECT OK\n\ncat /nope\nEXPECT ERR reason=invalid\nWAIT 250ms\nEXPECT ERR\n";
    let steps = parse_script(src).unwrap();
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[0].line(), 2);
    assert!(matches!(
        steps[0],
        Step::Run {
            command: Command::Ping,
            ..
        }
    ));
    assert_eq!(steps[4], Step::Wait { line: 7, ms: 250 });
    let ok = parse_reply("OK PING reply=pong").unwrap();
    let err = parse_reply("ERR CAT reason=invalid detail=x").unwrap();
    let other = parse_reply("ERR CAT reason=policy").unwrap();
    assert!(check(&steps[1], &ok).is_ok());
    assert!(check(&steps[1], &err).unwrap_err().contains("expected OK"));
    assert!(check(&steps[3], &err).is_ok());
    assert!(check(&steps[3], &other)
        .unwrap_err()
        .contains("expected ERR reason=invalid"));
    assert!(check(&steps[3], &ok).unwrap_err().contains("expected ERR"));
    assert!(check(&steps[5], &other).is_ok());
}

#[test]
fn script_errors_name_the_line() {
    let e = parse_script("ping\nEXPECT MAYBE\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(parse_script("EXPECT OK\n")
        .unwrap_err()
        .message
        .contains("before any command"));
    assert_eq!(parse_script("ping\nWAIT soon\n").unwrap_err().line, 2);
    assert!(parse_script("ping\nWAIT 999999999\n")
        .unwrap_err()
        .message
        .contains("limit"));
    assert_eq!(parse_script("ping\n\nbogus\n").unwrap_err().to_string(), "line 3: unknown command `bogus`; known: attach, cat, echo, help, kill, lease, lifecycle, log, ls, ping, quit, retire-key, revoke, spawn, tail");
    assert!(parse_script("ping\nEXPECT ERR reason=\n").is_err());
    assert!(parse_script("ping\nEXPECT OK now\n").is_err());
}

proptest! {
    #[test]
    fn parsers_never_panic(line in "\\PC{0,300}") {
        let _ = parse_command(&line);
        let _ = parse_reply(&line);
        let _ = parse_script(&line);
    }

    #[test]
    fn spawn_lines_are_valid_json(count in 1u64..5000, ticks in 0u64..1_000_000, site in "[a-z0-9]{1,8}") {
        let command = parse_command(&format!("spawn heartbeat count={count} site={site} ticks={ticks}")).unwrap();
        let Command::Spawn { json } = command else { panic!("not a spawn") };
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(value["count"].as_u64(), Some(count));
        prop_assert_eq!(value["budget"]["ticks"].as_u64(), Some(ticks));
        prop_assert_eq!(value["site"].as_str(), Some(site.as_str()));
    }

    #[test]
    fn quoted_values_round_trip(value in "[ -~]{0,40}") {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        let reply = parse_reply(&format!("OK X k=\"{escaped}\" z=1")).unwrap();
        prop_assert_eq!(reply.field("k"), Some(value.as_str()));
        prop_assert_eq!(reply.field("z"), Some("1"));
    }
}

#[test]
fn revoke_and_retire_key_write_the_queen_control_file() {
    use cohesix_cohscript::{parse_command, Command};
    let revoke = parse_command("revoke 42").unwrap();
    assert_eq!(revoke, Command::Revoke(42));
    assert_eq!(
        revoke.console_line(),
        r#"ECHO /queen/ctl {"revoke":{"ticket":42}}"#
    );
    assert_eq!(
        parse_command("retire-key 2").unwrap().console_line(),
        r#"ECHO /queen/ctl {"key":{"retire":2}}"#
    );
    assert!(parse_command("revoke w0001").is_err());
    assert!(parse_command("retire-key 300").is_err());
}
