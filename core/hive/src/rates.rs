//! Per-scope request rates (docs/interfaces.md §5.5): a scope with a nonzero `rate_per_s`
//! is a token bucket the hive keeps per ticket and scope, so every role's rate is enforced in
//! one place, whichever port its requests arrive on.
//!
//! Buckets are not journaled: a restarted hive starts them full, which grants at most one
//! second's burst the ticket was already entitled to, never more than its rate allows over
//! any longer window.

use crate::{Hive, Refusal};
use alloc::collections::BTreeMap;
use secure9p::Error;
use ticket::RateLimiter;

/// Buckets by (ticket id, scope index), bounded by `sessions.max * ticket.scopes_max`.
#[derive(Debug, Default)]
pub(crate) struct ScopeRates {
    buckets: BTreeMap<(u64, u8), RateLimiter>,
}

impl Hive {
    /// Takes one request from scope `scope` of ticket `ticket_id`, whose rate is `rate_per_s`
    /// (0 = unlimited). `Err(Busy)` refuses the request without closing the session; the
    /// refusal is audited.
    pub fn charge_rate(
        &mut self,
        ticket_id: u64,
        scope: u8,
        rate_per_s: u32,
        who: &str,
        now_ms: u64,
    ) -> Result<(), Error> {
        if rate_per_s == 0 {
            return Ok(());
        }
        let limit = (self.manifest.sessions.max as usize)
            .saturating_mul(self.manifest.ticket.scopes_max as usize);
        let key = (ticket_id, scope);
        if !self.rates.buckets.contains_key(&key) && self.rates.buckets.len() >= limit {
            self.forget_dead_rates();
            if self.rates.buckets.len() >= limit {
                self.refused(
                    now_ms,
                    who,
                    "access",
                    Refusal::new(Error::Busy, "rates-full"),
                );
                return Err(Error::Busy);
            }
        }
        let bucket = self
            .rates
            .buckets
            .entry(key)
            .or_insert_with(|| RateLimiter::new(rate_per_s));
        if bucket.allow(now_ms) {
            return Ok(());
        }
        self.refused(now_ms, who, "access", Refusal::new(Error::Busy, "rate"));
        Err(Error::Busy)
    }

    /// Drops the buckets of tickets that can no longer attach (revoked, expired, forgotten).
    fn forget_dead_rates(&mut self) {
        let registry = &self.registry;
        let external = &self.external;
        let revoked = &self.revoked;
        self.rates.buckets.retain(|(ticket, _), _| {
            !revoked.is_revoked(*ticket)
                && (registry.by_ticket(*ticket).is_some() || external.contains_key(ticket))
        });
    }
}
