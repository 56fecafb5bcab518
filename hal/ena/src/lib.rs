//! The AWS Elastic Network Adapter (ENA) driver: device reset, the admin queue, feature
//! discovery, one polled transmit/receive queue pair, and smoltcp's `phy::Device` on top.
//! It is written against the public ENA interface (Linux `drivers/net/ethernet/amazon/ena`)
//! and verified against a register- and DMA-level model of the device, not real hardware.
#![no_std]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod admin;
pub mod device;
pub mod dma;
pub mod io;
mod netdev;
pub mod pci;
pub mod regs;
mod wait;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use device::{Ena, EnaConfig, EnaError, EnaInfo};
pub use dma::DmaBuf;
pub use netdev::EVENT_POLL_EVERY;
pub use regs::{Mmio, Regs};
