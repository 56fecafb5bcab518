//! Minting and verification: forgery, tampering, expiry, keys, rotation and malformed text.

mod common;

use cohesix_ticket::{
    decode, encode_claims, mint, verify, Budget, Claims, Keyring, Quotas, RevocationSet, Role,
    Scope, TicketError, Verbs, MAC_LEN, MAX_SCOPES, PREFIX, WORKER_TEXT_MAX,
};
use common::*;

#[test]
fn minted_ticket_verifies_and_decodes() {
    let keys = ring();
    let claims = worker_claims();
    let text = mint(&keys, &claims).unwrap();
    assert!(text.starts_with(PREFIX));
    assert_eq!(verify(&keys, &text, ROOMY, T0), Ok(claims.clone()));
    let (decoded, mac) = decode(&text, ROOMY).unwrap();
    assert_eq!(decoded, claims);
    assert!(text.ends_with(&hex::encode(mac)));
}

#[test]
fn typical_worker_ticket_fits_224_chars() {
    let keys = ring();
    let realistic = worker_claims();
    let realistic_len = mint(&keys, &realistic).unwrap().len();
    // Worst realistic worker: largest key id, 32-bit ticket id, 12-char subject, an issue time
    // late this century, a 30-day TTL and 32-bit tick and op budgets.
    let mut worst = Claims::new(
        255,
        u64::from(u32::MAX),
        Role::WorkerHeartbeat,
        "w0412-site-a",
        4_102_444_800_000,
        30 * 24 * 3_600_000,
    );
    worst.budget = Budget {
        ticks: Some(u64::from(u32::MAX)),
        ops: Some(u64::from(u32::MAX)),
        bytes: None,
    };
    let mut keys_255 = keys.clone();
    keys_255.insert(255, KEY_TWO);
    let worst_len = mint(&keys_255, &worst).unwrap().len();
    // Beyond realistic: every 64-bit field at its maximum.
    let mut extreme = worst.clone();
    extreme.issued_at_ms = u64::MAX;
    extreme.ttl_ms = u64::MAX;
    extreme.budget.ticks = Some(u64::MAX);
    extreme.budget.ops = Some(u64::MAX);
    let extreme_len = mint(&keys_255, &extreme).unwrap().len();
    println!(
        "worker ticket length: typical {realistic_len}, realistic worst {worst_len}, \
         64-bit extreme {extreme_len} (limit {WORKER_TEXT_MAX})"
    );
    assert!(realistic_len <= worst_len);
    assert!(worst_len <= WORKER_TEXT_MAX, "{worst_len}");
    assert!(extreme_len <= WORKER_TEXT_MAX, "{extreme_len}");
    let text = mint(&keys_255, &worst).unwrap();
    assert_eq!(
        verify(&keys_255, &text, WORKER_TEXT_MAX, 4_102_444_800_000),
        Ok(worst)
    );
}

#[test]
fn random_mac_is_refused() {
    let keys = ring();
    let text = mint(&keys, &worker_claims()).unwrap();
    let (claims_hex, real_mac) = text.rsplit_once('.').unwrap();
    for seed in 0u8..64 {
        let hash = blake3::hash(&[seed]);
        let fake = hex::encode(&hash.as_bytes()[..MAC_LEN]);
        assert_ne!(fake, real_mac);
        let forged = format!("{claims_hex}.{fake}");
        assert_eq!(verify(&keys, &forged, ROOMY, T0), Err(TicketError::BadMac));
    }
    let zeros = format!("{claims_hex}.{}", "0".repeat(2 * MAC_LEN));
    assert_eq!(verify(&keys, &zeros, ROOMY, T0), Err(TicketError::BadMac));
}

#[test]
fn mac_from_another_key_is_refused() {
    let keys = ring();
    let mut claims = worker_claims();
    // Same key id, different key bytes: a ring provisioned with another secret.
    let mut other_ring = Keyring::new();
    other_ring.insert(1, Keyring::derive_key(b"other hive", "key-1"));
    let foreign = mint(&other_ring, &claims).unwrap();
    assert_eq!(verify(&keys, &foreign, ROOMY, T0), Err(TicketError::BadMac));
    // Claims naming key 2 carrying the MAC made under key 1.
    let under_one = mint(&keys, &claims).unwrap();
    claims.key_id = 2;
    let under_two = mint(&keys, &claims).unwrap();
    let spliced = format!(
        "{}.{}",
        under_two.rsplit_once('.').unwrap().0,
        under_one.rsplit_once('.').unwrap().1
    );
    assert_eq!(verify(&keys, &spliced, ROOMY, T0), Err(TicketError::BadMac));
    // Claims bytes MACed under key 1 but with the key id byte rewritten to 2.
    let mut bytes = encode_claims(&worker_claims()).unwrap();
    bytes[1] = 2;
    let relabelled = format!(
        "{PREFIX}{}.{}",
        hex::encode(&bytes),
        under_one.rsplit_once('.').unwrap().1
    );
    assert_eq!(
        verify(&keys, &relabelled, ROOMY, T0),
        Err(TicketError::BadMac)
    );
}

#[test]
fn every_hex_char_change_is_refused() {
    let keys = ring();
    let text = mint(&keys, &worker_claims()).unwrap();
    let start = PREFIX.len();
    let mut tried = 0;
    for index in 0..text.len() {
        let original = text.as_bytes()[index];
        let replacements: &[u8] = if index < start {
            b"xX-0"
        } else {
            b"0123456789abcdefABCDEF.g "
        };
        for &replacement in replacements {
            if replacement == original {
                continue;
            }
            let mut tampered = text.clone().into_bytes();
            tampered[index] = replacement;
            let tampered = String::from_utf8(tampered).unwrap();
            let result = verify(&keys, &tampered, ROOMY, T0);
            assert!(
                result.is_err(),
                "accepted change at {index} to {replacement}"
            );
            tried += 1;
        }
    }
    assert!(tried > 1000, "{tried}");
}

#[test]
fn every_claims_bit_flip_is_refused() {
    let keys = ring();
    let mut claims = worker_claims();
    claims.scopes = vec![Scope::new("/worker/w0412", Verbs::READ | Verbs::APPEND, 4)];
    claims.quotas = Quotas {
        bandwidth_bytes: 1 << 20,
        cursor_resumes: 2,
        cursor_advances: 5,
    };
    let text = mint(&keys, &claims).unwrap();
    let mac = text.rsplit_once('.').unwrap().1;
    let bytes = encode_claims(&claims).unwrap();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[index] ^= 1 << bit;
            let tampered = format!("{PREFIX}{}.{mac}", hex::encode(&flipped));
            assert!(
                verify(&keys, &tampered, ROOMY, T0).is_err(),
                "accepted flip of bit {bit} in byte {index}"
            );
        }
    }
}

#[test]
fn expiry_boundary_is_exact() {
    let keys = ring();
    let mut claims = worker_claims();
    claims.ttl_ms = 500;
    let text = mint(&keys, &claims).unwrap();
    assert_eq!(claims.expires_at_ms(), T0 + 500);
    assert!(verify(&keys, &text, ROOMY, T0 + 499).is_ok());
    assert_eq!(
        verify(&keys, &text, ROOMY, T0 + 500),
        Err(TicketError::Expired)
    );
    assert_eq!(
        verify(&keys, &text, ROOMY, u64::MAX),
        Err(TicketError::Expired)
    );
    claims.ttl_ms = 0;
    let instant = mint(&keys, &claims).unwrap();
    assert_eq!(
        verify(&keys, &instant, ROOMY, T0),
        Err(TicketError::Expired)
    );
}

#[test]
fn expiry_is_checked_after_the_mac() {
    let keys = ring();
    let text = mint(&keys, &worker_claims()).unwrap();
    let (claims_hex, _) = text.rsplit_once('.').unwrap();
    let forged = format!("{claims_hex}.{}", "1".repeat(2 * MAC_LEN));
    assert_eq!(
        verify(&keys, &forged, ROOMY, u64::MAX),
        Err(TicketError::BadMac)
    );
}

#[test]
fn unknown_key_id_is_refused() {
    let keys = ring();
    let mut claims = worker_claims();
    claims.key_id = 9;
    assert_eq!(mint(&keys, &claims), Err(TicketError::UnknownKey));
    let mut wider = keys.clone();
    wider.insert(9, [0x99; 32]);
    let text = mint(&wider, &claims).unwrap();
    assert_eq!(
        verify(&keys, &text, ROOMY, T0),
        Err(TicketError::UnknownKey)
    );
    assert_eq!(
        verify(&Keyring::new(), &text, ROOMY, T0),
        Err(TicketError::UnknownKey)
    );
}

#[test]
fn retired_key_stops_verifying() {
    let mut keys = ring();
    let text = mint(&keys, &worker_claims()).unwrap();
    assert!(verify(&keys, &text, ROOMY, T0).is_ok());
    assert!(keys.retire(1));
    assert_eq!(
        verify(&keys, &text, ROOMY, T0),
        Err(TicketError::UnknownKey)
    );
    assert_eq!(mint(&keys, &worker_claims()), Err(TicketError::UnknownKey));
}

#[test]
fn key_rotation_keeps_old_tickets_until_retired() {
    let mut keys = Keyring::new();
    keys.insert(1, KEY_ONE);
    let mut claims = worker_claims();
    claims.key_id = keys.active_id().unwrap();
    let old = mint(&keys, &claims).unwrap();

    keys.insert(2, KEY_TWO);
    assert_eq!(keys.active_id(), Some(1));
    keys.set_active(2).unwrap();
    claims.key_id = keys.active_id().unwrap();
    claims.ticket_id += 1;
    let new = mint(&keys, &claims).unwrap();
    assert_eq!(decode(&new, ROOMY).unwrap().0.key_id, 2);
    assert_eq!(verify(&keys, &old, ROOMY, T0).unwrap().key_id, 1);
    assert_eq!(verify(&keys, &new, ROOMY, T0).unwrap().key_id, 2);

    keys.retire(1);
    assert_eq!(verify(&keys, &old, ROOMY, T0), Err(TicketError::UnknownKey));
    assert_eq!(verify(&keys, &new, ROOMY, T0), Ok(claims));
}

#[test]
fn over_long_text_is_refused_before_parsing() {
    let keys = ring();
    let text = mint(&keys, &worker_claims()).unwrap();
    assert!(verify(&keys, &text, text.len(), T0).is_ok());
    assert_eq!(
        verify(&keys, &text, text.len() - 1, T0),
        Err(TicketError::TooLong)
    );
    assert_eq!(decode(&text, text.len() - 1), Err(TicketError::TooLong));
    // Garbage that would be Malformed is TooLong when it is over the limit.
    let junk = "not a ticket at all";
    assert_eq!(verify(&keys, junk, 4, T0), Err(TicketError::TooLong));
    assert_eq!(decode(junk, junk.len()), Err(TicketError::Malformed));
    let huge = "x".repeat(1 << 20);
    assert_eq!(verify(&keys, &huge, 1024, T0), Err(TicketError::TooLong));
    assert_eq!(
        verify(&keys, &huge, usize::MAX, T0),
        Err(TicketError::Malformed)
    );
}

#[test]
fn too_many_scopes_are_refused() {
    let keys = ring();
    let mut claims = worker_claims();
    claims.scopes = (0..MAX_SCOPES)
        .map(|i| Scope::new(format!("/s{i}"), Verbs::READ, 0))
        .collect();
    let text = mint(&keys, &claims).unwrap();
    assert_eq!(
        verify(&keys, &text, ROOMY, T0).unwrap().scopes.len(),
        MAX_SCOPES
    );
    claims.scopes.push(Scope::new("/one-more", Verbs::READ, 0));
    assert_eq!(mint(&keys, &claims), Err(TicketError::TooManyScopes));

    // A ticket whose bytes claim nine scopes is refused even with a valid MAC.
    let mut bytes = encode_claims(&worker_claims()).unwrap();
    let quotas_len = 3; // three zero varints
    let count_at = bytes.len() - quotas_len - 1;
    assert_eq!(bytes[count_at], 0);
    bytes[count_at] = 9;
    let text = sign_raw(&KEY_ONE, &bytes);
    assert_eq!(
        verify(&keys, &text, ROOMY, T0),
        Err(TicketError::TooManyScopes)
    );
}

#[test]
fn trailing_garbage_is_refused() {
    let keys = ring();
    let mut bytes = encode_claims(&worker_claims()).unwrap();
    bytes.push(0);
    let text = sign_raw(&KEY_ONE, &bytes);
    assert_eq!(verify(&keys, &text, ROOMY, T0), Err(TicketError::Malformed));
    let good = mint(&keys, &worker_claims()).unwrap();
    for suffix in ["0", "00", ".", " ", "\n", ".00"] {
        let text = format!("{good}{suffix}");
        assert_eq!(
            verify(&keys, &text, ROOMY, T0),
            Err(TicketError::Malformed),
            "{suffix:?}"
        );
    }
}

#[test]
fn unknown_version_is_refused() {
    let keys = ring();
    for version in [0u8, 1, 3, 0x80, 0xff] {
        let mut bytes = encode_claims(&worker_claims()).unwrap();
        bytes[0] = version;
        let text = sign_raw(&KEY_ONE, &bytes);
        assert_eq!(verify(&keys, &text, ROOMY, T0), Err(TicketError::Malformed));
        assert_eq!(decode(&text, ROOMY), Err(TicketError::Malformed));
    }
    let mut claims = worker_claims();
    claims.version = 1;
    assert_eq!(mint(&keys, &claims), Err(TicketError::Malformed));
}

#[test]
fn bad_hex_and_shape_are_refused() {
    let keys = ring();
    let good = mint(&keys, &worker_claims()).unwrap();
    let (claims_hex, mac_hex) = good.rsplit_once('.').unwrap();
    let body = &claims_hex[PREFIX.len()..];
    let cases = [
        String::new(),
        PREFIX.to_string(),
        format!("{PREFIX}."),
        format!("{body}.{mac_hex}"),
        format!("cohesix-token-{body}.{mac_hex}"),
        format!("{PREFIX}{body}{mac_hex}"),
        format!("{PREFIX}{body}.{mac_hex}.{mac_hex}"),
        format!("{PREFIX}{body}0.{mac_hex}"),
        format!("{PREFIX}{}.{mac_hex}", body.to_uppercase()),
        format!("{PREFIX}{body}.{}", mac_hex.to_uppercase()),
        format!("{PREFIX}{}zz.{mac_hex}", &body[..body.len() - 2]),
        format!("{PREFIX}{body}.{}", &mac_hex[..mac_hex.len() - 2]),
        format!("{PREFIX}{body}.{mac_hex}00"),
        format!(" {good}"),
        format!("{PREFIX}{}é.{mac_hex}", &body[..body.len() - 2]),
    ];
    for case in &cases {
        assert_eq!(
            verify(&keys, case, ROOMY, T0),
            Err(TicketError::Malformed),
            "{case:?}"
        );
        assert_eq!(decode(case, ROOMY), Err(TicketError::Malformed), "{case:?}");
    }
}

#[test]
fn revoked_tickets_are_refused_by_the_set() {
    let keys = ring();
    let claims = worker_claims();
    let text = mint(&keys, &claims).unwrap();
    let mut revoked = RevocationSet::new(4);
    let verified = verify(&keys, &text, ROOMY, T0).unwrap();
    assert_eq!(revoked.check(&verified), Ok(()));
    revoked
        .revoke(claims.ticket_id, claims.expires_at_ms(), T0)
        .unwrap();
    assert_eq!(revoked.check(&verified), Err(TicketError::Revoked));
}

#[test]
fn mint_refuses_invalid_claims() {
    let keys = ring();
    let mut claims = worker_claims();
    claims.subject = "s".repeat(65);
    assert_eq!(mint(&keys, &claims), Err(TicketError::Malformed));
    let mut claims = worker_claims();
    claims.scopes = vec![Scope::new("relative/path", Verbs::READ, 0)];
    assert_eq!(mint(&keys, &claims), Err(TicketError::Malformed));
    let mut claims = worker_claims();
    claims.scopes = vec![Scope::new("/ok", Verbs(0x10), 0)];
    assert_eq!(mint(&keys, &claims), Err(TicketError::Malformed));
}

#[test]
fn error_names_are_kebab_case() {
    let names: Vec<String> = [
        TicketError::Malformed,
        TicketError::TooLong,
        TicketError::TooManyScopes,
        TicketError::UnknownKey,
        TicketError::BadMac,
        TicketError::Expired,
        TicketError::Revoked,
        TicketError::RevocationsFull,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "malformed",
            "too-long",
            "too-many-scopes",
            "unknown-key",
            "bad-mac",
            "expired",
            "revoked",
            "revocations-full"
        ]
    );
}

#[test]
fn every_role_round_trips_through_a_ticket() {
    let keys = ring();
    for role in Role::ALL {
        let mut claims = worker_claims();
        claims.role = role;
        claims.budget = Budget::default();
        let text = mint(&keys, &claims).unwrap();
        assert_eq!(verify(&keys, &text, ROOMY, T0).unwrap().role, role);
    }
}
