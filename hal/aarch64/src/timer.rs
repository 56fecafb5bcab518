//! The ARM generic timer as the HAL's `Clock`: the virtual counter (CNTVCT_EL0) scaled by its
//! frequency (CNTFRQ_EL0). It counts from machine start, so "time since boot" includes the
//! firmware's share, which is what a boot-time figure should report.

use hal::Clock;

/// Microseconds for `ticks` of a counter running at `freq` Hz, without overflow for any
/// 64-bit tick count. A zero frequency (firmware forgot to set it) reads as time standing still.
pub fn ticks_to_us(ticks: u64, freq: u64) -> u64 {
    if freq == 0 {
        return 0;
    }
    let us = u128::from(ticks) * 1_000_000 / u128::from(freq);
    u64::try_from(us).unwrap_or(u64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericTimer {
    freq: u64,
}

impl GenericTimer {
    /// Reads the counter frequency set by firmware (QEMU: 62.5 MHz or 1 GHz).
    pub fn new() -> Self {
        Self {
            freq: counter_frequency(),
        }
    }

    /// A timer at a known frequency (tests, or firmware that leaves CNTFRQ unset).
    pub fn with_frequency(freq: u64) -> Self {
        Self { freq }
    }

    pub fn frequency(&self) -> u64 {
        self.freq
    }

    /// The time a counter value stands for.
    pub fn us_at(&self, ticks: u64) -> u64 {
        ticks_to_us(ticks, self.freq)
    }
}

impl GenericTimer {
    /// Arms the virtual timer to signal `us` from now. With interrupts masked the signal is
    /// never taken; it only ends a `wfi` (see `gic`).
    pub fn arm_wakeup(&self, us: u64) {
        let ticks = u128::from(us) * u128::from(self.freq) / 1_000_000;
        let deadline = counter().saturating_add(u64::try_from(ticks).unwrap_or(u64::MAX));
        set_virtual_timer(Some(deadline));
    }

    /// Stops the virtual timer (and lowers its interrupt).
    pub fn disarm_wakeup(&self) {
        set_virtual_timer(None);
    }
}

impl Default for GenericTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for GenericTimer {
    fn now_us(&self) -> u64 {
        self.us_at(counter())
    }
}

/// The virtual counter. The ISB keeps the read from being hoisted above earlier code.
#[cfg(target_arch = "aarch64")]
pub fn counter() -> u64 {
    let ticks: u64;
    // SAFETY: reading CNTVCT_EL0 has no side effects and is permitted at EL1.
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) ticks, options(nomem, nostack))
    };
    ticks
}

#[cfg(target_arch = "aarch64")]
fn counter_frequency() -> u64 {
    let freq: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) freq, options(nomem, nostack)) };
    freq & 0xffff_ffff
}

#[cfg(target_arch = "aarch64")]
fn set_virtual_timer(deadline: Option<u64>) {
    // SAFETY: programs this core's virtual timer, which nothing else uses.
    unsafe {
        match deadline {
            Some(cval) => core::arch::asm!(
                "msr cntv_cval_el0, {cval}",
                "msr cntv_ctl_el0, {on}",
                "isb",
                cval = in(reg) cval,
                on = in(reg) 1u64,
                options(nomem, nostack),
            ),
            None => core::arch::asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)),
        }
    }
}

#[cfg(not(target_arch = "aarch64"))]
fn set_virtual_timer(_deadline: Option<u64>) {}

/// Waits for an interrupt to become pending (taken or not). Returns at once off target.
pub fn wait_for_interrupt() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `wfi` only waits; with interrupts masked, execution continues after it.
    unsafe {
        core::arch::asm!("dsb sy", "wfi", options(nomem, nostack))
    };
}

/// Off target there is no counter: time stands at zero (host builds exist for unit tests).
#[cfg(not(target_arch = "aarch64"))]
pub fn counter() -> u64 {
    0
}

#[cfg(not(target_arch = "aarch64"))]
fn counter_frequency() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ticks_at_qemu_frequencies() {
        assert_eq!(ticks_to_us(62_500_000, 62_500_000), 1_000_000);
        assert_eq!(ticks_to_us(625, 62_500_000), 10);
        assert_eq!(ticks_to_us(1_000_000_000, 1_000_000_000), 1_000_000);
        assert_eq!(ticks_to_us(u64::MAX, 1_000_000_000), u64::MAX / 1000);
        assert_eq!(ticks_to_us(12345, 0), 0);
    }

    #[test]
    fn a_timer_reports_microseconds_at_its_frequency() {
        let timer = GenericTimer::with_frequency(54_000_000);
        assert_eq!(timer.frequency(), 54_000_000);
        assert_eq!(timer.us_at(54_000), 1_000);
        assert_eq!(timer.now_ms(), timer.now_us() / 1000);
    }
}
