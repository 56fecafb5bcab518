//! NineDoor: the hive's synthetic namespace. It resolves paths to providers, shows each
//! session only its role's view, evaluates the access policy before any provider runs, and
//! serves both Secure9P sessions and console sessions through the same path operations.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod backend;
mod ops;
mod path;
mod policy;
pub mod providers;
mod security;
mod sessions;
mod view;

pub use backend::{Node, SessionBackend};
pub use ops::TailRead;
pub use path::{qid_path, split_path};
pub use policy::Verb;
pub use providers::{Entry, EntryKind};
pub use security::{Exhausted, SecurityLog};
pub use sessions::{SessionId, SessionInfo, SessionState, Transport};
pub use view::{View, Visibility};

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use hive::Hive;

/// The namespace server: the hive's state plus the table of sessions looking at it.
pub struct NineDoor {
    hive: Hive,
    platform: &'static str,
    link: &'static str,
    sessions: BTreeMap<SessionId, SessionInfo>,
    /// Sessions counted against `sessions.max` (not closed, not serial), kept in step with
    /// the table so admitting a session never scans it.
    live: usize,
    /// (ticket id, session) pairs, so a revocation finds every session of a ticket at once.
    by_ticket: BTreeSet<(u64, SessionId)>,
    /// `(deadline_ms, session)`, one entry per session that can time out, so a turn looks
    /// only at the sessions that are due (`expire_sessions`).
    deadlines: BTreeSet<(u64, SessionId)>,
    next_session: u32,
    /// Sessions closed by the core (revocation, deadlines) that the pump must hang up.
    closed: Vec<SessionId>,
    /// `/log/security.log` and `/proc/pressure/exhausted` (see `security`).
    security: SecurityLog,
    /// The network address of each Secure9P session that has not attached yet: refusals of
    /// unsigned tickets it presents are filed under it in the security log (bounded by
    /// `sessions.max`; an entry goes when its session attaches or closes).
    unattached_peers: BTreeMap<SessionId, String>,
    /// Test-only: when false, revoked tickets' sessions are left open (a deliberately broken
    /// core, so the simulator's checkers can prove they notice).
    #[cfg(feature = "test-switches")]
    revocation_enforced: bool,
}

impl NineDoor {
    pub fn new(hive: Hive, platform: &'static str) -> Self {
        let security = SecurityLog::new(&hive.manifest().guard);
        Self {
            security,
            hive,
            platform,
            link: "down",
            sessions: BTreeMap::new(),
            live: 0,
            by_ticket: BTreeSet::new(),
            deadlines: BTreeSet::new(),
            next_session: 0,
            closed: Vec::new(),
            unattached_peers: BTreeMap::new(),
            #[cfg(feature = "test-switches")]
            revocation_enforced: true,
        }
    }

    /// Test-only switch: `false` stops closing the sessions of revoked tickets. Never
    /// enabled outside tests that check the checkers.
    #[cfg(feature = "test-switches")]
    pub fn set_revocation_enforcement(&mut self, enforced: bool) {
        self.revocation_enforced = enforced;
    }

    pub fn hive(&self) -> &Hive {
        &self.hive
    }

    pub fn hive_mut(&mut self) -> &mut Hive {
        &mut self.hive
    }

    pub fn platform(&self) -> &'static str {
        self.platform
    }

    /// Link state reported by `/proc/boot` (`up`/`down`), set by the pump from the HAL.
    pub fn set_link(&mut self, link: &'static str) {
        self.link = link;
    }

    pub fn link(&self) -> &'static str {
        self.link
    }

    /// Advances time: budgets and TTLs in the hive, session deadlines here. Sessions closed
    /// as a result are reported by `take_closed`.
    pub fn tick(&mut self, now_ms: u64) {
        self.hive.tick(now_ms);
        self.expire_sessions(now_ms);
        self.sync_revocations(now_ms);
        self.security.tick(now_ms);
    }

    pub fn security(&self) -> &SecurityLog {
        &self.security
    }

    /// Refusals of peers that have not authenticated go here, not to the hive's audit log;
    /// they still count in `/proc/pressure`.
    pub fn security_mut(&mut self) -> &mut SecurityLog {
        &mut self.security
    }

    /// Names the network peer of a session that has not attached yet (`a.b.c.d`): a ticket
    /// it presents that nobody signed is refused into the security log under this address,
    /// not into `/log/queen.log`.
    pub fn set_unattached_peer(&mut self, sid: SessionId, source: String) {
        if self.sessions.contains_key(&sid) {
            self.unattached_peers.insert(sid, source);
        }
    }

    /// Records a refusal of an unauthenticated peer from `source` (see `security`).
    pub fn security_refused(
        &mut self,
        now_ms: u64,
        source: &str,
        verb: &str,
        error: secure9p::Error,
        detail: &str,
    ) {
        self.hive.count_refusal(error);
        self.security.refused(now_ms, source, verb, error, detail);
    }

    /// Sessions the core closed since the last call; their connections must be hung up.
    pub fn take_closed(&mut self) -> Vec<SessionId> {
        core::mem::take(&mut self.closed)
    }

    /// Closes every session whose ticket the hive revoked.
    fn sync_revocations(&mut self, now_ms: u64) {
        #[cfg(feature = "test-switches")]
        if !self.revocation_enforced {
            let _ = self.hive.take_revoked();
            return;
        }
        for ticket_id in self.hive.take_revoked() {
            let sids: Vec<SessionId> = self
                .by_ticket
                .range((ticket_id, SessionId(0))..=(ticket_id, SessionId(u32::MAX)))
                .map(|(_, sid)| *sid)
                .collect();
            for sid in sids {
                self.mark_closed(sid, "revoked", now_ms);
            }
        }
    }

    /// Heap bytes held by the session table (for the per-worker memory report).
    pub fn session_heap_bytes(&self) -> usize {
        self.sessions
            .values()
            .map(|s| core::mem::size_of::<SessionInfo>() + s.heap_bytes() + 48)
            .sum::<usize>()
            + self.by_ticket.len() * (core::mem::size_of::<(u64, SessionId)>() + 16)
    }

    pub fn sessions(&self) -> impl Iterator<Item = (&SessionId, &SessionInfo)> {
        self.sessions.iter()
    }

    pub fn session(&self, sid: SessionId) -> Option<&SessionInfo> {
        self.sessions.get(&sid)
    }

    fn owner_label(info: &SessionInfo) -> String {
        info.principal
            .as_ref()
            .map_or_else(|| String::from("-"), |p| p.subject.clone())
    }
}

#[cfg(test)]
mod tests;
