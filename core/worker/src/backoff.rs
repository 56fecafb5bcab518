//! Reconnect pacing: exponential back-off with deterministic jitter, so a site full of agents
//! cut at the same instant spreads its return instead of storming the Queen.

/// Delay before the next connection attempt: the pacing an agent applies to itself, jittered
/// so agents spread out. Not to be confused with `console::AttachBackoff`, the wait the hive
/// imposes on a client whose attach failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectBackoff {
    base_ms: u64,
    cap_ms: u64,
    failures: u32,
    rng: u64,
}

impl ReconnectBackoff {
    pub fn new(base_ms: u64, cap_ms: u64, seed: u64) -> Self {
        Self {
            base_ms: base_ms.max(1),
            cap_ms: cap_ms.max(base_ms.max(1)),
            failures: 0,
            // xorshift must not start at zero.
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The delay for the next attempt: `base * 2^failures`, capped, plus up to half of it
    /// again as jitter. Counts the attempt.
    pub fn next_delay_ms(&mut self) -> u64 {
        let shift = self.failures.min(20);
        let delay = self.base_ms.saturating_mul(1 << shift).min(self.cap_ms);
        self.failures = self.failures.saturating_add(1);
        delay + self.jitter() % (delay / 2 + 1)
    }

    /// A connection attached: the next cut starts again from the base delay.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn jitter(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let mut b = ReconnectBackoff::new(1_000, 8_000, 7);
        let delays: alloc::vec::Vec<u64> = (0..6).map(|_| b.next_delay_ms()).collect();
        for (i, d) in delays.iter().enumerate() {
            let base = (1_000u64 << i.min(3)).min(8_000);
            assert!(*d >= base && *d <= base + base / 2, "{i}: {d}");
        }
        b.reset();
        assert!(b.next_delay_ms() <= 1_500);
    }

    #[test]
    fn same_seed_same_delays() {
        let run = |seed| {
            let mut b = ReconnectBackoff::new(500, 30_000, seed);
            (0..8)
                .map(|_| b.next_delay_ms())
                .collect::<alloc::vec::Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
