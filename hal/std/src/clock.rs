//! The monotonic clock: microseconds since the HAL was made, from `std::time::Instant`.

use std::time::Instant;

use hal::Clock;

#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    boot: Instant,
}

impl StdClock {
    pub fn new() -> Self {
        Self {
            boot: Instant::now(),
        }
    }

    /// The instant time zero stands for.
    pub fn boot(&self) -> Instant {
        self.boot
    }
}

impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for StdClock {
    fn now_us(&self) -> u64 {
        // u64 microseconds last 584,000 years; saturate rather than wrap past that.
        u64::try_from(self.boot.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards() {
        let clock = StdClock::new();
        let a = clock.now_us();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = clock.now_us();
        assert!(b >= a + 1_000, "{a} then {b}");
        assert_eq!(clock.now_ms(), clock.now_us() / 1000);
    }
}
