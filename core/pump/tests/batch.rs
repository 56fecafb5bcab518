//! `secure9p.batch_max`: one turn runs at most that many requests of one connection; the
//! rest wait in its buffer, answered in later turns, and the turn reports the backlog so a
//! host loop does not sleep on it.

mod support;

use manifest::Manifest;
use secure9p::codec::Response;
use support::{queen_ticket, TestHive};

#[test]
fn a_pipelined_burst_is_answered_batch_max_requests_per_turn_and_completely() {
    let mut manifest = Manifest::default();
    manifest.secure9p.batch_max = 4;
    let mut hive = TestHive::boot(manifest);
    let mut q = hive.connect();
    q.attach(&mut hive, "queen", "operator", &queen_ticket(1 << 40))
        .unwrap();
    let root = q.root.unwrap();
    let tags = q.codec.limits().tags as usize;
    for _ in 0..tags {
        q.send(|c, out| {
            c.getattr(root, out).unwrap();
        });
    }
    let mut answered = Vec::new();
    let mut backlogged_turns = 0;
    while answered.len() < tags {
        let turn = hive.pump.turn(&mut hive.hal);
        let before = answered.len();
        while let Some(reply) = q.poll() {
            answered.push(reply);
        }
        assert!(
            answered.len() - before <= 4,
            "a turn ran {} requests of one connection",
            answered.len() - before
        );
        if turn.backlog > 0 {
            backlogged_turns += 1;
            assert!(turn.did_work(), "a backlog keeps the host loop turning");
        }
        assert!(backlogged_turns <= tags, "the burst is drained");
    }
    assert_eq!(answered.len(), tags);
    assert!(
        answered
            .iter()
            .all(|r| matches!(r, Ok(Response::Getattr(_)))),
        "deferred requests run, none is refused: {answered:?}"
    );
    // 16 requests at 4 per turn: three turns end with requests still waiting.
    assert_eq!(backlogged_turns, tags / 4 - 1);
    let idle = hive.pump.turn(&mut hive.hal);
    assert_eq!(idle.backlog, 0);
}
