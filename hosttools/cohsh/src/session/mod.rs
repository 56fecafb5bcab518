//! A session with a hive over either transport. Both answer every command with a
//! console-shaped `Response` (`OK <VERB> ...`, data, or `ERR <VERB> reason=...`), so output,
//! scripts and their expectations mean the same thing on the console and on Secure9P.

mod console;
mod ninep;

use std::fmt;
use std::str::FromStr;

use client::{ClientError, Response, Timeouts};
use cohscript::Command;

pub use self::console::ConsoleSession;
pub use self::ninep::NinePSession;

/// Which wire a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The console protocol (TCP 31337).
    Console,
    /// Secure9P (TCP 564).
    NineP,
}

impl Transport {
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Console => hal::CONSOLE_PORT,
            Transport::NineP => hal::NINEP_PORT,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Console => "console",
            Transport::NineP => "9p",
        }
    }
}

impl FromStr for Transport {
    type Err = String;

    /// `tcp` is the original Cohesix cohsh's name for the console transport.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "console" | "tcp" => Ok(Transport::Console),
            "9p" | "secure9p" => Ok(Transport::NineP),
            other => Err(format!("unknown transport `{other}` (console or 9p)")),
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    pub role: String,
    pub ticket: Option<String>,
    /// The console token (console transport only).
    pub token: Option<String>,
    pub timeouts: Timeouts,
}

impl Target {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// An open session on either transport.
pub enum Session {
    Console(ConsoleSession),
    NineP(NinePSession),
}

impl Session {
    /// Connects, authenticates (console) and attaches as the target's role.
    pub fn open(target: &Target) -> Result<Session, ClientError> {
        Ok(match target.transport {
            Transport::Console => Session::Console(ConsoleSession::open(target)?),
            Transport::NineP => Session::NineP(NinePSession::open(target)?),
        })
    }

    pub fn transport(&self) -> Transport {
        match self {
            Session::Console(_) => Transport::Console,
            Session::NineP(_) => Transport::NineP,
        }
    }

    /// Runs one command. A refusal is an `ERR` response; only transport failures are errors.
    pub fn run(&mut self, command: &Command) -> Result<Response, ClientError> {
        match self {
            Session::Console(s) => s.run(command),
            Session::NineP(s) => s.run(command),
        }
    }

    /// One poll of a stream from `cursor`: the response and the cursor to poll from next.
    pub fn tail(
        &mut self,
        path: &str,
        cursor: Option<u64>,
    ) -> Result<(Response, u64), ClientError> {
        match self {
            Session::Console(s) => s.tail(path, cursor),
            Session::NineP(s) => s.tail(path, cursor),
        }
    }

    /// Names under `dir`, for completion; empty when the hive refuses.
    pub fn names(&mut self, dir: &str) -> Vec<String> {
        match self.run(&Command::Ls(dir.to_string())) {
            Ok(response) if response.ok() => response.data,
            _ => Vec::new(),
        }
    }

    /// False once the connection is gone (quit, hang-up, timeout).
    pub fn is_usable(&self) -> bool {
        match self {
            Session::Console(s) => s.is_usable(),
            Session::NineP(s) => s.is_usable(),
        }
    }
}

/// A response built on this side from one status line and data, for transports and verbs
/// that have no status line of their own.
pub(crate) fn synthesize(status: String, data: Vec<String>) -> Response {
    let reply = client::Reply::parse(&status).unwrap_or(client::Reply {
        ok: false,
        verb: String::from("PARSE"),
        fields: Vec::new(),
        line: status,
    });
    Response {
        preamble: Vec::new(),
        reply,
        data,
    }
}

/// cohsh's own help text, shown for `help` where the hive has none (Secure9P).
pub const HELP: &[&str] = &[
    "Commands:",
    "  help                          - Show this help",
    "  ping                          - Check the hive answers",
    "  attach ROLE [TICKET]          - Attach as another role",
    "  ls [PATH]                     - List a directory",
    "  cat PATH                      - Read a file",
    "  tail [-f] PATH                - Read a stream (-f: keep following)",
    "  log                           - Tail /log/queen.log",
    "  echo TEXT > PATH              - Append one line to a file",
    "  spawn heartbeat [count=N] [ticks=N] [ops=N] [ttl_s=N] [site=S]",
    "  kill ID                       - Revoke a worker",
    "  lifecycle cordon|drain|resume|quiesce|reset",
    "  lease {JSON}                  - Append to /queen/lease/ctl",
    "  quit                          - End the session",
];
