//! Session-level bounds: tag window, batches, fid table, framing, and malformed requests.

mod common;

use common::{errno_of, Harness, GOOD_TICKET};
use secure9p::codec::{Limits, Request, Response};
use secure9p::{decode_response, encode_request, ClientError, DecodeError, Error, Fatal};

fn frame(tag: u16, req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    encode_request(tag, req, &mut out).unwrap();
    out
}

/// Splits a buffer of response frames.
fn replies(mut buf: &[u8]) -> Vec<(u16, Response)> {
    let mut all = Vec::new();
    while !buf.is_empty() {
        let len = secure9p::frame_len(buf, 8192).unwrap().unwrap();
        all.push(decode_response(&buf[..len], &Limits::default()).unwrap());
        buf = &buf[len..];
    }
    all
}

fn attached() -> (Harness, u32) {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    (h, root)
}

fn batch(h: &mut Harness, input: &[u8]) -> (usize, Vec<(u16, Response)>) {
    let mut out = Vec::new();
    let used = h
        .session
        .handle_batch(input, &mut h.tree, &mut out)
        .unwrap();
    (used, replies(&out))
}

fn getattrs(root: u32, tags: core::ops::Range<u16>) -> Vec<u8> {
    let mut input = Vec::new();
    for tag in tags {
        input.extend(frame(tag, &Request::Getattr { fid: root, mask: 0 }));
    }
    input
}

#[test]
fn a_batch_runs_at_most_batch_requests_and_leaves_the_rest_buffered() {
    let (mut h, root) = attached();
    let input = getattrs(root, 0..20);
    let one = input.len() / 20;
    let (used, out) = batch(&mut h, &input);
    assert_eq!(used, 16 * one, "secure9p.batch_max is 16 by default");
    assert_eq!(out.len(), 16);
    for (i, (tag, resp)) in out.iter().enumerate() {
        assert_eq!(*tag, i as u16, "answers keep request order");
        assert!(matches!(resp, Response::Getattr(_)), "{i}: {resp:?}");
    }
    assert!(
        h.session.has_frame(&input[used..]),
        "the caller knows work remains"
    );
    // The deferred requests run in the next batch, none refused.
    let (rest, out) = batch(&mut h, &input[used..]);
    assert_eq!(rest, 4 * one);
    let tags: Vec<u16> = out.iter().map(|(tag, _)| *tag).collect();
    assert_eq!(tags, vec![16, 17, 18, 19]);
    assert!(out.iter().all(|(_, r)| matches!(r, Response::Getattr(_))));
    assert!(!h.session.has_frame(&[]));
    assert!(
        !h.session.has_frame(&input[..one - 1]),
        "a partial frame is not work"
    );
}

#[test]
fn a_batch_wider_than_the_tag_window_refuses_the_rest_with_busy() {
    let limits = Limits {
        batch: 32,
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits);
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    let input = getattrs(root, 0..20);
    let (used, out) = batch(&mut h, &input);
    assert_eq!(used, input.len());
    assert_eq!(out.len(), 20);
    for (i, (tag, resp)) in out.iter().enumerate() {
        assert_eq!(*tag, i as u16, "answers keep request order");
        if i < 16 {
            assert!(matches!(resp, Response::Getattr(_)), "{i}: {resp:?}");
        } else {
            assert_eq!(*resp, Response::Lerror { ecode: 16 });
        }
    }
    // The window is per batch: the next batch runs again.
    let (_, out) = batch(&mut h, &frame(0, &Request::Getattr { fid: root, mask: 0 }));
    assert!(matches!(out[0].1, Response::Getattr(_)));
}

#[test]
fn a_tag_repeated_in_flight_is_invalid() {
    let (mut h, root) = attached();
    let mut input = frame(5, &Request::Getattr { fid: root, mask: 0 });
    input.extend(frame(5, &Request::Flush { oldtag: 1 }));
    input.extend(frame(6, &Request::Flush { oldtag: 1 }));
    let (_, out) = batch(&mut h, &input);
    assert!(matches!(out[0], (5, Response::Getattr(_))));
    assert_eq!(out[1], (5, Response::Lerror { ecode: 22 }));
    assert_eq!(out[2], (6, Response::Flush));
}

#[test]
fn a_batch_leaves_an_incomplete_tail_for_later() {
    let (mut h, root) = attached();
    let one = frame(1, &Request::Clunk { fid: root });
    let mut input = one.clone();
    input.extend_from_slice(&one[..5]);
    let (used, out) = batch(&mut h, &input);
    assert_eq!(used, one.len());
    assert_eq!(out, vec![(1, Response::Clunk)]);
    let (used, out) = batch(&mut h, &[]);
    assert_eq!((used, out.len()), (0, 0));
}

#[test]
fn broken_framing_is_fatal_after_answering_what_came_before() {
    let (mut h, root) = attached();
    let mut input = frame(1, &Request::Getattr { fid: root, mask: 0 });
    input.extend_from_slice(&3u32.to_le_bytes());
    input.extend_from_slice(&[0; 10]);
    let mut out = Vec::new();
    let err = h.session.handle_batch(&input, &mut h.tree, &mut out);
    assert_eq!(err, Err(Fatal(DecodeError::Undersized { size: 3 })));
    assert_eq!(replies(&out).len(), 1);

    let mut huge = 9000u32.to_le_bytes().to_vec();
    huge.extend_from_slice(&[0; 3]);
    let mut out = Vec::new();
    let err = h.session.handle_batch(&huge, &mut h.tree, &mut out);
    assert!(matches!(
        err,
        Err(Fatal(DecodeError::Oversized { size: 9000, .. }))
    ));
    assert!(out.is_empty());
}

#[test]
fn a_frame_whose_size_lies_is_fatal_in_handle() {
    let (mut h, root) = attached();
    let mut bad = frame(1, &Request::Clunk { fid: root });
    bad.push(0);
    let mut out = Vec::new();
    let err = h.session.handle(&bad, &mut h.tree, &mut out).unwrap_err();
    assert!(matches!(err.0, DecodeError::Length { .. }));
    assert!(out.is_empty());
    // Nothing ran.
    assert_eq!(h.session.fid_count(), 2);
}

#[test]
fn unsupported_messages_get_eopnotsupp_not_silence() {
    let (mut h, _) = attached();
    // Tremove (122), Tstatfs (8), Tmkdir (72), Tsetattr (26).
    for ty in [122u8, 8, 72, 26] {
        let mut f = vec![11, 0, 0, 0, ty, 33, 0, 1, 0, 0, 0];
        f[0] = f.len() as u8;
        let reply = h.exchange(&f);
        assert_eq!(errno_of(&reply), 95, "type {ty}");
        assert_eq!(u16::from_le_bytes([reply[5], reply[6]]), 33);
    }
}

#[test]
fn malformed_requests_are_answered_on_their_tag() {
    let (mut h, root) = attached();
    let mut trailing = frame(40, &Request::Clunk { fid: root });
    trailing.push(0);
    trailing[0] += 1;
    assert_eq!(errno_of(&h.exchange(&trailing)), 22);
    let mut truncated = frame(
        41,
        &Request::Read {
            fid: root,
            offset: 0,
            count: 1,
        },
    );
    truncated.pop();
    truncated[0] -= 1;
    assert_eq!(errno_of(&h.exchange(&truncated)), 22);
    assert_eq!(h.session.fid_count(), 2, "the clunk never ran");
}

#[test]
fn walk_limits_are_enforced_through_the_session() {
    let (mut h, root) = attached();
    let names = |n: &str, k: usize| vec![n.to_string(); k];
    let cases = [
        (names("a", 9), Error::TooBig),
        (names(&"x".repeat(65), 1), Error::TooBig),
        (names("..", 1), Error::Invalid),
        (names(".", 1), Error::Invalid),
        (names("a/b", 1), Error::Invalid),
        (names("a\0", 1), Error::Invalid),
        (names("", 1), Error::Invalid),
    ];
    for (names, want) in cases {
        let req = Request::Walk {
            fid: root,
            newfid: 50,
            names,
        };
        assert_eq!(errno_of(&h.exchange(&frame(1, &req))), want.errno());
    }
    let mut bad_utf8 = frame(
        1,
        &Request::Walk {
            fid: root,
            newfid: 50,
            names: vec!["ab".into()],
        },
    );
    let n = bad_utf8.len();
    bad_utf8[n - 2..].copy_from_slice(b"\xff\xfe");
    assert_eq!(errno_of(&h.exchange(&bad_utf8)), 22);
}

#[test]
fn the_fid_table_is_bounded() {
    let limits = Limits {
        fids: 4,
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits);
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    h.walk(root, "proc").unwrap();
    h.walk(root, "tmp").unwrap();
    assert_eq!(h.session.fid_count(), 4);
    // The client knows the bound too; speak to the session directly.
    let req = Request::Walk {
        fid: root,
        newfid: 77,
        names: vec![],
    };
    assert_eq!(errno_of(&h.exchange(&frame(1, &req))), Error::Quota.errno());
    let auth = Request::Auth {
        afid: 78,
        uname: "u".into(),
        aname: "a".into(),
        n_uname: 0,
    };
    assert_eq!(errno_of(&h.exchange(&frame(2, &auth))), 122);
    let err = h.walk(root, "log").unwrap_err();
    assert_eq!(err, ClientError::Local(Error::Quota));
    // Replacing a fid in place needs no new slot.
    let req = Request::Walk {
        fid: root,
        newfid: root,
        names: vec!["log".into()],
    };
    assert!(matches!(
        decode_response(&h.exchange(&frame(3, &req)), &Limits::default())
            .unwrap()
            .1,
        Response::Walk { .. }
    ));
}

#[test]
fn nofid_is_never_a_valid_new_fid() {
    let (mut h, root) = attached();
    let req = Request::Walk {
        fid: root,
        newfid: secure9p::NOFID,
        names: vec![],
    };
    assert_eq!(errno_of(&h.exchange(&frame(1, &req))), 22);
}
