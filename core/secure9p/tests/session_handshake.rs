//! Version negotiation, the ticket handshake, admission and revocation.

mod common;

use common::{errno_of, Harness, GOOD_TICKET};
use secure9p::codec::{Limits, Request, Response, QT_AUTH, VERSION};
use secure9p::{encode_request, ClientError, Error, RequestKind, Session, NOFID};

fn frame(tag: u16, req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    encode_request(tag, req, &mut out).unwrap();
    out
}

fn version(msize: u32, v: &str) -> Vec<u8> {
    frame(
        0xffff,
        &Request::Version {
            msize,
            version: v.into(),
        },
    )
}

#[test]
fn anything_before_version_is_invalid() {
    let mut h = Harness::new();
    let reply = h.exchange(&frame(1, &Request::Clunk { fid: 0 }));
    assert_eq!(errno_of(&reply), Error::Invalid.errno());
    let attach = Request::Attach {
        fid: 0,
        afid: NOFID,
        uname: "q".into(),
        aname: "queen".into(),
        n_uname: 0,
    };
    assert_eq!(errno_of(&h.exchange(&frame(2, &attach))), 22);
    assert!(h.tree.attaches.is_empty());
}

#[test]
fn msize_is_negotiated_down_never_up() {
    let mut h = Harness::new();
    let reply = h.exchange(&version(1 << 20, VERSION));
    let (_, resp) = secure9p::decode_response(&reply, &Limits::default()).unwrap();
    assert_eq!(
        resp,
        Response::Version {
            msize: 8192,
            version: VERSION.into()
        }
    );
    assert_eq!(h.session.msize(), 8192);
    let reply = h.exchange(&version(1024, VERSION));
    assert!(matches!(
        secure9p::decode_response(&reply, &Limits::default())
            .unwrap()
            .1,
        Response::Version { msize: 1024, .. }
    ));
    assert_eq!(h.session.msize(), 1024);
    // Frames are now held to the smaller msize.
    assert!(h.session.frame_len(&2000u32.to_le_bytes()).is_err());
}

#[test]
fn tiny_msize_is_refused() {
    let mut h = Harness::new();
    assert_eq!(errno_of(&h.exchange(&version(100, VERSION))), 22);
}

#[test]
fn unknown_versions_get_unknown_and_nothing_else_runs() {
    let mut h = Harness::new();
    let reply = h.exchange(&version(8192, "9P2000.u"));
    let (_, resp) = secure9p::decode_response(&reply, &Limits::default()).unwrap();
    assert!(matches!(resp, Response::Version { version, .. } if version == "unknown"));
    let auth = Request::Auth {
        afid: 1,
        uname: "u".into(),
        aname: "a".into(),
        n_uname: 0,
    };
    assert_eq!(errno_of(&h.exchange(&frame(1, &auth))), 22);
}

#[test]
fn version_resets_the_session_and_clunks_every_fid() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    let boot = h.walk(root, "proc/boot").unwrap();
    assert_eq!(h.session.fid_count(), 3);
    h.exchange(&version(8192, VERSION));
    assert_eq!(h.session.fid_count(), 0);
    assert!(!h.session.is_attached());
    let mut clunked = h.tree.clunked.clone();
    clunked.sort();
    assert_eq!(clunked, vec![0, 2]);
    let reply = h.exchange(&frame(3, &Request::Clunk { fid: boot }));
    assert_eq!(errno_of(&reply), Error::Closed.errno());
}

#[test]
fn ticket_written_to_the_afid_reaches_attach() {
    let mut h = Harness::new();
    h.call(|c, out| c.version(out)).unwrap();
    let (afid, r) = h.call_fid(|c, out| c.auth("w7", "worker-heartbeat", out));
    assert_eq!(r.unwrap().into_qid().unwrap().ty, QT_AUTH);
    // The ticket may arrive in pieces.
    let (a, b) = GOOD_TICKET.split_at(10);
    for part in [a, b] {
        let n = h.call(|c, out| c.write(afid, 0, part, out)).unwrap();
        assert_eq!(n.into_count().unwrap(), part.len() as u32);
    }
    let (root, r) = h.call_fid(|c, out| c.attach(Some(afid), "w7", "worker-heartbeat", out));
    assert_eq!(r.unwrap().into_qid().unwrap().ty, secure9p::QT_DIR);
    assert!(h.session.is_attached());
    assert_eq!(
        h.tree.attaches,
        vec![(
            "w7".to_string(),
            "worker-heartbeat".to_string(),
            Some(GOOD_TICKET.to_vec())
        )]
    );
    // Reading the afid yields nothing; the handshake is one-way.
    let data = h.call(|c, out| c.read(afid, 0, 64, out)).unwrap();
    assert!(data.into_data().unwrap().is_empty());
    assert!(h.walk(root, "proc").is_ok());
}

#[test]
fn a_bad_ticket_is_refused_and_leaves_the_session_unattached() {
    let mut h = Harness::new();
    let err = h.attach_with_ticket(b"forged").unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Perm));
    assert!(!h.session.is_attached());
    assert_eq!(h.session.fid_count(), 1, "only the afid remains");
}

#[test]
fn attach_without_afid_passes_no_ticket() {
    let mut h = Harness::new();
    h.call(|c, out| c.version(out)).unwrap();
    let (_, r) = h.call_fid(|c, out| c.attach(None, "op", "queen", out));
    r.unwrap();
    assert_eq!(h.tree.attaches[0].2, None);
    let (_, r) = h.call_fid(|c, out| c.attach(None, "w", "worker-heartbeat", out));
    assert_eq!(r.unwrap_err(), ClientError::Remote(Error::Perm));
}

#[test]
fn attach_through_an_unknown_or_non_auth_fid_is_refused() {
    let mut h = Harness::new();
    h.call(|c, out| c.version(out)).unwrap();
    let (_, r) = h.call_fid(|c, out| c.attach(Some(40), "w", "worker-heartbeat", out));
    assert_eq!(r.unwrap_err(), ClientError::Remote(Error::Closed));
    let (root, r) = h.call_fid(|c, out| c.attach(None, "q", "queen", out));
    r.unwrap();
    let (_, r) = h.call_fid(|c, out| c.attach(Some(root), "w", "worker-heartbeat", out));
    assert_eq!(r.unwrap_err(), ClientError::Remote(Error::Invalid));
}

#[test]
fn tickets_longer_than_ticket_max_are_too_big() {
    let limits = Limits {
        ticket_max: 32,
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits);
    h.call(|c, out| c.version(out)).unwrap();
    let (afid, _) = h.call_fid(|c, out| c.auth("w", "worker-heartbeat", out));
    h.call(|c, out| c.write(afid, 0, &[b'a'; 30], out)).unwrap();
    let err = h
        .call(|c, out| c.write(afid, 0, &[b'a'; 3], out))
        .unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::TooBig));
    h.call(|c, out| c.write(afid, 0, &[b'a'; 2], out)).unwrap();
}

#[test]
fn admit_runs_before_every_request_after_attach() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    assert!(h.tree.admitted.is_empty(), "handshake is not charged");
    let boot = h.walk(root, "proc/boot").unwrap();
    h.open(boot, 0).unwrap();
    h.call(|c, out| c.read(boot, 0, 10, out)).unwrap();
    h.call(|c, out| c.getattr(boot, out)).unwrap();
    h.call(|c, out| c.flush(3, out)).unwrap();
    h.call(|c, out| c.clunk(boot, out)).unwrap();
    use RequestKind::*;
    assert_eq!(
        h.tree.admitted,
        vec![Walk, Open, Read, Getattr, Flush, Clunk]
    );
}

#[test]
fn admit_refusals_other_than_closed_refuse_only_that_request() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    h.tree.admit_error = Some(Error::Quota);
    let (_, r) = h.call_fid(|c, out| c.walk_path(root, "proc", out));
    assert_eq!(r.unwrap_err(), ClientError::Remote(Error::Quota));
    assert!(!h.session.is_closed());
    h.tree.admit_error = None;
    assert!(h.walk(root, "proc").is_ok());
}

#[test]
fn admit_closed_revokes_the_session_for_good() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    let proc_ = h.walk(root, "proc").unwrap();
    h.tree.admit_error = Some(Error::Closed);
    let err = h.call(|c, out| c.getattr(proc_, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Closed));
    assert!(h.session.is_closed());
    assert_eq!(h.session.fid_count(), 0, "a revoked session holds nothing");
    let mut clunked = h.tree.clunked.clone();
    clunked.sort();
    assert_eq!(clunked, vec![0, 1]);
    // Even if the backend relented, the session stays closed, handshake included.
    h.tree.admit_error = None;
    let admitted = h.tree.admitted.len();
    for req in [
        Request::Version {
            msize: 8192,
            version: VERSION.into(),
        },
        Request::Clunk { fid: root },
        Request::Flush { oldtag: 1 },
    ] {
        assert_eq!(
            errno_of(&h.exchange(&frame(5, &req))),
            Error::Closed.errno()
        );
    }
    // Undecodable requests are answered the same way.
    let mut odd = frame(6, &Request::Clunk { fid: 1 });
    odd[4] = 8;
    assert_eq!(errno_of(&h.exchange(&odd)), Error::Closed.errno());
    assert_eq!(
        h.tree.admitted.len(),
        admitted,
        "nothing reaches the backend"
    );
}

#[test]
fn close_clunks_every_fid() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    h.walk(root, "log/queen.log").unwrap();
    h.walk(root, "tmp").unwrap();
    h.session.close(&mut h.tree);
    let mut clunked = h.tree.clunked.clone();
    clunked.sort();
    assert_eq!(clunked, vec![0, 4, 5]);
    assert_eq!(h.session.fid_count(), 0);
    assert!(h.session.is_closed());
}

#[test]
fn sessions_stay_small() {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    h.walk(root, "proc/boot").unwrap();
    h.walk(root, "log/queen.log").unwrap();
    assert_eq!(h.session.fid_count(), 4);
    let bytes = h.session.memory_bytes();
    assert!(bytes < 1024, "session with 4 fids holds {bytes} bytes");
    let fresh: Session<usize> = Session::new(Limits::default());
    assert!(fresh.memory_bytes() <= 128, "{}", fresh.memory_bytes());
}
