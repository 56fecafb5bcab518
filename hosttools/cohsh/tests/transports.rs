//! Both transports against one hosted hive: the same replies for the same commands, named
//! refusals for bad tokens and tickets, and stream cursors that only move forward.

mod support;

use client::ClientError;
use cohsh::{Session, Transport};
use support::{say, Hive, BOTH};

#[test]
fn console_and_secure9p_answer_alike() {
    let hive = Hive::start();
    let mut console = hive.queen(Transport::Console);
    let mut ninep = hive.queen(Transport::NineP);
    for line in [
        "ls /proc",
        "ls /proc/boot",
        "cat /proc/lifecycle/state",
        "cat /nowhere",
        "ls /queen/nope",
        "echo tamper > /proc/boot",
        "kill nobody",
        "spawn heartbeat count=0",
        "lifecycle quiesce",
        "ping",
    ] {
        assert_eq!(say(&mut console, line), say(&mut ninep, line), "{line}");
    }
    // Appends answer with the same verb and byte count.
    let a = say(&mut console, "spawn heartbeat count=1 ttl_s=60");
    let b = say(&mut ninep, "spawn heartbeat count=1 ttl_s=60");
    assert_eq!(a, b);
    assert!(
        a[0].starts_with("OK SPAWN payload={\"spawn\":\"heartbeat\""),
        "{a:?}"
    );
    // Each session reads the answer to its own control write.
    assert_eq!(
        say(&mut console, "cat /queen/ctl")[1],
        "spawn kind=heartbeat count=1 ids=w0001"
    );
    assert_eq!(
        say(&mut ninep, "cat /queen/ctl")[1],
        "spawn kind=heartbeat count=1 ids=w0002"
    );
}

#[test]
fn a_bad_console_token_is_a_typed_refusal() {
    let hive = Hive::start();
    let mut target = hive.target(Transport::Console);
    target.token = Some(String::from("not-the-token"));
    let Err(error) = Session::open(&target) else {
        panic!("a bad token must be refused");
    };
    assert_eq!(error.reason(), Some("invalid-token"));
    assert!(!error.is_transient());
    // The source now waits out its AUTH back-off: the next attempt is refused unheard.
    target.token = None;
    let Err(error) = Session::open(&target) else {
        panic!("a source in back-off must be refused");
    };
    assert_eq!(error.reason(), Some("quota"), "{error}");
    assert!(error.to_string().contains("detail=backoff"), "{error}");

    // A fresh hive has heard nothing from this source: a missing token is named as such.
    let fresh = Hive::start();
    let mut target = fresh.target(Transport::Console);
    target.token = None;
    let Err(error) = Session::open(&target) else {
        panic!("no token must be refused");
    };
    assert_eq!(error.reason(), Some("expected-token"), "{error}");
}

#[test]
fn bad_tickets_are_refused_with_reason_and_errno_on_both_transports() {
    let hive = Hive::start();
    let other_keys = {
        let mut keys = ticket::Keyring::new();
        keys.insert(1, [7u8; 32]);
        keys
    };
    let forged = cohsh::serve::queen_ticket(&other_keys, 0).unwrap();
    for transport in BOTH {
        let mut target = hive.target(transport);
        target.ticket = Some(forged.clone());
        let error = Session::open(&target).err().expect("forged ticket refused");
        let ClientError::Refused(refusal) = &error else {
            panic!("{transport}: expected a refusal, got {error}");
        };
        assert_eq!(refusal.reason, "policy", "{transport}: {refusal}");
        assert_eq!(error.errno(), Some(1), "{transport}: EPERM");
        // Over Secure9P a forged ticket backs its source off (guard.auth_delay_base_ms, 100 ms
        // for a first failure): the next attempt is only heard once that has passed.
        std::thread::sleep(std::time::Duration::from_millis(250));
        target.ticket = Some(String::from("cohesix-ticket-zz.00"));
        let error = Session::open(&target).err().expect("garbage refused");
        assert_eq!(error.reason(), Some("invalid"), "{transport}: {error}");
        assert_eq!(error.errno(), Some(22), "{transport}: EINVAL");
    }
}

#[test]
fn a_ticket_for_another_role_is_refused() {
    let hive = Hive::start();
    for transport in BOTH {
        let mut target = hive.target(transport);
        target.role = String::from("relay");
        let error = Session::open(&target).err().expect("role mismatch refused");
        assert_eq!(error.errno(), Some(1), "{transport}: {error}");
    }
}

#[test]
fn tail_cursors_resume_where_the_last_read_ended() {
    let hive = Hive::start();
    for transport in BOTH {
        let mut session = hive.queen(transport);
        let (first, cursor) = session.tail("/log/queen.log", None).unwrap();
        assert!(first.ok());
        assert!(!first.data.is_empty());
        let (again, same) = session.tail("/log/queen.log", Some(cursor)).unwrap();
        assert!(
            again.data.is_empty(),
            "{transport}: nothing new: {:?}",
            again.data
        );
        assert_eq!(same, cursor);
        say(&mut session, "kill nobody-here");
        let (news, next) = session.tail("/log/queen.log", Some(cursor)).unwrap();
        assert!(next > cursor);
        assert_eq!(news.data.len(), 1, "{transport}: {:?}", news.data);
        assert!(
            news.data[0].contains("detail=no-such-worker"),
            "{:?}",
            news.data
        );
        let refused = session.tail("/proc/boot", None).unwrap().0;
        assert!(
            !refused.ok() || transport == Transport::NineP,
            "console refuses tail of text"
        );
    }
}
