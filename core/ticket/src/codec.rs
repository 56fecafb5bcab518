//! The compact binary form of [`Claims`], the bytes the MAC covers.
//!
//! Layout (version 2), integers as minimal LEB128 varints unless noted:
//!
//! ```text
//! version:u8  key_id:u8  role:u8  hive_id:u64(LE)  ticket_id  subject  issued_at_ms  ttl_ms
//! budget_bitmap:u8 (bit0 ticks, bit1 ops, bit2 bytes)  [ticks] [ops] [bytes]
//! scope_count  { path_prefix  verbs:u8  rate_per_s }*
//! bandwidth_bytes  cursor_resumes  cursor_advances
//! ```
//!
//! Strings are a varint byte length followed by UTF-8. Nothing may follow the last field.
//! Decoding checks every length against its limit before allocating, so hostile bytes cost at
//! most [`MAX_CLAIMS_LEN`] worth of work and memory.

use alloc::string::String;
use alloc::vec::Vec;

use crate::claims::{Budget, Claims, Quotas, Role, Scope, Verbs};
use crate::error::TicketError;
use crate::varint::{put_u64, Reader, MAX_VARINT_LEN};
use crate::{MAX_PREFIX_LEN, MAX_SCOPES, MAX_SUBJECT_LEN, VERSION};

const BUDGET_TICKS: u8 = 1;
const BUDGET_OPS: u8 = 2;
const BUDGET_BYTES: u8 = 4;
const BUDGET_ALL: u8 = BUDGET_TICKS | BUDGET_OPS | BUDGET_BYTES;

/// Varint bytes needed for any `u32`.
const MAX_U32_LEN: usize = 5;
/// Largest scope encoding: prefix length (two varint bytes), prefix, verbs, rate.
const MAX_SCOPE_LEN: usize = 2 + MAX_PREFIX_LEN + 1 + MAX_U32_LEN;

/// Longest claims encoding this version can produce.
pub const MAX_CLAIMS_LEN: usize = 3 // version, key id, role
    + 8 // hive id
    + MAX_VARINT_LEN // ticket id
    + 1 + MAX_SUBJECT_LEN
    + 2 * MAX_VARINT_LEN // issued at, ttl
    + 1 + 3 * MAX_VARINT_LEN // budget
    + 1 + MAX_SCOPES * MAX_SCOPE_LEN
    + MAX_VARINT_LEN + 2 * MAX_U32_LEN; // quotas

/// Encodes claims after checking every field limit (`TooManyScopes` for more than
/// [`MAX_SCOPES`] scopes, `Malformed` for anything else out of bounds).
pub fn encode_claims(claims: &Claims) -> Result<Vec<u8>, TicketError> {
    if claims.scopes.len() > MAX_SCOPES {
        return Err(TicketError::TooManyScopes);
    }
    if claims.version != VERSION || !subject_ok(&claims.subject) {
        return Err(TicketError::Malformed);
    }
    if !claims.scopes.iter().all(scope_ok) {
        return Err(TicketError::Malformed);
    }
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[claims.version, claims.key_id, claims.role.code()]);
    out.extend_from_slice(&claims.hive_id.to_le_bytes());
    put_u64(&mut out, claims.ticket_id);
    put_str(&mut out, &claims.subject);
    put_u64(&mut out, claims.issued_at_ms);
    put_u64(&mut out, claims.ttl_ms);
    put_budget(&mut out, &claims.budget);
    put_u64(&mut out, claims.scopes.len() as u64);
    for scope in &claims.scopes {
        put_str(&mut out, &scope.path_prefix);
        out.push(scope.verbs.0);
        put_u64(&mut out, u64::from(scope.rate_per_s));
    }
    put_u64(&mut out, claims.quotas.bandwidth_bytes);
    put_u64(&mut out, u64::from(claims.quotas.cursor_resumes));
    put_u64(&mut out, u64::from(claims.quotas.cursor_advances));
    debug_assert!(out.len() <= MAX_CLAIMS_LEN);
    Ok(out)
}

/// Decodes claims bytes, refusing unknown versions, out-of-range fields, non-minimal varints
/// and trailing bytes. Never panics; allocates only after a length has been checked.
pub fn decode_claims(bytes: &[u8]) -> Result<Claims, TicketError> {
    if bytes.len() > MAX_CLAIMS_LEN {
        return Err(TicketError::Malformed);
    }
    let mut r = Reader::new(bytes);
    let version = r.u8().ok_or(TicketError::Malformed)?;
    if version != VERSION {
        return Err(TicketError::Malformed);
    }
    let claims = read_body(&mut r, version).ok_or(TicketError::Malformed)??;
    if !r.is_empty() {
        return Err(TicketError::Malformed);
    }
    Ok(claims)
}

/// Reads everything after the version byte. The outer `None` is any malformed field; the inner
/// error carries the one refusal with its own name (too many scopes).
fn read_body(r: &mut Reader<'_>, version: u8) -> Option<Result<Claims, TicketError>> {
    let key_id = r.u8()?;
    let role = Role::from_code(r.u8()?)?;
    let hive_id = u64::from_le_bytes(r.array::<8>()?);
    let ticket_id = r.u64()?;
    let subject = read_str(r, MAX_SUBJECT_LEN).filter(|s| subject_ok(s))?;
    let issued_at_ms = r.u64()?;
    let ttl_ms = r.u64()?;
    let budget = read_budget(r)?;
    let count = r.u64()?;
    if count > MAX_SCOPES as u64 {
        return Some(Err(TicketError::TooManyScopes));
    }
    let mut scopes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        scopes.push(read_scope(r)?);
    }
    let quotas = Quotas {
        bandwidth_bytes: r.u64()?,
        cursor_resumes: r.u32()?,
        cursor_advances: r.u32()?,
    };
    Some(Ok(Claims {
        version,
        key_id,
        hive_id,
        ticket_id,
        role,
        subject,
        issued_at_ms,
        ttl_ms,
        budget,
        scopes,
        quotas,
    }))
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u64(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn put_budget(out: &mut Vec<u8>, budget: &Budget) {
    let fields = [
        (BUDGET_TICKS, budget.ticks),
        (BUDGET_OPS, budget.ops),
        (BUDGET_BYTES, budget.bytes),
    ];
    let bitmap = fields
        .iter()
        .filter(|(_, value)| value.is_some())
        .fold(0, |bits, (bit, _)| bits | bit);
    out.push(bitmap);
    for value in fields.iter().filter_map(|(_, value)| *value) {
        put_u64(out, value);
    }
}

fn read_budget(r: &mut Reader<'_>) -> Option<Budget> {
    let bitmap = r.u8()?;
    if bitmap & !BUDGET_ALL != 0 {
        return None;
    }
    let mut field = |bit: u8| -> Option<Option<u64>> {
        if bitmap & bit == 0 {
            Some(None)
        } else {
            r.u64().map(Some)
        }
    };
    Some(Budget {
        ticks: field(BUDGET_TICKS)?,
        ops: field(BUDGET_OPS)?,
        bytes: field(BUDGET_BYTES)?,
    })
}

/// Reads a length-prefixed UTF-8 string of at most `max` bytes.
fn read_str(r: &mut Reader<'_>, max: usize) -> Option<String> {
    let len = r.u64()?;
    if len > max as u64 {
        return None;
    }
    let raw = r.take(len as usize)?;
    let text = core::str::from_utf8(raw).ok()?;
    Some(String::from(text))
}

fn read_scope(r: &mut Reader<'_>) -> Option<Scope> {
    let path_prefix = read_str(r, MAX_PREFIX_LEN)?;
    let verbs = Verbs(r.u8()?);
    let rate_per_s = r.u32()?;
    let scope = Scope {
        path_prefix,
        verbs,
        rate_per_s,
    };
    scope_ok(&scope).then_some(scope)
}

/// Subjects name workers and operators in audit lines, so control characters are refused.
fn subject_ok(subject: &str) -> bool {
    subject.len() <= MAX_SUBJECT_LEN && !subject.chars().any(char::is_control)
}

/// A scope prefix is an absolute path without control characters; verbs use defined bits only.
fn scope_ok(scope: &Scope) -> bool {
    let prefix = &scope.path_prefix;
    prefix.len() <= MAX_PREFIX_LEN
        && prefix.starts_with('/')
        && !prefix.chars().any(char::is_control)
        && scope.verbs.is_valid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> Claims {
        let mut claims = Claims::new(
            3,
            77,
            Role::GpuBridge,
            "bridge-1",
            1_700_000_000_000,
            60_000,
        );
        claims.budget = Budget {
            ticks: Some(10),
            ops: None,
            bytes: Some(1 << 20),
        };
        claims.scopes = vec![Scope::new("/gpu", Verbs::READ | Verbs::WRITE, 20)];
        claims.quotas = Quotas {
            bandwidth_bytes: 4096,
            cursor_resumes: 3,
            cursor_advances: 9,
        };
        claims
    }

    #[test]
    fn round_trip_and_layout() {
        let claims = sample();
        let bytes = encode_claims(&claims).unwrap();
        assert_eq!(&bytes[..3], &[VERSION, 3, Role::GpuBridge.code()]);
        assert_eq!(decode_claims(&bytes), Ok(claims));
    }

    #[test]
    fn largest_claims_fit_the_bound() {
        let mut claims = Claims::new(
            255,
            u64::MAX,
            Role::Vendor,
            "s".repeat(64),
            u64::MAX,
            u64::MAX,
        );
        claims.budget = Budget {
            ticks: Some(u64::MAX),
            ops: Some(u64::MAX),
            bytes: Some(u64::MAX),
        };
        let prefix = alloc::format!("/{}", "p".repeat(MAX_PREFIX_LEN - 1));
        claims.scopes = vec![Scope::new(prefix, Verbs::ALL, u32::MAX); MAX_SCOPES];
        claims.quotas = Quotas {
            bandwidth_bytes: u64::MAX,
            cursor_resumes: u32::MAX,
            cursor_advances: u32::MAX,
        };
        let bytes = encode_claims(&claims).unwrap();
        assert_eq!(bytes.len(), MAX_CLAIMS_LEN);
        assert_eq!(decode_claims(&bytes), Ok(claims));
    }

    #[test]
    fn encode_refuses_out_of_bounds_fields() {
        let mut claims = sample();
        claims.subject = "s".repeat(MAX_SUBJECT_LEN + 1);
        assert_eq!(encode_claims(&claims), Err(TicketError::Malformed));
        let mut claims = sample();
        claims.subject = String::from("a\nb");
        assert_eq!(encode_claims(&claims), Err(TicketError::Malformed));
        let mut claims = sample();
        claims.version = 1;
        assert_eq!(encode_claims(&claims), Err(TicketError::Malformed));
        for prefix in ["", "gpu", "/bad\0", &"/".repeat(MAX_PREFIX_LEN + 1)] {
            let mut claims = sample();
            claims.scopes[0].path_prefix = String::from(prefix);
            assert_eq!(encode_claims(&claims), Err(TicketError::Malformed));
        }
        let mut claims = sample();
        claims.scopes[0].verbs = Verbs(8);
        assert_eq!(encode_claims(&claims), Err(TicketError::Malformed));
        let mut claims = sample();
        claims.scopes = vec![Scope::new("/a", Verbs::READ, 0); MAX_SCOPES + 1];
        assert_eq!(encode_claims(&claims), Err(TicketError::TooManyScopes));
    }

    #[test]
    fn decode_refuses_bad_headers_and_fields() {
        let good = encode_claims(&sample()).unwrap();
        assert_eq!(decode_claims(&[]), Err(TicketError::Malformed));
        for version in [0u8, 1, 3, 255] {
            let mut bytes = good.clone();
            bytes[0] = version;
            assert_eq!(decode_claims(&bytes), Err(TicketError::Malformed));
        }
        let mut bad_role = good.clone();
        bad_role[2] = 6;
        assert_eq!(decode_claims(&bad_role), Err(TicketError::Malformed));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode_claims(&trailing), Err(TicketError::Malformed));
        for cut in 0..good.len() {
            assert_eq!(
                decode_claims(&good[..cut]),
                Err(TicketError::Malformed),
                "{cut}"
            );
        }
    }

    #[test]
    fn decode_refuses_unknown_budget_bits() {
        let claims = Claims::new(1, 1, Role::Queen, "", 0, 0);
        let mut bytes = encode_claims(&claims).unwrap();
        // version, key, role, hive id (8), ticket id, subject len, issued, ttl, then the bitmap.
        assert_eq!(bytes[15], 0);
        bytes[15] = 8;
        assert_eq!(decode_claims(&bytes), Err(TicketError::Malformed));
    }

    #[test]
    fn decode_refuses_oversized_lengths_before_allocating() {
        // A subject length of u64::MAX-ish must be refused, not allocated.
        let mut bytes = vec![VERSION, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        put_u64(&mut bytes, u64::MAX);
        assert_eq!(decode_claims(&bytes), Err(TicketError::Malformed));
        let claims = Claims::new(1, 1, Role::Queen, "", 0, 0);
        let mut many = encode_claims(&claims).unwrap();
        many.truncate(16);
        put_u64(&mut many, 9);
        assert_eq!(decode_claims(&many), Err(TicketError::TooManyScopes));
        many.truncate(16);
        put_u64(&mut many, u64::MAX);
        assert_eq!(decode_claims(&many), Err(TicketError::TooManyScopes));
    }
}
