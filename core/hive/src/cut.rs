//! Cuts (docs/interfaces.md §10.4): a worker that cannot reach its Queen within the heartbeat
//! deadline marks itself unreachable and exercises no authority. When several causes hold at
//! once, the reported reason is the highest in a fixed priority order.

use core::fmt;

/// Why a node is cut off from its authority, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CutReason {
    LifecycleOffline,
    SessionRevoked,
    PolicyDenied,
    NetworkUnreachable,
}

impl CutReason {
    pub const ALL: [CutReason; 4] = [
        CutReason::LifecycleOffline,
        CutReason::SessionRevoked,
        CutReason::PolicyDenied,
        CutReason::NetworkUnreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CutReason::LifecycleOffline => "lifecycle_offline",
            CutReason::SessionRevoked => "session_revoked",
            CutReason::PolicyDenied => "policy_denied",
            CutReason::NetworkUnreachable => "network_unreachable",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for CutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A worker's view of its Queen (`/proc/root/{reachable,last_seen_ms,cut_reason}`): fed with
/// what the worker observes, it answers whether the worker may still act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootView {
    deadline_ms: u64,
    last_seen_ms: u64,
    causes: u8,
}

impl RootView {
    /// A view that last heard from the Queen at `now_ms`.
    pub fn new(deadline_ms: u64, now_ms: u64) -> Self {
        Self {
            deadline_ms,
            last_seen_ms: now_ms,
            causes: 0,
        }
    }

    /// A reply arrived from the Queen: the network cause clears.
    pub fn heard(&mut self, now_ms: u64) {
        self.last_seen_ms = now_ms;
        self.causes &= !CutReason::NetworkUnreachable.bit();
    }

    /// A cause was observed (a revocation, a policy refusal, the node going offline).
    pub fn cut(&mut self, reason: CutReason) {
        self.causes |= reason.bit();
    }

    /// A cause no longer holds (a fresh ticket after revocation, lifecycle back online).
    pub fn clear(&mut self, reason: CutReason) {
        self.causes &= !reason.bit();
    }

    pub fn last_seen_ms(&self) -> u64 {
        self.last_seen_ms
    }

    /// The highest-priority cause in force at `now_ms`, if any.
    pub fn cut_reason(&self, now_ms: u64) -> Option<CutReason> {
        let silent = now_ms.saturating_sub(self.last_seen_ms) > self.deadline_ms;
        CutReason::ALL
            .into_iter()
            .find(|r| self.causes & r.bit() != 0 || (silent && *r == CutReason::NetworkUnreachable))
    }

    /// Whether the worker may exercise authority: only while nothing cuts it off.
    pub fn reachable(&self, now_ms: u64) -> bool {
        self.cut_reason(now_ms).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_past_the_deadline_cuts_and_a_reply_heals() {
        let mut view = RootView::new(15_000, 0);
        assert!(view.reachable(15_000));
        assert_eq!(view.cut_reason(15_001), Some(CutReason::NetworkUnreachable));
        view.heard(15_002);
        assert!(view.reachable(15_002));
    }

    #[test]
    fn the_highest_priority_cause_is_reported() {
        let mut view = RootView::new(1_000, 0);
        view.cut(CutReason::PolicyDenied);
        assert_eq!(view.cut_reason(5_000), Some(CutReason::PolicyDenied));
        view.cut(CutReason::SessionRevoked);
        assert_eq!(view.cut_reason(5_000), Some(CutReason::SessionRevoked));
        view.cut(CutReason::LifecycleOffline);
        assert_eq!(view.cut_reason(5_000), Some(CutReason::LifecycleOffline));
        view.clear(CutReason::LifecycleOffline);
        view.clear(CutReason::SessionRevoked);
        view.clear(CutReason::PolicyDenied);
        assert_eq!(view.cut_reason(5_000), Some(CutReason::NetworkUnreachable));
        assert_eq!(CutReason::LifecycleOffline.as_str(), "lifecycle_offline");
    }
}
