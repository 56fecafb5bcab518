//! Console connections: TCP console sessions (framed) and the serial console (lines).

use crate::console_backend::ConsoleAdapter;
use crate::durability::Durability;
use crate::guard::{self, Guard, Source};
use crate::ninep_conn::{receive_into, send_from, Pause};
use crate::TurnStats;
use alloc::vec::Vec;
use console::{serial_render, ConsoleSession, FrameDecoder, LineDecoder, Reply, Transport};
use hal::{ConnId, Hal};
use manifest::Manifest;
use ninedoor::{NineDoor, SessionId};

pub(crate) struct ConsoleConn {
    sid: SessionId,
    session: ConsoleSession,
    decoder: FrameDecoder,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    buffer_max: usize,
    source: Option<Source>,
    pause: Pause,
}

impl ConsoleConn {
    pub(crate) fn new(
        sid: SessionId,
        source: Option<Source>,
        token: Option<&[u8]>,
        manifest: &Manifest,
    ) -> Self {
        Self {
            source,
            pause: Pause::default(),
            sid,
            session: ConsoleSession::new(Transport::Tcp, token, manifest.console.clone()),
            decoder: FrameDecoder::new(&manifest.console),
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            buffer_max: manifest.pump.conn_buffer_bytes as usize,
        }
    }

    pub(crate) fn sid(&self) -> SessionId {
        self.sid
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.pause.is_paused()
    }

    /// `false` means hang up.
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
        if !paused && !receive_into(hal, id, &mut self.inbuf, self.buffer_max, stats) {
            return false;
        }
        let used = self.decoder.push(&self.inbuf);
        self.inbuf.drain(..used);
        if self.inbuf.is_empty() {
            self.inbuf = Vec::new();
        }
        let mut close = false;
        let was_authed = self.session.is_authenticated();
        if !was_authed && self.decoder.buffered() > 0 {
            if let Some(remaining) = guard.auth_delay(self.source, now_ms) {
                self.refuse_unheard(nd, remaining, now_ms);
                close = true;
            }
        }
        if !close && !paused && self.outbuf.len() < self.buffer_max {
            let source = (!was_authed).then(|| guard::source_text(self.source));
            let mut backend = ConsoleAdapter::new(nd, self.sid, now_ms).pre_auth(source);
            let outcome = self
                .session
                .drain_frames(&mut self.decoder, now_ms, &mut backend);
            outcome.encode_frames(&mut self.outbuf);
            close = outcome.close || self.session.is_closed();
            if !was_authed && self.session.is_authenticated() {
                guard.auth_ok(self.source);
                guard.authenticated(id);
            } else if !was_authed && close {
                guard.auth_failed(self.source, now_ms);
            }
        }
        // Write-ahead: decisions behind these replies are durable before the replies leave.
        if !durability.commit(hal, nd, now_ms) {
            self.outbuf.clear();
            return false;
        }
        if !send_from(hal, id, &mut self.outbuf, stats) {
            return false;
        }
        self.pause
            .update(hal, id, self.outbuf.len(), self.buffer_max, stats);
        !(close && self.outbuf.is_empty())
    }

    /// The source is still waiting out an earlier failure: this attempt is not even checked.
    fn refuse_unheard(&mut self, nd: &mut NineDoor, remaining: u64, now_ms: u64) {
        let who = guard::source_text(self.source);
        nd.security_refused(now_ms, &who, "AUTH", secure9p::Error::Quota, "backoff");
        nd.security_mut().exhausted.auth_delay += 1;
        let delay = alloc::format!("{remaining}");
        let line = Reply::err(
            "AUTH",
            secure9p::Error::Quota,
            Some("backoff"),
            &[("delay_ms", &delay)],
        );
        console::encode_frame(&line, &mut self.outbuf);
    }

    pub(crate) fn finish<H: Hal>(
        mut self,
        hal: &mut H,
        id: ConnId,
        nd: &mut NineDoor,
        now_ms: u64,
    ) {
        if !self.outbuf.is_empty() {
            let _ = hal.send(id, &self.outbuf);
        }
        let mut backend = ConsoleAdapter::new(nd, self.sid, now_ms);
        self.session.close(&mut backend);
        nd.close_session(self.sid, now_ms);
        hal.close(id);
    }
}

/// The serial console: always present, never timed out, re-opened after `quit`.
pub(crate) struct SerialConsole {
    sid: Option<SessionId>,
    session: ConsoleSession,
    decoder: LineDecoder,
    limits: manifest::ConsoleLimits,
}

impl SerialConsole {
    pub(crate) fn new(nd: &mut NineDoor, now_ms: u64) -> Self {
        let limits = nd.hive().manifest().console.clone();
        Self {
            sid: nd.open_session(ninedoor::Transport::Serial, now_ms).ok(),
            session: ConsoleSession::new(Transport::Serial, None, limits.clone()),
            decoder: LineDecoder::new(limits.line_max as usize),
            limits,
        }
    }

    pub(crate) fn banner<H: Hal>(&mut self, hal: &mut H, hive: &str, platform: &str) {
        let banner = alloc::format!(
            "Cohesix hive={hive} platform={platform}\r\n{}",
            console::SERIAL_PROMPT
        );
        hal.console_write(banner.as_bytes());
    }

    pub(crate) fn service<H: Hal>(
        &mut self,
        hal: &mut H,
        nd: &mut NineDoor,
        durability: &mut Durability,
        _token: Option<&[u8]>,
        now_ms: u64,
    ) {
        // Only what the decoder can hold is read; the rest waits in the HAL for the next
        // turn instead of being dropped (a pasted burst longer than the buffer).
        let mut chunk = [0u8; 256];
        loop {
            let room = self.decoder.room().min(chunk.len());
            if room == 0 {
                break;
            }
            let n = hal.console_read(&mut chunk[..room]);
            if n == 0 {
                break;
            }
            let taken = self.decoder.push(&chunk[..n]);
            debug_assert_eq!(taken, n, "never read more than the decoder has room for");
        }
        while let Some(next) = self.decoder.next_line() {
            let Some(sid) = self.sid else {
                self.sid = nd.open_session(ninedoor::Transport::Serial, now_ms).ok();
                break;
            };
            let mut backend = ConsoleAdapter::new(nd, sid, now_ms);
            let outcome = match next {
                Ok(line) if line.trim().is_empty() => console::Outcome::default(),
                Ok(line) => self.session.handle_line(&line, now_ms, &mut backend),
                Err(error) => self.session.handle_line_error(error, &mut backend),
            };
            if !durability.commit(hal, nd, now_ms) {
                // Not durable, so not acknowledged: the operator sees the refusal instead.
                hal.console_write(b"ERR JOURNAL reason=busy detail=store-refused\r\n");
                continue;
            }
            hal.console_write(serial_render(&outcome).as_bytes());
            if outcome.close || self.session.is_closed() {
                // Serial is the recovery path: a fresh session replaces the one that quit.
                nd.close_session(sid, now_ms);
                self.sid = nd.open_session(ninedoor::Transport::Serial, now_ms).ok();
                self.session = ConsoleSession::new(Transport::Serial, None, self.limits.clone());
                hal.console_write(console::SERIAL_PROMPT.as_bytes());
            }
        }
    }
}
