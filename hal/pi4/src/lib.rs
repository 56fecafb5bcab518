//! Drivers of the Raspberry Pi 4 (BCM2711): the PL011 console at 0xFE201000, the VideoCore
//! mailbox and the GENET v5 Ethernet MAC with its BCM54213PE PHY. The clock and the machine the
//! image runs on are the shared aarch64 ones (`hal/aarch64`: generic timer, `Machine`).
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

pub use dma::DmaBuf;
pub use genet::{Genet, GenetConfig, GenetError, Link, Speed};
pub use mmio::{Mmio, Regs};
pub use pl011::{Pl011, Pl011Error};
