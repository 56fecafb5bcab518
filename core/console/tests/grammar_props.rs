//! Properties of the line grammar with real oracles:
//! - every well-formed line, written with any verb case and any spacing, parses to the command
//!   it was built from (the expectation is computed by the generator, not by the parser);
//! - on any text, the verb the parser reports is the line's first word looked up in the
//!   documented verb list, and every accepted command is rendered and re-parsed to itself, with
//!   its paths already normalised;
//! - a cursor is accepted exactly when it is plain decimal digits that fit a u64.

use cohesix_console::grammar::{check_path, DEPTH_MAX};
use cohesix_console::{parse, Command, ParseError, Verb};
use proptest::prelude::*;

/// The documented verbs (docs/interfaces.md §2.4), lower case, written out independently of
/// `Verb::ALL`.
const VERBS: [&str; 13] = [
    "help",
    "ping",
    "auth",
    "attach",
    "ls",
    "cat",
    "tail",
    "log",
    "echo",
    "spawn",
    "kill",
    "lifecycle",
    "quit",
];

fn spaces() -> impl Strategy<Value = String> {
    "[ \t]{1,3}"
}

fn edge() -> impl Strategy<Value = String> {
    "[ \t]{0,2}"
}

/// A verb word in random letter case.
fn cased(verb: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), verb.len()).prop_map(move |upper| {
        verb.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A valid path and its normal form (no trailing slash, the root stays `/`).
fn path() -> impl Strategy<Value = (String, String)> {
    (
        proptest::collection::vec("[a-z0-9_:-][a-z0-9._:-]{0,11}", 0..=DEPTH_MAX),
        any::<bool>(),
    )
        .prop_map(|(names, trailing)| {
            let normal = format!("/{}", names.join("/"));
            let written = if trailing && normal != "/" {
                format!("{normal}/")
            } else {
                normal.clone()
            };
            (written, normal)
        })
}

/// Printable text with no whitespace at either end (spaces inside).
fn text() -> impl Strategy<Value = String> {
    "[!-~]([ !-=?-~]{0,30}[!-~])?"
}

fn cursor() -> impl Strategy<Value = Option<u64>> {
    proptest::option::of(any::<u64>())
}

fn suffix(cursor: Option<u64>, ws: &str) -> String {
    cursor.map_or(String::new(), |c| format!("{ws}{c}"))
}

/// (arguments as written after the verb, the verb, the command they must parse to).
fn well_formed() -> impl Strategy<Value = (&'static str, String, Command)> {
    prop_oneof![
        Just(("help", String::new(), Command::Help)),
        Just(("ping", String::new(), Command::Ping)),
        Just(("quit", String::new(), Command::Quit)),
        text().prop_map(|t| ("auth", t.clone(), Command::Auth { token: t })),
        (
            "[A-Za-z0-9_-]{1,32}",
            proptest::option::of("[!-~]{1,40}"),
            spaces()
        )
            .prop_map(|(role, ticket, ws)| {
                let args = format!(
                    "{role}{}",
                    ticket
                        .as_ref()
                        .map_or(String::new(), |t| format!("{ws}{t}"))
                );
                let role = role.to_ascii_lowercase();
                ("attach", args, Command::Attach { role, ticket })
            }),
        path().prop_map(|(w, path)| ("ls", w, Command::Ls { path })),
        path().prop_map(|(w, path)| ("cat", w, Command::Cat { path })),
        (path(), cursor(), spaces()).prop_map(|((w, path), cursor, ws)| {
            (
                "tail",
                format!("{w}{}", suffix(cursor, &ws)),
                Command::Tail { path, cursor },
            )
        }),
        cursor().prop_map(|cursor| ("log", suffix(cursor, ""), Command::Log { cursor })),
        (path(), proptest::option::of(text()), spaces()).prop_map(|((w, path), line, ws)| {
            let args = format!(
                "{w}{}",
                line.as_ref().map_or(String::new(), |l| format!("{ws}{l}"))
            );
            (
                "echo",
                args,
                Command::Echo {
                    path,
                    line: line.unwrap_or_default(),
                },
            )
        }),
        // The shell form: `echo <line> > <path>`.
        (
            "[!-.0-=?-~]([ !-=?-~]{0,30}[!-~])?",
            path(),
            spaces(),
            spaces()
        )
            .prop_map(|(line, (w, path), a, b)| (
                "echo",
                format!("{line}{a}>{b}{w}"),
                Command::Echo { path, line }
            )),
        "\\{[ -~]{0,40}\\}".prop_map(|json| ("spawn", json.clone(), Command::Spawn { json })),
        "[A-Za-z0-9._-]{1,64}".prop_map(|id| ("kill", id.clone(), Command::Kill { id })),
    ]
}

/// The canonical text of an accepted command.
fn render(command: &Command) -> String {
    let opt = |c: &Option<u64>| c.map_or(String::new(), |c| format!(" {c}"));
    match command {
        Command::Help => "help".into(),
        Command::Ping => "ping".into(),
        Command::Quit => "quit".into(),
        Command::Auth { token } => format!("auth {token}"),
        Command::Attach { role, ticket } => {
            format!("attach {role} {}", ticket.as_deref().unwrap_or(""))
        }
        Command::Ls { path } => format!("ls {path}"),
        Command::Cat { path } => format!("cat {path}"),
        Command::Tail { path, cursor } => format!("tail {path}{}", opt(cursor)),
        Command::Log { cursor } => format!("log{}", opt(cursor)),
        Command::Echo { path, line } => format!("echo {path} {line}"),
        Command::Spawn { json } => format!("spawn {json}"),
        Command::Kill { id } => format!("kill {id}"),
        Command::Lifecycle { command } => format!("lifecycle {command}"),
        Command::SpawnGpu(g) => {
            let mut line = format!(
                "spawn gpu gpu_id={} mem_mb={} streams={} ttl_s={}",
                g.gpu_id, g.mem_mb, g.streams, g.ttl_s
            );
            let extra = [
                ("priority", g.priority.map(u64::from)),
                ("budget_ttl_s", g.budget_ttl_s.map(u64::from)),
                ("budget_ops", g.budget_ops),
            ];
            for (key, value) in extra {
                if let Some(v) = value {
                    line.push_str(&format!(" {key}={v}"));
                }
            }
            line
        }
    }
}

fn paths(command: &Command) -> Vec<&str> {
    match command {
        Command::Ls { path }
        | Command::Cat { path }
        | Command::Tail { path, .. }
        | Command::Echo { path, .. } => vec![path.as_str()],
        _ => Vec::new(),
    }
}

/// What the first word of `line` says the verb is (None: empty or unknown).
fn first_verb(line: &str) -> Result<Verb, &'static str> {
    let word = line.split_whitespace().next().ok_or("empty")?;
    let lower = word.to_ascii_lowercase();
    let at = VERBS
        .iter()
        .position(|v| *v == lower)
        .ok_or("unknown-verb")?;
    Ok(Verb::ALL[at])
}

fn check_any_line(line: &str) -> Result<(), TestCaseError> {
    let got = parse(line);
    match (first_verb(line), &got) {
        (Err(detail), _) => prop_assert_eq!(&got, &Err(ParseError { verb: None, detail })),
        (Ok(verb), Ok(command)) => prop_assert_eq!(command.verb(), verb),
        (Ok(verb), Err(e)) => prop_assert_eq!(e.verb, Some(verb)),
    }
    if let Ok(command) = got {
        for p in paths(&command) {
            prop_assert_eq!(check_path(p), Ok(p), "path not normalised");
        }
        let again = render(&command);
        prop_assert_eq!(parse(&again), Ok(command), "re-parse of {:?}", again);
    }
    Ok(())
}

proptest! {
    #[test]
    fn well_formed_lines_parse_to_their_command(
        (verb, args, want) in well_formed(),
        mask in proptest::collection::vec(any::<bool>(), 6),
        lead in edge(),
        gap in spaces(),
        trail in edge(),
    ) {
        let word: String = verb
            .chars()
            .zip(mask.into_iter().cycle())
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let line = if args.is_empty() {
            format!("{lead}{word}{trail}")
        } else {
            format!("{lead}{word}{gap}{args}{trail}")
        };
        prop_assert_eq!(parse(&line), Ok(want), "{:?}", line);
    }

    #[test]
    fn any_text_names_its_verb_and_round_trips(line in "\\PC{0,300}") {
        check_any_line(&line)?;
    }

    #[test]
    fn any_arguments_after_a_verb(
        verb in proptest::sample::select(VERBS.to_vec()).prop_flat_map(cased),
        rest in ".{0,80}",
    ) {
        check_any_line(&format!("{verb} {rest}"))?;
    }

    #[test]
    fn a_cursor_is_decimal_digits_that_fit(word in "[+0-9a-f-]{1,6}|[0-9]{19,21}") {
        let want = if word.bytes().all(|b| b.is_ascii_digit()) {
            word.parse::<u64>().ok()
        } else {
            None
        };
        let tail = parse(&format!("tail /log/queen.log {word}"));
        let log = parse(&format!("log {word}"));
        match want {
            Some(cursor) => {
                prop_assert_eq!(tail, Ok(Command::Tail { path: "/log/queen.log".into(), cursor: Some(cursor) }));
                prop_assert_eq!(log, Ok(Command::Log { cursor: Some(cursor) }));
            }
            None => {
                prop_assert_eq!(tail, Err(ParseError { verb: Some(Verb::Tail), detail: "bad-cursor" }));
                prop_assert_eq!(log, Err(ParseError { verb: Some(Verb::Log), detail: "bad-cursor" }));
            }
        }
    }
}
