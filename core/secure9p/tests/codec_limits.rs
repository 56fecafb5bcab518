//! Every decoder bound, one refusal at a time.

use secure9p::codec::{msg, DecodeError, Limits, Request, Response};
use secure9p::{
    decode_request, decode_response, encode_request, encode_response, frame_len, Error,
};

fn limits() -> Limits {
    Limits::default()
}

fn walk_frame(names: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&2u32.to_le_bytes());
    body.extend_from_slice(&(names.len() as u16).to_le_bytes());
    for n in names {
        body.extend_from_slice(&(n.len() as u16).to_le_bytes());
        body.extend_from_slice(n);
    }
    raw_frame(msg::TWALK, 9, &body)
}

fn raw_frame(ty: u8, tag: u16, body: &[u8]) -> Vec<u8> {
    let mut frame = ((body.len() + 7) as u32).to_le_bytes().to_vec();
    frame.push(ty);
    frame.extend_from_slice(&tag.to_le_bytes());
    frame.extend_from_slice(body);
    frame
}

fn refused(frame: &[u8]) -> Error {
    match decode_request(frame, &limits()) {
        Err(DecodeError::Refused { tag, error }) => {
            assert_eq!(tag, 9);
            error
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn walk_of_eight_is_accepted_and_nine_is_too_big() {
    let eight: Vec<&[u8]> = vec![b"a"; 8];
    let (_, req) = decode_request(&walk_frame(&eight), &limits()).unwrap();
    assert!(matches!(req, Request::Walk { names, .. } if names.len() == 8));
    let nine: Vec<&[u8]> = vec![b"a"; 9];
    assert_eq!(refused(&walk_frame(&nine)), Error::TooBig);
}

#[test]
fn names_of_64_bytes_pass_and_65_are_too_big() {
    let ok = [b'x'; 64];
    assert!(decode_request(&walk_frame(&[&ok]), &limits()).is_ok());
    let long = [b'x'; 65];
    assert_eq!(refused(&walk_frame(&[&long])), Error::TooBig);
}

#[test]
fn bad_names_are_invalid() {
    let cases: [&[u8]; 7] = [b"..", b".", b"a/b", b"/", b"a\0b", b"", b"\xff\xfe"];
    for name in cases {
        assert_eq!(
            refused(&walk_frame(&[b"ok", name])),
            Error::Invalid,
            "name {name:?}"
        );
    }
    // Dots inside a name are ordinary characters.
    assert!(decode_request(&walk_frame(&[b"...", b".hidden", b"a..b"]), &limits()).is_ok());
}

#[test]
fn lcreate_names_obey_the_same_rules() {
    for (name, want) in [
        (&b".."[..], Error::Invalid),
        (&[b'y'; 65][..], Error::TooBig),
    ] {
        let mut body = 1u32.to_le_bytes().to_vec();
        body.extend_from_slice(&(name.len() as u16).to_le_bytes());
        body.extend_from_slice(name);
        body.extend_from_slice(&[0; 12]);
        assert_eq!(refused(&raw_frame(msg::TLCREATE, 9, &body)), want);
    }
}

#[test]
fn invalid_utf8_in_attach_strings_is_invalid() {
    let mut body = 1u32.to_le_bytes().to_vec();
    body.extend_from_slice(&u32::MAX.to_le_bytes());
    body.extend_from_slice(&2u16.to_le_bytes());
    body.extend_from_slice(b"\xc3\x28");
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(refused(&raw_frame(msg::TATTACH, 9, &body)), Error::Invalid);
}

#[test]
fn frames_over_msize_are_refused_before_decoding() {
    let small = Limits {
        msize: 512,
        ..limits()
    };
    let req = Request::Write {
        fid: 1,
        offset: 0,
        data: vec![0; 600],
    };
    let mut frame = Vec::new();
    encode_request(3, &req, &mut frame).unwrap();
    let size = frame.len() as u32;
    let want = DecodeError::Oversized { size, msize: 512 };
    assert_eq!(decode_request(&frame, &small), Err(want));
    assert_eq!(frame_len(&frame, 512), Err(want));
    assert!(want.is_fatal());
    assert_eq!(want.error(), Error::TooBig);
    assert_eq!(frame_len(&frame, 8192), Ok(Some(frame.len())));
}

#[test]
fn frame_len_waits_for_four_bytes_and_rejects_tiny_sizes() {
    assert_eq!(frame_len(&[], 8192), Ok(None));
    assert_eq!(frame_len(&[20, 0, 0], 8192), Ok(None));
    assert_eq!(frame_len(&[20, 0, 0, 0], 8192), Ok(Some(20)));
    assert_eq!(
        frame_len(&[6, 0, 0, 0], 8192),
        Err(DecodeError::Undersized { size: 6 })
    );
}

#[test]
fn unsupported_types_carry_their_tag() {
    // Tstatfs (8), Tremove (122), Tlerror (6) and an R-type sent as a request.
    for ty in [8u8, 122, msg::TLERROR, msg::RREAD, 0, 255] {
        let e = decode_request(&raw_frame(ty, 44, &[1, 2, 3, 4]), &limits()).unwrap_err();
        assert_eq!(e, DecodeError::UnknownType { tag: 44, ty });
        assert_eq!(e.error(), Error::Unsupported);
        assert_eq!(e.error().errno(), 95);
    }
    let e = decode_response(&raw_frame(msg::TREAD, 5, &[]), &limits()).unwrap_err();
    assert_eq!(e.tag(), Some(5));
}

#[test]
fn truncated_bodies_are_refused_with_their_tag() {
    // Tread needs 16 body bytes.
    let frame = raw_frame(msg::TREAD, 12, &[0; 15]);
    assert_eq!(
        decode_request(&frame, &limits()),
        Err(DecodeError::Truncated { tag: 12 })
    );
    // A write whose count claims far more than the frame holds is refused, not allocated.
    let mut body = 1u32.to_le_bytes().to_vec();
    body.extend_from_slice(&0u64.to_le_bytes());
    body.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        decode_request(&raw_frame(msg::TWRITE, 12, &body), &limits()),
        Err(DecodeError::Truncated { tag: 12 })
    );
    // A walk announcing eight names with no bytes for them.
    let mut body = vec![0; 8];
    body.extend_from_slice(&8u16.to_le_bytes());
    assert_eq!(
        decode_request(&raw_frame(msg::TWALK, 12, &body), &limits()),
        Err(DecodeError::Truncated { tag: 12 })
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let frame = raw_frame(msg::TCLUNK, 13, &[1, 0, 0, 0, 0xaa]);
    assert_eq!(
        decode_request(&frame, &limits()),
        Err(DecodeError::Trailing { tag: 13 })
    );
    let frame = raw_frame(msg::RCLUNK, 13, &[0]);
    assert_eq!(
        decode_response(&frame, &limits()),
        Err(DecodeError::Trailing { tag: 13 })
    );
}

#[test]
fn a_size_field_that_lies_is_fatal() {
    let mut frame = Vec::new();
    encode_request(4, &Request::Clunk { fid: 1 }, &mut frame).unwrap();
    let mut longer = frame.clone();
    longer.push(0);
    let mut shorter = frame.clone();
    shorter.pop();
    for bad in [longer, shorter] {
        let e = decode_request(&bad, &limits()).unwrap_err();
        assert!(matches!(e, DecodeError::Length { size: 11, .. }), "{e:?}");
        assert!(e.is_fatal());
        assert_eq!(e.tag(), None);
    }
    assert_eq!(
        decode_request(&[1, 2], &limits()),
        Err(DecodeError::Short { len: 2 })
    );
}

#[test]
fn rwalk_longer_than_walk_depth_is_too_big() {
    let mut frame = Vec::new();
    let qids = vec![secure9p::Qid::default(); 9];
    encode_response(1, &Response::Walk { qids }, &mut frame).unwrap();
    assert_eq!(
        decode_response(&frame, &limits()),
        Err(DecodeError::Refused {
            tag: 1,
            error: Error::TooBig
        })
    );
}

#[test]
fn unencodable_strings_leave_the_buffer_untouched() {
    let mut out = b"keep".to_vec();
    let req = Request::Version {
        msize: 8192,
        version: "v".repeat(70_000),
    };
    assert_eq!(encode_request(0, &req, &mut out), Err(Error::TooBig));
    assert_eq!(out, b"keep");
}

#[test]
fn limits_follow_the_manifest() {
    let mut m = manifest::Manifest::default();
    m.secure9p.msize = 4096;
    m.secure9p.walk_depth = 4;
    m.ticket.text_max = 300;
    let l = Limits::from_manifest(&m);
    assert_eq!((l.msize, l.walk_depth, l.ticket_max), (4096, 4, 300));
    assert_eq!(
        Limits::default(),
        Limits {
            msize: 8192,
            walk_depth: 8,
            name_max: 64,
            tags: 16,
            fids: 64,
            ticket_max: 1024,
            batch: 16,
        }
    );
}
