//! The QEMU virt board: virtio-net over virtio-mmio, the fw_cfg provisioning channel and the
//! board's memory map. The aarch64 pieces it shares with the other boards (PL011, generic timer,
//! GICv3, MMIO, entropy, the `Machine` that assembles them) live in `hal/aarch64`; they are
//! re-exported here under the paths the virt code has always used.
#![no_std]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod board;
pub mod fwcfg;
pub mod provision;
pub mod virtio;

pub use hal_aarch64::{entropy, gic, mmio, pl011, timer};
pub use hal_aarch64::{BootEntropy, GenericTimer, GicV3, Pl011};
pub use virtio::{probe_net, set_dma_offset, NicError, VirtioNic};

/// The QEMU virt machine: the shared aarch64 `Machine` over virtio-net.
pub type VirtHal<D = VirtioNic> = hal_aarch64::Machine<D>;
