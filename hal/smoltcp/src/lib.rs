//! The Net trait over smoltcp for any frame-level network device. A NIC driver implements the
//! small `NetDevice` trait (copy a frame in, copy a frame out); `SmolNet` turns it into the
//! HAL's connection-level `Net` with bounded sockets, buffers and work per poll.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod config;
mod device;
pub mod loopback;
mod net;

pub use config::{Ipv4Cidr, NetConfig};
pub use device::{
    DeviceError, FrameAdapter, FrameStats, NetDevice, RxToken, TxToken, ETHERNET_FRAME_MAX,
};
pub use net::{NetStats, SetupError, SmolNet};
/// The stack itself, for drivers and tests that need its types.
pub use smoltcp;
