//! The ticket text form `cohesix-ticket-<hex(claims)>.<hex(mac)>`: minting, parsing and
//! verification.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use subtle::ConstantTimeEq;

use crate::claims::Claims;
use crate::codec::{decode_claims, encode_claims, MAX_CLAIMS_LEN};
use crate::error::TicketError;
use crate::keyring::Keyring;

pub const PREFIX: &str = "cohesix-ticket-";
/// Bytes of the truncated BLAKE3 keyed hash carried in a ticket.
pub const MAC_LEN: usize = 16;
/// Longest text any valid ticket can have; callers usually allow less (manifest limits).
pub const MAX_TEXT_LEN: usize = PREFIX.len() + 2 * MAX_CLAIMS_LEN + 1 + 2 * MAC_LEN;

/// Mints a ticket under the key named by `claims.key_id` (which need not be the active one).
pub fn mint(keys: &Keyring, claims: &Claims) -> Result<String, TicketError> {
    let key = keys.key(claims.key_id).ok_or(TicketError::UnknownKey)?;
    let bytes = encode_claims(claims)?;
    let mac = mac(key, &bytes);
    let mut text = String::with_capacity(PREFIX.len() + 2 * (bytes.len() + MAC_LEN) + 1);
    text.push_str(PREFIX);
    text.push_str(&hex::encode(&bytes));
    text.push('.');
    text.push_str(&hex::encode(mac));
    Ok(text)
}

/// Parses a ticket without checking its MAC or expiry: for inspection only, never for
/// granting anything. `TooLong` is decided from `text.len()` before any parsing.
pub fn decode(text: &str, max_len: usize) -> Result<(Claims, [u8; MAC_LEN]), TicketError> {
    let (bytes, mac) = split(text, max_len)?;
    Ok((decode_claims(&bytes)?, mac))
}

/// Checks, in order: length, shape, key id, MAC (constant time) and expiry at `now_ms`.
/// Revocation is the caller's to check (see [`crate::RevocationSet::check`]).
pub fn verify(
    keys: &Keyring,
    text: &str,
    max_len: usize,
    now_ms: u64,
) -> Result<Claims, TicketError> {
    let (bytes, presented) = split(text, max_len)?;
    let claims = decode_claims(&bytes)?;
    let key = keys.key(claims.key_id).ok_or(TicketError::UnknownKey)?;
    let expected = mac(key, &bytes);
    if !bool::from(expected.ct_eq(&presented)) {
        return Err(TicketError::BadMac);
    }
    if claims.is_expired(now_ms) {
        return Err(TicketError::Expired);
    }
    Ok(claims)
}

fn mac(key: &[u8; 32], bytes: &[u8]) -> [u8; MAC_LEN] {
    let hash = blake3::keyed_hash(key, bytes);
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&hash.as_bytes()[..MAC_LEN]);
    out
}

/// Splits the text into claims bytes and MAC, checking the length limit first and every
/// part's size before decoding its hex.
fn split(text: &str, max_len: usize) -> Result<(Vec<u8>, [u8; MAC_LEN]), TicketError> {
    if text.len() > max_len {
        return Err(TicketError::TooLong);
    }
    let body = text.strip_prefix(PREFIX).ok_or(TicketError::Malformed)?;
    let (claims_hex, mac_hex) = body.split_once('.').ok_or(TicketError::Malformed)?;
    if claims_hex.is_empty()
        || claims_hex.len() > 2 * MAX_CLAIMS_LEN
        || mac_hex.len() != 2 * MAC_LEN
        || !is_lower_hex(claims_hex)
        || !is_lower_hex(mac_hex)
    {
        return Err(TicketError::Malformed);
    }
    let mut bytes = vec![0u8; claims_hex.len() / 2];
    hex::decode_to_slice(claims_hex, &mut bytes).map_err(|_| TicketError::Malformed)?;
    let mut mac = [0u8; MAC_LEN];
    hex::decode_to_slice(mac_hex, &mut mac).map_err(|_| TicketError::Malformed)?;
    Ok((bytes, mac))
}

/// Only lowercase hex is accepted so that each ticket has exactly one text form.
fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Role;

    #[test]
    fn split_checks_shape() {
        let mut keys = Keyring::new();
        keys.insert(1, [9; 32]);
        let text = mint(&keys, &Claims::new(1, 2, Role::Relay, "r", 0, 10)).unwrap();
        assert!(split(&text, text.len()).is_ok());
        assert_eq!(split(&text, text.len() - 1), Err(TicketError::TooLong));
        let upper = text.to_uppercase().replace("COHESIX-TICKET-", PREFIX);
        assert_eq!(split(&upper, 4096), Err(TicketError::Malformed));
        assert_eq!(
            split("cohesix-ticket-.00", 4096),
            Err(TicketError::Malformed)
        );
        assert_eq!(
            split("cohesix-ticket-0.", 4096),
            Err(TicketError::Malformed)
        );
    }

    #[test]
    fn max_text_len_covers_largest_ticket() {
        assert_eq!(MAX_TEXT_LEN, 15 + 2 * MAX_CLAIMS_LEN + 33);
    }
}
