//! The console client against a live hive on loopback: handshake, verbs, streams, and typed
//! refusals; deadlines against a peer that never answers.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use cohesix_client::{ClientError, ConsoleClient, ErrorClass, Timeouts};
use support::{queen, timeouts, Hive, TOKEN};

fn attached(hive: &Hive) -> ConsoleClient {
    ConsoleClient::open(hive.console, TOKEN, "queen", Some(&queen()), timeouts()).unwrap()
}

#[test]
fn a_queen_session_from_auth_to_quit() {
    let hive = Hive::start();
    let mut c = attached(&hive);
    assert_eq!(c.role(), Some("queen"));
    c.ping().unwrap();
    assert_eq!(
        c.ls("/proc").unwrap(),
        ["boot", "9p", "pressure", "lifecycle", "root"]
    );
    let boot = c.cat("/proc/boot").unwrap();
    assert!(boot.contains(&String::from("platform=test")), "{boot:?}");

    let (log, cursor) = c.tail("/log/queen.log", None).unwrap();
    assert!(
        log.iter().any(|l| l.contains("ev=attach role=queen")),
        "{log:?}"
    );
    assert_eq!(
        c.tail("/log/queen.log", Some(cursor)).unwrap(),
        (vec![], cursor)
    );

    assert_eq!(c.echo("/queen/lifecycle/ctl", "cordon").unwrap(), 7);
    assert_eq!(c.cat("/proc/lifecycle/state").unwrap(), ["state=DEGRADED"]);

    let help = c.request("help").unwrap();
    assert!(help.ok());
    assert!(help.preamble.len() > 5, "help text precedes OK HELP");
    c.quit().unwrap();
}

#[test]
fn refusals_keep_reason_detail_and_errno() {
    let hive = Hive::start();
    let mut c = attached(&hive);
    let missing = c.cat("/nowhere").unwrap_err();
    assert_eq!(missing.reason(), Some("invalid"));
    assert_eq!(missing.class(), Some(ErrorClass::NotFound));
    assert_eq!(missing.errno(), Some(2));
    assert_eq!(missing.refusal().unwrap().field("path"), Some("/nowhere"));

    let denied = c.echo("/proc/boot", "x").unwrap_err();
    assert_eq!((denied.reason(), denied.errno()), (Some("policy"), Some(1)));

    // An ERR reply is a response too; the session carries on after it.
    let response = c.request("frobnicate").unwrap();
    assert!(!response.ok());
    assert_eq!(response.reply.verb, "FROBNICATE");
    assert_eq!(response.reply.reason(), Some("unsupported"));
    c.ping().unwrap();
    assert!(c.is_usable());
}

#[test]
fn a_wrong_token_closes_the_session() {
    let hive = Hive::start();
    let mut c = ConsoleClient::connect(hive.console, timeouts()).unwrap();
    let error = c.auth("wrong").unwrap_err();
    assert_eq!(error.reason(), Some("invalid-token"));
    assert!(!c.is_usable());
    assert!(matches!(c.ping(), Err(ClientError::Hangup)));
}

#[test]
fn failed_attaches_announce_their_back_off() {
    let hive = Hive::start();
    let mut c = ConsoleClient::connect(hive.console, timeouts()).unwrap();
    c.auth(TOKEN).unwrap();
    let first = c.attach("queen", Some("cohesix-ticket-00.00")).unwrap_err();
    assert!(!first.is_transient(), "a bad ticket stays bad");
    let second = c.attach("queen", Some(&queen())).unwrap_err();
    assert_eq!(second.refusal().unwrap().detail.as_deref(), Some("backoff"));
    assert!(second.is_transient());
    let wait = second.retry_after().unwrap();
    assert!(wait <= Duration::from_millis(250), "{wait:?}");
    std::thread::sleep(wait + Duration::from_millis(20));
    c.attach("queen", Some(&queen())).unwrap();
}

#[test]
fn a_silent_peer_times_out_within_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The peer holds the connection open, silent, until the test has its answer (or for a
    // minute at most): a client that ignored its reply deadline would see a hang-up, not a
    // timeout, so the error kind itself proves the deadline fired, with no wall-clock bound.
    let (done, held) = std::sync::mpsc::channel::<()>();
    let _peer = std::thread::spawn(move || {
        listener.accept().map(|(s, _)| {
            let _ = held.recv_timeout(Duration::from_secs(60));
            drop(s);
        })
    });
    let quick = Timeouts {
        connect: Duration::from_secs(1),
        reply: Duration::from_millis(200),
    };
    let mut c = ConsoleClient::connect(addr, quick).unwrap();
    let error = c.auth(TOKEN).unwrap_err();
    let _ = done.send(());
    assert!(matches!(error, ClientError::Timeout { .. }), "{error}");
    assert!(
        !c.is_usable(),
        "a late reply must not be read as the next one"
    );
}
