//! Ticket text and `verify`. The input is tried twice: as ticket text as-is (which almost
//! never carries a valid MAC), and as claims bytes wrapped in text with a correct MAC, so the
//! claims decoder and every check after the MAC are reached. Nothing may panic; claims that
//! verify must mint again and verify to the same claims; inspection (`decode`) must agree
//! with `verify` on what the claims are.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticket::{decode, decode_claims, encode_claims, mint, verify, Keyring, MAC_LEN, PREFIX};

const KEY_ID: u8 = 1;

fn key(id: u8) -> [u8; 32] {
    Keyring::derive_key(b"fuzz", if id == KEY_ID { "hive" } else { "other" })
}

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(KEY_ID, key(KEY_ID));
    keys.insert(2, key(2));
    keys
}

/// Ticket text over `claims` with the MAC `mint` would give it under key `id` (a keyed BLAKE3
/// hash, truncated).
fn signed_text(id: u8, claims: &[u8]) -> String {
    let mac = blake3::keyed_hash(&key(id), claims);
    let mut text = String::from(PREFIX);
    for b in claims {
        text.push_str(&format!("{b:02x}"));
    }
    text.push('.');
    for b in &mac.as_bytes()[..MAC_LEN] {
        text.push_str(&format!("{b:02x}"));
    }
    text
}

fn check(keys: &Keyring, text: &str, now_ms: u64) {
    let max_len = ticket::MAX_TEXT_LEN;
    let inspected = decode(text, max_len);
    match verify(keys, text, max_len, now_ms) {
        Ok(claims) => {
            let (seen, _) = inspected.expect("verified text decodes");
            assert_eq!(seen, claims);
            let again = mint(keys, &claims).expect("verified claims mint");
            assert_eq!(verify(keys, &again, max_len, now_ms), Ok(claims.clone()));
            let bytes = encode_claims(&claims).expect("verified claims encode");
            assert_eq!(decode_claims(&bytes), Ok(claims));
        }
        Err(_) => {}
    }
}

fuzz_target!(|bytes: &[u8]| {
    let keys = keys();
    let now_ms = 1_000;
    if let Ok(text) = std::str::from_utf8(bytes) {
        check(&keys, text, now_ms);
    }
    let id = bytes.first().map_or(KEY_ID, |b| 1 + b % 2);
    let claims = bytes.get(1..).unwrap_or_default();
    check(&keys, &signed_text(id, claims), now_ms);
});
