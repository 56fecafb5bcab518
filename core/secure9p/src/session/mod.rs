//! The per-session engine: one value per Secure9P connection. It owns the fid table and the
//! wire rules (version first, tag window, clunk-once, ticket handshake) and asks a `Backend`
//! for everything about paths, authority and content.

mod fids;
mod ops;

use crate::codec::{self, decode_request, DecodeError, Limits, Request, Response};
use crate::{Backend, Error, RequestKind};
use alloc::vec::Vec;
use core::fmt;
use fids::{Fid, FidTable};

/// The framing of the byte stream is broken; the connection must be closed after flushing
/// whatever was already answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fatal(pub DecodeError);

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unrecoverable framing: {}", self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Fatal {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No `Tversion` agreed yet: only `Tversion` is accepted.
    Fresh,
    /// Version agreed; auth, attach and file requests are served.
    Ready,
    /// Revoked by the backend or closed by the owner: everything is `Closed` (EBADF).
    Closed,
}

/// One Secure9P session over a backend whose positions are `N`.
#[derive(Debug)]
pub struct Session<N> {
    limits: Limits,
    /// Negotiated msize (the configured limit until a `Tversion` is accepted).
    msize: u32,
    phase: Phase,
    attached: bool,
    fids: FidTable<N>,
}

impl<N: Clone> Session<N> {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            msize: limits.msize,
            phase: Phase::Fresh,
            attached: false,
            fids: FidTable::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The negotiated msize (the configured limit before negotiation).
    pub fn msize(&self) -> u32 {
        self.msize
    }

    pub fn fid_count(&self) -> usize {
        self.fids.len()
    }

    /// True once a `Tattach` succeeded (and until `Tversion` resets or the session closes).
    pub fn is_attached(&self) -> bool {
        self.attached
    }

    /// True once the backend revoked the session or `close` ran.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Bytes this session holds: the struct itself, its fid table and any ticket text buffered
    /// on auth fids (backend nodes' own heap is the backend's to report).
    pub fn memory_bytes(&self) -> usize {
        core::mem::size_of::<Self>() + self.fids.heap_bytes()
    }

    /// `codec::frame_len` under this session's negotiated msize.
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        codec::frame_len(buf, self.msize)
    }

    /// `input` starts with something the next `handle_batch` will act on: a whole frame, or
    /// framing so broken that the connection must close. Callers that defer frames past the
    /// batch bound use it to know they still have work.
    pub fn has_frame(&self, input: &[u8]) -> bool {
        match self.frame_len(input) {
            Ok(Some(len)) => len <= input.len(),
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Decodes one whole frame, runs it and appends exactly one response to `out`. `Err` only
    /// when the frame cannot be delimited (the connection must close); nothing is appended then.
    pub fn handle<B: Backend<Node = N>>(
        &mut self,
        frame: &[u8],
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<(), Fatal> {
        let limits = Limits {
            msize: self.msize,
            ..self.limits
        };
        match decode_request(frame, &limits) {
            Ok((tag, request)) => {
                let start = out.len();
                if let Err(error) = self.run(tag, request, backend, out) {
                    out.truncate(start);
                    lerror(tag, error, out);
                }
                Ok(())
            }
            Err(e) => {
                let tag = e.tag().ok_or(Fatal(e))?;
                let error = if self.is_closed() {
                    Error::Closed
                } else {
                    e.error()
                };
                lerror(tag, error, out);
                Ok(())
            }
        }
    }

    /// Handles the complete frames at the front of `input`, at most `limits.batch` of them, as
    /// one batch and returns how many bytes it consumed (an incomplete tail, and frames past
    /// the batch bound, are left for the caller to keep buffering; see `has_frame`).
    ///
    /// All requests of a batch are in flight together, so the tag window applies across it:
    /// the first `limits.tags` distinct tags run, later requests get `Rlerror(EBUSY)`, and a
    /// tag repeated within the batch gets `Rlerror(EINVAL)`. Every frame gets exactly one
    /// response, in order. On `Err`, the responses already appended are still to be sent
    /// before closing the connection.
    pub fn handle_batch<B: Backend<Node = N>>(
        &mut self,
        input: &[u8],
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<usize, Fatal> {
        let mut consumed = 0;
        let mut in_flight: Vec<u16> = Vec::new();
        for _ in 0..self.limits.batch {
            let rest = &input[consumed..];
            let Some(len) = self.frame_len(rest).map_err(Fatal)? else {
                break;
            };
            let Some(frame) = rest.get(..len) else {
                break;
            };
            consumed += len;
            // `frame_len` guarantees at least the 7 header bytes.
            let tag = u16::from_le_bytes([frame[5], frame[6]]);
            if !self.is_closed() && in_flight.contains(&tag) {
                lerror(tag, Error::Invalid, out);
            } else if !self.is_closed() && in_flight.len() >= self.limits.tags as usize {
                lerror(tag, Error::Busy, out);
            } else {
                in_flight.push(tag);
                self.handle(frame, backend, out)?;
            }
        }
        Ok(consumed)
    }

    /// Ends the session: every fid is clunked through the backend and later requests are
    /// answered `Closed`.
    pub fn close<B: Backend<Node = N>>(&mut self, backend: &mut B) {
        self.release_fids(backend);
        self.attached = false;
        self.phase = Phase::Closed;
    }

    fn release_fids<B: Backend<Node = N>>(&mut self, backend: &mut B) {
        for (_, entry) in self.fids.take_all() {
            if let Fid::Node { node, .. } = entry {
                backend.clunk(&node);
            }
        }
    }

    /// Version gate, revocation gate and admission, then the operation itself. On `Ok` the
    /// response is already in `out`.
    fn run<B: Backend<Node = N>>(
        &mut self,
        tag: u16,
        request: Request,
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        if self.phase == Phase::Fresh && !matches!(request, Request::Version { .. }) {
            return Err(Error::Invalid);
        }
        if self.attached {
            if let Some(kind) = kind_of(&request) {
                match backend.admit(kind) {
                    Ok(()) => {}
                    Err(Error::Closed) => {
                        self.close(backend);
                        return Err(Error::Closed);
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        self.dispatch(tag, request, backend, out)
    }
}

/// The budget class of a request; `None` for the handshake messages, which run before (or
/// instead of) an attach.
pub fn kind_of(request: &Request) -> Option<RequestKind> {
    Some(match request {
        Request::Version { .. } | Request::Auth { .. } | Request::Attach { .. } => return None,
        Request::Walk { .. } => RequestKind::Walk,
        Request::Lopen { .. } => RequestKind::Open,
        Request::Lcreate { .. } => RequestKind::Create,
        Request::Read { .. } => RequestKind::Read,
        Request::Write { .. } => RequestKind::Write,
        Request::Clunk { .. } => RequestKind::Clunk,
        Request::Getattr { .. } => RequestKind::Getattr,
        Request::Readdir { .. } => RequestKind::Readdir,
        Request::Flush { .. } => RequestKind::Flush,
    })
}

fn lerror(tag: u16, error: Error, out: &mut Vec<u8>) {
    respond(
        tag,
        &Response::Lerror {
            ecode: error.errno(),
        },
        out,
    );
}

/// Encodes a response the engine built itself; those always fit the wire, so a failure is a
/// bug, answered as `TooBig` rather than left unanswered.
fn respond(tag: u16, response: &Response, out: &mut Vec<u8>) {
    if codec::encode_response(tag, response, out).is_err() {
        debug_assert!(false, "engine built an unencodable response");
        let ecode = Error::TooBig.errno();
        let _ = codec::encode_response(tag, &Response::Lerror { ecode }, out);
    }
}
