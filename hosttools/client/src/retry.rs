//! Bounded retries that the caller asks for explicitly. No client call retries by itself: a
//! refusal is information (docs/interfaces.md §1.3: failure is handled by revoking authority,
//! never by silent retries), so only transient failures are retried, and only as often as the
//! policy says.

use std::thread;
use std::time::Duration;

use crate::error::ClientError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each one after it.
    pub backoff: Duration,
    /// Longest single wait.
    pub backoff_max: Duration,
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub const NONE: RetryPolicy = RetryPolicy {
        attempts: 1,
        backoff: Duration::ZERO,
        backoff_max: Duration::ZERO,
    };

    pub fn new(attempts: u32, backoff: Duration) -> Self {
        Self {
            attempts: attempts.max(1),
            backoff,
            backoff_max: Duration::from_secs(64),
        }
    }

    /// The wait after failed attempt `n` (1-based): the policy's back-off, or longer if the
    /// hive asked for it (`delay_ms=`).
    pub fn delay(&self, n: u32, error: &ClientError) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        let ours = self.backoff.saturating_mul(factor).min(self.backoff_max);
        error.retry_after().map_or(ours, |asked| asked.max(ours))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::NONE
    }
}

/// Runs `op` (given the 1-based attempt number) until it succeeds, fails with a non-transient
/// error, or the policy's attempts are spent; returns the last result.
pub fn retry<T>(
    policy: &RetryPolicy,
    mut op: impl FnMut(u32) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut attempt = 1;
    loop {
        match op(attempt) {
            Err(e) if e.is_transient() && attempt < policy.attempts => {
                thread::sleep(policy.delay(attempt, &e));
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Refusal;
    use secure9p::Error as Class;

    #[test]
    fn retries_transient_failures_only_as_often_as_asked() {
        let policy = RetryPolicy::new(3, Duration::ZERO);
        let mut calls = 0;
        let result: Result<(), _> = retry(&policy, |_| {
            calls += 1;
            Err(ClientError::Refused(Refusal::ninep("attach", Class::Busy)))
        });
        assert!(result.is_err());
        assert_eq!(calls, 3);

        let mut calls = 0;
        let result: Result<(), _> = retry(&policy, |_| {
            calls += 1;
            Err(ClientError::Refused(Refusal::ninep("attach", Class::Perm)))
        });
        assert_eq!(result.unwrap_err().errno(), Some(1));
        assert_eq!(calls, 1, "a refusal is not retried");

        let ok = retry(&policy, |n| {
            if n < 2 {
                Err(ClientError::Timeout { op: "reply" })
            } else {
                Ok(n)
            }
        });
        assert_eq!(ok.unwrap(), 2);
    }

    #[test]
    fn delay_doubles_and_honours_the_hive() {
        let policy = RetryPolicy::new(5, Duration::from_millis(100));
        let timeout = ClientError::Timeout { op: "reply" };
        assert_eq!(policy.delay(1, &timeout), Duration::from_millis(100));
        assert_eq!(policy.delay(3, &timeout), Duration::from_millis(400));
        let backoff = ClientError::Refused(Refusal::console(
            "ATTACH",
            "quota",
            Some("backoff"),
            vec![("delay_ms".into(), "2000".into())],
        ));
        assert_eq!(policy.delay(1, &backoff), Duration::from_millis(2000));
    }
}
