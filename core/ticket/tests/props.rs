//! Property tests: encode/decode round trips and no panics on hostile input.

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
    fn decode_never_panics_on_any_string(text in "\\PC*", max in any::<usize>()) {
        let _ = decode(&text, max);
        let _ = verify(&ring(), &text, max, 0);
    }

    #[test]
    fn decode_never_panics_on_ticket_shaped_strings(
        text in "cohesix-ticket-[0-9a-f]{0,600}\\.[0-9a-f]{0,40}",
        now in any::<u64>(),
    ) {
        let _ = decode(&text, usize::MAX);
        let _ = verify(&ring(), &text, usize::MAX, now);
    }

    #[test]
    fn decode_never_panics_on_hex_of_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        mac in proptest::collection::vec(any::<u8>(), 0..24),
    ) {
        let text = format!("{PREFIX}{}.{}", hex::encode(&bytes), hex::encode(&mac));
        let _ = decode(&text, usize::MAX);
        let _ = verify(&ring(), &text, usize::MAX, 0);
        let _ = decode_claims(&bytes);
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
