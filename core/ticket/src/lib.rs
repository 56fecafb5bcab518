//! Capability tickets: the claims a hive grants a session, their compact text form and keyed
//! BLAKE3 MAC, and the budgets, scopes and revocations that bound what a ticket may do.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

use alloc::string::String;
use alloc::vec::Vec;

/// Roles of INTERFACES.md §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Queen,
    WorkerHeartbeat,
    WorkerGpu,
    GpuBridge,
    Relay,
    Vendor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Queen,
        Role::WorkerHeartbeat,
        Role::WorkerGpu,
        Role::GpuBridge,
        Role::Relay,
        Role::Vendor,
    ];
    /// Wire name: `queen`, `worker-heartbeat`, `worker-gpu`, `gpu-bridge`, `relay`, `vendor`.
    pub fn as_str(self) -> &'static str {
        todo!()
    }
    /// Parses the wire name (also accepts the short forms `heartbeat` and `gpu` for workers).
    pub fn parse(text: &str) -> Option<Role> {
        todo!()
    }
    pub fn is_worker(self) -> bool {
        matches!(self, Role::WorkerHeartbeat | Role::WorkerGpu)
    }
}

/// Verbs a scope grants: read, write (control files), append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbs(pub u8);

impl Verbs {
    pub const READ: Verbs = Verbs(1);
    pub const WRITE: Verbs = Verbs(2);
    pub const APPEND: Verbs = Verbs(4);
    pub fn contains(self, other: Verbs) -> bool {
        self.0 & other.0 == other.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub path_prefix: String,
    pub verbs: Verbs,
    /// Requests per second through this scope; 0 = unlimited.
    pub rate_per_s: u32,
}

/// Spending limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    pub ticks: Option<u64>,
    pub ops: Option<u64>,
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quotas {
    pub bandwidth_bytes: u64,
    pub cursor_resumes: u32,
    pub cursor_advances: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub version: u8,
    pub key_id: u8,
    pub ticket_id: u64,
    pub role: Role,
    pub subject: String,
    pub issued_at_ms: u64,
    pub ttl_ms: u64,
    pub budget: Budget,
    pub scopes: Vec<Scope>,
    pub quotas: Quotas,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    Malformed,
    TooLong,
    TooManyScopes,
    UnknownKey,
    BadMac,
    Expired,
    Revoked,
    /// The revocation set is full even after purging lapsed entries.
    RevocationsFull,
}
