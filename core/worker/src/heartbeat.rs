//! The heartbeat agent: attach with a ticket, open the own telemetry file, append one line
//! per period, and stop or cut off the moment the Queen says so or goes silent.

use crate::backoff::ReconnectBackoff;
use crate::config::AgentConfig;
use crate::state::{AgentEvent, AgentEventKind, AgentState, AgentStats, RootStatus};
use alloc::format;
use alloc::vec::Vec;
use hive::{CutReason, RootView};
use secure9p::{ClientCodec, ClientError, Error, Response};

/// Events kept between drains; older hosts that never drain lose the rest (counted).
const EVENTS_MAX: usize = 32;
/// `Tlopen` flags for append: write-only.
const O_WRONLY: u32 = 1;

/// The request in flight; the agent keeps at most one, so replies need no matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Idle,
    Version,
    Auth,
    Ticket,
    Attach,
    Walk { depth: usize },
    Open,
    Beat,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::Idle => "idle",
            Step::Version => "version",
            Step::Auth => "auth",
            Step::Ticket => "ticket",
            Step::Attach => "attach",
            Step::Walk { .. } => "walk",
            Step::Open => "open",
            Step::Beat => "beat",
        }
    }
}

/// A heartbeat worker's client state machine (see the crate docs for the protocol).
#[derive(Debug, Clone)]
pub struct HeartbeatAgent {
    config: AgentConfig,
    state: AgentState,
    connected: bool,
    codec: ClientCodec,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    step: Step,
    /// When the request in flight was sent.
    sent_at_ms: u64,
    afid: u32,
    root: u32,
    telemetry: u32,
    seq: u64,
    next_beat_ms: u64,
    reconnect_at_ms: u64,
    backoff: ReconnectBackoff,
    root_view: RootView,
    events: Vec<AgentEvent>,
    stats: AgentStats,
}

impl HeartbeatAgent {
    /// An agent that wants its first transport at `now_ms`.
    pub fn new(mut config: AgentConfig, now_ms: u64) -> Self {
        config.deadline_ms = config.deadline_ms.max(2);
        // A beat period at or past the deadline would read as a lost Queen.
        config.heartbeat_ms = config.heartbeat_ms.clamp(1, config.deadline_ms - 1);
        let backoff = ReconnectBackoff::new(
            config.reconnect_base_ms,
            config.reconnect_cap_ms,
            config.jitter_seed,
        );
        Self {
            codec: ClientCodec::new(config.limits),
            root_view: RootView::new(config.deadline_ms, now_ms),
            config,
            state: AgentState::Connecting,
            connected: false,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            step: Step::Idle,
            sent_at_ms: now_ms,
            afid: 0,
            root: 0,
            telemetry: 0,
            seq: 0,
            next_beat_ms: now_ms,
            reconnect_at_ms: now_ms,
            backoff,
            events: Vec::new(),
            stats: AgentStats::default(),
        }
    }

    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    pub fn worker_id(&self) -> &str {
        &self.config.worker_id
    }

    pub fn state(&self) -> AgentState {
        self.state
    }

    pub fn stats(&self) -> AgentStats {
        self.stats
    }

    /// Whether the agent wants the host to hold a transport for it. A host drops its
    /// transport as soon as this turns false (cut, revoked, protocol failure).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// True when the host should open a transport now.
    pub fn wants_connect(&self, now_ms: u64) -> bool {
        let may = matches!(
            self.state,
            AgentState::Connecting | AgentState::Cut(CutReason::NetworkUnreachable)
        );
        may && !self.connected && now_ms >= self.reconnect_at_ms
    }

    /// How long a host should wait for a transport before calling `on_connect_failed`.
    pub fn connect_timeout_ms(&self) -> u64 {
        self.config.deadline_ms
    }

    /// The Queen's reachability as this agent sees it (`/proc/root`): reachable only while
    /// online and heard from within the deadline.
    pub fn root(&self, now_ms: u64) -> RootStatus {
        let cut_reason = match self.state {
            AgentState::Connecting => None,
            AgentState::Revoked(r) | AgentState::Cut(r) => Some(r),
            AgentState::Attaching | AgentState::Online => self.root_view.cut_reason(now_ms),
        };
        RootStatus {
            reachable: self.state == AgentState::Online && cut_reason.is_none(),
            last_seen_ms: self.root_view.last_seen_ms(),
            cut_reason,
        }
    }

    /// The transport is up: start the attach sequence.
    pub fn on_connected(&mut self, now_ms: u64) {
        if self.state.is_terminal() {
            return;
        }
        self.connected = true;
        self.stats.connects += 1;
        self.codec = ClientCodec::new(self.config.limits);
        self.inbuf.clear();
        self.outbuf.clear();
        self.set_state(AgentState::Attaching, now_ms);
        self.request(Step::Version, now_ms, |c, out| c.version(out).map(|_| ()));
    }

    /// The transport could not be opened (refused or timed out).
    pub fn on_connect_failed(&mut self, now_ms: u64) {
        self.connected = false;
        self.schedule_reconnect(now_ms);
    }

    /// The transport closed under the agent (peer hang-up, reset).
    pub fn on_disconnected(&mut self, now_ms: u64) {
        if !self.connected {
            return;
        }
        self.lose_session(now_ms);
    }

    /// Bytes from the Queen. Replies are handled as soon as a whole frame is in.
    pub fn on_bytes(&mut self, bytes: &[u8], now_ms: u64) {
        if !self.connected {
            return;
        }
        self.inbuf.extend_from_slice(bytes);
        loop {
            let len = match self.codec.frame_len(&self.inbuf) {
                Ok(Some(len)) if self.inbuf.len() >= len => len,
                Ok(_) => return,
                Err(_) => return self.lose_session(now_ms),
            };
            let frame: Vec<u8> = self.inbuf.drain(..len).collect();
            let parsed = self.codec.parse(&frame);
            self.on_reply(parsed, now_ms);
            if !self.connected {
                return;
            }
        }
    }

    /// Moves the bytes the agent wants sent onto `out`; returns how many.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.outbuf.len();
        out.append(&mut self.outbuf);
        n
    }

    /// Bytes waiting for `poll_transmit`.
    pub fn pending_transmit(&self) -> usize {
        self.outbuf.len()
    }

    /// Advances timers: deadlines, heartbeats. Returns when the agent next needs a `poll`
    /// (absent new bytes), or `None` once it has stopped for good.
    pub fn poll(&mut self, now_ms: u64) -> Option<u64> {
        if self.state.is_terminal() {
            return None;
        }
        if self.connected && self.step != Step::Idle {
            if now_ms.saturating_sub(self.sent_at_ms) > self.config.deadline_ms {
                self.stats.timeouts += 1;
                self.lose_session(now_ms);
            }
        } else if self.connected && now_ms >= self.next_beat_ms {
            match self.state {
                AgentState::Online | AgentState::Cut(CutReason::LifecycleOffline) => {
                    self.beat(now_ms)
                }
                _ => {}
            }
        }
        Some(self.next_wake())
    }

    /// Moves recorded events into `out`.
    pub fn drain_events(&mut self, out: &mut Vec<AgentEvent>) {
        out.append(&mut self.events);
    }

    fn next_wake(&self) -> u64 {
        if !self.connected {
            return self.reconnect_at_ms;
        }
        if self.step != Step::Idle {
            return self.sent_at_ms + self.config.deadline_ms + 1;
        }
        self.next_beat_ms
    }

    fn beat(&mut self, now_ms: u64) {
        self.seq += 1;
        let line = format!(
            "hb id={} seq={} t_ms={now_ms}\n",
            self.config.worker_id, self.seq
        );
        let fid = self.telemetry;
        self.stats.beats_sent += 1;
        self.next_beat_ms = now_ms + self.config.heartbeat_ms;
        self.request(Step::Beat, now_ms, |c, out| {
            c.write(fid, 0, line.as_bytes(), out).map(|_| ())
        });
    }

    /// Queues one request; a request the codec refuses to build ends the session.
    fn request(
        &mut self,
        step: Step,
        now_ms: u64,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<(), ClientError>,
    ) {
        match build(&mut self.codec, &mut self.outbuf) {
            Ok(()) => {
                self.step = step;
                self.sent_at_ms = now_ms;
            }
            Err(_) => self.lose_session(now_ms),
        }
    }

    fn on_reply(&mut self, parsed: Result<(u16, Response), ClientError>, now_ms: u64) {
        let step = core::mem::replace(&mut self.step, Step::Idle);
        match parsed {
            Ok((_, response)) => {
                self.root_view.heard(now_ms);
                self.advance(step, response, now_ms);
            }
            Err(ClientError::Remote(error)) => {
                self.root_view.heard(now_ms);
                self.refused(step, error, now_ms);
            }
            // A reply that does not parse or answers nothing we asked: the session is broken.
            Err(_) => self.lose_session(now_ms),
        }
    }

    /// The next request of the attach sequence, or the heartbeat bookkeeping.
    fn advance(&mut self, step: Step, response: Response, now_ms: u64) {
        let (id, role) = (self.config.worker_id.clone(), self.config.role.clone());
        match step {
            Step::Version => {
                let mut afid = 0;
                self.request(Step::Auth, now_ms, |c, out| {
                    afid = c.auth(&id, &role, out)?.1;
                    Ok(())
                });
                self.afid = afid;
            }
            Step::Auth => {
                let afid = self.afid;
                let ticket = self.config.ticket.clone();
                self.request(Step::Ticket, now_ms, |c, out| {
                    c.write(afid, 0, ticket.as_bytes(), out).map(|_| ())
                });
            }
            Step::Ticket => {
                let afid = self.afid;
                let mut root = 0;
                self.request(Step::Attach, now_ms, |c, out| {
                    root = c.attach(Some(afid), &id, &role, out)?.1;
                    Ok(())
                });
                self.root = root;
            }
            Step::Attach => self.walk(now_ms),
            Step::Walk { depth } => {
                let whole = response.into_qids().map_or(0, |q| q.len()) == depth;
                if !whole {
                    // The own telemetry file is not in this session's view.
                    return self.refused(step, Error::NotFound, now_ms);
                }
                let fid = self.telemetry;
                self.request(Step::Open, now_ms, |c, out| {
                    c.lopen(fid, O_WRONLY, out).map(|_| ())
                });
            }
            Step::Open => self.online(now_ms),
            Step::Beat => {
                self.stats.beats_acked += 1;
                if self.state == AgentState::Cut(CutReason::LifecycleOffline) {
                    self.root_view.clear(CutReason::LifecycleOffline);
                    self.set_state(AgentState::Online, now_ms);
                }
            }
            Step::Idle => self.lose_session(now_ms),
        }
    }

    fn walk(&mut self, now_ms: u64) {
        let (root, path) = (self.root, self.config.telemetry_path.clone());
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        let mut fid = 0;
        self.request(Step::Walk { depth }, now_ms, |c, out| {
            fid = c.walk_path(root, &path, out)?.1;
            Ok(())
        });
        self.telemetry = fid;
    }

    fn online(&mut self, now_ms: u64) {
        self.stats.attaches += 1;
        self.backoff.reset();
        self.root_view.clear(CutReason::NetworkUnreachable);
        self.set_state(AgentState::Online, now_ms);
        self.beat(now_ms);
    }

    /// The Queen refused a request: decide what that means for the agent's authority.
    fn refused(&mut self, step: Step, error: Error, now_ms: u64) {
        self.stats.refusals += 1;
        self.push_event(
            now_ms,
            AgentEventKind::Refused {
                step: step.label(),
                error,
            },
        );
        match error {
            // Revoked or closed: authority is gone for good.
            Error::Closed => self.stop(CutReason::SessionRevoked, now_ms),
            // The node is offline: hold the session, send nothing but one probe per period.
            Error::Cut => {
                self.next_beat_ms = now_ms + self.config.heartbeat_ms;
                self.root_view.cut(CutReason::LifecycleOffline);
                self.set_state(AgentState::Cut(CutReason::LifecycleOffline), now_ms);
            }
            // Table full or similar pressure before the attach completed: try again later.
            Error::Busy if step != Step::Beat => self.lose_session(now_ms),
            // Anything else is a refusal of this ticket's authority: stop.
            _ => self.stop(CutReason::PolicyDenied, now_ms),
        }
    }

    /// Terminal: drop the session and never attach again with this ticket.
    fn stop(&mut self, reason: CutReason, now_ms: u64) {
        self.connected = false;
        self.step = Step::Idle;
        self.outbuf.clear();
        self.root_view.cut(reason);
        self.set_state(AgentState::Revoked(reason), now_ms);
    }

    /// The session is gone or unusable: cut off, reconnect later.
    fn lose_session(&mut self, now_ms: u64) {
        self.connected = false;
        self.step = Step::Idle;
        self.outbuf.clear();
        self.inbuf.clear();
        self.schedule_reconnect(now_ms);
    }

    fn schedule_reconnect(&mut self, now_ms: u64) {
        self.reconnect_at_ms = now_ms + self.backoff.next_delay_ms();
        if self.state != AgentState::Connecting {
            self.root_view.cut(CutReason::NetworkUnreachable);
            self.set_state(AgentState::Cut(CutReason::NetworkUnreachable), now_ms);
        }
    }

    fn set_state(&mut self, to: AgentState, now_ms: u64) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.push_event(now_ms, AgentEventKind::State { from, to });
    }

    fn push_event(&mut self, at_ms: u64, kind: AgentEventKind) {
        if self.events.len() >= EVENTS_MAX {
            self.stats.events_dropped += 1;
            return;
        }
        self.events.push(AgentEvent { at_ms, kind });
    }
}
