//! The console-protocol client (TCP 31337): length-prefixed frames, `AUTH` then `ATTACH`, one
//! request at a time, each answered by an `OK`/`ERR` line and, for streams, data up to `END`.
//!
//! Framing is the core's own (`console::encode_frame`, `console::FrameDecoder`), so client and
//! hive can never disagree about the wire; it matches the original Cohesix console.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use console::{encode_frame, FrameDecoder, FrameError};

use crate::error::ClientError;
use crate::options::{connect, Timeouts};
use crate::reply::{Reply, Response};

/// Largest frame either side sends (docs/interfaces.md §2.1).
pub const FRAME_MAX: usize = 8192;
/// Lines a response may carry before the client gives up on it (a streaming reply is capped
/// by the hive at `stream_lines_max`, 4096 by default).
pub const RESPONSE_LINES_MAX: usize = 65_536;

/// One console connection.
pub struct ConsoleClient {
    stream: TcpStream,
    decoder: FrameDecoder,
    /// Received bytes the decoder has not taken yet.
    pending: Vec<u8>,
    timeouts: Timeouts,
    /// Set after a timeout, hang-up or protocol error: the stream is out of step.
    broken: bool,
    role: Option<String>,
}

impl ConsoleClient {
    /// Opens a TCP connection; nothing is sent yet.
    pub fn connect(addr: impl ToSocketAddrs, timeouts: Timeouts) -> Result<Self, ClientError> {
        let stream = connect(addr, timeouts.connect)?;
        Ok(Self::from_stream(stream, timeouts))
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: TcpStream, timeouts: Timeouts) -> Self {
        Self {
            stream,
            // Replies may use a whole frame; skipping bad frames needs no more than two.
            decoder: FrameDecoder::with_bounds(FRAME_MAX, FRAME_MAX, 2 * FRAME_MAX),
            pending: Vec::new(),
            timeouts,
            broken: false,
            role: None,
        }
    }

    /// Connects, authenticates and attaches: the usual way in.
    pub fn open(
        addr: impl ToSocketAddrs,
        token: &str,
        role: &str,
        ticket: Option<&str>,
        timeouts: Timeouts,
    ) -> Result<Self, ClientError> {
        let mut client = Self::connect(addr, timeouts)?;
        client.auth(token)?;
        client.attach(role, ticket)?;
        Ok(client)
    }

    /// Presents the console token. A refusal closes the connection on the hive's side.
    pub fn auth(&mut self, token: &str) -> Result<(), ClientError> {
        let response = self.request(&format!("AUTH {token}"))?;
        if !response.ok() {
            self.broken = true;
        }
        response.into_result().map(drop)
    }

    /// Binds the session to `role`, with a ticket unless the hive allows none.
    pub fn attach(&mut self, role: &str, ticket: Option<&str>) -> Result<Response, ClientError> {
        let line = match ticket {
            Some(ticket) => format!("ATTACH {role} {ticket}"),
            None => format!("ATTACH {role}"),
        };
        let response = self.request(&line)?.into_result()?;
        self.role = Some(role.to_string());
        Ok(response)
    }

    /// The role of the last successful attach.
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// False once the connection is out of step (timeout, hang-up, protocol error).
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    /// Sends one line and reads its whole response. An `ERR` reply is a normal response here
    /// (`Response::ok() == false`); use `Response::into_result` to turn it into an error.
    pub fn request(&mut self, line: &str) -> Result<Response, ClientError> {
        if self.broken {
            return Err(ClientError::Hangup);
        }
        if line.len() + console::frame::PREFIX_LEN > FRAME_MAX {
            return Err(ClientError::Local(secure9p::Error::TooBig));
        }
        let deadline = Instant::now() + self.timeouts.reply;
        let result = self.send(line).and_then(|()| self.read_response(deadline));
        if result.is_err() {
            self.broken = true;
        }
        result
    }

    /// `request` that fails with `Refused` on an `ERR` reply.
    pub fn call(&mut self, line: &str) -> Result<Response, ClientError> {
        self.request(line)?.into_result()
    }

    /// `PING` → `PONG`.
    pub fn ping(&mut self) -> Result<(), ClientError> {
        self.call("PING").map(drop)
    }

    /// Names in a directory.
    pub fn ls(&mut self, path: &str) -> Result<Vec<String>, ClientError> {
        Ok(self.call(&format!("LS {path}"))?.data)
    }

    /// Lines of a file.
    pub fn cat(&mut self, path: &str) -> Result<Vec<String>, ClientError> {
        Ok(self.call(&format!("CAT {path}"))?.data)
    }

    /// Lines of a stream from `cursor` (oldest retained when `None`) and the next cursor.
    pub fn tail(
        &mut self,
        path: &str,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, u64), ClientError> {
        let line = match cursor {
            Some(c) => format!("TAIL {path} {c}"),
            None => format!("TAIL {path}"),
        };
        let response = self.call(&line)?;
        let next = response
            .reply
            .field("cursor")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| ClientError::Protocol(String::from("TAIL reply without cursor")))?;
        Ok((response.data, next))
    }

    /// Appends one line to a file; returns the bytes appended.
    pub fn echo(&mut self, path: &str, text: &str) -> Result<u64, ClientError> {
        let response = self.call(&format!("ECHO {path} {text}"))?;
        Ok(response
            .reply
            .field("bytes")
            .and_then(|b| b.parse().ok())
            .unwrap_or(0))
    }

    /// Ends the session politely.
    pub fn quit(mut self) -> Result<(), ClientError> {
        self.call("QUIT").map(drop)
    }

    fn send(&mut self, line: &str) -> Result<(), ClientError> {
        let mut frame = Vec::with_capacity(line.len() + 4);
        encode_frame(line, &mut frame);
        self.stream
            .write_all(&frame)
            .map_err(|e| ClientError::from_io("send", e))
    }

    /// Reads lines up to the status line, then the data of a streaming reply.
    fn read_response(&mut self, deadline: Instant) -> Result<Response, ClientError> {
        let mut preamble = Vec::new();
        let reply = loop {
            let line = self.read_line(deadline)?;
            if let Some(reply) = Reply::parse(&line) {
                break reply;
            }
            if preamble.len() >= RESPONSE_LINES_MAX {
                return Err(ClientError::Protocol(String::from("no status line")));
            }
            preamble.push(line);
        };
        let mut data = Vec::new();
        if reply.streams() {
            // `lines=<n>` says how many data lines follow, so a data line reading `END` is data;
            // without it (older hives) the first `END` ends the stream.
            let declared: Option<usize> = reply.field("lines").and_then(|n| n.parse().ok());
            loop {
                let line = self.read_line(deadline)?;
                let complete = declared.map_or(line == "END", |n| data.len() == n);
                if complete {
                    if line != "END" {
                        return Err(ClientError::Protocol(format!("expected END, got {line:?}")));
                    }
                    break;
                }
                if data.len() >= RESPONSE_LINES_MAX {
                    return Err(ClientError::Protocol(String::from("stream without END")));
                }
                data.push(line);
            }
        }
        Ok(Response {
            preamble,
            reply,
            data,
        })
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String, ClientError> {
        let mut chunk = [0u8; 4096];
        loop {
            let used = self.decoder.push(&self.pending);
            self.pending.drain(..used);
            match self.decoder.next_line(true) {
                Ok(Some(line)) => return Ok(line),
                Ok(None) if !self.pending.is_empty() && used == 0 => {
                    // The decoder is full and still has no line: more than a frame of garbage.
                    return Err(ClientError::Protocol(String::from("frame overflow")));
                }
                Ok(None) => {}
                Err(FrameError::Fatal(_)) => {
                    return Err(ClientError::Protocol(String::from("bad frame length")))
                }
                Err(e) => return Err(ClientError::Protocol(e.to_string())),
            }
            if !self.pending.is_empty() {
                continue;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ClientError::Timeout { op: "reply" });
            }
            self.stream.set_read_timeout(Some(remaining))?;
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| ClientError::from_io("reply", e))?;
            if n == 0 {
                return Err(ClientError::Hangup);
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}
