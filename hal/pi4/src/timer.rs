//! The ARM generic timer as the HAL clock: CNTPCT_EL0 scaled by CNTFRQ_EL0.

use crate::board::TIMER_FREQ_HZ;

/// A free-running counter and its frequency.
pub trait Counter {
    fn count(&self) -> u64;
    fn frequency(&self) -> u64;
}

/// The EL1 physical counter of the running core.
#[cfg(target_arch = "aarch64")]
#[derive(Debug, Default, Clone, Copy)]
pub struct ArmCounter;

#[cfg(target_arch = "aarch64")]
impl Counter for ArmCounter {
    fn count(&self) -> u64 {
        let value: u64;
        // The ISB keeps the read from being hoisted above earlier instructions.
        // SAFETY: reading the counter has no side effects.
        unsafe {
            core::arch::asm!("isb", "mrs {0}, cntpct_el0", out(reg) value, options(nomem, nostack))
        };
        value
    }

    fn frequency(&self) -> u64 {
        let value: u64;
        // SAFETY: as above.
        unsafe { core::arch::asm!("mrs {0}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
        value
    }
}

/// Monotonic microseconds since the clock was created.
#[derive(Debug)]
pub struct GenericClock<C: Counter> {
    counter: C,
    freq: u64,
    start: u64,
}

impl<C: Counter> GenericClock<C> {
    /// Starts the clock at zero. A counter that reports frequency 0 (firmware that never set
    /// CNTFRQ_EL0) is taken to run at the Pi 4's 54 MHz.
    pub fn new(counter: C) -> Self {
        let freq = match counter.frequency() {
            0 => TIMER_FREQ_HZ,
            f => f,
        };
        let start = counter.count();
        Self {
            counter,
            freq,
            start,
        }
    }

    /// The frequency used for scaling.
    pub fn frequency(&self) -> u64 {
        self.freq
    }

    /// Raw ticks since the clock started.
    pub fn ticks(&self) -> u64 {
        self.counter.count().saturating_sub(self.start)
    }
}

impl<C: Counter> hal::Clock for GenericClock<C> {
    fn now_us(&self) -> u64 {
        let us = u128::from(self.ticks()) * 1_000_000 / u128::from(self.freq);
        u64::try_from(us).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;
    use hal::Clock;

    struct FakeCounter {
        now: Cell<u64>,
        freq: u64,
    }

    impl Counter for FakeCounter {
        fn count(&self) -> u64 {
            self.now.get()
        }
        fn frequency(&self) -> u64 {
            self.freq
        }
    }

    #[test]
    fn scales_ticks_to_microseconds_from_creation() {
        let clock = GenericClock::new(FakeCounter {
            now: Cell::new(1_000),
            freq: 54_000_000,
        });
        assert_eq!(clock.now_us(), 0);
        clock.counter.now.set(1_000 + 54_000_000 * 3 + 54);
        assert_eq!(clock.now_us(), 3_000_001);
        assert_eq!(clock.now_ms(), 3_000);
    }

    #[test]
    fn zero_frequency_falls_back_and_huge_counts_do_not_overflow() {
        let clock = GenericClock::new(FakeCounter {
            now: Cell::new(0),
            freq: 0,
        });
        assert_eq!(clock.frequency(), TIMER_FREQ_HZ);
        clock.counter.now.set(u64::MAX);
        assert!(clock.now_us() > 0);
    }

    #[test]
    fn a_counter_that_goes_backwards_reads_as_zero() {
        let clock = GenericClock::new(FakeCounter {
            now: Cell::new(500),
            freq: 1_000_000,
        });
        clock.counter.now.set(100);
        assert_eq!(clock.now_us(), 0);
    }
}
