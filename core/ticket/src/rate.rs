//! A per-scope request rate limit: a token bucket kept in integer milli-tokens so it is exact
//! and deterministic under virtual time.

/// Milli-tokens one request costs.
const COST: u64 = 1000;

/// Token bucket holding up to `rate_per_s` requests (the burst) and refilling `rate_per_s`
/// per second. A bucket starts full. Rate 0 means unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimiter {
    rate_per_s: u32,
    /// Milli-tokens available; at most `rate_per_s * 1000`.
    level: u64,
    /// Time of the last refill; `None` until the first request.
    last_ms: Option<u64>,
}

impl RateLimiter {
    pub fn new(rate_per_s: u32) -> Self {
        RateLimiter {
            rate_per_s,
            level: u64::from(rate_per_s) * COST,
            last_ms: None,
        }
    }

    pub fn rate_per_s(&self) -> u32 {
        self.rate_per_s
    }

    /// Takes one request's token if available at `now_ms`. Time that runs backwards refills
    /// nothing, so a replayed or skewed clock cannot mint extra requests.
    pub fn allow(&mut self, now_ms: u64) -> bool {
        if self.rate_per_s == 0 {
            return true;
        }
        self.refill(now_ms);
        if self.level >= COST {
            self.level -= COST;
            true
        } else {
            false
        }
    }

    fn refill(&mut self, now_ms: u64) {
        let capacity = u64::from(self.rate_per_s) * COST;
        match self.last_ms {
            Some(last) if now_ms <= last => {}
            Some(last) => {
                // `rate` tokens per 1000 ms is `rate` milli-tokens per ms.
                let gained = (now_ms - last).saturating_mul(u64::from(self.rate_per_s));
                self.level = self.level.saturating_add(gained).min(capacity);
                self.last_ms = Some(now_ms);
            }
            None => self.last_ms = Some(now_ms),
        }
    }
}
