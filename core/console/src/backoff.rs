//! Attach back-off: every failed attach doubles the wait before the next attempt is heard
//! (`base_ms × 2^n`, capped at `cap_ms`); a success resets it. Attempts inside the wait are
//! refused without reaching ticket verification, so guessing tickets costs real time.

use manifest::ConsoleLimits;

/// Exponential back-off state for one console session: the wait the hive imposes on a client
/// whose attach failed (no jitter: the hive decides, deterministically). Not to be confused
/// with `worker::ReconnectBackoff`, the pacing an agent applies to its own reconnects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachBackoff {
    base_ms: u64,
    cap_ms: u64,
    failures: u32,
    not_before_ms: u64,
}

impl AttachBackoff {
    pub fn new(base_ms: u64, cap_ms: u64) -> Self {
        Self {
            base_ms,
            cap_ms,
            failures: 0,
            not_before_ms: 0,
        }
    }

    /// Base and cap from the manifest's `console` section.
    pub fn from_limits(limits: &ConsoleLimits) -> Self {
        Self::new(
            u64::from(limits.backoff_base_ms),
            u64::from(limits.backoff_cap_ms),
        )
    }

    /// The wait imposed after `failures` consecutive failures (1 → base, 2 → 2×base, ...).
    pub fn delay_after(&self, failures: u32) -> u64 {
        let Some(doublings) = failures.checked_sub(1) else {
            return 0;
        };
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor).min(self.cap_ms)
    }

    /// `Err(remaining_ms)` while an earlier failure's wait is still running.
    pub fn check(&self, now_ms: u64) -> Result<(), u64> {
        match self.remaining(now_ms) {
            0 => Ok(()),
            remaining => Err(remaining),
        }
    }

    /// Milliseconds left before another attempt is heard.
    pub fn remaining(&self, now_ms: u64) -> u64 {
        self.not_before_ms.saturating_sub(now_ms)
    }

    /// Records a failed attempt and returns the wait it imposes.
    pub fn record_failure(&mut self, now_ms: u64) -> u64 {
        self.failures = self.failures.saturating_add(1);
        let delay = self.delay_after(self.failures);
        self.not_before_ms = now_ms.saturating_add(delay);
        delay
    }

    /// Clears the history after a successful attach.
    pub fn reset(&mut self) {
        self.failures = 0;
        self.not_before_ms = 0;
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}
