//! The session table: who is attached, since when, in what state, and the deadlines that
//! close sessions nobody is using.

use crate::view::View;
use crate::NineDoor;
use alloc::string::String;
use hive::Principal;
use secure9p::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A Secure9P connection (TCP 564).
    NineP,
    /// A TCP console connection (TCP 31337).
    ConsoleTcp,
    /// The serial console.
    Serial,
    /// An in-process client (tests, benchmarks, the simulator's local agents).
    Local,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::NineP => "9p",
            Transport::ConsoleTcp => "console",
            Transport::Serial => "serial",
            Transport::Local => "local",
        }
    }
}

/// `/proc/9p/session/<id>/state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Setup,
    Active,
    Draining,
    Closed,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Setup => "SETUP",
            SessionState::Active => "ACTIVE",
            SessionState::Draining => "DRAINING",
            SessionState::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub transport: Transport,
    pub state: SessionState,
    pub principal: Option<Principal>,
    /// The mount table of the attached principal.
    pub view: View,
    /// Reply to the last control line this session wrote (read back from `/queen/ctl`).
    pub last_reply: Option<String>,
    pub since_ms: u64,
    pub last_active_ms: u64,
    pub close_reason: &'static str,
}

impl SessionInfo {
    /// Counts against `sessions.max`: the serial console is the recovery path and never
    /// counts, and a closed session no longer does.
    fn counts_as_live(&self) -> bool {
        self.state != SessionState::Closed && self.transport != Transport::Serial
    }

    pub fn heap_bytes(&self) -> usize {
        self.view.heap_bytes()
            + self.last_reply.as_ref().map_or(0, String::capacity)
            + self.principal.as_ref().map_or(0, |p| {
                p.subject.capacity()
                    + p.scopes
                        .iter()
                        .map(|s| core::mem::size_of_val(s) + s.path_prefix.capacity())
                        .sum::<usize>()
            })
    }
}

impl NineDoor {
    /// Opens a session in SETUP; refused with `Busy` when the hive's session table is full.
    pub fn open_session(&mut self, transport: Transport, now_ms: u64) -> Result<SessionId, Error> {
        // The serial console is the recovery path: it is always admitted and never counts
        // against the table (see `counts_as_live`).
        let full = self.live >= self.hive.manifest().sessions.max as usize;
        if full && transport != Transport::Serial {
            let refusal = hive::Refusal::new(Error::Busy, "sessions-max");
            self.hive
                .refused(now_ms, transport.as_str(), "session", refusal);
            return Err(Error::Busy);
        }
        self.next_session = self.next_session.wrapping_add(1);
        let sid = SessionId(self.next_session);
        let info = SessionInfo {
            transport,
            state: SessionState::Setup,
            principal: None,
            view: View::Mounts(alloc::vec::Vec::new()),
            last_reply: None,
            since_ms: now_ms,
            last_active_ms: now_ms,
            close_reason: "",
        };
        self.live += usize::from(info.counts_as_live());
        if let Some(replaced) = self.sessions.insert(sid, info) {
            self.forget_live(&replaced);
        }
        Ok(sid)
    }

    /// The connection is gone: forget the session and tell the hive its worker detached.
    pub fn close_session(&mut self, sid: SessionId, now_ms: u64) {
        let Some(info) = self.sessions.remove(&sid) else {
            return;
        };
        self.forget_live(&info);
        if let Some(principal) = &info.principal {
            if let Some(tid) = principal.ticket_id {
                self.by_ticket.remove(&(tid, sid));
            }
            if info.state != SessionState::Closed {
                if let Some(id) = principal.worker_id() {
                    self.hive.worker_detached(id, now_ms);
                }
            }
        }
    }

    /// A session left the live count (closed or removed).
    fn forget_live(&mut self, info: &SessionInfo) {
        self.live = self.live.saturating_sub(usize::from(info.counts_as_live()));
    }

    /// Marks a session closed by the core: later requests get `Closed` and the pump is told
    /// to hang up.
    pub(crate) fn mark_closed(&mut self, sid: SessionId, reason: &'static str, now_ms: u64) {
        let Some(info) = self.sessions.get_mut(&sid) else {
            return;
        };
        if info.state == SessionState::Closed {
            return;
        }
        self.live = self.live.saturating_sub(usize::from(info.counts_as_live()));
        info.state = SessionState::Closed;
        info.close_reason = reason;
        let owner = Self::owner_label(info);
        let worker = info
            .principal
            .as_ref()
            .and_then(|p| p.worker_id().map(String::from));
        let sid_text = alloc::format!("{}", sid.0);
        self.hive
            .audit_session_close(now_ms, &sid_text, &owner, reason);
        if let Some(id) = worker {
            self.hive.worker_detached(&id, now_ms);
        }
        self.closed.push(sid);
    }

    /// Binds an authenticated principal to a session and makes it ACTIVE.
    pub(crate) fn bind_principal(&mut self, sid: SessionId, principal: Principal, now_ms: u64) {
        if let Some(tid) = principal.ticket_id {
            self.by_ticket.insert((tid, sid));
        }
        if let Some(id) = principal.worker_id() {
            let id = String::from(id);
            self.hive.worker_attached(&id, now_ms);
        }
        if let Some(info) = self.sessions.get_mut(&sid) {
            info.view = View::for_principal(&principal);
            info.principal = Some(principal);
            info.state = SessionState::Active;
            info.last_active_ms = now_ms;
        }
    }

    /// Closes sessions that never authenticated in time or have gone idle.
    pub(crate) fn expire_sessions(&mut self, now_ms: u64) {
        let limits = &self.hive.manifest().sessions;
        let (auth_deadline, idle) = (
            u64::from(limits.auth_deadline_ms),
            u64::from(limits.idle_timeout_ms),
        );
        let mut expired = alloc::vec::Vec::new();
        for (sid, info) in &self.sessions {
            // The serial console is the recovery path: it is never timed out.
            if info.transport == Transport::Serial {
                continue;
            }
            let reason = match info.state {
                SessionState::Setup if now_ms.saturating_sub(info.since_ms) > auth_deadline => {
                    "auth-deadline"
                }
                SessionState::Active if now_ms.saturating_sub(info.last_active_ms) > idle => "idle",
                _ => continue,
            };
            expired.push((*sid, reason));
        }
        for (sid, reason) in expired {
            self.mark_closed(sid, reason, now_ms);
        }
    }
}
