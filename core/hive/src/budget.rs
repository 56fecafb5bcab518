//! Budgets and revocation: ticks, ops and TTL are spent, never exceeded; running out revokes
//! the ticket and every session holding it closes at once.

use crate::durable::Entry;
use crate::registry::RegistryState;
use crate::wake::meter_at;
use crate::{Event, Hive, Refusal};
use alloc::string::String;
use secure9p::Error;

impl Hive {
    /// Charges one operation to the ticket behind a session. `Err(Closed)` means the ticket
    /// is (now) revoked and the session must close.
    pub fn charge_op(&mut self, ticket_id: u64, now_ms: u64) -> Result<(), Error> {
        if self.revoked.is_revoked(ticket_id) {
            return Err(Error::Closed);
        }
        let Some(worker) = self.registry.by_ticket_mut(ticket_id) else {
            return self.charge_operator_op(ticket_id, now_ms);
        };
        let before = meter_at(worker, self.tick_count);
        if worker.meter.charge_op(&worker.budget).is_ok() {
            let after = meter_at(worker, self.tick_count);
            self.meter_mark(ticket_id, before, after);
            return Ok(());
        }
        // Only the refusal path needs the id as an owned value.
        let id = worker.id.clone();
        self.revoke_worker(&id, "budget-ops", now_ms);
        Err(Error::Closed)
    }

    /// Charges one operation to a ticket minted outside the hive; running out revokes it.
    fn charge_operator_op(&mut self, ticket_id: u64, now_ms: u64) -> Result<(), Error> {
        self.charge_operator(ticket_id, now_ms, |meter, budget| meter.charge_op(budget))
    }

    /// Charges the bytes an operator ticket writes (workers pay for telemetry records where
    /// they are stored); running out revokes it. `Err(Closed)`: the session must close.
    pub fn charge_written_bytes(
        &mut self,
        ticket_id: u64,
        bytes: usize,
        now_ms: u64,
    ) -> Result<(), Error> {
        if self.revoked.is_revoked(ticket_id) {
            return Err(Error::Closed);
        }
        if self.registry.by_ticket(ticket_id).is_some() {
            return Ok(());
        }
        self.charge_operator(ticket_id, now_ms, |meter, budget| {
            meter.charge_bytes(budget, bytes as u64)
        })
    }

    fn charge_operator(
        &mut self,
        ticket_id: u64,
        now_ms: u64,
        charge: impl FnOnce(&mut ticket::Meter, &ticket::Budget) -> Result<(), ticket::BudgetKind>,
    ) -> Result<(), Error> {
        let Some(meter) = self.external.get_mut(&ticket_id) else {
            // The serial queen holds no ticket; every ticketed session was metered at attach.
            return Ok(());
        };
        let before = meter.meter;
        match charge(&mut meter.meter, &meter.budget) {
            Ok(()) => {
                let after = meter.meter;
                self.meter_mark(ticket_id, before, after);
                Ok(())
            }
            Err(kind) => {
                let expires_at_ms = meter.expires_at_ms;
                if self
                    .revoke_ticket(ticket_id, expires_at_ms, kind.reason(), now_ms)
                    .is_err()
                {
                    self.closing.push(ticket_id);
                }
                Err(Error::Closed)
            }
        }
    }

    /// Revokes a worker whose spending has reached a lowered budget.
    pub(crate) fn enforce_budget(&mut self, id: &str, now_ms: u64) {
        let Some(worker) = self.registry.get(id) else {
            return;
        };
        let meter = meter_at(worker, self.tick_count);
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|l| used > l);
        let reason = if over(worker.budget.ops, meter.ops) {
            Some("budget-ops")
        } else if over(worker.budget.ticks, meter.ticks) {
            Some("budget-ticks")
        } else if worker.expires_at_ms <= now_ms {
            Some("ttl")
        } else {
            None
        };
        if let Some(reason) = reason {
            self.revoke_worker(id, reason, now_ms);
        }
    }

    /// Removes a worker and revokes its ticket; its sessions are listed for closing.
    pub fn revoke_worker(&mut self, id: &str, reason: &'static str, now_ms: u64) {
        let Some(worker) = self.registry.remove(id) else {
            return;
        };
        // Worker tickets are also refused because the registry no longer holds them, so a
        // full revocation set cannot let one back in; it only shortens what is remembered.
        let _ = self
            .revoked
            .revoke(worker.ticket_id, worker.expires_at_ms, now_ms);
        self.journal(Entry::Revoke {
            ticket: worker.ticket_id,
            expires_at_ms: worker.expires_at_ms,
            worker: Some(worker.id.clone()),
            reason: String::from(reason),
        });
        self.closing.push(worker.ticket_id);
        let tid = alloc::format!("{}", worker.ticket_id);
        self.audit.record(
            now_ms,
            "revoke",
            &[("id", id), ("ticket", &tid), ("reason", reason)],
        );
        // A revoked worker's leases and queued requests go with it.
        self.gpu_holder_gone(id, now_ms);
        self.emit(Event::Revoked {
            id: worker.id,
            ticket_id: worker.ticket_id,
            reason,
        });
    }

    /// Revokes a ticket minted outside the hive (operator, relay).
    pub fn revoke_ticket(
        &mut self,
        ticket_id: u64,
        expires_at_ms: u64,
        reason: &'static str,
        now_ms: u64,
    ) -> Result<(), Refusal> {
        if let Some(id) = self.registry.id_of_ticket(ticket_id).map(String::from) {
            self.revoke_worker(&id, reason, now_ms);
            return Ok(());
        }
        self.revoked
            .revoke(ticket_id, expires_at_ms, now_ms)
            .map_err(|_| Refusal::new(Error::Busy, "revocations-full"))?;
        self.journal(Entry::Revoke {
            ticket: ticket_id,
            expires_at_ms,
            worker: None,
            reason: String::from(reason),
        });
        self.external.remove(&ticket_id);
        self.closing.push(ticket_id);
        let tid = alloc::format!("{ticket_id}");
        self.audit
            .record(now_ms, "revoke", &[("ticket", &tid), ("reason", reason)]);
        Ok(())
    }

    pub(crate) fn set_worker_state(
        &mut self,
        id: &str,
        state: RegistryState,
        reason: &'static str,
        now_ms: u64,
    ) {
        let Some(worker) = self.registry.get_mut(id) else {
            return;
        };
        if worker.state == state {
            return;
        }
        // Ticks are charged only while ONLINE: settle what was spent so far before the state
        // changes, then requeue the worker for the deadlines of its new state.
        worker.meter = meter_at(worker, self.tick_count);
        worker.ticks_from = self.tick_count;
        worker.state = state;
        worker.state_reason = reason;
        let ticket = worker.ticket_id;
        self.schedule(ticket);
        self.audit.record(
            now_ms,
            "worker",
            &[("id", id), ("state", state.as_str()), ("reason", reason)],
        );
        let id = String::from(id);
        self.emit(match state {
            RegistryState::Online => Event::WorkerOnline { id },
            _ => Event::WorkerOffline { id, reason },
        });
    }
}
