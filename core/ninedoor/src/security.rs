//! `/log/security.log` and `/proc/pressure/exhausted`: what hostile or broken peers did before
//! they authenticated, kept apart from `/log/queen.log`.
//!
//! Refusals of unauthenticated peers (bad `AUTH`, connection limits, back-off) land here, in
//! their own bounded ring, so a flood of them can never evict the queen's audit lines. The
//! first refusal of a kind from one source is written at once; the repeats within
//! `guard.aggregate_ms` are counted and written as one `ev=deny-repeated ... count=<n>` line
//! when the window closes. The log lives in memory only: it is not journaled, so a flood
//! costs no store writes (a restart starts it empty).

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt::Write;
use hive::{AuditLog, RingRead};
use manifest::GuardLimits;
use secure9p::Error;

/// What the hive had to refuse or spend for lack of room, for `/proc/pressure/exhausted`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exhausted {
    /// Accepts that found no file descriptor or socket (reported by the HAL).
    pub fds: u64,
    /// True while the HAL's accepts back off after running out.
    pub fds_backing_off: bool,
    /// Console connections admitted on the descriptor kept for the queen.
    pub console_reserve: u64,
    /// Unauthenticated connections closed because that budget was full.
    pub unauth: u64,
    /// Connections refused over the per-peer limit.
    pub peer: u64,
    /// Console connections refused because every slot was taken.
    pub console: u64,
    /// `AUTH` attempts refused unheard while their source was backing off.
    pub auth_delay: u64,
    /// Connections paused now because their peers do not read replies.
    pub paused: u64,
}

impl Exhausted {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "fds={}", self.fds);
        let _ = writeln!(out, "fds_backing_off={}", u8::from(self.fds_backing_off));
        let _ = writeln!(out, "console_reserve={}", self.console_reserve);
        let _ = writeln!(out, "unauth={}", self.unauth);
        let _ = writeln!(out, "peer={}", self.peer);
        let _ = writeln!(out, "console={}", self.console);
        let _ = writeln!(out, "auth_delay={}", self.auth_delay);
        let _ = writeln!(out, "paused={}", self.paused);
        out
    }
}

/// A refusal kind from one source: (source, verb, detail).
type Key = (String, String, String);

#[derive(Debug, Clone)]
struct Repeat {
    first_ms: u64,
    reason: &'static str,
    /// Refusals after the first, not yet written.
    count: u64,
}

/// The security ring plus the aggregation table in front of it.
#[derive(Debug, Clone)]
pub struct SecurityLog {
    log: AuditLog,
    window_ms: u64,
    keys_max: usize,
    pending: BTreeMap<Key, Repeat>,
    /// Refusals ever recorded, aggregated or not (the pump tells from it whether a peer's
    /// attempt failed).
    refusals: u64,
    pub exhausted: Exhausted,
}

impl SecurityLog {
    pub fn new(limits: &GuardLimits) -> Self {
        Self {
            log: AuditLog::new(limits.security_log_bytes as usize),
            window_ms: u64::from(limits.aggregate_ms),
            keys_max: limits.sources_max as usize,
            pending: BTreeMap::new(),
            refusals: 0,
            exhausted: Exhausted::default(),
        }
    }

    /// One refusal of `source` (an address, never a claimed name).
    pub fn refused(&mut self, now_ms: u64, source: &str, verb: &str, error: Error, detail: &str) {
        self.refusals += 1;
        let key: Key = (
            String::from(source),
            String::from(verb),
            String::from(detail),
        );
        if let Some(repeat) = self.pending.get_mut(&key) {
            repeat.count += 1;
            return;
        }
        if self.pending.len() >= self.keys_max {
            self.flush_oldest();
        }
        self.write(now_ms, &key, error.reason(), None);
        let repeat = Repeat {
            first_ms: now_ms,
            reason: error.reason(),
            count: 0,
        };
        self.pending.insert(key, repeat);
    }

    /// Writes the count of every window that has closed. Cost: one pass over at most
    /// `guard.sources_max` entries.
    pub fn tick(&mut self, now_ms: u64) {
        if self.pending.is_empty() {
            return;
        }
        let window = self.window_ms;
        let closed: alloc::vec::Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, r)| now_ms.saturating_sub(r.first_ms) >= window)
            .map(|(k, _)| k.clone())
            .collect();
        for key in closed {
            if let Some(repeat) = self.pending.remove(&key) {
                self.write_repeats(now_ms, &key, &repeat);
            }
        }
    }

    fn flush_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, r)| r.first_ms)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            if let Some(repeat) = self.pending.remove(&key) {
                let at = repeat.first_ms.saturating_add(self.window_ms);
                self.write_repeats(at, &key, &repeat);
            }
        }
    }

    fn write_repeats(&mut self, now_ms: u64, key: &Key, repeat: &Repeat) {
        if repeat.count > 0 {
            let count = alloc::format!("{}", repeat.count);
            self.write(now_ms, key, repeat.reason, Some(&count));
        }
    }

    fn write(&mut self, now_ms: u64, key: &Key, reason: &str, count: Option<&str>) {
        let (source, verb, detail) = key;
        let mut fields = alloc::vec![
            ("who", source.as_str()),
            ("verb", verb.as_str()),
            ("reason", reason),
            ("detail", detail.as_str()),
        ];
        let event = match count {
            Some(count) => {
                fields.push(("count", count));
                "deny-repeated"
            }
            None => "deny",
        };
        self.log.record(now_ms, event, &fields);
    }

    pub fn read(&self, cursor: u64, max: usize) -> RingRead {
        self.log.read(cursor, max)
    }

    /// Lines written so far (aggregated repeats count once).
    /// Refusals recorded so far, each repeat counted.
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    pub fn lines(&self) -> u64 {
        self.log.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(log: &SecurityLog) -> String {
        String::from_utf8(log.read(0, 1 << 20).data).unwrap()
    }

    #[test]
    fn repeats_become_one_line_with_a_count() {
        let mut log = SecurityLog::new(&GuardLimits::default());
        for t in 0..500 {
            log.refused(t, "10.0.0.9", "AUTH", Error::Perm, "invalid-token");
        }
        log.refused(10, "10.0.0.8", "AUTH", Error::Perm, "invalid-token");
        log.tick(999);
        assert_eq!(log.lines(), 2, "window still open");
        log.tick(1000);
        let text = text(&log);
        assert_eq!(log.lines(), 3, "{text}");
        assert!(text.contains("ev=deny-repeated who=10.0.0.9 verb=AUTH reason=policy detail=invalid-token count=499"), "{text}");
        log.tick(2000);
        assert_eq!(log.lines(), 3, "a single refusal needs no count line");
        assert!(log.exhausted.render().contains("fds=0\n"));
    }

    #[test]
    fn a_full_table_flushes_its_oldest_entry() {
        let limits = GuardLimits {
            sources_max: 16,
            ..GuardLimits::default()
        };
        let mut log = SecurityLog::new(&limits);
        for source in 0..64u32 {
            let who = alloc::format!("10.0.1.{source}");
            log.refused(0, &who, "connect", Error::Busy, "per-peer");
            log.refused(0, &who, "connect", Error::Busy, "per-peer");
        }
        assert!(log.pending.len() <= 16);
        assert_eq!(log.lines(), 64 + 48);
    }
}
