//! The image's platform-independent logic, kept apart from boot code and drivers so that it
//! builds and is unit-tested on the host (`cargo test --lib` in this directory, run by the
//! test stage of `scripts/test.sh`): the boot plan from the provisioning blob, and the
//! boards' memory maps with the MMU block descriptors built from them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod memory;
pub mod plan;
