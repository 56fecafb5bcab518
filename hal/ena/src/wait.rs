//! Bounded waiting: every poll loop ends at a deadline on the HAL clock and, as a second
//! bound for a clock that does not move, after a fixed number of polls.

use hal::Clock;

/// Upper bound on polls in any one wait, whatever the clock says.
pub const MAX_POLLS: u32 = 5_000_000;

/// Polls `done` until it yields a value, the deadline `timeout_us` from now passes, or
/// [`MAX_POLLS`] is reached.
pub fn poll_until<C: Clock + ?Sized, T>(
    clock: &C,
    timeout_us: u64,
    mut done: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = clock.now_us().saturating_add(timeout_us);
    for _ in 0..MAX_POLLS {
        if let Some(v) = done() {
            return Some(v);
        }
        if clock.now_us() >= deadline {
            return done();
        }
        core::hint::spin_loop();
    }
    None
}
