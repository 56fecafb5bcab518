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
    /// This session's entry in the deadline queue, if it has one. Activity only moves the
    /// real deadline later, so the entry is checked and moved when it falls due.
    queued_ms: Option<u64>,
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
            queued_ms: None,
        };
        self.live += usize::from(info.counts_as_live());
        if let Some(replaced) = self.sessions.insert(sid, info) {
            self.forget_live(&replaced);
            self.unqueue(sid, replaced.queued_ms);
        }
        self.requeue(sid);
        Ok(sid)
    }

    /// The connection is gone: forget the session and tell the hive its worker detached.
    pub fn close_session(&mut self, sid: SessionId, now_ms: u64) {
        self.unattached_peers.remove(&sid);
        let Some(info) = self.sessions.remove(&sid) else {
            return;
        };
        self.forget_live(&info);
        self.unqueue(sid, info.queued_ms);
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
        let queued = info.queued_ms.take();
        let owner = Self::owner_label(info);
        let worker = info
            .principal
            .as_ref()
            .and_then(|p| p.worker_id().map(String::from));
        let sid_text = alloc::format!("{}", sid.0);
        self.unqueue(sid, queued);
        self.hive
            .audit_session_close(now_ms, &sid_text, &owner, reason);
        if let Some(id) = worker {
            self.hive.worker_detached(&id, now_ms);
        }
        self.closed.push(sid);
    }

    /// Binds an authenticated principal to a session and makes it ACTIVE.
    pub(crate) fn bind_principal(&mut self, sid: SessionId, principal: Principal, now_ms: u64) {
        self.unattached_peers.remove(&sid);
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
        // The idle deadline may come before the authentication deadline it replaces.
        self.requeue(sid);
    }

    /// Closes sessions that never authenticated in time or have gone idle. Only sessions whose
    /// queued deadline has come are looked at; one that was active since is queued again.
    pub(crate) fn expire_sessions(&mut self, now_ms: u64) {
        let mut expired = alloc::vec::Vec::new();
        while let Some(&(at, sid)) = self.deadlines.first() {
            if at > now_ms {
                break;
            }
            self.deadlines.pop_first();
            let Some(info) = self.sessions.get_mut(&sid) else {
                continue;
            };
            info.queued_ms = None;
            match self.deadline_of(sid) {
                Some((due, reason)) if due <= now_ms => expired.push((sid, reason)),
                _ => self.requeue(sid),
            }
        }
        // In session order, as one pass over the table would close them.
        expired.sort_unstable_by_key(|(sid, _)| *sid);
        for (sid, reason) in expired {
            self.mark_closed(sid, reason, now_ms);
        }
    }

    /// The first moment at which `sid` is past its deadline, and why.
    fn deadline_of(&self, sid: SessionId) -> Option<(u64, &'static str)> {
        let info = self.sessions.get(&sid)?;
        let limits = &self.hive.manifest().sessions;
        // The serial console is the recovery path: it is never timed out.
        if info.transport == Transport::Serial {
            return None;
        }
        let after = |from: u64, limit: u32| from.saturating_add(u64::from(limit)).saturating_add(1);
        match info.state {
            SessionState::Setup => Some((
                after(info.since_ms, limits.auth_deadline_ms),
                "auth-deadline",
            )),
            SessionState::Active => {
                Some((after(info.last_active_ms, limits.idle_timeout_ms), "idle"))
            }
            _ => None,
        }
    }

    /// Puts `sid` in the deadline queue at its current deadline, replacing its entry.
    fn requeue(&mut self, sid: SessionId) {
        let at = self.deadline_of(sid).map(|(at, _)| at);
        let Some(info) = self.sessions.get_mut(&sid) else {
            return;
        };
        let old = core::mem::replace(&mut info.queued_ms, at);
        self.unqueue(sid, old);
        if let Some(at) = at {
            self.deadlines.insert((at, sid));
        }
    }

    fn unqueue(&mut self, sid: SessionId, queued_ms: Option<u64>) {
        if let Some(at) = queued_ms {
            self.deadlines.remove(&(at, sid));
        }
    }
}
