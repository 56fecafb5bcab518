//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use cohesix_ticket::{Budget, Claims, Keyring, Role, MAC_LEN, PREFIX};

pub const KEY_ONE: [u8; 32] = [0x11; 32];
pub const KEY_TWO: [u8; 32] = [0x22; 32];
/// Generous limit for tests that are not about length.
pub const ROOMY: usize = 4096;
/// Issue time used throughout: 2023-11-14, in ms since the epoch.
pub const T0: u64 = 1_700_000_000_000;

pub fn ring() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, KEY_ONE);
    keys.insert(2, KEY_TWO);
    keys
}

pub fn worker_claims() -> Claims {
    let mut claims = Claims::new(1, 4_100, Role::WorkerHeartbeat, "w0412", T0, 3_600_000);
    claims.budget = Budget {
        ticks: Some(600),
        ops: Some(10_000),
        bytes: None,
    };
    claims
}

/// Builds ticket text around arbitrary claims bytes with a correct MAC under `key`, so tests
/// can show the decoder refuses bytes on their own merits, not because the MAC is wrong.
pub fn sign_raw(key: &[u8; 32], claims_bytes: &[u8]) -> String {
    let hash = blake3::keyed_hash(key, claims_bytes);
    let mac = &hash.as_bytes()[..MAC_LEN];
    format!("{PREFIX}{}.{}", hex::encode(claims_bytes), hex::encode(mac))
}
