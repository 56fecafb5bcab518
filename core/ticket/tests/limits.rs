//! Revocation set bounds, budget meters and rate limiting.

use cohesix_ticket::{Budget, BudgetKind, Meter, RateLimiter, RevocationSet, TicketError};

#[test]
fn revocation_set_purges_lapsed_entries_when_full() {
    let mut set = RevocationSet::new(2);
    assert!(set.is_empty());
    set.revoke(1, 100, 0).unwrap();
    set.revoke(2, 200, 0).unwrap();
    assert_eq!(set.len(), 2);
    // Full and nothing has lapsed at 50: refused, and nothing changes.
    assert_eq!(set.revoke(3, 300, 50), Err(TicketError::RevocationsFull));
    assert!(set.is_revoked(1) && set.is_revoked(2) && !set.is_revoked(3));
    // At 100 ticket 1 has expired (expiry is inclusive), so it makes room.
    set.revoke(3, 300, 100).unwrap();
    assert!(!set.is_revoked(1));
    assert!(set.is_revoked(2) && set.is_revoked(3));
    assert_eq!(set.len(), 2);
}

#[test]
fn revoking_again_is_free_and_keeps_later_expiry() {
    let mut set = RevocationSet::new(1);
    set.revoke(7, 100, 0).unwrap();
    set.revoke(7, 500, 0).unwrap();
    set.revoke(7, 50, 0).unwrap();
    assert_eq!(set.purge(499), 0);
    assert!(set.is_revoked(7));
    assert_eq!(set.purge(500), 1);
    assert!(!set.is_revoked(7));
}

#[test]
fn purge_drops_only_lapsed_entries() {
    let mut set = RevocationSet::new(16);
    for id in 0..10u64 {
        set.revoke(id, id * 10, 0).unwrap();
    }
    assert_eq!(set.purge(0), 1);
    assert_eq!(set.purge(45), 4);
    assert_eq!(set.len(), 5);
    assert!((5..10).all(|id| set.is_revoked(id)));
    assert!((0..5).all(|id| !set.is_revoked(id)));
    assert_eq!(set.purge(45), 0);
}

#[test]
fn zero_capacity_set_refuses_everything() {
    let mut set = RevocationSet::new(0);
    assert_eq!(set.revoke(1, 10, 0), Err(TicketError::RevocationsFull));
    assert!(set.is_empty());
}

#[test]
fn revocation_set_never_exceeds_capacity() {
    let mut set = RevocationSet::new(8);
    let mut refused = 0;
    for id in 0..100u64 {
        if set.revoke(id, 1_000 + id, id).is_err() {
            refused += 1;
        }
        assert!(set.len() <= set.capacity());
    }
    assert_eq!(refused, 92);
}

#[test]
fn meter_refuses_the_op_past_the_limit() {
    let budget = Budget {
        ops: Some(3),
        ..Budget::default()
    };
    let mut meter = Meter::default();
    assert_eq!(meter.remaining_ops(&budget), Some(3));
    for _ in 0..3 {
        meter.charge_op(&budget).unwrap();
    }
    assert_eq!(meter.remaining_ops(&budget), Some(0));
    assert_eq!(meter.exhausted(&budget), Some(BudgetKind::Ops));
    assert_eq!(meter.charge_op(&budget), Err(BudgetKind::Ops));
    assert_eq!(meter.ops, 3);
}

#[test]
fn meter_refuses_whole_oversized_charges() {
    let budget = Budget {
        ticks: Some(10),
        ops: None,
        bytes: Some(100),
    };
    let mut meter = Meter::default();
    meter.charge_bytes(&budget, 60).unwrap();
    assert_eq!(meter.charge_bytes(&budget, 41), Err(BudgetKind::Bytes));
    assert_eq!(meter.bytes, 60);
    meter.charge_bytes(&budget, 40).unwrap();
    assert_eq!(meter.remaining_bytes(&budget), Some(0));
    assert_eq!(
        meter.charge_ticks(&budget, u64::MAX),
        Err(BudgetKind::Ticks)
    );
    meter.charge_ticks(&budget, 10).unwrap();
    assert_eq!(meter.charge_ticks(&budget, 1), Err(BudgetKind::Ticks));
    assert_eq!(meter.ticks, 10);
    assert_eq!(meter.remaining_ops(&budget), None);
    for _ in 0..1000 {
        meter.charge_op(&budget).unwrap();
    }
    assert_eq!(meter.ops, 1000);
    assert_eq!(BudgetKind::Ticks.to_string(), "ticks");
}

#[test]
fn unlimited_meter_saturates() {
    let budget = Budget::default();
    let mut meter = Meter::default();
    meter.charge_bytes(&budget, u64::MAX).unwrap();
    meter.charge_bytes(&budget, 5).unwrap();
    assert_eq!(meter.bytes, u64::MAX);
    assert_eq!(meter.exhausted(&budget), None);
}

#[test]
fn zero_budget_allows_nothing() {
    let budget = Budget {
        ticks: Some(0),
        ops: Some(0),
        bytes: Some(0),
    };
    let mut meter = Meter::default();
    assert_eq!(meter.charge_op(&budget), Err(BudgetKind::Ops));
    assert_eq!(meter.charge_bytes(&budget, 1), Err(BudgetKind::Bytes));
    assert_eq!(meter.charge_ticks(&budget, 1), Err(BudgetKind::Ticks));
    assert_eq!(meter.charge_bytes(&budget, 0), Ok(()));
    assert_eq!(meter, Meter::default());
}

#[test]
fn rate_limiter_bursts_then_refills() {
    let mut limiter = RateLimiter::new(10);
    assert!((0..10).all(|_| limiter.allow(1_000)));
    assert!(!limiter.allow(1_000));
    assert!(!limiter.allow(1_099));
    assert!(limiter.allow(1_100));
    assert!(!limiter.allow(1_100));
    // A long pause refills only to the burst size.
    let allowed = (0..50).filter(|_| limiter.allow(60_000)).count();
    assert_eq!(allowed, 10);
}

#[test]
fn rate_limiter_ignores_time_running_backwards() {
    let mut limiter = RateLimiter::new(2);
    assert!(limiter.allow(5_000));
    assert!(limiter.allow(5_000));
    assert!(!limiter.allow(0));
    assert!(!limiter.allow(4_000));
    assert!(!limiter.allow(5_499));
    assert!(limiter.allow(5_500));
}

#[test]
fn rate_limiter_sub_token_refills_accumulate() {
    // One per second, probed every 100 ms: exactly one request per full second.
    let mut limiter = RateLimiter::new(1);
    let allowed: Vec<u64> = (0..=30)
        .map(|step| step * 100)
        .filter(|&t| limiter.allow(t))
        .collect();
    assert_eq!(allowed, [0, 1_000, 2_000, 3_000]);
}

#[test]
fn rate_limiter_zero_is_unlimited() {
    let mut limiter = RateLimiter::new(0);
    assert!((0..10_000).all(|_| limiter.allow(0)));
}

#[test]
fn rate_limiter_is_deterministic() {
    let times: Vec<u64> = (0..2_000u64).map(|i| (i * 7_919) % 5_003 + i).collect();
    let run = || {
        let mut limiter = RateLimiter::new(13);
        times.iter().map(|&t| limiter.allow(t)).collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.iter().any(|&a| a) && first.iter().any(|&a| !a));
}
