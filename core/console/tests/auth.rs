//! Token handshake and attach back-off.

use cohesix_console::{check_auth, token_matches, AttachBackoff, AuthRefusal, ConsoleLimits};
use secure9p::Error;

#[test]
fn token_compare() {
    assert!(token_matches(b"s3cret", b"s3cret"));
    assert!(!token_matches(b"s3cret", b"s3creT"));
    assert!(!token_matches(b"s3cret", b"s3cre"));
    assert!(!token_matches(b"s3cret", b""));
}

#[test]
fn handshake_outcomes() {
    let token = Some(&b"changeme-not"[..]);
    assert_eq!(check_auth("AUTH changeme-not", token), Ok(()));
    assert_eq!(check_auth("auth changeme-not", token), Ok(()));
    assert_eq!(
        check_auth("AUTH wrong", token),
        Err(AuthRefusal::InvalidToken)
    );
    assert_eq!(check_auth("AUTH", token), Err(AuthRefusal::ExpectedToken));
    assert_eq!(check_auth("", token), Err(AuthRefusal::ExpectedToken));
    assert_eq!(
        check_auth("ATTACH queen", token),
        Err(AuthRefusal::ExpectedToken)
    );
    assert_eq!(check_auth("PING", token), Err(AuthRefusal::ExpectedToken));
}

#[test]
fn no_provisioned_token_refuses_everything() {
    assert_eq!(
        check_auth("AUTH changeme", None),
        Err(AuthRefusal::InvalidToken)
    );
    assert_eq!(check_auth("AUTH ", None), Err(AuthRefusal::ExpectedToken));
    // An empty provisioned token is no token at all, not a match for an empty guess.
    assert_eq!(
        check_auth("AUTH x", Some(b"")),
        Err(AuthRefusal::InvalidToken)
    );
}

#[test]
fn refusal_reasons() {
    assert_eq!(AuthRefusal::InvalidToken.reason(), "invalid-token");
    assert_eq!(AuthRefusal::ExpectedToken.reason(), "expected-token");
    assert_eq!(AuthRefusal::InvalidLength.reason(), "invalid-length");
    assert_eq!(AuthRefusal::InvalidToken.error(), Error::Perm);
    assert_eq!(AuthRefusal::InvalidLength.error(), Error::TooBig);
}

#[test]
fn backoff_doubles_to_the_cap() {
    let mut b = AttachBackoff::from_limits(&ConsoleLimits::default());
    let mut now = 1_000;
    let mut delays = Vec::new();
    for _ in 0..11 {
        assert_eq!(b.check(now), Ok(()));
        let delay = b.record_failure(now);
        delays.push(delay);
        assert_eq!(b.check(now), Err(delay));
        assert_eq!(b.check(now + delay - 1), Err(1));
        now += delay;
    }
    assert_eq!(
        delays,
        [250, 500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 64_000, 64_000]
    );
    assert_eq!(b.failures(), 11);
}

#[test]
fn backoff_resets_on_success() {
    let mut b = AttachBackoff::new(250, 64_000);
    b.record_failure(0);
    b.record_failure(250);
    assert_eq!(b.remaining(300), 450);
    b.reset();
    assert_eq!(b.check(300), Ok(()));
    assert_eq!(b.failures(), 0);
    assert_eq!(b.record_failure(300), 250);
}

#[test]
fn backoff_never_overflows() {
    let mut b = AttachBackoff::new(u64::MAX / 2, u64::MAX);
    for _ in 0..200 {
        b.record_failure(u64::MAX - 5);
    }
    assert_eq!(b.delay_after(0), 0);
    assert_eq!(b.delay_after(u32::MAX), u64::MAX);
    assert_eq!(b.remaining(0), u64::MAX);
}
