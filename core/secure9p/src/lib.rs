//! Secure9P: the bounded 9P2000.L subset the hive serves. A codec for both directions and a
//! per-session engine (fids, tags, clunk-once, batches, ticket handshake) over a `Backend`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// The core's named refusals, under the name the protocol code has always used.
pub use refusal::Refusal as Error;
mod backend;

pub use backend::{Attr, Backend, DirEntry, Qid, RequestKind, QT_APPEND, QT_DIR, QT_FILE};

pub mod client;
pub mod codec;
pub mod session;

pub use client::{ClientCodec, ClientError};
pub use codec::{
    decode_request, decode_response, encode_request, encode_response, frame_len, DecodeError,
    Getattr, Limits, Request, Response, NOFID, NOTAG,
};
pub use session::{Fatal, Session};
