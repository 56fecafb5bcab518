//! The verbs after the handshake: attach with back-off, and the namespace verbs mapped onto
//! the backend (`spawn`/`kill` become appends to `/queen/ctl`, `log` a tail of the queen log).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use secure9p::Error;

use super::{refuse, ConsoleBackend, ConsoleSession, Outcome, State, Transport};
use crate::grammar::{Command, Reply, Verb};

/// The queen's control file, target of `spawn` and `kill`.
pub const QUEEN_CTL: &str = "/queen/ctl";
/// The audit log `log` tails.
pub const QUEEN_LOG: &str = "/log/queen.log";
/// The node lifecycle control file, target of `lifecycle`.
pub const LIFECYCLE_CTL: &str = "/queen/lifecycle/ctl";

const HELP: [&str; 16] = [
    "Commands:",
    "  help                    - Show this help",
    "  ping                    - Respond with pong",
    "  auth <token>            - Present the console token (TCP, first line)",
    "  attach <role> [ticket]  - Bind this session to a role",
    "  ls <path>               - List a directory",
    "  cat <path>              - Read a file",
    "  tail <path> [cursor]    - Read a stream from a cursor",
    "  log [cursor]            - Tail /log/queen.log",
    "  echo <path> <line>      - Append one line to a file",
    "  spawn <json>            - Append a spawn command to /queen/ctl",
    "  spawn heartbeat ticks=<n> [ttl_s=<n>] [ops=<n>]",
    "  spawn gpu gpu_id=<id> mem_mb=<n> streams=<n> ttl_s=<n> [priority=<n>]",
    "  kill <id>               - Ask the queen to stop a worker",
    "  lifecycle <command>     - cordon|drain|resume|quiesce|reset the node",
    "  quit                    - End this session",
];

impl ConsoleSession {
    pub(super) fn dispatch<B: ConsoleBackend>(
        &mut self,
        command: Command,
        now_ms: u64,
        backend: &mut B,
    ) -> Outcome {
        let verb = command.verb();
        if verb.needs_attach() && self.role().is_none() {
            return Outcome::line(refuse(
                backend,
                verb.label(),
                Error::Perm,
                "not-attached",
                &[],
            ));
        }
        match command {
            Command::Help => {
                let mut lines: Vec<String> = HELP.iter().map(|l| l.to_string()).collect();
                lines.push(Reply::ok("HELP", &[]));
                Outcome {
                    lines,
                    close: false,
                }
            }
            Command::Ping => Outcome {
                lines: alloc::vec![
                    Reply::PONG.to_string(),
                    Reply::ok("PING", &[("reply", "pong")])
                ],
                close: false,
            },
            Command::Quit => {
                self.close(backend);
                Outcome::closing(Reply::ok("QUIT", &[]))
            }
            Command::Auth { .. } => self.repeated_auth(backend),
            Command::Attach { role, ticket } => {
                Outcome::line(self.attach(&role, ticket.as_deref(), now_ms, backend))
            }
            Command::Ls { path } => self.listing(Verb::Ls, &path, backend),
            Command::Cat { path } => self.listing(Verb::Cat, &path, backend),
            Command::Tail { path, cursor } => self.tail(Verb::Tail, &path, cursor, backend),
            Command::Log { cursor } => self.tail(Verb::Log, QUEEN_LOG, cursor, backend),
            Command::Echo { path, line } => {
                Outcome::line(append(backend, Verb::Echo, &path, &line, |bytes| {
                    alloc::vec![("path", path.clone()), ("bytes", bytes)]
                }))
            }
            Command::Spawn { json } => {
                Outcome::line(append(backend, Verb::Spawn, QUEEN_CTL, &json, |bytes| {
                    alloc::vec![("payload", json.clone()), ("bytes", bytes)]
                }))
            }
            Command::SpawnGpu(_) => Outcome::line(refuse(
                backend,
                Verb::Spawn.label(),
                Error::Unsupported,
                "gpu-spawn-not-wired",
                &[],
            )),
            Command::Lifecycle { command } => Outcome::line(append(
                backend,
                Verb::Lifecycle,
                LIFECYCLE_CTL,
                &command,
                |_| alloc::vec![("command", command.clone())],
            )),
            Command::Kill { id } => {
                let json = format!("{{\"kill\":\"{id}\"}}");
                Outcome::line(append(backend, Verb::Kill, QUEEN_CTL, &json, |_| {
                    alloc::vec![("id", id.clone())]
                }))
            }
        }
    }

    /// `AUTH` after the handshake: TCP has already authenticated, serial never needs to.
    fn repeated_auth<B: ConsoleBackend>(&mut self, backend: &mut B) -> Outcome {
        let (error, detail) = match self.transport {
            Transport::Tcp => (Error::Invalid, "already-authenticated"),
            Transport::Serial => (Error::Unsupported, "serial"),
        };
        Outcome::line(refuse(backend, "AUTH", error, detail, &[]))
    }

    /// Attach with back-off. A new attempt first detaches any current role, so a failed
    /// re-attach leaves the session unattached rather than silently keeping the old role.
    fn attach<B: ConsoleBackend>(
        &mut self,
        role: &str,
        ticket: Option<&str>,
        now_ms: u64,
        backend: &mut B,
    ) -> String {
        let verb = Verb::Attach.label();
        if let Err(remaining) = self.backoff.check(now_ms) {
            let delay = remaining.to_string();
            return refuse(
                backend,
                verb,
                Error::Quota,
                "backoff",
                &[("delay_ms", &delay)],
            );
        }
        self.detach(backend);
        let serial = self.transport == Transport::Serial;
        match backend.attach(role, ticket, serial, now_ms) {
            Ok(()) => {
                self.backoff.reset();
                self.state = State::Attached {
                    role: role.to_string(),
                };
                Reply::ok(verb, &[("role", role)])
            }
            Err(error) => {
                let delay = self.backoff.record_failure(now_ms).to_string();
                refuse(backend, verb, error, error.name(), &[("delay_ms", &delay)])
            }
        }
    }
}

/// One append through the backend, answered `OK <VERB> <keys>` where `keys` gets the byte
/// count, or `ERR <VERB> reason=... detail=<error> path=<path>`.
fn append<B: ConsoleBackend>(
    backend: &mut B,
    verb: Verb,
    path: &str,
    line: &str,
    keys: impl FnOnce(String) -> Vec<(&'static str, String)>,
) -> String {
    match backend.echo(path, line) {
        Ok(bytes) => {
            let pairs = keys(bytes.to_string());
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Reply::ok(verb.label(), &borrowed)
        }
        Err(error) => refuse(
            backend,
            verb.label(),
            error,
            error.name(),
            &[("path", path)],
        ),
    }
}
