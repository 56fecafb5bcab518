//! Glue that runs the image as an seL4 root task: the message-info and IPC-buffer encoding
//! of the few invocations the image needs, hand-written aarch64 syscall stubs, a parser for
//! `seL4_BootInfo`, and the planner that maps device frames (UART, NIC) into the root task.
//! Without the `sel4` feature only the host-testable parts are built and no seL4 is needed.
#![no_std]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod abi;
mod abi_parse;
pub mod bootinfo;
pub mod devmap;
pub mod invocation;
pub mod msginfo;
pub mod ram;

#[cfg(all(feature = "sel4", target_arch = "aarch64"))]
pub mod rt;

pub use abi::Abi;
pub use bootinfo::{BootInfo, BootInfoError, SlotRegion, UntypedDesc};
pub use devmap::{DeviceMapper, Kernel, MapError, Memory};
pub use invocation::Invocation;
pub use msginfo::{CapRights, MessageInfo, Sel4Error};
