//! Drivers of the QEMU virt machine: PL011 console, ARM generic timer, virtio-net over
//! virtio-mmio and the fw_cfg provisioning channel, assembled into `VirtHal`. The image polls
//! every device and never takes an interrupt; a GICv3, when present, only wakes an idle core.
#![no_std]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod board;
pub mod entropy;
pub mod fwcfg;
pub mod gic;
pub mod machine;
pub mod mmio;
pub mod pl011;
pub mod provision;
pub mod timer;
pub mod virtio;

pub use entropy::BootEntropy;
pub use gic::GicV3;
pub use machine::VirtHal;
pub use pl011::Pl011;
pub use timer::GenericTimer;
pub use virtio::{probe_net, set_dma_offset, NicError, VirtioNic};
