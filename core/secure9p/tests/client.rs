//! The sans-IO client's own bookkeeping: tags, fids, msize and reply matching.

use secure9p::codec::{Limits, Request, Response, VERSION};
use secure9p::{decode_request, encode_response, ClientCodec, ClientError, Error, Qid, NOTAG};

fn reply(tag: u16, resp: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    encode_response(tag, resp, &mut out).unwrap();
    out
}

fn versioned(msize: u32) -> ClientCodec {
    let mut c = ClientCodec::new(Limits::default());
    let mut out = Vec::new();
    let tag = c.version(&mut out).unwrap();
    assert_eq!(tag, NOTAG);
    let (_, req) = decode_request(&out, &Limits::default()).unwrap();
    assert_eq!(
        req,
        Request::Version {
            msize: 8192,
            version: VERSION.into()
        }
    );
    let v = Response::Version {
        msize,
        version: VERSION.into(),
    };
    c.parse(&reply(tag, &v)).unwrap();
    c
}

#[test]
fn msize_follows_the_server_down_only() {
    assert_eq!(versioned(1024).msize(), 1024);
    assert_eq!(versioned(1 << 20).msize(), 8192);
}

#[test]
fn an_unknown_version_reply_is_unsupported() {
    let mut c = ClientCodec::new(Limits::default());
    let mut out = Vec::new();
    let tag = c.version(&mut out).unwrap();
    let v = Response::Version {
        msize: 8192,
        version: "unknown".into(),
    };
    assert_eq!(
        c.parse(&reply(tag, &v)),
        Err(ClientError::Remote(Error::Unsupported))
    );
}

#[test]
fn the_tag_window_is_respected_and_tags_are_distinct() {
    let mut c = versioned(8192);
    let mut out = Vec::new();
    let mut tags = Vec::new();
    for _ in 0..16 {
        tags.push(c.clunk(1, &mut out).unwrap());
    }
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 16);
    let before = out.len();
    assert_eq!(c.clunk(1, &mut out), Err(ClientError::Local(Error::Busy)));
    assert_eq!(out.len(), before, "nothing written for a refused request");
    c.parse(&reply(tags[0], &Response::Lerror { ecode: 16 }))
        .unwrap_err();
    assert_eq!(c.in_flight(), 15);
    assert!(c.clunk(1, &mut out).is_ok());
}

#[test]
fn writes_larger_than_msize_are_refused_locally() {
    let mut c = versioned(512);
    let mut out = Vec::new();
    assert!(c
        .write(0, 0, &vec![0; c.max_write() as usize], &mut out)
        .is_ok());
    assert_eq!(
        c.write(0, 0, &vec![0; c.max_write() as usize + 1], &mut out),
        Err(ClientError::Local(Error::TooBig))
    );
}

#[test]
fn replies_are_matched_to_their_requests() {
    let mut c = versioned(8192);
    let mut out = Vec::new();
    let tag = c.getattr(0, &mut out).unwrap();
    assert_eq!(
        c.parse(&reply(tag + 1, &Response::Clunk)),
        Err(ClientError::UnknownTag(tag + 1))
    );
    assert_eq!(
        c.parse(&reply(tag, &Response::Clunk)),
        Err(ClientError::Unexpected {
            tag,
            ty: secure9p::codec::msg::RCLUNK
        })
    );
}

#[test]
fn fids_are_recycled_after_failed_walks_and_clunks() {
    let mut c = versioned(8192);
    let mut out = Vec::new();
    let (tag, root) = c.attach(None, "q", "queen", &mut out).unwrap();
    c.parse(&reply(
        tag,
        &Response::Attach {
            qid: Qid::default(),
        },
    ))
    .unwrap();
    assert_eq!(c.live_fids(), 1);
    let (tag, newfid) = c.walk(root, &["a", "b"], &mut out).unwrap();
    let partial = Response::Walk {
        qids: vec![Qid::default()],
    };
    c.parse(&reply(tag, &partial)).unwrap();
    assert_eq!(c.live_fids(), 1, "a partial walk makes no fid");
    let (tag, again) = c.walk(root, &["a"], &mut out).unwrap();
    assert_eq!(again, newfid, "the unused fid is handed out again");
    c.parse(&reply(tag, &Response::Lerror { ecode: 2 }))
        .unwrap_err();
    assert_eq!(c.live_fids(), 1);
    let tag = c.clunk(root, &mut out).unwrap();
    c.parse(&reply(tag, &Response::Clunk)).unwrap();
    assert_eq!(c.live_fids(), 0);
}

#[test]
fn the_fid_limit_is_known_to_the_client() {
    let limits = Limits {
        fids: 2,
        ..Limits::default()
    };
    let mut c = ClientCodec::new(limits);
    let mut out = Vec::new();
    c.auth("u", "a", &mut out).unwrap();
    c.attach(None, "u", "a", &mut out).unwrap();
    assert_eq!(
        c.attach(None, "u", "a", &mut out),
        Err(ClientError::Local(Error::Quota))
    );
}
