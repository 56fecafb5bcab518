//! The dispatcher: one state machine per console session, shared by serial and TCP.
//!
//! TCP sessions start in `AwaitAuth` and must present the provisioned token; serial sessions
//! start authenticated (physical access). Either must `attach` a role before touching the
//! namespace. Every refusal is reported to the backend for pressure counters and audit.

mod serial;
mod stream;
mod verbs;

use alloc::string::String;
use alloc::vec::Vec;

use manifest::ConsoleLimits;
use secure9p::Error;

use crate::auth::{check_auth, AuthRefusal};
use crate::backoff::AttachBackoff;
use crate::frame::{encode_frame, FrameDecoder, FrameError};
use crate::grammar::{parse, Reply, Verb};
use crate::line::LineError;

pub use serial::{serial_render, SERIAL_PROMPT};
pub use verbs::{QUEEN_CTL, QUEEN_LOG};

/// The namespace seam: the pump implements it over ninedoor and the hive.
pub trait ConsoleBackend {
    /// Verify role + optional ticket; serial=true allows a ticketless queen attach.
    fn attach(
        &mut self,
        role: &str,
        ticket: Option<&str>,
        serial: bool,
        now_ms: u64,
    ) -> Result<(), Error>;
    fn ls(&mut self, path: &str) -> Result<Vec<String>, Error>;
    fn cat(&mut self, path: &str) -> Result<Vec<String>, Error>;
    /// Lines from `cursor` (None = from the oldest retained); returns the next cursor.
    fn tail(&mut self, path: &str, cursor: Option<u64>) -> Result<(Vec<String>, u64), Error>;
    /// Append one line; returns bytes appended.
    fn echo(&mut self, path: &str, line: &str) -> Result<usize, Error>;
    /// A refusal happened (for /proc/pressure counters and the audit log).
    fn refused(&mut self, verb: &str, error: Error, detail: &str);
    /// Lifecycle of the console session itself, for audit lines.
    fn detached(&mut self) {}
}

/// Which wire a session speaks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Serial,
    Tcp,
}

/// The reply to one input: lines to send in order, and whether to close afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub close: bool,
}

impl Outcome {
    fn line(line: String) -> Self {
        Self {
            lines: alloc::vec![line],
            close: false,
        }
    }

    fn closed() -> Self {
        Self {
            lines: Vec::new(),
            close: true,
        }
    }

    fn closing(line: String) -> Self {
        Self {
            lines: alloc::vec![line],
            close: true,
        }
    }

    /// Appends another outcome's lines; closing is sticky.
    pub fn extend(&mut self, other: Outcome) {
        self.lines.extend(other.lines);
        self.close |= other.close;
    }

    /// Appends every line as one TCP console frame.
    pub fn encode_frames(&self, out: &mut Vec<u8>) {
        for line in &self.lines {
            encode_frame(line, out);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitAuth,
    Authed,
    Attached { role: String },
    Closed,
}

/// One console session.
pub struct ConsoleSession {
    transport: Transport,
    token: Option<Vec<u8>>,
    limits: ConsoleLimits,
    state: State,
    backoff: AttachBackoff,
}

impl ConsoleSession {
    /// A new session. `token` is the hive's provisioned console token (TCP only); without one,
    /// every TCP handshake is refused.
    pub fn new(transport: Transport, token: Option<&[u8]>, limits: ConsoleLimits) -> Self {
        let state = match transport {
            Transport::Serial => State::Authed,
            Transport::Tcp => State::AwaitAuth,
        };
        Self {
            transport,
            token: token.map(<[u8]>::to_vec),
            backoff: AttachBackoff::from_limits(&limits),
            limits,
            state,
        }
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// True once the handshake is done (always for serial); selects frame recovery rules.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authed | State::Attached { .. })
    }

    /// The attached role, if any.
    pub fn role(&self) -> Option<&str> {
        match &self.state {
            State::Attached { role } => Some(role),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The attach back-off state.
    pub fn backoff(&self) -> &AttachBackoff {
        &self.backoff
    }

    /// Handles one input line.
    pub fn handle_line<B: ConsoleBackend>(
        &mut self,
        line: &str,
        now_ms: u64,
        backend: &mut B,
    ) -> Outcome {
        if self.state == State::Closed {
            return Outcome::closed();
        }
        if line.len() > self.limits.line_max as usize {
            return self.handle_line_error(
                LineError::TooLong {
                    max: self.limits.line_max as usize,
                },
                backend,
            );
        }
        if self.state == State::AwaitAuth {
            return self.authenticate(line, backend);
        }
        if line.trim().is_empty() {
            return Outcome::default();
        }
        match parse(line) {
            Ok(command) => self.dispatch(command, now_ms, backend),
            Err(error) => {
                let label = verb_label(error.verb, line);
                Outcome::line(refuse(backend, &label, error.error(), error.detail, &[]))
            }
        }
    }

    /// Answers a frame the decoder refused. Before the handshake, and for fatal errors, the
    /// session closes; afterwards the frame is reported and the session carries on.
    pub fn handle_frame_error<B: ConsoleBackend>(
        &mut self,
        error: FrameError,
        backend: &mut B,
    ) -> Outcome {
        if self.state == State::Closed {
            return Outcome::closed();
        }
        if self.state == State::AwaitAuth {
            return self.refuse_auth(AuthRefusal::InvalidLength, backend);
        }
        let (error_class, reason, detail) = match error {
            FrameError::InvalidLine => (Error::Invalid, "invalid", Some("encoding")),
            FrameError::InvalidLength | FrameError::Fatal(_) => {
                (Error::TooBig, "invalid-length", None)
            }
        };
        backend.refused("FRAME", error_class, detail.unwrap_or(reason));
        let line = Reply::err("FRAME", reason, detail, &[]);
        if error.is_fatal() {
            self.close(backend);
            return Outcome::closing(line);
        }
        Outcome::line(line)
    }

    /// Answers a serial line the decoder refused; the session carries on.
    pub fn handle_line_error<B: ConsoleBackend>(
        &mut self,
        error: LineError,
        backend: &mut B,
    ) -> Outcome {
        match self.state {
            State::Closed => return Outcome::closed(),
            State::AwaitAuth => return self.refuse_auth(AuthRefusal::InvalidLength, backend),
            _ => {}
        }
        let line = match error {
            LineError::TooLong { max } => {
                let max = alloc::format!("{max}");
                refuse(backend, "LINE", Error::TooBig, "too-long", &[("max", &max)])
            }
            LineError::InvalidUtf8 => refuse(backend, "LINE", Error::Invalid, "encoding", &[]),
        };
        Outcome::line(line)
    }

    /// Decodes and handles complete frames until the decoder needs more bytes, the session
    /// closes, or the reply reaches `stream_lines_max` lines (the rest waits for the next call,
    /// which bounds the work and memory of one call).
    pub fn drain_frames<B: ConsoleBackend>(
        &mut self,
        decoder: &mut FrameDecoder,
        now_ms: u64,
        backend: &mut B,
    ) -> Outcome {
        let mut out = Outcome::default();
        while !out.close && out.lines.len() < self.limits.stream_lines_max.max(1) as usize {
            let next = match decoder.next_line(self.is_authenticated()) {
                Ok(None) => break,
                Ok(Some(line)) => self.handle_line(&line, now_ms, backend),
                Err(error) => self.handle_frame_error(error, backend),
            };
            out.extend(next);
        }
        out
    }

    /// Ends the session (connection gone, quit, fatal frame); reports a detach if attached.
    pub fn close<B: ConsoleBackend>(&mut self, backend: &mut B) {
        self.detach(backend);
        self.state = State::Closed;
    }

    fn detach<B: ConsoleBackend>(&mut self, backend: &mut B) {
        if let State::Attached { .. } = self.state {
            backend.detached();
            self.state = State::Authed;
        }
    }

    fn authenticate<B: ConsoleBackend>(&mut self, line: &str, backend: &mut B) -> Outcome {
        match check_auth(line, self.token.as_deref()) {
            Ok(()) => {
                self.state = State::Authed;
                Outcome::line(Reply::ok("AUTH", &[]))
            }
            Err(refusal) => self.refuse_auth(refusal, backend),
        }
    }

    fn refuse_auth<B: ConsoleBackend>(&mut self, refusal: AuthRefusal, backend: &mut B) -> Outcome {
        backend.refused("AUTH", refusal.error(), refusal.reason());
        self.state = State::Closed;
        Outcome::closing(Reply::err("AUTH", refusal.reason(), None, &[]))
    }
}

/// Reports a refusal to the backend and builds its `ERR` line.
fn refuse<B: ConsoleBackend>(
    backend: &mut B,
    verb: &str,
    error: Error,
    detail: &str,
    kv: &[(&str, &str)],
) -> String {
    backend.refused(verb, error, detail);
    Reply::err(verb, error, Some(detail), kv)
}

/// The verb label for a refused line: the recognised verb, else the typed word upper-cased
/// when it is a plain short word (so a client waiting for that verb's reply gets one), else
/// `PARSE`.
fn verb_label(verb: Option<Verb>, line: &str) -> String {
    if let Some(verb) = verb {
        return String::from(verb.label());
    }
    let word = line.split_whitespace().next().unwrap_or("");
    let plain = !word.is_empty()
        && word.len() <= 16
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if plain {
        word.to_ascii_uppercase()
    } else {
        String::from("PARSE")
    }
}
