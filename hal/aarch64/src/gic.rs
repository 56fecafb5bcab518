//! GICv3, used only to wake the core: interrupts stay masked (PSTATE.I), so none is ever
//! taken, but an enabled, pending interrupt ends a `wfi`. The idle loop sleeps until the NIC
//! or the virtual timer signals instead of spinning, which frees the host CPU under QEMU and
//! saves power on hardware. Without a GICv3 (QEMU's default `virt` has a GICv2) the machine
//! keeps polling.

use crate::mmio::Regs;

const GICD_CTLR: usize = 0x0000;
const GICD_IGROUPR: usize = 0x0080;
const GICD_ISENABLER: usize = 0x0100;
const GICD_IROUTER: usize = 0x6000;
const GICD_PIDR2: usize = 0xffe8;
/// Security disabled (QEMU virt without EL3): group 0, group 1, affinity routing.
const GICD_CTLR_ENABLE: u32 = (1 << 4) | (1 << 1) | 1;

const GICR_WAKER: usize = 0x0014;
const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// The SGI/PPI frame follows the redistributor's control frame.
const GICR_SGI_FRAME: usize = 0x1_0000;
const GICR_IGROUPR0: usize = 0x0080;
const GICR_ISENABLER0: usize = 0x0100;

/// Spins allowed for the redistributor to wake.
const WAKE_SPINS: u32 = 1 << 16;

/// The virtual timer's private interrupt.
pub const VIRTUAL_TIMER_INTID: u32 = 27;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GicV3 {
    dist: Regs,
    redist: Regs,
}

impl GicV3 {
    /// The GICv3 at these addresses, if the core has the GICv3 system-register interface
    /// (ID_AA64PFR0_EL1.GIC) and the distributor says it is one (PIDR2 architecture revision 3
    /// or 4). The CPU check comes first: a GICv2's distributor frame is too small to hold
    /// PIDR2, and reading past it faults.
    ///
    /// # Safety
    /// Both addresses must be mapped as device memory; `redist` must be the boot core's
    /// redistributor.
    pub unsafe fn probe(dist: usize, redist: usize) -> Option<Self> {
        if !cpu_has_gicv3_interface() {
            return None;
        }
        // SAFETY: the caller vouches for both frames.
        let (dist, redist) = unsafe { (Regs::new(dist), Regs::new(redist)) };
        let revision = (dist.read32(GICD_PIDR2) >> 4) & 0xf;
        matches!(revision, 3 | 4).then_some(Self { dist, redist })
    }

    /// Enables the distributor, wakes this core's redistributor and opens the CPU interface.
    /// Returns `false` if the redistributor would not wake.
    pub fn init(&mut self) -> bool {
        self.dist.write32(GICD_CTLR, GICD_CTLR_ENABLE);
        let waker = self.redist.read32(GICR_WAKER);
        self.redist
            .write32(GICR_WAKER, waker & !GICR_WAKER_PROCESSOR_SLEEP);
        let awake = (0..WAKE_SPINS)
            .any(|_| self.redist.read32(GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP == 0);
        if awake {
            cpu_interface_on();
        }
        awake
    }

    /// Lets private interrupt `intid` (16..32) wake the core.
    pub fn enable_ppi(&mut self, intid: u32) {
        if !(16..32).contains(&intid) {
            return;
        }
        let bit = 1 << intid;
        let group = self.redist.read32(GICR_SGI_FRAME + GICR_IGROUPR0);
        self.redist
            .write32(GICR_SGI_FRAME + GICR_IGROUPR0, group | bit);
        self.redist.write32(GICR_SGI_FRAME + GICR_ISENABLER0, bit);
    }

    /// Lets shared interrupt `intid` (32..1020) wake the core, routed to core 0.
    pub fn enable_spi(&mut self, intid: u32) {
        if !(32..1020).contains(&intid) {
            return;
        }
        let (word, bit) = ((intid / 32) as usize * 4, 1 << (intid % 32));
        let group = self.dist.read32(GICD_IGROUPR + word);
        self.dist.write32(GICD_IGROUPR + word, group | bit);
        let router = GICD_IROUTER + intid as usize * 8;
        self.dist.write32(router, 0);
        self.dist.write32(router + 4, 0);
        self.dist.write32(GICD_ISENABLER + word, bit);
    }
}

/// ID_AA64PFR0_EL1.GIC: non-zero when the GICv3/4 system-register CPU interface exists.
#[cfg(target_arch = "aarch64")]
fn cpu_has_gicv3_interface() -> bool {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { core::arch::asm!("mrs {}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
    (pfr0 >> 24) & 0xf != 0
}

/// Off target (host tests) the fake frames decide.
#[cfg(not(target_arch = "aarch64"))]
fn cpu_has_gicv3_interface() -> bool {
    true
}

/// System-register access to the CPU interface, priority mask open, group 1 on.
#[cfg(target_arch = "aarch64")]
fn cpu_interface_on() {
    // SAFETY: enables the GICv3 CPU interface at EL1; interrupts stay masked in PSTATE, so
    // nothing is taken, pending interrupts only end `wfi`.
    unsafe {
        core::arch::asm!(
            "mrs {t}, icc_sre_el1",
            "orr {t}, {t}, #1",
            "msr icc_sre_el1, {t}",
            "isb",
            "mov {t}, #0xff",
            "msr icc_pmr_el1, {t}",
            "mov {t}, #1",
            "msr icc_igrpen1_el1, {t}",
            "isb",
            t = out(reg) _,
            options(nostack),
        );
    }
}

#[cfg(not(target_arch = "aarch64"))]
fn cpu_interface_on() {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Distributor and redistributor frames in ordinary memory.
    fn fake(revision: u32) -> (alloc::vec::Vec<u32>, alloc::vec::Vec<u32>, Option<GicV3>) {
        let mut dist = vec![0u32; 0x1_0000 / 4];
        let mut redist = vec![0u32; 0x2_0000 / 4];
        dist[GICD_PIDR2 / 4] = revision << 4;
        let (d, r) = (dist.as_mut_ptr() as usize, redist.as_mut_ptr() as usize);
        // SAFETY: both vectors outlive the GIC value in each test and cover every offset.
        let gic = unsafe { GicV3::probe(d, r) };
        (dist, redist, gic)
    }

    #[test]
    fn only_a_gicv3_or_v4_is_taken() {
        assert!(
            fake(2).2.is_none(),
            "QEMU's default GICv2 keeps the machine polling"
        );
        assert!(fake(3).2.is_some());
        assert!(fake(4).2.is_some());
    }

    #[test]
    fn init_enables_the_distributor_and_wakes_the_redistributor() {
        let (dist, redist, gic) = fake(3);
        let mut gic = gic.unwrap();
        assert!(gic.init());
        assert_eq!(dist[GICD_CTLR / 4], GICD_CTLR_ENABLE);
        assert_eq!(redist[GICR_WAKER / 4] & GICR_WAKER_PROCESSOR_SLEEP, 0);
    }

    #[test]
    fn interrupts_are_grouped_routed_and_enabled() {
        let (dist, redist, gic) = fake(3);
        let mut gic = gic.unwrap();
        gic.enable_ppi(VIRTUAL_TIMER_INTID);
        let sgi = |off: usize| redist[(GICR_SGI_FRAME + off) / 4];
        assert_eq!(sgi(GICR_ISENABLER0), 1 << 27);
        assert_eq!(sgi(GICR_IGROUPR0), 1 << 27);
        gic.enable_spi(48 + 31);
        assert_eq!(dist[(GICD_ISENABLER + 8) / 4], 1 << 15);
        assert_eq!(dist[(GICD_IGROUPR + 8) / 4], 1 << 15);
        gic.enable_spi(5000);
        gic.enable_ppi(40);
        assert_eq!(
            sgi(GICR_ISENABLER0),
            1 << 27,
            "out-of-range ids are ignored"
        );
    }
}
