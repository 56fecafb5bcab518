//! Drivers of the Raspberry Pi 4 (BCM2711): the PL011 console at 0xFE201000, the ARM generic
//! timer and the GENET v5 Ethernet MAC with its BCM54213PE PHY, all behind the HAL traits.
//! Registers are reached through the [`Regs`] trait, so every driver also runs against a
//! simulated register file in host tests; nothing here blocks without a bound.
#![no_std]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod board;
pub mod dma;
pub mod genet;
pub mod gpio;
pub mod mailbox;
pub mod mmio;
pub mod pl011;
pub mod timer;

pub use dma::DmaBuf;
pub use genet::{Genet, GenetConfig, GenetError, Link, Speed};
pub use mmio::{Mmio, Regs};
pub use pl011::{Pl011, Pl011Error};
pub use timer::{Counter, GenericClock};

#[cfg(target_arch = "aarch64")]
pub use timer::ArmCounter;
