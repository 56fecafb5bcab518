//! Who a session is: ticket verification at attach and the worker attach/detach bookkeeping.

use crate::registry::RegistryState;
use crate::{Hive, Refusal};
use alloc::string::String;
use alloc::vec::Vec;
use secure9p::Error;
use ticket::{Role, Scope, TicketError};

/// The authority a session was granted at attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    pub subject: String,
    /// `None` only for a ticketless Queen on a console (serial, or TCP after `AUTH`).
    pub ticket_id: Option<u64>,
    pub scopes: Vec<Scope>,
    pub expires_at_ms: u64,
}

impl Principal {
    /// The Queen on the serial console: physical access is the credential.
    pub fn serial_queen() -> Self {
        Self {
            role: Role::Queen,
            subject: String::from("console"),
            ticket_id: None,
            scopes: Vec::new(),
            expires_at_ms: u64::MAX,
        }
    }

    /// The Queen on a TCP console that passed `AUTH` without a ticket: the provisioned console
    /// token is the credential (the original Cohesix console's behaviour).
    pub fn token_queen() -> Self {
        Self {
            subject: String::from("console-token"),
            ..Self::serial_queen()
        }
    }

    /// The worker id this principal speaks for, if it is a worker.
    pub fn worker_id(&self) -> Option<&str> {
        self.role.is_worker().then_some(self.subject.as_str())
    }
}

/// A refused attach, and whether the ticket it presented was signed by a key the hive holds.
/// Unsigned text is what anybody can send: its refusals say nothing about authority the hive
/// granted, so a caller that knows the peer files them where a flood cannot evict the audit
/// log (docs/interfaces.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachRefusal {
    pub refusal: Refusal,
    pub signed: bool,
}

impl AttachRefusal {
    fn unsigned(refusal: Refusal) -> Self {
        Self {
            refusal,
            signed: false,
        }
    }
}

impl From<Refusal> for AttachRefusal {
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            signed: true,
        }
    }
}

impl Hive {
    /// Verifies a ticket presented at attach for `role` by `uname`. Worker tickets must belong
    /// to a registered worker; every refusal is audited.
    pub fn authenticate(
        &mut self,
        ticket_text: &[u8],
        role: &str,
        uname: &str,
        now_ms: u64,
    ) -> Result<Principal, Refusal> {
        self.authenticate_peer(ticket_text, role, uname, now_ms)
            .map_err(|refused| {
                if !refused.signed {
                    self.refused(now_ms, uname, "attach", refused.refusal);
                }
                refused.refusal
            })
    }

    /// `authenticate` for a peer that has not authenticated yet: refusals of signed tickets
    /// are audited here, refusals of unsigned text are only returned, for the caller to file
    /// under the peer's address.
    pub fn authenticate_peer(
        &mut self,
        ticket_text: &[u8],
        role: &str,
        uname: &str,
        now_ms: u64,
    ) -> Result<Principal, AttachRefusal> {
        let result = self.check_ticket(ticket_text, role, uname, now_ms);
        match &result {
            Ok(p) => {
                let tid = alloc::format!("{}", p.ticket_id.unwrap_or(0));
                self.audit.record(
                    now_ms,
                    "attach",
                    &[
                        ("role", p.role.as_str()),
                        ("who", &p.subject),
                        ("ticket", &tid),
                    ],
                );
            }
            Err(refused) if refused.signed => {
                self.refused(now_ms, uname, "attach", refused.refusal);
            }
            Err(_) => {}
        }
        result
    }

    fn check_ticket(
        &mut self,
        ticket_text: &[u8],
        role: &str,
        uname: &str,
        now_ms: u64,
    ) -> Result<Principal, AttachRefusal> {
        let unsigned = |error, detail| AttachRefusal::unsigned(Refusal::new(error, detail));
        let role = Role::parse(role).ok_or(unsigned(Error::Invalid, "unknown-role"))?;
        let max = if role.is_worker() {
            self.manifest.ticket.worker_text_max
        } else {
            self.manifest.ticket.text_max
        };
        let text = core::str::from_utf8(ticket_text)
            .map_err(|_| unsigned(Error::Invalid, "ticket-malformed"))?;
        let claims =
            ticket::verify(&self.keys, text.trim(), max as usize, now_ms).map_err(|error| {
                // Expiry and revocation are judged on claims whose signature checked out.
                let signed = matches!(error, TicketError::Expired | TicketError::Revoked);
                AttachRefusal {
                    refusal: ticket_refusal(error),
                    signed,
                }
            })?;
        if claims.hive_id != self.hive_id {
            return Err(Refusal::new(Error::Perm, "wrong-hive").into());
        }
        if claims.role != role {
            return Err(Refusal::new(Error::Perm, "role-mismatch").into());
        }
        if !uname.is_empty() && uname != claims.subject {
            return Err(Refusal::new(Error::Perm, "subject-mismatch").into());
        }
        if self.revoked.is_revoked(claims.ticket_id) {
            return Err(Refusal::new(Error::Closed, "revoked").into());
        }
        if role.is_worker() {
            let known = self
                .registry
                .by_ticket(claims.ticket_id)
                .is_some_and(|w| w.id == claims.subject);
            if !known {
                return Err(Refusal::new(Error::Closed, "unknown-worker").into());
            }
        } else {
            self.meter_operator(&claims, now_ms)?;
        }
        Ok(Principal {
            role,
            subject: claims.subject.clone(),
            ticket_id: Some(claims.ticket_id),
            expires_at_ms: claims.expires_at_ms(),
            scopes: claims.scopes,
        })
    }

    /// A session holding this worker's ticket attached.
    pub fn worker_attached(&mut self, id: &str, now_ms: u64) {
        if let Some(worker) = self.registry.get_mut(id) {
            worker.sessions = worker.sessions.saturating_add(1);
            worker.last_seen_ms = now_ms;
        }
        self.set_worker_state(id, RegistryState::Online, "attached", now_ms);
    }

    /// A session holding this worker's ticket closed.
    pub fn worker_detached(&mut self, id: &str, now_ms: u64) {
        let Some(worker) = self.registry.get_mut(id) else {
            return;
        };
        worker.sessions = worker.sessions.saturating_sub(1);
        if worker.sessions == 0 {
            self.set_worker_state(id, RegistryState::Offline, "detached", now_ms);
        }
    }
}

impl Hive {
    /// Starts (or resumes) metering a ticket minted outside the hive. Its ops and bytes
    /// budgets are enforced like a worker's; ticks and quotas are not metered for operator
    /// sessions, so a ticket that sets them is refused rather than trusted with limits nobody
    /// would enforce.
    fn meter_operator(&mut self, claims: &ticket::Claims, now_ms: u64) -> Result<(), Refusal> {
        if claims.quotas != ticket::Quotas::default() {
            return Err(Refusal::new(Error::Invalid, "unenforced-quota"));
        }
        // Ticks are charged to registered workers as hive time passes while they are online;
        // an operator session has no such clock, so a ticks budget could not be honoured.
        if claims.budget.ticks.is_some() {
            return Err(Refusal::new(Error::Invalid, "unenforced-budget"));
        }
        if claims.scopes.len() > self.manifest.ticket.scopes_max as usize {
            return Err(Refusal::new(Error::Invalid, "too-many-scopes"));
        }
        if let Some(meter) = self.external.get_mut(&claims.ticket_id) {
            meter.budget = claims.budget;
            return Ok(());
        }
        let spent = self.spent.remove(&claims.ticket_id).unwrap_or_default();
        let meter = crate::TicketMeter {
            key_id: claims.key_id,
            budget: claims.budget,
            meter: spent,
            expires_at_ms: claims.expires_at_ms(),
        };
        if let Some(kind) = meter.meter.exhausted(&meter.budget) {
            let _ =
                self.revoke_ticket(claims.ticket_id, meter.expires_at_ms, kind.reason(), now_ms);
            return Err(Refusal::new(Error::Closed, "revoked"));
        }
        self.external_expiry = self.external_expiry.min(meter.expires_at_ms);
        self.external.insert(claims.ticket_id, meter);
        Ok(())
    }
}

fn ticket_refusal(error: TicketError) -> Refusal {
    match error {
        TicketError::Expired => Refusal::new(Error::Closed, "ticket-expired"),
        TicketError::Revoked => Refusal::new(Error::Closed, "revoked"),
        TicketError::TooLong => Refusal::new(Error::TooBig, "ticket-too-long"),
        TicketError::UnknownKey => Refusal::new(Error::Perm, "unknown-key"),
        TicketError::BadMac => Refusal::new(Error::Perm, "bad-mac"),
        TicketError::TooManyScopes => Refusal::new(Error::Invalid, "too-many-scopes"),
        TicketError::Malformed => Refusal::new(Error::Invalid, "ticket-malformed"),
        TicketError::RevocationsFull => Refusal::new(Error::Busy, "revocations-full"),
    }
}

impl Hive {
    /// Audits a session the core closed (revocation, deadline) by session number and owner.
    pub fn audit_session_close(&mut self, now_ms: u64, session: &str, who: &str, reason: &str) {
        self.audit.record(
            now_ms,
            "session-close",
            &[("session", session), ("who", who), ("reason", reason)],
        );
    }
}
