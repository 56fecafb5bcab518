//! The console protocol shared by the serial console and the TCP console: frames, the line
//! grammar, authentication and attach back-off, and one dispatcher for both transports.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
