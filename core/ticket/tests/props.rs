//! Property tests: encode/decode round trips, the ticket text model on hostile input, budgets and rates.

mod common;

use cohesix_ticket::{
    decode, decode_claims, encode_claims, mint, verify, Budget, Claims, Meter, Quotas, RateLimiter,
    Role, Scope, TicketError, Verbs, MAC_LEN, MAX_SCOPES, PREFIX, VERSION,
};
use common::*;
use proptest::prelude::*;

fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

fn scope() -> impl Strategy<Value = Scope> {
    // At most 31 chars of up to 4 bytes each keeps the prefix within 128 bytes.
    ("\\PC{0,31}", 0u8..8, any::<u32>())
        .prop_map(|(tail, verbs, rate)| Scope::new(format!("/{tail}"), Verbs(verbs), rate))
}

fn budget() -> impl Strategy<Value = Budget> {
    (
        any::<Option<u64>>(),
        any::<Option<u64>>(),
        any::<Option<u64>>(),
    )
        .prop_map(|(ticks, ops, bytes)| Budget { ticks, ops, bytes })
}

fn quotas() -> impl Strategy<Value = Quotas> {
    (any::<u64>(), any::<u32>(), any::<u32>()).prop_map(
        |(bandwidth_bytes, cursor_resumes, cursor_advances)| Quotas {
            bandwidth_bytes,
            cursor_resumes,
            cursor_advances,
        },
    )
}

prop_compose! {
    fn claims()(
        key_id in any::<u8>(),
        hive_id in any::<u64>(),
        ticket_id in any::<u64>(),
        role in role(),
        subject in "\\PC{0,16}",
        issued_at_ms in any::<u64>(),
        ttl_ms in any::<u64>(),
        budget in budget(),
        scopes in proptest::collection::vec(scope(), 0..=MAX_SCOPES),
        quotas in quotas(),
    ) -> Claims {
        Claims {
            version: VERSION,
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
        }
    }
}

/// The ticket text model (docs/interfaces.md §5): `cohesix-ticket-<claims hex>.<mac hex>`, the
/// length limit checked first, lowercase hex only, a MAC of exactly MAC_LEN bytes; written
/// here independently of the decoder's `split`.
fn model_split(text: &str, max: usize) -> Result<(Vec<u8>, [u8; MAC_LEN]), TicketError> {
    if text.len() > max {
        return Err(TicketError::TooLong);
    }
    let lower_hex = |s: &str| {
        s.len().is_multiple_of(2)
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    let body = text.strip_prefix(PREFIX).ok_or(TicketError::Malformed)?;
    let (claims, mac) = body.split_once('.').ok_or(TicketError::Malformed)?;
    if claims.is_empty() || mac.len() != 2 * MAC_LEN || !lower_hex(claims) || !lower_hex(mac) {
        return Err(TicketError::Malformed);
    }
    let byte = |i: usize, s: &str| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    let claims_bytes = (0..claims.len() / 2).map(|i| byte(i, claims)).collect();
    let mut mac_bytes = [0u8; MAC_LEN];
    for (i, b) in mac_bytes.iter_mut().enumerate() {
        *b = byte(i, mac);
    }
    Ok((claims_bytes, mac_bytes))
}

/// `decode` gives what the model gives; what it accepts is the one text form of what it
/// returned; `verify` refuses any text not signed by the ring (none of these is), with the
/// decoder's own refusal when the shape is wrong.
fn check_text(text: &str, max: usize, now: u64) -> Result<(), TestCaseError> {
    let want = model_split(text, max)
        .and_then(|(bytes, mac)| decode_claims(&bytes).map(|claims| (claims, mac)));
    let got = decode(text, max);
    prop_assert_eq!(&got, &want);
    let verified = verify(&ring(), text, max, now);
    match got {
        Ok((claims, mac)) => {
            let canonical = format!(
                "{PREFIX}{}.{}",
                hex::encode(encode_claims(&claims).unwrap()),
                hex::encode(mac)
            );
            prop_assert_eq!(canonical.as_str(), text);
            // The ring holds keys 1 and 2; these MACs are random, so never right.
            let want = match claims.key_id {
                1 | 2 => TicketError::BadMac,
                _ => TicketError::UnknownKey,
            };
            prop_assert_eq!(verified, Err(want));
        }
        Err(e) => prop_assert_eq!(verified, Err(e)),
    }
    Ok(())
}

proptest! {
    #[test]
    fn claims_round_trip(claims in claims()) {
        let bytes = encode_claims(&claims).unwrap();
        prop_assert_eq!(decode_claims(&bytes), Ok(claims));
    }

    #[test]
    fn text_round_trip(mut claims in claims()) {
        let keys = ring();
        claims.key_id = 1 + claims.key_id % 2;
        let text = mint(&keys, &claims).unwrap();
        let (decoded, _) = decode(&text, usize::MAX).unwrap();
        prop_assert_eq!(&decoded, &claims);
        let now = claims.issued_at_ms;
        let verified = verify(&keys, &text, text.len(), now);
        if claims.is_expired(now) {
            prop_assert_eq!(verified, Err(TicketError::Expired));
        } else {
            prop_assert_eq!(verified, Ok(claims));
        }
    }

    #[test]
    fn random_mac_never_verifies(claims in claims(), mac in any::<[u8; MAC_LEN]>()) {
        let keys = ring();
        let mut claims = claims;
        claims.key_id = 1;
        let text = mint(&keys, &claims).unwrap();
        let (body, real) = text.rsplit_once('.').unwrap();
        prop_assume!(hex::encode(mac) != real);
        let forged = format!("{body}.{}", hex::encode(mac));
        prop_assert_eq!(verify(&keys, &forged, usize::MAX, 0), Err(TicketError::BadMac));
    }

    /// A real ticket with one character upper-cased, deleted or inserted: the model says
    /// which refusal (or, for an edit that changes nothing, acceptance) follows.
    #[test]
    fn decode_follows_the_text_model_on_edited_tickets(
        claims in claims(),
        index in any::<prop::sample::Index>(),
        edit in 0u8..3,
        insert in prop::sample::select(vec!['0', 'a', 'f', 'A', 'g', '.', '-']),
    ) {
        let mut claims = claims;
        claims.key_id = 1;
        claims.ttl_ms = u64::MAX;
        let text = mint(&ring(), &claims).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let at = index.index(chars.len());
        match edit {
            0 => chars[at] = chars[at].to_ascii_uppercase(),
            1 => {
                chars.remove(at);
            }
            _ => chars.insert(at, insert),
        }
        let edited: String = chars.into_iter().collect();
        if edited == text {
            prop_assert_eq!(verify(&ring(), &edited, usize::MAX, 0), Ok(claims));
        } else {
            check_text(&edited, usize::MAX, 0)?;
        }
    }

    #[test]
    fn mutated_claims_never_verify(
        claims in claims(),
        index in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let keys = ring();
        let mut claims = claims;
        claims.key_id = 1;
        claims.ttl_ms = u64::MAX;
        let text = mint(&keys, &claims).unwrap();
        let mac = text.rsplit_once('.').unwrap().1;
        let mut bytes = encode_claims(&claims).unwrap();
        let at = index.index(bytes.len());
        prop_assume!(bytes[at] != value);
        bytes[at] = value;
        let tampered = format!("{PREFIX}{}.{mac}", hex::encode(&bytes));
        prop_assert!(verify(&keys, &tampered, usize::MAX, 0).is_err());
    }

    #[test]
    fn decode_follows_the_text_model_on_any_string(
        text in "\\PC*",
        max in prop_oneof![any::<usize>(), 0usize..64],
    ) {
        check_text(&text, max, 0)?;
    }

    #[test]
    fn decode_follows_the_text_model_on_ticket_shaped_strings(
        text in "cohesix-ticket-[0-9a-fA-F]{0,600}\\.[0-9a-f]{0,40}",
        now in any::<u64>(),
    ) {
        check_text(&text, usize::MAX, now)?;
    }

    #[test]
    fn decode_never_panics_on_hex_of_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        mac in proptest::collection::vec(any::<u8>(), 0..24),
    ) {
        let text = format!("{PREFIX}{}.{}", hex::encode(&bytes), hex::encode(&mac));
        check_text(&text, usize::MAX, 0)?;
        // Valid MAC over arbitrary bytes: the decoder alone must refuse or accept them.
        let signed = sign_raw(&KEY_ONE, &bytes);
        if let Ok(claims) = verify(&ring(), &signed, usize::MAX, 0) {
            prop_assert_eq!(encode_claims(&claims).unwrap(), bytes);
        }
    }

    #[test]
    fn meter_never_exceeds_budget(
        budget in budget(),
        charges in proptest::collection::vec((0u8..3, 0u64..1_000), 0..200),
    ) {
        let mut meter = Meter::default();
        for (kind, n) in charges {
            let before = meter;
            let result = match kind {
                0 => meter.charge_op(&budget),
                1 => meter.charge_bytes(&budget, n),
                _ => meter.charge_ticks(&budget, n),
            };
            if result.is_err() {
                prop_assert_eq!(meter, before);
            }
            prop_assert!(budget.ops.is_none_or(|limit| meter.ops <= limit));
            prop_assert!(budget.bytes.is_none_or(|limit| meter.bytes <= limit));
            prop_assert!(budget.ticks.is_none_or(|limit| meter.ticks <= limit));
        }
    }

    #[test]
    fn rate_limiter_never_exceeds_rate(
        rate in 1u32..100,
        steps in proptest::collection::vec(0u64..300, 1..300),
    ) {
        let mut limiter = RateLimiter::new(rate);
        let mut now = 0u64;
        let mut allowed = 0u64;
        for step in steps {
            now += step;
            if limiter.allow(now) {
                allowed += 1;
            }
            // Burst plus everything refilled since the first request at time zero.
            let ceiling = u64::from(rate) + u64::from(rate) * now / 1000;
            prop_assert!(allowed <= ceiling, "{} > {}", allowed, ceiling);
        }
    }
}
