//! A manual clock: time moves only when the test says so.

use alloc::rc::Rc;
use core::cell::Cell;

use crate::Clock;

/// A monotonic clock driven by hand. Clones share one time line, so a test can keep a handle
/// and advance the time the code under test reads.
#[derive(Clone, Debug, Default)]
pub struct MemClock {
    now_us: Rc<Cell<u64>>,
}

impl MemClock {
    /// A clock at time zero (boot).
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `us` microseconds (saturating at `u64::MAX`).
    pub fn advance_us(&self, us: u64) {
        self.now_us.set(self.now_us.get().saturating_add(us));
    }

    /// Moves time forward by `ms` milliseconds (saturating at `u64::MAX`).
    pub fn advance_ms(&self, ms: u64) {
        self.advance_us(ms.saturating_mul(1000));
    }

    /// Sets the time to `us`. An earlier value than the current time is ignored, because the
    /// `Clock` contract is monotonic and the core relies on it for deadlines.
    pub fn set_us(&self, us: u64) {
        self.now_us.set(self.now_us.get().max(us));
    }
}

impl Clock for MemClock {
    fn now_us(&self) -> u64 {
        self.now_us.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_zero_and_advances() {
        let clock = MemClock::new();
        assert_eq!(clock.now_us(), 0);
        clock.advance_us(1500);
        assert_eq!(clock.now_us(), 1500);
        assert_eq!(clock.now_ms(), 1);
        clock.advance_ms(2);
        assert_eq!(clock.now_us(), 3500);
        assert_eq!(clock.now_ms(), 3);
    }

    #[test]
    fn clones_share_time() {
        let clock = MemClock::new();
        let handle = clock.clone();
        handle.advance_ms(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn set_never_moves_backwards() {
        let clock = MemClock::new();
        clock.set_us(5_000);
        assert_eq!(clock.now_us(), 5_000);
        clock.set_us(1_000);
        assert_eq!(clock.now_us(), 5_000);
        clock.set_us(9_000);
        assert_eq!(clock.now_us(), 9_000);
    }

    #[test]
    fn advance_saturates() {
        let clock = MemClock::new();
        clock.set_us(u64::MAX - 1);
        clock.advance_ms(5);
        assert_eq!(clock.now_us(), u64::MAX);
    }
}
