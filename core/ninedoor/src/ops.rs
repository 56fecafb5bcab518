//! Path operations shared by Secure9P sessions and console sessions: attach, lookup through
//! binds and views, list, read, tail and append. Every refusal here is counted and audited.

use crate::path::{join, split_path};
use crate::policy::{granting_scope, permits, Verb};
use crate::providers::{self, Entry, EntryKind};
use crate::view::{is_under, Visibility};
use crate::{NineDoor, SessionId, SessionState};
use alloc::string::String;
use alloc::vec::Vec;
use hive::{Principal, Refusal};
use secure9p::Error;

/// A snapshot of a stream from a cursor, as the console's `tail` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailRead {
    /// Bytes evicted before the reader got to them (`lost=<n>`), 0 if none.
    pub lost: u64,
    pub data: Vec<u8>,
    pub next: u64,
}

impl NineDoor {
    /// Authenticates a session: a ticket for `role`, or (serial console only) a ticketless
    /// Queen. On success the session becomes ACTIVE with that role's view.
    pub fn attach(
        &mut self,
        sid: SessionId,
        role: &str,
        uname: &str,
        ticket: Option<&[u8]>,
        now_ms: u64,
    ) -> Result<(), Error> {
        let info = self.sessions.get(&sid).ok_or(Error::Closed)?;
        if info.state != SessionState::Setup {
            let refusal = if info.state == SessionState::Closed {
                Refusal::new(Error::Closed, "session-closed")
            } else {
                Refusal::new(Error::Invalid, "already-attached")
            };
            self.hive.refused(now_ms, uname, "attach", refusal);
            return Err(refusal.error);
        }
        let transport = info.transport;
        // A TCP console session reaches attach only after its `AUTH` succeeded (the console
        // dispatcher's state machine), so the token is the credential the original honoured.
        let token_queen = transport == crate::Transport::ConsoleTcp
            && !self.hive.manifest().console.queen_requires_ticket;
        let peer = self.unattached_peers.get(&sid).cloned();
        let principal = match (ticket, peer) {
            (Some(text), Some(peer)) => {
                match self.hive.authenticate_peer(text, role, uname, now_ms) {
                    Ok(principal) => principal,
                    Err(refused) => {
                        if !refused.signed {
                            let r = refused.refusal;
                            self.security_refused(now_ms, &peer, "attach", r.error, r.detail);
                        }
                        return Err(refused.refusal.error);
                    }
                }
            }
            (Some(text), None) => self
                .hive
                .authenticate(text, role, uname, now_ms)
                .map_err(|r| r.error)?,
            (None, _) if transport == crate::Transport::Serial && role == "queen" => {
                self.hive
                    .accepted(now_ms, "console", "attach", "role=queen transport=serial");
                Principal::serial_queen()
            }
            (None, _) if token_queen && role == "queen" => {
                self.hive.accepted(
                    now_ms,
                    "console-token",
                    "attach",
                    "role=queen transport=tcp credential=console-token",
                );
                Principal::token_queen()
            }
            (None, Some(peer)) => {
                let error = Error::Perm;
                self.security_refused(now_ms, &peer, "attach", error, "ticket-required");
                return Err(error);
            }
            (None, None) => {
                let refusal = Refusal::new(Error::Perm, "ticket-required");
                self.hive.refused(now_ms, uname, "attach", refusal);
                return Err(Error::Perm);
            }
        };
        self.bind_principal(sid, principal, now_ms);
        Ok(())
    }

    /// `Tattach` with `afid = NOFID` and the ticket text in `aname`, as the original Cohesix
    /// host tools and stock 9P2000.L clients send it (they cannot write to an afid). The role
    /// and subject come from the ticket's claims; the ticket is then verified exactly as one
    /// written to an afid (`attach`), whose role check makes the unverified peek below safe.
    /// `uname` is the role label, `role:<identity>` for worker roles: a different role or
    /// identity is refused, and a `uname` that is not a role label (a stock client sends its
    /// user name) is ignored. Refusals are audited under `uname`, never the ticket.
    pub fn attach_with_aname_ticket(
        &mut self,
        sid: SessionId,
        uname: &str,
        ticket: &str,
        now_ms: u64,
    ) -> Result<(), Error> {
        let claimed =
            ticket::decode(ticket.trim(), ticket::MAX_TEXT_LEN).map(|(claims, _)| claims.role);
        let Ok(role) = claimed else {
            let refusal = Refusal::new(Error::Invalid, "ticket-malformed");
            self.refuse_unverified(sid, uname, refusal, now_ms);
            return Err(refusal.error);
        };
        let (label, identity) = match uname.split_once(':') {
            Some((label, identity)) => (label, identity),
            None => (uname, ""),
        };
        // A label naming a role is checked like an afid attach's: after the signature, so a
        // genuine ticket presented under the wrong role or identity is an audited authority
        // refusal (`role-mismatch`, `subject-mismatch`), not a forgery.
        let (role, subject) = match ticket::Role::parse(label) {
            None => (role, ""),
            Some(named) => (named, identity),
        };
        self.attach(sid, role.as_str(), subject, Some(ticket.as_bytes()), now_ms)
    }

    /// A refusal decided before any signature was checked: a network peer's goes to the
    /// security log under its address (docs/interfaces.md §1.4), anyone else's to the audit
    /// log.
    fn refuse_unverified(&mut self, sid: SessionId, uname: &str, refusal: Refusal, now_ms: u64) {
        match self.unattached_peers.get(&sid).cloned() {
            Some(peer) => {
                self.security_refused(now_ms, &peer, "attach", refusal.error, refusal.detail)
            }
            None => self.hive.refused(now_ms, uname, "attach", refusal),
        }
    }

    /// Admits one request from an attached session: the session must be live, its ticket
    /// unexpired, and its budget must cover one more operation.
    pub fn admit(&mut self, sid: SessionId, now_ms: u64) -> Result<(), Error> {
        let info = self.sessions.get_mut(&sid).ok_or(Error::Closed)?;
        if info.state == SessionState::Closed {
            return Err(Error::Closed);
        }
        info.last_active_ms = now_ms;
        let Some(principal) = &info.principal else {
            return Err(Error::Perm);
        };
        if principal.expires_at_ms <= now_ms {
            self.mark_closed(sid, "ticket-expired", now_ms);
            return Err(Error::Closed);
        }
        let Some(ticket_id) = principal.ticket_id else {
            return Ok(());
        };
        let charged = self.hive.charge_op(ticket_id, now_ms);
        if charged.is_err() {
            self.sync_revocations(now_ms);
            self.mark_closed(sid, "revoked", now_ms);
        }
        charged
    }

    /// Resolves `path` as session `sid` sees it: binds first, then the view, then existence.
    pub(crate) fn lookup(&self, sid: SessionId, path: &str) -> Result<(Entry, String), Error> {
        let info = self.sessions.get(&sid).ok_or(Error::Closed)?;
        if info.principal.is_none() {
            return Err(Error::Perm);
        }
        if info.view.visibility(path) == Visibility::Hidden && !self.bound_into_view(sid, path) {
            return Err(Error::NotFound);
        }
        let target = self.rewrite_binds(path);
        let elems = split_path(&target)?;
        let entry = providers::resolve(self, &elems).ok_or(Error::NotFound)?;
        Ok((entry, target))
    }

    /// A path under a bind's `to` whose parent is in view is visible through the bind.
    fn bound_into_view(&self, sid: SessionId, path: &str) -> bool {
        let Some(info) = self.sessions.get(&sid) else {
            return false;
        };
        self.hive.binds().iter().any(|(_, to)| {
            (path == to || is_under(path, to)) && info.view.visibility(to) == Visibility::Inside
        })
    }

    fn rewrite_binds(&self, path: &str) -> String {
        for (from, to) in self.hive.binds() {
            if path == to {
                return from.clone();
            }
            if is_under(path, to) {
                return alloc::format!("{from}{}", &path[to.len()..]);
            }
        }
        String::from(path)
    }

    /// Checks the policy for `verb`; a denial is counted and audited.
    pub(crate) fn authorize(
        &mut self,
        sid: SessionId,
        entry: &Entry,
        path: &str,
        verb: Verb,
        now_ms: u64,
    ) -> Result<Principal, Error> {
        let info = self.sessions.get(&sid).ok_or(Error::Closed)?;
        let principal = info.principal.clone().ok_or(Error::Perm)?;
        let kind_ok = match verb {
            Verb::Read => {
                entry.kind != EntryKind::Control || entry.read != crate::providers::Who::Nobody
            }
            Verb::Write => matches!(entry.kind, EntryKind::Stream | EntryKind::Control),
        };
        if kind_ok && permits(&principal, entry, path, verb) {
            self.charge_scope_rate(&principal, path, verb, now_ms)?;
            return Ok(principal);
        }
        let detail = if verb == Verb::Read {
            "read-denied"
        } else {
            "write-denied"
        };
        self.hive.refused(
            now_ms,
            &principal.subject,
            "access",
            Refusal::new(Error::Perm, detail),
        );
        Err(Error::Perm)
    }

    /// Charges the request to its scope's rate; over the rate is `Busy`, and the session
    /// stays open (a rate is pacing, not a budget).
    fn charge_scope_rate(
        &mut self,
        principal: &Principal,
        path: &str,
        verb: Verb,
        now_ms: u64,
    ) -> Result<(), Error> {
        let (Some(ticket_id), Some((scope, rate))) =
            (principal.ticket_id, granting_scope(principal, path, verb))
        else {
            return Ok(());
        };
        self.hive
            .charge_rate(ticket_id, scope, rate, &principal.subject, now_ms)
    }

    /// Names of a directory's children that this session can see.
    pub fn ls(&mut self, sid: SessionId, path: &str, now_ms: u64) -> Result<Vec<String>, Error> {
        let (entry, target) = self.lookup(sid, path)?;
        if !entry.is_dir() {
            return Ok(alloc::vec![String::from(
                path.rsplit('/').next().unwrap_or(path)
            )]);
        }
        self.authorize(sid, &entry, path, Verb::Read, now_ms)?;
        Ok(self.children(sid, &entry, path, &target))
    }

    pub(crate) fn children(
        &self,
        sid: SessionId,
        entry: &Entry,
        path: &str,
        target: &str,
    ) -> Vec<String> {
        let elems = split_path(target).unwrap_or_default();
        let mut names = providers::list(self, entry, &elems);
        for (_, to) in self.hive.binds() {
            if let Some((parent, name)) = to.rsplit_once('/') {
                let parent = if parent.is_empty() { "/" } else { parent };
                if parent == path && !names.iter().any(|n| n == name) {
                    names.push(String::from(name));
                }
            }
        }
        let Some(info) = self.sessions.get(&sid) else {
            return Vec::new();
        };
        names.retain(|name| {
            let child = join(path, name);
            info.view.visibility(&child) != Visibility::Hidden || self.bound_into_view(sid, &child)
        });
        names
    }

    /// Reads `count` bytes at `offset`: text is sliced, streams use the offset as a cursor and
    /// start with a `lost=<n>` line when the reader fell behind the ring.
    pub fn read_at(
        &mut self,
        sid: SessionId,
        path: &str,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
        now_ms: u64,
    ) -> Result<(), Error> {
        let (entry, target) = self.lookup(sid, path)?;
        self.authorize(sid, &entry, path, Verb::Read, now_ms)?;
        self.read_entry(sid, &entry, &target, offset, count, out, now_ms)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn read_entry(
        &self,
        sid: SessionId,
        entry: &Entry,
        target: &str,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
        now_ms: u64,
    ) -> Result<(), Error> {
        let elems = split_path(target)?;
        match entry.kind {
            EntryKind::Dir => Err(Error::Invalid),
            EntryKind::Text => {
                let text = providers::text(self, entry, &elems, now_ms).ok_or(Error::NotFound)?;
                slice_into(text.as_bytes(), offset, count, out);
                Ok(())
            }
            EntryKind::Control => {
                let reply = self.sessions.get(&sid).and_then(|s| s.last_reply.clone());
                let mut text = reply.unwrap_or_default();
                text.push('\n');
                slice_into(text.as_bytes(), offset, count, out);
                Ok(())
            }
            EntryKind::Stream => {
                let tail = self.stream_at(entry, &elems, offset, count as usize)?;
                out.extend_from_slice(&tail.data);
                Ok(())
            }
        }
    }

    /// A stream read with the `lost=<n>` marker folded into `data` (counted against `max`).
    fn stream_at(
        &self,
        entry: &Entry,
        elems: &[&str],
        cursor: u64,
        max: usize,
    ) -> Result<TailRead, Error> {
        let probe = providers::stream(self, entry, elems, cursor, 0).ok_or(Error::NotFound)?;
        let marker = (probe.lost > 0).then(|| alloc::format!("lost={}\n", probe.lost));
        let room = max.saturating_sub(marker.as_ref().map_or(0, String::len));
        let read = providers::stream(self, entry, elems, cursor, room).ok_or(Error::NotFound)?;
        let mut data = Vec::with_capacity(read.data.len() + 16);
        if let Some(marker) = marker {
            data.extend_from_slice(marker.as_bytes());
        }
        data.extend_from_slice(&read.data);
        Ok(TailRead {
            lost: read.lost,
            data,
            next: read.next,
        })
    }

    /// Whole content of a node: text as rendered, streams from the oldest retained record.
    pub fn cat(
        &mut self,
        sid: SessionId,
        path: &str,
        max: usize,
        now_ms: u64,
    ) -> Result<Vec<u8>, Error> {
        let (entry, target) = self.lookup(sid, path)?;
        self.authorize(sid, &entry, path, Verb::Read, now_ms)?;
        let mut out = Vec::new();
        let offset = if entry.kind == EntryKind::Stream {
            let elems = split_path(&target)?;
            providers::stream(self, &entry, &elems, 0, 0).map_or(0, |r| r.lost)
        } else {
            0
        };
        let count = u32::try_from(max).unwrap_or(u32::MAX);
        self.read_entry(sid, &entry, &target, offset, count, &mut out, now_ms)?;
        Ok(out)
    }

    /// Records from `cursor` (or from the oldest retained, if `None`) and the next cursor.
    pub fn tail(
        &mut self,
        sid: SessionId,
        path: &str,
        cursor: Option<u64>,
        max: usize,
        now_ms: u64,
    ) -> Result<TailRead, Error> {
        let (entry, target) = self.lookup(sid, path)?;
        self.authorize(sid, &entry, path, Verb::Read, now_ms)?;
        if entry.kind != EntryKind::Stream {
            return Err(Error::Invalid);
        }
        let elems = split_path(&target)?;
        let start = match cursor {
            Some(c) => c,
            None => providers::stream(self, &entry, &elems, 0, 0).map_or(0, |r| r.lost),
        };
        self.stream_at(&entry, &elems, start, max)
    }

    /// Appends `data` to a stream or control file (offsets never matter for these).
    pub fn append(
        &mut self,
        sid: SessionId,
        path: &str,
        data: &[u8],
        now_ms: u64,
    ) -> Result<usize, Error> {
        let (entry, target) = self.lookup(sid, path)?;
        let principal = self.authorize(sid, &entry, path, Verb::Write, now_ms)?;
        if let Some(ticket_id) = principal.ticket_id {
            if let Err(e) = self
                .hive
                .charge_written_bytes(ticket_id, data.len(), now_ms)
            {
                self.sync_revocations(now_ms);
                self.mark_closed(sid, "revoked", now_ms);
                return Err(e);
            }
        }
        let elems = split_path(&target)?;
        let (written, reply) = providers::write(self, &entry, &elems, &principal, data, now_ms)?;
        if let (Some(reply), Some(info)) = (reply, self.sessions.get_mut(&sid)) {
            info.last_reply = Some(reply);
        }
        Ok(written)
    }

    /// The reply to the last control line written by this session.
    pub fn last_reply(&self, sid: SessionId) -> Option<&str> {
        self.sessions.get(&sid)?.last_reply.as_deref()
    }
}

fn slice_into(bytes: &[u8], offset: u64, count: u32, out: &mut Vec<u8>) {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let end = start.saturating_add(count as usize).min(bytes.len());
    out.extend_from_slice(&bytes[start..end]);
}
