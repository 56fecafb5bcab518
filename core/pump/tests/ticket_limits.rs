//! Every ticket's limits are enforced for every role: scope rates pace requests, byte budgets
//! are charged on writes, and limits the hive cannot honour are refused at attach.

mod support;

use manifest::Manifest;
use secure9p::Error;
use support::{keys, TestHive};
use ticket::{Claims, Role, Scope, Verbs};

fn relay_claims(ticket_id: u64) -> Claims {
    Claims::new(1, ticket_id, Role::Relay, "relay-1", 0, 86_400_000)
}

#[test]
fn a_scope_rate_paces_reads_without_closing_the_session() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut claims = relay_claims(1 << 43);
    claims.scopes = vec![Scope::new("/proc", Verbs::READ, 4)];
    let text = ticket::mint(&keys(), &claims).unwrap();
    let mut relay = hive.connect();
    relay.attach(&mut hive, "relay", "relay-1", &text).unwrap();

    let mut done = 0;
    let mut refused = None;
    for _ in 0..10 {
        match relay.read_file(&mut hive, "/proc/boot") {
            Ok(_) => done += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    // Four tokens, two charged per read (open and read): the third read is paced.
    assert_eq!(done, 2);
    assert_eq!(refused, Some(Error::Busy));
    let log = String::from_utf8(hive_log(&mut hive)).unwrap();
    assert!(log.contains("detail=rate"), "{log}");

    // A second later the bucket has refilled and the same session reads again.
    hive.hal.advance_ms(1000);
    relay.read_file(&mut hive, "/proc/boot").unwrap();
}

#[test]
fn a_byte_budget_is_charged_on_operator_writes() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut claims = Claims::new(1, 1 << 43, Role::Queen, "operator", 0, 86_400_000);
    claims.budget.bytes = Some(40);
    let text = ticket::mint(&keys(), &claims).unwrap();
    let mut queen = hive.connect();
    queen.attach(&mut hive, "queen", "operator", &text).unwrap();
    let line = br#"{"spawn":"heartbeat","count":1}"#;
    assert_eq!(line.len(), 31);
    queen.write_file(&mut hive, "/queen/ctl", line).unwrap();
    // 31 + 31 > 40: the ticket is revoked and its session closes.
    let fid = queen.open(&mut hive, "/queen/ctl", 1).unwrap();
    let refused = queen.call(&mut hive, |c, out| {
        c.write(fid, 0, line, out).unwrap();
    });
    assert_eq!(refused.err(), Some(Error::Closed));
    assert_eq!(hive.pump.hive().registry().len(), 1);
    let mut again = hive.connect();
    assert_eq!(
        again.attach(&mut hive, "queen", "operator", &text),
        Err(Error::Closed)
    );
}

#[test]
fn limits_the_hive_cannot_meter_are_refused_at_attach() {
    let mut hive = TestHive::boot(Manifest::default());
    let mut ticks = relay_claims(1 << 43);
    ticks.budget.ticks = Some(10);
    let mut quota = relay_claims((1 << 43) + 1);
    quota.quotas.cursor_resumes = 1;
    for claims in [ticks, quota] {
        let text = ticket::mint(&keys(), &claims).unwrap();
        let mut relay = hive.connect();
        assert_eq!(
            relay.attach(&mut hive, "relay", "relay-1", &text),
            Err(Error::Invalid)
        );
    }
    let log = String::from_utf8(hive_log(&mut hive)).unwrap();
    assert!(log.contains("detail=unenforced-budget"), "{log}");
    assert!(log.contains("detail=unenforced-quota"), "{log}");
}

fn hive_log(hive: &mut TestHive) -> Vec<u8> {
    let mut queen = hive.connect();
    queen
        .attach(hive, "queen", "operator", &support::queen_ticket(1 << 41))
        .unwrap();
    queen.read_file(hive, "/log/queen.log").unwrap()
}
