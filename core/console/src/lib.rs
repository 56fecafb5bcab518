//! The console protocol shared by the serial console and the TCP console: frames, the line
//! grammar, authentication and attach back-off, and one dispatcher for both transports.
//!
//! Everything here is sans-IO: bytes go into a [`FrameDecoder`] (TCP) or a [`LineDecoder`]
//! (serial), lines go into a [`ConsoleSession`], and the session answers with an [`Outcome`]
//! whose lines the caller encodes with [`encode_frame`] or [`serial_render`]. Namespace work is
//! delegated to a [`ConsoleBackend`]; time is always a `now_ms` argument.
//!
//! The wire format matches the original Cohesix `cohsh` TCP console: every line travels as a
//! frame whose little-endian `u32` length counts its own four bytes, replies are
//! `OK <VERB> k=v ...` / `ERR <VERB> reason=... detail=...`, and streams end with `END`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod auth;
pub mod backoff;
pub mod frame;
pub mod grammar;
pub mod line;
pub mod session;

pub use auth::{check_auth, token_matches, AuthRefusal};
pub use backoff::AttachBackoff;
pub use frame::{encode_frame, FrameDecoder, FrameError, FrameFault};
pub use grammar::{parse, quote, Command, ParseError, Reason, Reply, Verb};
pub use line::{LineDecoder, LineError};
/// The console section of the hive manifest; every console bound comes from here.
pub use manifest::ConsoleLimits;
pub use session::{
    serial_render, ConsoleBackend, ConsoleSession, Outcome, Transport, SERIAL_PROMPT,
};
