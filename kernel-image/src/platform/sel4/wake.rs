//! Idle that sleeps: the root task blocks on one notification that the NIC's interrupt and a
//! one-shot of the generic timer's physical timer (INTID 30, which the kernel leaves to user
//! level: it ticks on the virtual timer; `KernelArmExportPTMRUser` lets EL0 program it) both
//! signal. An idle hive then costs the host next to nothing instead of a core spinning on
//! `seL4_Yield`.

use hal_sel4::abi::CURRENT;
use hal_sel4::rt::{wait, RootKernel};
use hal_sel4::{DeviceMapper, MapError};

/// The EL1 physical timer's PPI.
const PHYS_TIMER_INTID: u64 = 30;

/// The notification and the IRQ handler capabilities bound to it.
pub struct Wakeups {
    kernel: RootKernel,
    notification: u64,
    timer: u64,
    nic: Option<u64>,
}

impl Wakeups {
    /// Makes the notification and binds the timer's and (if any) the NIC's interrupt to it.
    pub fn new(
        mapper: &mut DeviceMapper,
        mut kernel: RootKernel,
        nic_intid: Option<u64>,
    ) -> Result<Self, MapError> {
        let notification = mapper.make_notification(&mut kernel)?;
        // Level-triggered, both: the timer's line stays high until it is disarmed, virtio's
        // until its interrupt status is acknowledged.
        let timer = mapper.take_slot()?;
        kernel.irq_handler(PHYS_TIMER_INTID, false, timer)?;
        kernel.irq_set_notification(timer, notification)?;
        let nic = match nic_intid {
            Some(intid) => {
                let slot = mapper.take_slot()?;
                kernel.irq_handler(intid, false, slot)?;
                kernel.irq_set_notification(slot, notification)?;
                Some(slot)
            }
            None => None,
        };
        Ok(Self {
            kernel,
            notification,
            timer,
            nic,
        })
    }

    /// Blocks until the NIC signals or `max_us` passes (`freq` counter ticks per second);
    /// `ack_device` lowers the NIC's line before the kernel unmasks it, so it does not fire
    /// again at once.
    pub fn sleep(&mut self, max_us: u64, freq: u64, ack_device: impl FnOnce()) {
        let ticks = u128::from(max_us) * u128::from(freq) / 1_000_000;
        arm_phys_timer(u64::try_from(ticks).unwrap_or(u64::MAX));
        wait(&CURRENT, self.notification);
        disarm_phys_timer();
        ack_device();
        // Acknowledging an interrupt that was not delivered is harmless, so both are.
        let _ = self.kernel.irq_ack(self.timer);
        if let Some(nic) = self.nic {
            let _ = self.kernel.irq_ack(nic);
        }
    }
}

fn arm_phys_timer(ticks: u64) {
    // SAFETY: EL0 access to the physical timer is granted by the kernel configuration
    // (KernelArmExportPTMRUser); only this thread uses it.
    unsafe {
        core::arch::asm!(
            "isb",
            "mrs {now}, cntpct_el0",
            "add {now}, {now}, {ticks}",
            "msr cntp_cval_el0, {now}",
            "msr cntp_ctl_el0, {on}",
            "isb",
            now = out(reg) _,
            ticks = in(reg) ticks,
            on = in(reg) 1u64,
            options(nomem, nostack),
        )
    };
}

fn disarm_phys_timer() {
    // SAFETY: as in `arm_phys_timer`.
    unsafe { core::arch::asm!("msr cntp_ctl_el0, xzr", "isb", options(nomem, nostack)) };
}
