//! One Secure9P connection: bounded input and output buffers around a session engine.

use crate::durability::Durability;
use crate::guard::{self, Guard, Source};
use crate::TurnStats;
use alloc::vec::Vec;
use hal::{ConnId, Hal};
use manifest::Manifest;
use ninedoor::{NineDoor, Node, SessionId, SessionState};
use secure9p::session::Session;
use secure9p::Limits;

pub(crate) struct NinePConn {
    sid: SessionId,
    /// The peer's address, for the per-source back-off of failed attaches.
    source: Option<Source>,
    engine: Session<Node>,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    buffer_max: usize,
    /// Framing broke or the session closed: flush what is queued, then hang up.
    closing: bool,
    /// The session has left SETUP. It never returns there, so once set the session table
    /// is no longer looked up on every turn.
    attached: bool,
    /// The peer stopped reading replies: its input is left unread (see `Pause`).
    pause: Pause,
}

/// Back-pressure on a peer that sends requests but does not read the replies. Once the
/// output buffer is full the connection is paused: nothing more is read or run for it, and
/// the HAL stops reporting its input (so the pump sleeps instead of spinning on bytes it
/// will not read). It resumes when the peer has read half the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pause {
    paused: bool,
}

impl Pause {
    pub(crate) fn is_paused(self) -> bool {
        self.paused
    }

    /// Pauses or resumes from the output backlog; reports transitions in `stats`.
    pub(crate) fn update<H: Hal>(
        &mut self,
        hal: &mut H,
        id: ConnId,
        queued: usize,
        max: usize,
        stats: &mut TurnStats,
    ) {
        let pause = if self.paused {
            queued > max / 2
        } else {
            queued >= max
        };
        if pause != self.paused {
            self.paused = pause;
            hal.set_paused(id, pause);
            if pause {
                stats.paused += 1;
            } else {
                stats.resumed += 1;
            }
        }
    }
}

impl NinePConn {
    pub(crate) fn new(sid: SessionId, source: Option<Source>, manifest: &Manifest) -> Self {
        Self {
            pause: Pause::default(),
            sid,
            source,
            engine: Session::new(Limits::from_manifest(manifest)),
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            buffer_max: manifest.pump.conn_buffer_bytes as usize,
            closing: false,
            attached: false,
        }
    }

    pub(crate) fn sid(&self) -> SessionId {
        self.sid
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.pause.is_paused()
    }

    /// The session has attached (left SETUP).
    pub(crate) fn authenticated(&mut self, nd: &NineDoor) -> bool {
        if !self.attached {
            self.attached = nd
                .session(self.sid)
                .is_some_and(|s| s.state != SessionState::Setup);
        }
        self.attached
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        core::mem::size_of::<Self>()
            + self.engine.memory_bytes()
            + self.inbuf.capacity()
            + self.outbuf.capacity()
    }

    /// Reads, runs and writes what this connection has pending. `false` means hang up.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn service<H: Hal>(
        &mut self,
        hal: &mut H,
        id: ConnId,
        nd: &mut NineDoor,
        durability: &mut Durability,
        guard: &mut Guard,
        now_ms: u64,
        stats: &mut TurnStats,
    ) -> bool {
        let paused = self.pause.is_paused();
        if !self.closing && !paused && !self.receive(hal, id, stats) {
            return false;
        }
        let unattached = !self.authenticated(nd);
        if unattached && !self.inbuf.is_empty() && guard.auth_delay(self.source, now_ms).is_some() {
            self.refuse_unheard(nd, now_ms);
            return false;
        }
        let failures_before = nd.security().refusals();
        // Back-pressure: a peer that does not read its replies gets no new work done.
        if !self.closing && !paused && self.outbuf.len() < self.buffer_max && !self.inbuf.is_empty()
        {
            debug_assert!(self.inbuf.len() <= self.buffer_max);
            let (out_before, in_before) = (self.outbuf.len(), self.inbuf.len());
            let mut backend = nd.backend(self.sid, now_ms);
            match self
                .engine
                .handle_batch(&self.inbuf, &mut backend, &mut self.outbuf)
            {
                Ok(used) => {
                    self.inbuf.drain(..used);
                    // A burst must not pin its buffer: idle connections hold no buffer memory.
                    if self.inbuf.is_empty() {
                        self.inbuf = Vec::new();
                    }
                }
                Err(_) => self.closing = true,
            }
            debug_assert!(
                self.outbuf.len() - out_before <= self.batch_reply_max(in_before),
                "a batch's replies are bounded by the tag window"
            );
            if self.engine.is_closed() {
                self.closing = true;
            } else if self.engine.has_frame(&self.inbuf) {
                stats.backlog += 1;
            }
        }
        if unattached {
            if self.authenticated(nd) {
                guard.auth_ok(self.source);
            } else if nd.security().refusals() > failures_before {
                guard.auth_failed(self.source, now_ms);
            }
        }
        // Write-ahead: decisions behind these replies are durable before the replies leave.
        if !durability.commit(hal, nd, now_ms) {
            self.outbuf.clear();
            return false;
        }
        if !self.flush(hal, id, stats) {
            return false;
        }
        self.pause
            .update(hal, id, self.outbuf.len(), self.buffer_max, stats);
        !(self.closing && self.outbuf.is_empty())
    }

    /// The source is still waiting out an earlier failed attach: this connection's requests
    /// are not even decoded, and it is hung up. Legitimate clients never present unsigned
    /// tickets, so only a source that did is ever held back.
    fn refuse_unheard(&mut self, nd: &mut NineDoor, now_ms: u64) {
        let who = guard::source_text(self.source);
        nd.security_refused(now_ms, &who, "attach", secure9p::Error::Quota, "backoff");
        nd.security_mut().exhausted.auth_delay += 1;
        self.inbuf.clear();
    }

    /// The most reply bytes one batch over `input` bytes can write: the tag window's requests
    /// run (each reply at most one msize), every request past it is answered with an
    /// 11-byte `Rlerror`, and no request is shorter than the 7-byte header.
    fn batch_reply_max(&self, input: usize) -> usize {
        let limits = self.engine.limits();
        limits.tags as usize * limits.msize as usize + input.div_ceil(7) * 11
    }

    /// Pulls bytes into the bounded input buffer; `false` when the peer is gone.
    fn receive<H: Hal>(&mut self, hal: &mut H, id: ConnId, stats: &mut TurnStats) -> bool {
        receive_into(hal, id, &mut self.inbuf, self.buffer_max, stats)
    }

    fn flush<H: Hal>(&mut self, hal: &mut H, id: ConnId, stats: &mut TurnStats) -> bool {
        send_from(hal, id, &mut self.outbuf, stats)
    }

    /// Final flush, fid release and session close.
    pub(crate) fn finish<H: Hal>(
        mut self,
        hal: &mut H,
        id: ConnId,
        nd: &mut NineDoor,
        now_ms: u64,
    ) {
        let mut stats = TurnStats::default();
        let _ = self.flush(hal, id, &mut stats);
        let mut backend = nd.backend(self.sid, now_ms);
        self.engine.close(&mut backend);
        nd.close_session(self.sid, now_ms);
        hal.close(id);
    }
}

/// Reads whatever the HAL has for `id` into `buf`, never growing it past `max`. Returns
/// `false` when the peer is gone.
pub(crate) fn receive_into<H: Hal>(
    hal: &mut H,
    id: ConnId,
    buf: &mut Vec<u8>,
    max: usize,
    stats: &mut TurnStats,
) -> bool {
    let mut chunk = [0u8; 2048];
    loop {
        debug_assert!(
            buf.len() <= max,
            "input buffers never grow past their bound"
        );
        let room = max.saturating_sub(buf.len()).min(chunk.len());
        if room == 0 {
            return true;
        }
        match hal.recv(id, &mut chunk[..room]) {
            Ok(0) => return true,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                stats.bytes_in += n as u64;
                if n < room {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Sends as much of `buf` as the HAL takes, keeping the rest queued (an emptied buffer is
/// released). Returns `false` when the peer is gone.
pub(crate) fn send_from<H: Hal>(
    hal: &mut H,
    id: ConnId,
    buf: &mut Vec<u8>,
    stats: &mut TurnStats,
) -> bool {
    if buf.is_empty() {
        return true;
    }
    match hal.send(id, buf) {
        Ok(n) => {
            buf.drain(..n);
            stats.bytes_out += n as u64;
            if buf.is_empty() {
                *buf = Vec::new();
            }
            true
        }
        Err(_) => false,
    }
}
