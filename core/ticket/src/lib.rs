//! Capability tickets: the claims a hive grants a session, their compact text form and keyed
//! BLAKE3 MAC, and the budgets, scopes and revocations that bound what a ticket may do.
//!
//! A ticket travels as `cohesix-ticket-<hex(claims)>.<hex(mac)>`; [`mint`] produces it under a
//! key from a [`Keyring`], [`verify`] checks length, shape, key, MAC (in constant time) and
//! expiry. Everything here is sans-IO: time is passed in as `now_ms`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod claims;
mod codec;
mod error;
mod keyring;
mod meter;
mod rate;
mod revocation;
mod text;
mod varint;

pub use claims::{Budget, Claims, Quotas, Role, Scope, Verbs};
pub use codec::{decode_claims, encode_claims};
pub use error::TicketError;
pub use keyring::Keyring;
pub use meter::{BudgetKind, Meter};
pub use rate::RateLimiter;
pub use revocation::RevocationSet;
pub use text::{decode, mint, verify, MAC_LEN, MAX_TEXT_LEN, PREFIX};

/// The only claims encoding version this crate reads and writes.
pub const VERSION: u8 = 2;
/// Most scopes one ticket may carry.
pub const MAX_SCOPES: usize = 8;
/// Longest subject, in bytes.
pub const MAX_SUBJECT_LEN: usize = 64;
/// Longest scope path prefix, in bytes.
pub const MAX_PREFIX_LEN: usize = 128;
/// Longest worker ticket text the design allows (docs/interfaces.md §5.1).
pub const WORKER_TEXT_MAX: usize = 224;
