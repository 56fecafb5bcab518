//! One cohsh command line: the friendly syntax operators type, and what it becomes on each
//! transport (a console-protocol line, or a file operation for Secure9P).

use core::fmt;

/// The queen's control file, target of `spawn` and `kill`.
pub const QUEEN_CTL: &str = "/queen/ctl";
/// The node lifecycle control file.
pub const LIFECYCLE_CTL: &str = "/queen/lifecycle/ctl";
/// The lease broker's control file.
pub const LEASE_CTL: &str = "/queen/lease/ctl";
/// The audit log that `log` tails.
pub const QUEEN_LOG: &str = "/log/queen.log";
/// Commands `/queen/lifecycle/ctl` accepts.
pub const LIFECYCLE_VERBS: &[&str] = &["cordon", "drain", "resume", "quiesce", "reset"];

/// Longest command line accepted, matching the console's inbound line limit.
pub const LINE_MAX: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Ping,
    Quit,
    Log,
    Attach {
        role: String,
        ticket: Option<String>,
    },
    Ls(String),
    Cat(String),
    /// `tail [-f] PATH`; following is the client's polling loop, not a protocol feature.
    Tail {
        path: String,
        follow: bool,
    },
    Echo {
        path: String,
        text: String,
    },
    Spawn {
        json: String,
    },
    Kill(String),
    /// `revoke TICKET_ID`: revokes any role's ticket (`{"revoke":{"ticket":N}}`).
    Revoke(u64),
    /// `retire-key KEY_ID`: retires a hive key (`{"key":{"retire":N}}`).
    RetireKey(u8),
    Lifecycle(String),
    Lease(String),
}

/// A command as a file operation, for transports that speak files rather than verbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    List(String),
    Read(String),
    Tail(String),
    Append { path: String, line: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(message.into()))
}

impl Command {
    /// Verbs in the order `help` lists them; also what completion offers.
    pub const VERBS: &'static [&'static str] = &[
        "attach",
        "cat",
        "echo",
        "help",
        "kill",
        "lease",
        "lifecycle",
        "log",
        "ls",
        "ping",
        "quit",
        "retire-key",
        "revoke",
        "spawn",
        "tail",
    ];

    /// The console-protocol line (docs/interfaces.md §2) this command sends.
    pub fn console_line(&self) -> String {
        match self {
            Command::Help => "HELP".into(),
            Command::Ping => "PING".into(),
            Command::Quit => "QUIT".into(),
            Command::Log => "LOG".into(),
            Command::Attach { role, ticket } => match ticket {
                Some(ticket) => format!("ATTACH {role} {ticket}"),
                None => format!("ATTACH {role}"),
            },
            Command::Ls(path) => format!("LS {path}"),
            Command::Cat(path) => format!("CAT {path}"),
            Command::Tail { path, .. } => format!("TAIL {path}"),
            Command::Echo { path, text } => format!("ECHO {path} {text}"),
            Command::Spawn { json } => format!("SPAWN {json}"),
            Command::Kill(id) => format!("KILL {id}"),
            Command::Revoke(ticket) => format!("ECHO {QUEEN_CTL} {}", revoke_json(*ticket)),
            Command::RetireKey(key) => format!("ECHO {QUEEN_CTL} {}", retire_key_json(*key)),
            Command::Lifecycle(verb) => format!("ECHO {LIFECYCLE_CTL} {verb}"),
            Command::Lease(json) => format!("ECHO {LEASE_CTL} {json}"),
        }
    }

    /// The verb the hive names in its `OK <LABEL>` / `ERR <LABEL>` answer.
    pub fn reply_label(&self) -> &'static str {
        match self {
            Command::Help => "HELP",
            Command::Ping => "PING",
            Command::Quit => "QUIT",
            Command::Log => "LOG",
            Command::Attach { .. } => "ATTACH",
            Command::Ls(_) => "LS",
            Command::Cat(_) => "CAT",
            Command::Tail { .. } => "TAIL",
            Command::Echo { .. }
            | Command::Lifecycle(_)
            | Command::Lease(_)
            | Command::Revoke(_)
            | Command::RetireKey(_) => "ECHO",
            Command::Spawn { .. } => "SPAWN",
            Command::Kill(_) => "KILL",
        }
    }

    /// The file operation behind the command, or `None` for session verbs.
    pub fn file_op(&self) -> Option<Op> {
        let append = |path: &str, line: &str| Op::Append {
            path: path.into(),
            line: line.into(),
        };
        Some(match self {
            Command::Help | Command::Ping | Command::Quit | Command::Attach { .. } => return None,
            Command::Log => Op::Tail(QUEEN_LOG.into()),
            Command::Ls(path) => Op::List(path.clone()),
            Command::Cat(path) => Op::Read(path.clone()),
            Command::Tail { path, .. } => Op::Tail(path.clone()),
            Command::Echo { path, text } => append(path, text),
            Command::Spawn { json } => append(QUEEN_CTL, json),
            Command::Kill(id) => append(QUEEN_CTL, &kill_json(id)),
            Command::Revoke(ticket) => append(QUEEN_CTL, &revoke_json(*ticket)),
            Command::RetireKey(key) => append(QUEEN_CTL, &retire_key_json(*key)),
            Command::Lifecycle(verb) => append(LIFECYCLE_CTL, verb),
            Command::Lease(json) => append(LEASE_CTL, json),
        })
    }
}

/// `{"kill":"<id>"}`, exactly as the console builds it.
pub fn kill_json(id: &str) -> String {
    format!("{{\"kill\":{}}}", serde_json::Value::from(id))
}

/// `{"revoke":{"ticket":N}}`.
pub fn revoke_json(ticket: u64) -> String {
    format!("{{\"revoke\":{{\"ticket\":{ticket}}}}}")
}

/// `{"key":{"retire":N}}`.
pub fn retire_key_json(key: u8) -> String {
    format!("{{\"key\":{{\"retire\":{key}}}}}")
}

/// Parses one line of cohsh syntax.
pub fn parse_command(line: &str) -> Result<Command, ParseError> {
    let line = line.trim();
    if line.len() > LINE_MAX {
        return err(format!(
            "line is {} bytes; the limit is {LINE_MAX}",
            line.len()
        ));
    }
    if line.contains(['\r', '\n']) {
        return err("a command is one line");
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (line, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    match word.to_ascii_lowercase().as_str() {
        "" => err("empty command"),
        "help" => no_args(Command::Help, &args, "help"),
        "ping" => no_args(Command::Ping, &args, "ping"),
        "quit" | "exit" => no_args(Command::Quit, &args, "quit"),
        "log" => no_args(Command::Log, &args, "log"),
        "attach" => parse_attach(&args),
        "ls" => match args.as_slice() {
            [] => Ok(Command::Ls("/".into())),
            [path] => Ok(Command::Ls(absolute(path)?)),
            _ => err("usage: ls [PATH]"),
        },
        "cat" => match args.as_slice() {
            [path] => Ok(Command::Cat(absolute(path)?)),
            _ => err("usage: cat PATH"),
        },
        "tail" => match args.as_slice() {
            ["-f", path] => Ok(Command::Tail {
                path: absolute(path)?,
                follow: true,
            }),
            [path] => Ok(Command::Tail {
                path: absolute(path)?,
                follow: false,
            }),
            _ => err("usage: tail [-f] PATH"),
        },
        "echo" => parse_echo(rest),
        "spawn" => parse_spawn(rest, &args),
        "kill" => match args.as_slice() {
            [id] => Ok(Command::Kill(identifier(id, "worker id")?.into())),
            _ => err("usage: kill ID"),
        },
        "revoke" => match args.as_slice() {
            [id] => match id.parse::<u64>() {
                Ok(ticket) => Ok(Command::Revoke(ticket)),
                Err(_) => err("usage: revoke TICKET_ID (a ticket id is a number)"),
            },
            _ => err("usage: revoke TICKET_ID"),
        },
        "retire-key" => match args.as_slice() {
            [id] => match id.parse::<u8>() {
                Ok(key) => Ok(Command::RetireKey(key)),
                Err(_) => err("usage: retire-key KEY_ID (0..=255)"),
            },
            _ => err("usage: retire-key KEY_ID"),
        },
        "lifecycle" => match args.as_slice() {
            [verb] if LIFECYCLE_VERBS.contains(&verb.to_ascii_lowercase().as_str()) => {
                Ok(Command::Lifecycle(verb.to_ascii_lowercase()))
            }
            _ => err(format!("usage: lifecycle {}", LIFECYCLE_VERBS.join("|"))),
        },
        "lease" => {
            json_object(rest, "lease")?;
            Ok(Command::Lease(rest.into()))
        }
        other => err(format!(
            "unknown command `{other}`; known: {}",
            Command::VERBS.join(", ")
        )),
    }
}

fn no_args(command: Command, args: &[&str], usage: &str) -> Result<Command, ParseError> {
    if args.is_empty() {
        Ok(command)
    } else {
        err(format!("usage: {usage} (takes no arguments)"))
    }
}

fn parse_attach(args: &[&str]) -> Result<Command, ParseError> {
    match args {
        [role] => Ok(Command::Attach {
            role: identifier(role, "role")?.into(),
            ticket: None,
        }),
        [role, ticket] => Ok(Command::Attach {
            role: identifier(role, "role")?.into(),
            ticket: Some((*ticket).into()),
        }),
        _ => err("usage: attach ROLE [TICKET]"),
    }
}

/// `echo TEXT > PATH`, or the console's own order `echo PATH TEXT`.
fn parse_echo(rest: &str) -> Result<Command, ParseError> {
    if let Some((text, path)) = rest.rsplit_once('>') {
        let path = path.trim();
        if !path.is_empty() && !path.contains(char::is_whitespace) {
            return Ok(Command::Echo {
                path: absolute(path)?,
                text: text.trim().into(),
            });
        }
    }
    match rest.split_once(char::is_whitespace) {
        Some((path, text)) if path.starts_with('/') => Ok(Command::Echo {
            path: absolute(path)?,
            text: text.trim().into(),
        }),
        _ => err("usage: echo TEXT > PATH"),
    }
}

/// `spawn {json}` verbatim, or `spawn KIND [count=N] [site=S] [ticks=N] [ops=N] [ttl_s=N]`.
fn parse_spawn(rest: &str, args: &[&str]) -> Result<Command, ParseError> {
    if rest.starts_with('{') {
        json_object(rest, "spawn")?;
        return Ok(Command::Spawn { json: rest.into() });
    }
    let Some((kind, options)) = args.split_first() else {
        return err("usage: spawn KIND [count=N] [site=S] [ticks=N] [ops=N] [ttl_s=N]");
    };
    let mut json = format!(
        "{{\"spawn\":{}",
        serde_json::Value::from(identifier(kind, "kind")?)
    );
    let mut budget = Vec::new();
    let mut seen = Vec::new();
    for option in options {
        let Some((key, value)) = option.split_once('=') else {
            return err(format!("spawn option `{option}` is not key=value"));
        };
        if seen.contains(&key) {
            return err(format!("spawn option `{key}` given twice"));
        }
        seen.push(key);
        match key {
            "count" => json.push_str(&format!(",\"count\":{}", number(key, value)?)),
            "site" => json.push_str(&format!(
                ",\"site\":{}",
                serde_json::Value::from(identifier(value, "site")?)
            )),
            "ticks" | "ops" | "ttl_s" => budget.push(format!("\"{key}\":{}", number(key, value)?)),
            _ => {
                return err(format!(
                    "unknown spawn option `{key}`; known: count, site, ticks, ops, ttl_s"
                ))
            }
        }
    }
    if !budget.is_empty() {
        json.push_str(&format!(",\"budget\":{{{}}}", budget.join(",")));
    }
    json.push('}');
    Ok(Command::Spawn { json })
}

fn number(key: &str, value: &str) -> Result<u64, ParseError> {
    value
        .parse::<u64>()
        .map_err(|_| ParseError(format!("`{key}` wants a whole number, not `{value}`")))
}

fn json_object(text: &str, what: &str) -> Result<(), ParseError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => err(format!("{what} wants a JSON object")),
        Err(e) => err(format!("{what}: bad JSON: {e}")),
    }
}

fn absolute(path: &str) -> Result<String, ParseError> {
    if path.starts_with('/') {
        Ok(path.into())
    } else {
        err(format!("path `{path}` must be absolute (start with /)"))
    }
}

fn identifier<'a>(text: &'a str, what: &str) -> Result<&'a str, ParseError> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(text)
    } else {
        err(format!("{what} `{text}` must be 1-64 of [A-Za-z0-9._-]"))
    }
}
