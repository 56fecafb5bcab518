//! The console line grammar: one verb (case-insensitive) and its arguments per line.
//!
//! ```text
//! help | ping | quit
//! auth <token>                  attach <role> [ticket]
//! ls <path>    cat <path>       tail <path> [cursor]     log [cursor]
//! echo <path> <line...>         (also: echo <line...> > <path>)
//! spawn <json-object>           kill <id>
//! spawn heartbeat ticks=<n> [ttl_s=<n>] [ops=<n>]
//! spawn gpu gpu_id=<id> mem_mb=<n> streams=<n> ttl_s=<n> [priority=] [budget_ttl_s=] [budget_ops=]
//! lifecycle <cordon|drain|resume|quiesce|reset>
//! ```

mod path;
mod reply;
mod spawn;

use alloc::string::{String, ToString};
use core::fmt;

use secure9p::Error;

pub use path::{check_path, DEPTH_MAX, NAME_MAX, PATH_MAX};
pub use reply::{quote, Reason, Reply};
pub use spawn::{parse_spawn_args, GpuSpawn, HeartbeatSpawn, SpawnRequest};

/// Commands `lifecycle` takes, as `/queen/lifecycle/ctl` accepts them.
pub const LIFECYCLE_COMMANDS: [&str; 5] = ["cordon", "drain", "resume", "quiesce", "reset"];

/// Longest role name.
pub const ROLE_MAX: usize = 32;
/// Longest worker id accepted by `kill`.
pub const ID_MAX: usize = 64;

/// The verbs of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Help,
    Ping,
    Auth,
    Attach,
    Ls,
    Cat,
    Tail,
    Log,
    Echo,
    Spawn,
    Kill,
    Lifecycle,
    Quit,
}

impl Verb {
    pub const ALL: [Verb; 13] = [
        Verb::Help,
        Verb::Ping,
        Verb::Auth,
        Verb::Attach,
        Verb::Ls,
        Verb::Cat,
        Verb::Tail,
        Verb::Log,
        Verb::Echo,
        Verb::Spawn,
        Verb::Kill,
        Verb::Lifecycle,
        Verb::Quit,
    ];

    /// The upper-case name used in `OK`/`ERR` lines.
    pub fn label(self) -> &'static str {
        match self {
            Verb::Help => "HELP",
            Verb::Ping => "PING",
            Verb::Auth => "AUTH",
            Verb::Attach => "ATTACH",
            Verb::Ls => "LS",
            Verb::Cat => "CAT",
            Verb::Tail => "TAIL",
            Verb::Log => "LOG",
            Verb::Echo => "ECHO",
            Verb::Spawn => "SPAWN",
            Verb::Kill => "KILL",
            Verb::Lifecycle => "LIFECYCLE",
            Verb::Quit => "QUIT",
        }
    }

    /// Case-insensitive lookup of a verb word.
    pub fn from_word(word: &str) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|v| v.label().eq_ignore_ascii_case(word))
    }

    /// Verbs that touch the namespace need an attached role first.
    pub fn needs_attach(self) -> bool {
        !matches!(
            self,
            Verb::Help | Verb::Ping | Verb::Auth | Verb::Attach | Verb::Quit
        )
    }
}

/// One parsed console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Ping,
    Quit,
    Auth {
        token: String,
    },
    Attach {
        role: String,
        ticket: Option<String>,
    },
    Ls {
        path: String,
    },
    Cat {
        path: String,
    },
    Tail {
        path: String,
        cursor: Option<u64>,
    },
    Log {
        cursor: Option<u64>,
    },
    Echo {
        path: String,
        line: String,
    },
    Spawn {
        json: String,
    },
    /// `spawn gpu ...`: a typed lease request, refused until GPU leases exist.
    SpawnGpu(GpuSpawn),
    Kill {
        id: String,
    },
    Lifecycle {
        command: String,
    },
}

impl Command {
    pub fn verb(&self) -> Verb {
        match self {
            Command::Help => Verb::Help,
            Command::Ping => Verb::Ping,
            Command::Quit => Verb::Quit,
            Command::Auth { .. } => Verb::Auth,
            Command::Attach { .. } => Verb::Attach,
            Command::Ls { .. } => Verb::Ls,
            Command::Cat { .. } => Verb::Cat,
            Command::Tail { .. } => Verb::Tail,
            Command::Log { .. } => Verb::Log,
            Command::Echo { .. } => Verb::Echo,
            Command::Spawn { .. } | Command::SpawnGpu(_) => Verb::Spawn,
            Command::Kill { .. } => Verb::Kill,
            Command::Lifecycle { .. } => Verb::Lifecycle,
        }
    }
}

/// A line the grammar refuses: the verb when it was recognised, and a `detail=` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub verb: Option<Verb>,
    pub detail: &'static str,
}

impl ParseError {
    fn new(verb: Verb, detail: &'static str) -> Self {
        Self {
            verb: Some(verb),
            detail,
        }
    }

    /// The error class: an unknown verb is `Unsupported`, everything else `Invalid`.
    pub fn error(&self) -> Error {
        match self.verb {
            None if self.detail == "unknown-verb" => Error::Unsupported,
            _ => Error::Invalid,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verb {
            Some(verb) => write!(f, "{}: {}", verb.label(), self.detail),
            None => f.write_str(self.detail),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

/// Parses one line (surrounding whitespace ignored).
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let (word, rest) = split_word(line.trim());
    if word.is_empty() {
        return Err(ParseError {
            verb: None,
            detail: "empty",
        });
    }
    let verb = Verb::from_word(word).ok_or(ParseError {
        verb: None,
        detail: "unknown-verb",
    })?;
    match verb {
        Verb::Help => no_args(verb, rest).map(|()| Command::Help),
        Verb::Ping => no_args(verb, rest).map(|()| Command::Ping),
        Verb::Quit => no_args(verb, rest).map(|()| Command::Quit),
        Verb::Auth => match rest {
            "" => Err(ParseError::new(verb, "missing-token")),
            token => Ok(Command::Auth {
                token: token.to_string(),
            }),
        },
        Verb::Attach => parse_attach(rest),
        Verb::Ls => one_path(verb, rest).map(|path| Command::Ls { path }),
        Verb::Cat => one_path(verb, rest).map(|path| Command::Cat { path }),
        Verb::Tail => parse_tail(rest),
        Verb::Log => {
            let (cursor, extra) = split_word(rest);
            no_args(verb, extra)?;
            Ok(Command::Log {
                cursor: parse_cursor(verb, cursor)?,
            })
        }
        Verb::Echo => parse_echo(rest),
        Verb::Spawn => parse_spawn(rest),
        Verb::Kill => parse_kill(rest),
        Verb::Lifecycle => parse_lifecycle(rest),
    }
}

/// The first whitespace-separated word and the rest with its leading whitespace removed.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim_start()),
        None => (text, ""),
    }
}

fn no_args(verb: Verb, rest: &str) -> Result<(), ParseError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(ParseError::new(verb, "extra-argument"))
    }
}

fn path_arg(verb: Verb, word: &str) -> Result<String, ParseError> {
    if word.is_empty() {
        return Err(ParseError::new(verb, "missing-path"));
    }
    check_path(word)
        .map(String::from)
        .map_err(|detail| ParseError::new(verb, detail))
}

fn one_path(verb: Verb, rest: &str) -> Result<String, ParseError> {
    let (word, extra) = split_word(rest);
    let path = path_arg(verb, word)?;
    no_args(verb, extra)?;
    Ok(path)
}

fn parse_cursor(verb: Verb, word: &str) -> Result<Option<u64>, ParseError> {
    if word.is_empty() {
        return Ok(None);
    }
    // `u64::from_str` accepts a leading `+`; a cursor is digits only.
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(verb, "bad-cursor"));
    }
    word.parse()
        .map(Some)
        .map_err(|_| ParseError::new(verb, "bad-cursor"))
}

fn parse_tail(rest: &str) -> Result<Command, ParseError> {
    let verb = Verb::Tail;
    let (word, rest) = split_word(rest);
    let path = path_arg(verb, word)?;
    let (cursor, extra) = split_word(rest);
    no_args(verb, extra)?;
    Ok(Command::Tail {
        path,
        cursor: parse_cursor(verb, cursor)?,
    })
}

fn parse_attach(rest: &str) -> Result<Command, ParseError> {
    let verb = Verb::Attach;
    let (role, rest) = split_word(rest);
    if role.is_empty() {
        return Err(ParseError::new(verb, "missing-role"));
    }
    let role_ok = role.len() <= ROLE_MAX
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !role_ok {
        return Err(ParseError::new(verb, "bad-role"));
    }
    let (ticket, extra) = split_word(rest);
    no_args(verb, extra)?;
    if ticket.chars().any(char::is_control) {
        return Err(ParseError::new(verb, "bad-ticket"));
    }
    Ok(Command::Attach {
        role: role.to_ascii_lowercase(),
        ticket: (!ticket.is_empty()).then(|| ticket.to_string()),
    })
}

fn parse_echo(rest: &str) -> Result<Command, ParseError> {
    let verb = Verb::Echo;
    let (first, text) = split_word(rest);
    if first.is_empty() {
        return Err(ParseError::new(verb, "missing-path"));
    }
    // Shell style `echo <line...> > <path>`, as operators type it on the serial console.
    if !first.starts_with('/') {
        if let Some((text, target)) = split_redirect(rest) {
            return Ok(Command::Echo {
                path: one_path(verb, target)?,
                line: text.to_string(),
            });
        }
    }
    Ok(Command::Echo {
        path: path_arg(verb, first)?,
        line: text.trim_end().to_string(),
    })
}

/// Splits `<text> > <target>` at the last `>` that stands alone between whitespace.
fn split_redirect(rest: &str) -> Option<(&str, &str)> {
    let at = rest.rfind('>')?;
    let (text, target) = (&rest[..at], &rest[at + 1..]);
    let spaced = (text.is_empty() || text.ends_with(char::is_whitespace))
        && target.starts_with(char::is_whitespace);
    spaced.then(|| (text.trim(), target.trim()))
}

fn parse_spawn(rest: &str) -> Result<Command, ParseError> {
    match parse_spawn_args(rest).map_err(|detail| ParseError::new(Verb::Spawn, detail))? {
        SpawnRequest::Json(json) => Ok(Command::Spawn { json }),
        SpawnRequest::Gpu(gpu) => Ok(Command::SpawnGpu(gpu)),
    }
}

fn parse_lifecycle(rest: &str) -> Result<Command, ParseError> {
    let verb = Verb::Lifecycle;
    let (word, extra) = split_word(rest);
    if word.is_empty() {
        return Err(ParseError::new(verb, "missing-command"));
    }
    no_args(verb, extra)?;
    let command = word.to_ascii_lowercase();
    if !LIFECYCLE_COMMANDS.contains(&command.as_str()) {
        return Err(ParseError::new(verb, "unknown-command"));
    }
    Ok(Command::Lifecycle { command })
}

fn parse_kill(rest: &str) -> Result<Command, ParseError> {
    let verb = Verb::Kill;
    let (id, extra) = split_word(rest);
    if id.is_empty() {
        return Err(ParseError::new(verb, "missing-id"));
    }
    no_args(verb, extra)?;
    // The id is spliced into JSON, so only characters that need no escaping are allowed.
    let id_ok = id.len() <= ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !id_ok {
        return Err(ParseError::new(verb, "bad-id"));
    }
    Ok(Command::Kill { id: id.to_string() })
}
