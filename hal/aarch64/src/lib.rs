//! The aarch64 pieces several boards share, in one place: the PL011 console, the ARM generic
//! timer as the HAL clock, GICv3 wake-up, MMIO register access, boot-seeded entropy, and
//! `Machine`, which assembles them with a NIC behind the HAL traits. Board crates add what is
//! theirs: `hal/virt` (QEMU virt: virtio-net, fw_cfg), `hal/pi4` (GENET, mailbox), `hal/ena`
//! (AWS ENA) and `hal/sel4` (the seL4 root task). The image polls every device and never takes
//! an interrupt; a GICv3, when present, only wakes an idle core.
#![no_std]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod entropy;
pub mod gic;
pub mod machine;
pub mod mmio;
pub mod pl011;
pub mod timer;

pub use entropy::BootEntropy;
pub use gic::GicV3;
pub use machine::Machine;
pub use pl011::Pl011;
pub use timer::GenericTimer;
