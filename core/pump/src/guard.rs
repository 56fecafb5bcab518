//! Admission of connections that have not authenticated yet (manifest `[guard]`).
//!
//! Three rules keep a flood of hostile peers from locking anyone out:
//! - **Per-peer limit.** One source address may hold `guard.per_peer_max` unauthenticated
//!   connections at once; more are refused at accept. (Authenticated connections carry a
//!   ticket and are bounded by `sessions.max` and the ticket's budget: a site host or a hosted
//!   hive's agents legitimately hold thousands from one address.)
//! - **Unauthenticated budget.** At most `guard.unauth_max` connections may be waiting to
//!   authenticate, both ports together. A newcomer past it closes the *oldest* waiting
//!   connection instead of being refused, so idle floods only shorten each other's wait and a
//!   legitimate client that authenticates promptly always gets in.
//! - **AUTH back-off per source.** A failed console `AUTH` makes that source's next attempt
//!   wait `auth_delay_base_ms × 2^(n-1)` (capped); attempts inside the wait are refused
//!   unheard. A success resets it, and a source quiet for the cap is forgotten.
//!
//! Every table is bounded by the manifest and keyed by `BTreeMap`, so the bookkeeping is
//! deterministic; time is the HAL clock the pump passes in.

use alloc::collections::BTreeMap;
use hal::{ConnId, PeerAddr};
use manifest::GuardLimits;

/// A source address as the guard counts it (the port is not part of it).
pub(crate) type Source = [u8; 4];

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    not_before_ms: u64,
    last_ms: u64,
}

/// Why a new connection was not admitted as it stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Admit,
    /// Over the per-peer limit: refuse the newcomer.
    PerPeer,
}

pub(crate) struct Guard {
    limits: GuardLimits,
    per_peer: BTreeMap<Source, u32>,
    /// Waiting to authenticate, oldest first: admission sequence → connection.
    unauth: BTreeMap<u64, ConnId>,
    unauth_seq: BTreeMap<ConnId, (u64, Option<Source>)>,
    next_seq: u64,
    sources: BTreeMap<Source, Failures>,
}

pub(crate) fn source_of(peer: Option<PeerAddr>) -> Option<Source> {
    peer.map(|p| p.ip)
}

/// `a.b.c.d`, how a source appears in security lines.
pub(crate) fn source_text(source: Option<Source>) -> alloc::string::String {
    match source {
        Some([a, b, c, d]) => alloc::format!("{a}.{b}.{c}.{d}"),
        None => alloc::string::String::from("unknown"),
    }
}

impl Guard {
    pub(crate) fn new(limits: &GuardLimits) -> Self {
        Self {
            limits: limits.clone(),
            per_peer: BTreeMap::new(),
            unauth: BTreeMap::new(),
            unauth_seq: BTreeMap::new(),
            next_seq: 0,
            sources: BTreeMap::new(),
        }
    }

    /// May a new connection from `source` be admitted?
    pub(crate) fn check_peer(&self, source: Option<Source>) -> Admission {
        let held = source.and_then(|s| self.per_peer.get(&s)).copied();
        if held.unwrap_or(0) >= self.limits.per_peer_max {
            Admission::PerPeer
        } else {
            Admission::Admit
        }
    }

    /// The connection to close when the unauthenticated budget is full: the oldest waiting
    /// one of the source holding the most, so a flood from a few addresses only ever
    /// evicts itself and a lone operator's connection is the last to go.
    pub(crate) fn unauth_victim(&self) -> Option<ConnId> {
        if self.unauth.len() < self.limits.unauth_max as usize {
            return None;
        }
        self.oldest_of(self.unauth.values().copied())
    }

    /// Among `candidates` that are waiting, the oldest of the source with the most of them.
    pub(crate) fn oldest_of(&self, candidates: impl Iterator<Item = ConnId>) -> Option<ConnId> {
        let waiting: alloc::vec::Vec<(u64, Option<Source>, ConnId)> = candidates
            .filter_map(|c| self.unauth_seq.get(&c).map(|(seq, src)| (*seq, *src, c)))
            .collect();
        let mut counts: BTreeMap<Option<Source>, usize> = BTreeMap::new();
        for (_, src, _) in &waiting {
            *counts.entry(*src).or_insert(0) += 1;
        }
        // Among sources holding equally many, the oldest connection goes (a newcomer that
        // authenticates promptly is never the one evicted).
        let most = counts.values().copied().max()?;
        waiting
            .iter()
            .filter(|(_, src, _)| counts.get(src) == Some(&most))
            .min_by_key(|(seq, _, _)| *seq)
            .map(|(_, _, c)| *c)
    }

    /// A connection was admitted: it waits to authenticate, counted for its peer.
    pub(crate) fn admitted(&mut self, conn: ConnId, source: Option<Source>) {
        if let Some(s) = source {
            *self.per_peer.entry(s).or_insert(0) += 1;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.unauth.insert(seq, conn);
        self.unauth_seq.insert(conn, (seq, source));
    }

    pub(crate) fn is_waiting(&self, conn: ConnId) -> bool {
        self.unauth_seq.contains_key(&conn)
    }

    /// Unauthenticated connections now.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.unauth.len()
    }

    /// The connection authenticated (or is gone): it leaves the unauthenticated budget and
    /// its peer's count.
    pub(crate) fn authenticated(&mut self, conn: ConnId) {
        let Some((seq, source)) = self.unauth_seq.remove(&conn) else {
            return;
        };
        self.unauth.remove(&seq);
        if let Some(s) = source {
            if let Some(n) = self.per_peer.get_mut(&s) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_peer.remove(&s);
                }
            }
        }
    }

    /// The connection is gone.
    pub(crate) fn closed(&mut self, conn: ConnId) {
        self.authenticated(conn);
    }

    /// `Some(remaining_ms)` while `source` must wait before its next `AUTH` is heard.
    pub(crate) fn auth_delay(&self, source: Option<Source>, now_ms: u64) -> Option<u64> {
        let f = self.sources.get(&source?)?;
        let remaining = f.not_before_ms.saturating_sub(now_ms);
        (remaining > 0).then_some(remaining)
    }

    /// A failed `AUTH` from `source`: returns the wait it imposes.
    pub(crate) fn auth_failed(&mut self, source: Option<Source>, now_ms: u64) -> u64 {
        let Some(source) = source else {
            return 0;
        };
        self.forget_quiet(now_ms);
        if !self.sources.contains_key(&source)
            && self.sources.len() >= self.limits.sources_max as usize
        {
            // Full: forget the source that failed longest ago (deterministic: ties go to the
            // lowest address).
            let quietest = self
                .sources
                .iter()
                .min_by_key(|(s, f)| (f.last_ms, **s))
                .map(|(s, _)| *s);
            if let Some(s) = quietest {
                self.sources.remove(&s);
            }
        }
        let entry = self.sources.entry(source).or_insert(Failures {
            count: 0,
            not_before_ms: 0,
            last_ms: now_ms,
        });
        entry.count = entry.count.saturating_add(1);
        let doublings = entry.count.saturating_sub(1).min(40);
        let delay = u64::from(self.limits.auth_delay_base_ms)
            .saturating_mul(1u64 << doublings)
            .min(u64::from(self.limits.auth_delay_cap_ms));
        entry.not_before_ms = now_ms.saturating_add(delay);
        entry.last_ms = now_ms;
        delay
    }

    /// A successful `AUTH` from `source` clears its history.
    pub(crate) fn auth_ok(&mut self, source: Option<Source>) {
        if let Some(s) = source {
            self.sources.remove(&s);
        }
    }

    /// Forgets sources that have been quiet for the whole cap (their wait has long passed).
    fn forget_quiet(&mut self, now_ms: u64) {
        let cap = u64::from(self.limits.auth_delay_cap_ms);
        if self.sources.len() < self.limits.sources_max as usize {
            return;
        }
        self.sources
            .retain(|_, f| now_ms.saturating_sub(f.last_ms) < cap.saturating_mul(2));
    }

    /// Sources currently remembered for AUTH back-off.
    #[cfg(test)]
    pub(crate) fn sources(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> GuardLimits {
        GuardLimits {
            unauth_max: 2,
            per_peer_max: 2,
            sources_max: 16,
            ..GuardLimits::default()
        }
    }

    #[test]
    fn per_peer_and_unauth_budgets() {
        let mut g = Guard::new(&limits());
        let a = Some([10, 0, 0, 1]);
        assert_eq!(g.check_peer(a), Admission::Admit);
        g.admitted(1, a);
        g.admitted(2, a);
        assert_eq!(g.check_peer(a), Admission::PerPeer);
        assert_eq!(g.check_peer(Some([10, 0, 0, 2])), Admission::Admit);
        assert_eq!(g.unauth_victim(), Some(1), "oldest yields");
        g.admitted(3, Some([10, 0, 0, 2]));
        assert_eq!(
            g.unauth_victim(),
            Some(1),
            "from the source holding the most"
        );
        g.authenticated(1);
        assert_eq!(g.waiting(), 2);
        g.authenticated(3);
        assert_eq!(g.unauth_victim(), None);
        assert_eq!(
            g.check_peer(a),
            Admission::Admit,
            "authenticated: no longer counted"
        );
        g.closed(1);
        g.closed(2);
        g.closed(3);
        assert_eq!(g.check_peer(a), Admission::Admit);
        assert!(g.per_peer.is_empty());
    }

    #[test]
    fn auth_failures_back_off_per_source_and_reset() {
        let mut g = Guard::new(&limits());
        let a = Some([10, 0, 0, 1]);
        assert_eq!(g.auth_failed(a, 0), 100);
        assert_eq!(g.auth_delay(a, 50), Some(50));
        assert_eq!(g.auth_delay(Some([10, 0, 0, 2]), 50), None);
        assert_eq!(g.auth_failed(a, 100), 200);
        assert_eq!(g.auth_failed(a, 300), 400);
        for t in 0..20 {
            g.auth_failed(a, 1000 + t);
        }
        assert_eq!(g.auth_delay(a, 1019), Some(30_000), "capped");
        g.auth_ok(a);
        assert_eq!(g.auth_delay(a, 1020), None);
        for i in 0..64u8 {
            g.auth_failed(Some([10, 0, 1, i]), u64::from(i));
        }
        assert!(g.sources() <= 16);
    }
}
