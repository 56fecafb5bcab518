//! The platform seam. Exactly one module is compiled in, chosen by a cargo feature, and each
//! provides the same items:
//!
//! - `NAME`: the platform string `/proc/boot` reports;
//! - `memory_kind(addr)`: how the MMU maps each 2 MiB block (RAM, device, nothing), from
//!   the board's map in `cohesix_kernel_image::memory` (the library, host-tested);
//! - `early_console()`: a `core::fmt::Write` on the serial port, usable from any state
//!   (panics, faults), needing no heap;
//! - `Machine`: the board, implementing [`crate::board::Board`];
//! - `bring_up(&mut Log) -> Machine`: probe devices and read the provisioning blob.
//!
//! A new platform adds `src/platform/<name>.rs`, a `link/<name>.ld` and a feature that pulls
//! its HAL crate in; nothing else in the image changes.

#[cfg(feature = "qemu-virt")]
mod qemu_virt;
#[cfg(feature = "qemu-virt")]
pub use qemu_virt::*;

#[cfg(feature = "pi4")]
mod pi4;
#[cfg(feature = "pi4")]
pub use pi4::*;

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
pub use aws::*;

#[cfg(feature = "sel4")]
mod sel4;
#[cfg(feature = "sel4")]
pub use sel4::*;
