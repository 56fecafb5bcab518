//! The Secure9P transport: every command is a file operation, answered with the status line
//! the console would have written for it, so the same script passes on both transports.

use client::{ClientError, Limits, NineClient, Response, Tail};
use cohscript::{Command, Op};

use super::{synthesize, Target, HELP};

/// Bytes one `cat` returns at most, as on the console.
const CAT_BYTES_MAX: usize = 64 * 1024;
/// The audit log that `log` tails.
const QUEEN_LOG: &str = "/log/queen.log";

pub struct NinePSession {
    client: Option<NineClient>,
    target: Target,
}

impl NinePSession {
    pub fn open(target: &Target) -> Result<Self, ClientError> {
        let client = attach(target, &target.role, target.ticket.as_deref())?;
        Ok(Self {
            client: Some(client),
            target: target.clone(),
        })
    }

    pub fn is_usable(&self) -> bool {
        self.client.as_ref().is_some_and(NineClient::is_usable)
    }

    fn client(&mut self) -> Result<&mut NineClient, ClientError> {
        self.client.as_mut().ok_or(ClientError::Hangup)
    }

    pub fn run(&mut self, command: &Command) -> Result<Response, ClientError> {
        let label = command.reply_label();
        match command {
            Command::Help => {
                let mut response = synthesize(String::from("OK HELP"), Vec::new());
                response.preamble = HELP.iter().map(|l| l.to_string()).collect();
                Ok(response)
            }
            Command::Ping => {
                let client = self.client()?;
                let root = client.root()?;
                client.getattr(root)?;
                let mut response = synthesize(String::from("OK PING reply=pong"), Vec::new());
                response.preamble.push(String::from("PONG"));
                Ok(response)
            }
            Command::Quit => {
                self.client = None;
                Ok(synthesize(String::from("OK QUIT"), Vec::new()))
            }
            Command::Attach { role, ticket } => self.reattach(role, ticket.as_deref()),
            _ => match command.file_op() {
                Some(op) => self.file_op(label, command, op),
                None => Ok(synthesize(
                    format!("ERR {label} reason=unsupported detail=unsupported"),
                    Vec::new(),
                )),
            },
        }
    }

    /// One poll of a stream from `cursor`, shaped like the console's `TAIL` reply.
    pub fn tail(
        &mut self,
        path: &str,
        cursor: Option<u64>,
    ) -> Result<(Response, u64), ClientError> {
        let result = self.client()?.tail(path, cursor);
        match result {
            Ok(tail) => {
                let next = tail.next;
                Ok((stream_response("TAIL", path, &tail), next))
            }
            Err(e) => Ok((refusal("TAIL", Some(path), e)?, cursor.unwrap_or(0))),
        }
    }

    fn reattach(&mut self, role: &str, ticket: Option<&str>) -> Result<Response, ClientError> {
        match attach(&self.target, role, ticket) {
            Ok(client) => {
                self.client = Some(client);
                Ok(synthesize(format!("OK ATTACH role={role}"), Vec::new()))
            }
            Err(e) => refusal("ATTACH", None, e),
        }
    }

    fn file_op(&mut self, label: &str, command: &Command, op: Op) -> Result<Response, ClientError> {
        let client = self.client()?;
        match op {
            Op::List(path) => match client.list(&path) {
                Ok(names) => Ok(listing("LS", &path, names)),
                Err(e) => refusal(label, Some(&path), e),
            },
            Op::Read(path) => match client.read_file(&path, CAT_BYTES_MAX) {
                Ok(bytes) => Ok(listing("CAT", &path, lines_of(&bytes))),
                Err(e) => refusal(label, Some(&path), e),
            },
            Op::Tail(path) => match client.tail(&path, None) {
                Ok(tail) => {
                    let verb = if path == QUEEN_LOG && matches!(command, Command::Log) {
                        "LOG"
                    } else {
                        "TAIL"
                    };
                    Ok(stream_response(verb, &path, &tail))
                }
                Err(e) => refusal(label, Some(&path), e),
            },
            Op::Append { path, line } => {
                let mut record = line.clone().into_bytes();
                record.push(b'\n');
                match client.append(&path, &record) {
                    Ok(count) => Ok(synthesize(
                        appended(label, command, &path, count),
                        Vec::new(),
                    )),
                    Err(e) => refusal(label, Some(&path), e),
                }
            }
        }
    }
}

/// Connects and attaches; the subject (`uname`) is read from the ticket so audit lines name it.
fn attach(target: &Target, role: &str, ticket: Option<&str>) -> Result<NineClient, ClientError> {
    let ticket = ticket.unwrap_or("");
    let subject = ticket::decode(ticket, ticket::MAX_TEXT_LEN)
        .map(|(claims, _)| claims.subject)
        .unwrap_or_default();
    let mut client = NineClient::connect(target.addr(), Limits::default(), target.timeouts)?;
    client.attach(role, &subject, ticket)?;
    Ok(client)
}

/// The `OK` line of an append, as the console words it for each verb.
fn appended(label: &str, command: &Command, path: &str, count: u32) -> String {
    match command {
        Command::Spawn { json } => {
            let payload = console::quote(json);
            format!("OK SPAWN payload={payload} bytes={count}")
        }
        Command::Kill(id) => format!("OK KILL id={id}"),
        _ => format!("OK {label} path={path} bytes={count}"),
    }
}

fn listing(verb: &str, path: &str, lines: Vec<String>) -> Response {
    let status = format!("OK {verb} path={path} lines={}", lines.len());
    synthesize(status, lines)
}

fn stream_response(verb: &str, path: &str, tail: &Tail) -> Response {
    let mut lines = Vec::new();
    if tail.lost > 0 {
        lines.push(format!("lost={}", tail.lost));
    }
    lines.extend(lines_of(&tail.data));
    let status = format!(
        "OK {verb} path={path} cursor={} lines={}",
        tail.next,
        lines.len()
    );
    synthesize(status, lines)
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(String::from)
        .collect()
}

/// A refusal as the console's `ERR` line; other failures stay errors.
fn refusal(label: &str, path: Option<&str>, error: ClientError) -> Result<Response, ClientError> {
    let (reason, detail) = match error {
        ClientError::Refused(r) => (r.reason, r.detail),
        ClientError::Local(class) => (class.reason().to_string(), Some(class.name().to_string())),
        other => return Err(other),
    };
    let mut status = format!("ERR {label} reason={reason}");
    if let Some(detail) = detail {
        status.push_str(&format!(" detail={detail}"));
    }
    if let Some(path) = path {
        status.push_str(&format!(" path={path}"));
    }
    Ok(synthesize(status, Vec::new()))
}
