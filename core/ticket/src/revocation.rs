//! Revoked ticket ids, remembered until the ticket would have expired anyway.

use alloc::collections::BTreeMap;

use crate::claims::Claims;
use crate::error::TicketError;

/// A bounded set of revoked ticket ids, each kept until its ticket's `expires_at_ms`; after that
/// verification refuses the ticket as expired, so the entry can be purged.
#[derive(Debug, Clone)]
pub struct RevocationSet {
    entries: BTreeMap<u64, u64>,
    capacity: usize,
    /// No entry lapses before this: `purge` is called every hive turn and must cost nothing
    /// until something is due.
    earliest: u64,
}

impl RevocationSet {
    pub fn new(capacity: usize) -> Self {
        RevocationSet {
            entries: BTreeMap::new(),
            capacity,
            earliest: u64::MAX,
        }
    }

    /// Revokes `ticket_id` until `expires_at_ms`. Revoking an id again keeps the later expiry.
    /// When the set is full, lapsed entries are purged first; if it is still full the
    /// revocation is refused with `RevocationsFull` and nothing changes.
    pub fn revoke(
        &mut self,
        ticket_id: u64,
        expires_at_ms: u64,
        now_ms: u64,
    ) -> Result<(), TicketError> {
        if let Some(existing) = self.entries.get_mut(&ticket_id) {
            *existing = (*existing).max(expires_at_ms);
            return Ok(());
        }
        if self.entries.len() >= self.capacity {
            self.purge(now_ms);
        }
        if self.entries.len() >= self.capacity {
            return Err(TicketError::RevocationsFull);
        }
        self.entries.insert(ticket_id, expires_at_ms);
        self.earliest = self.earliest.min(expires_at_ms);
        Ok(())
    }

    /// Every remembered `(ticket_id, expires_at_ms)`, in ticket order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.entries.iter().map(|(t, e)| (*t, *e))
    }

    pub fn is_revoked(&self, ticket_id: u64) -> bool {
        self.entries.contains_key(&ticket_id)
    }

    /// `Err(Revoked)` when the claims' ticket has been revoked.
    pub fn check(&self, claims: &Claims) -> Result<(), TicketError> {
        if self.is_revoked(claims.ticket_id) {
            Err(TicketError::Revoked)
        } else {
            Ok(())
        }
    }

    /// Forgets entries whose tickets have expired by `now_ms`; returns how many were dropped.
    pub fn purge(&mut self, now_ms: u64) -> usize {
        if now_ms < self.earliest {
            return 0;
        }
        let before = self.entries.len();
        self.entries
            .retain(|_, expires_at_ms| *expires_at_ms > now_ms);
        self.earliest = self.entries.values().copied().min().unwrap_or(u64::MAX);
        before - self.entries.len()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
