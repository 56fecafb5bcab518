//! The Secure9P client against a live hive on loopback: attach with a ticket, whole-file
//! operations, stream cursors, typed refusals with errno, and the session pool.

mod support;

use std::time::Duration;

use cohesix_client::{retry, ClientError, Limits, NineClient, NinePool, PoolConfig, RetryPolicy};
use support::{queen, ticket, timeouts, Hive};
use ticket::Role;

fn attached(hive: &Hive) -> NineClient {
    NineClient::open(hive.ninep, "queen", "operator", &queen(), timeouts()).unwrap()
}

#[test]
fn files_read_list_append_and_tail() {
    let hive = Hive::start();
    let mut c = attached(&hive);
    assert_eq!(c.msize(), 8192);
    assert_eq!(
        c.list("/proc").unwrap(),
        ["boot", "9p", "pressure", "lifecycle", "root"]
    );
    assert_eq!(c.list("/proc/boot").unwrap(), ["boot"]);
    let boot = String::from_utf8(c.read_file("/proc/boot", 65536).unwrap()).unwrap();
    assert!(boot.contains("platform=test\n"), "{boot}");
    assert_eq!(
        c.read_file("/proc/boot", 10).unwrap().len(),
        10,
        "bounded by max"
    );

    let count = c
        .append("/queen/ctl", b"{\"spawn\":\"heartbeat\",\"count\":2}\n")
        .unwrap();
    assert_eq!(count, 32);
    let reply = c.read_file("/queen/ctl", 4096).unwrap();
    assert_eq!(reply, b"spawn kind=heartbeat count=2 ids=w0001..w0002\n");

    let first = c.tail("/log/queen.log", None).unwrap();
    assert_eq!(first.lost, 0);
    assert!(String::from_utf8_lossy(&first.data).contains("ev=spawn id=w0002"));
    let none = c.tail("/log/queen.log", Some(first.next)).unwrap();
    assert!(none.data.is_empty());
    assert_eq!(none.next, first.next);
    c.append("/queen/ctl", b"{\"kill\":\"w0001\"}\n").unwrap();
    let news = c.tail("/log/queen.log", Some(first.next)).unwrap();
    assert!(String::from_utf8_lossy(&news.data).contains("ev=revoke id=w0001"));
    assert_eq!(news.next, first.next + news.data.len() as u64);
}

#[test]
fn refusals_carry_errno_and_leave_no_fid_behind() {
    let hive = Hive::start();
    let mut c = attached(&hive);
    let missing = c.read_file("/proc/nope", 100).unwrap_err();
    assert_eq!(missing.errno(), Some(2));
    assert_eq!(missing.reason(), Some("invalid"));
    let denied = c.append("/proc/boot", b"x\n").unwrap_err();
    assert_eq!((denied.errno(), denied.reason()), (Some(1), Some("policy")));
    let bad_ctl = c
        .append("/queen/ctl", b"{\"kill\":\"nobody\"}\n")
        .unwrap_err();
    assert_eq!(bad_ctl.errno(), Some(2), "no such worker");
    let too_big = c.append("/queen/ctl", &vec![b'x'; 9000]).unwrap_err();
    assert!(matches!(too_big, ClientError::Local(_)), "{too_big}");
    // Sixty-four fids per session: a leak would exhaust them long before this ends.
    for _ in 0..200 {
        let _ = c.read_file("/proc/nope", 10);
        c.read_file("/proc/lifecycle/state", 100).unwrap();
    }
}

#[test]
fn tickets_are_checked_at_attach() {
    let hive = Hive::start();
    let mut c = NineClient::connect(hive.ninep, Limits::default(), timeouts()).unwrap();
    assert!(c.list("/").is_err(), "nothing before attach");
    let relay = ticket(Role::Relay, "r1", (1 << 40) + 1);
    let error = NineClient::open(hive.ninep, "queen", "r1", &relay, timeouts())
        .err()
        .expect("role mismatch refused");
    assert_eq!(error.errno(), Some(1));
    // Last: a forged ticket also backs this source off (docs/interfaces.md §1.4).
    let forged = {
        let mut keys = ticket::Keyring::new();
        keys.insert(1, [9u8; 32]);
        let claims = ticket::Claims::new(1, 1 << 40, Role::Queen, "operator", 0, 60_000);
        ticket::mint(&keys, &claims).unwrap()
    };
    let error = NineClient::open(hive.ninep, "queen", "operator", &forged, timeouts())
        .err()
        .expect("forged ticket refused");
    assert_eq!(error.errno(), Some(1));
    assert_eq!(error.refusal().unwrap().verb, "attach");
}

#[test]
fn the_pool_reuses_sessions_and_refuses_past_its_bound() {
    let hive = Hive::start();
    let pool = NinePool::new(PoolConfig {
        addr: hive.ninep,
        role: String::from("queen"),
        subject: String::from("operator"),
        ticket: queen(),
        timeouts: timeouts(),
        max_sessions: 2,
    });
    {
        let mut a = pool.get().unwrap();
        let _b = pool.get().unwrap();
        let busy = pool.get().err().expect("third session refused");
        assert_eq!(busy.class(), Some(cohesix_client::ErrorClass::Busy));
        assert!(busy.is_transient());
        a.read_file("/proc/boot", 4096).unwrap();
    }
    assert_eq!((pool.open_sessions(), pool.idle_sessions()), (2, 2));
    for _ in 0..10 {
        pool.with(|c| c.read_file("/proc/lifecycle/state", 64))
            .unwrap();
    }
    assert_eq!(pool.open_sessions(), 2, "no new sessions were made");
    pool.clear();
    assert_eq!(pool.open_sessions(), 0);
}

#[test]
fn retries_happen_only_when_asked_and_only_as_often_as_asked() {
    // A port nobody listens on: connection refused, a transient failure.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut attempts = 0;
    let policy = RetryPolicy::new(3, Duration::from_millis(5));
    let result = retry(&policy, |_| {
        attempts += 1;
        NineClient::connect(closed, Limits::default(), timeouts())
    });
    assert!(result.is_err());
    assert_eq!(attempts, 3);
    let mut once = 0;
    let _ = retry(&RetryPolicy::NONE, |_| {
        once += 1;
        NineClient::connect(closed, Limits::default(), timeouts())
    });
    assert_eq!(once, 1);
}

#[test]
fn files_longer_than_one_reply_read_whole() {
    let hive = Hive::start();
    let mut c = attached(&hive);
    for n in 0..200 {
        let _ = c.append(
            "/queen/ctl",
            format!("{{\"kill\":\"nobody-{n}\"}}\n").as_bytes(),
        );
    }
    let log = c.read_file("/log/queen.log", 1 << 20).unwrap();
    assert!(log.len() > c.max_read() as usize, "{} bytes", log.len());
    let text = String::from_utf8(log).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.matches("detail=no-such-worker").count(), 200);
    let mut console = cohesix_client::ConsoleClient::open(
        hive.console,
        support::TOKEN,
        "queen",
        Some(&queen()),
        timeouts(),
    )
    .unwrap();
    let over_console = console.cat("/log/queen.log").unwrap();
    let over_ninep: Vec<&str> = text.lines().collect();
    assert_eq!(over_console[..over_ninep.len()], over_ninep[..]);
}
