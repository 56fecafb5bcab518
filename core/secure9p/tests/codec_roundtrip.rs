//! Property tests: every message survives encode → decode unchanged, and no byte string
//! makes either decoder panic.

use proptest::prelude::*;
use secure9p::codec::{msg, Getattr, Limits, Request, Response};
use secure9p::{decode_request, decode_response, encode_request, encode_response, Qid};

fn qid() -> impl Strategy<Value = Qid> {
    (any::<u8>(), any::<u32>(), any::<u64>()).prop_map(|(ty, version, path)| Qid {
        ty,
        version,
        path,
    })
}

/// Names the decoder accepts: 1..=64 bytes of UTF-8, no NUL or '/', not "." or "..".
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._é-]{1,21}".prop_filter("not . or ..", |n| n != "." && n != "..")
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (any::<u32>(), text()).prop_map(|(msize, version)| Request::Version { msize, version }),
        (any::<u32>(), text(), text(), any::<u32>()).prop_map(|(afid, uname, aname, n_uname)| {
            Request::Auth {
                afid,
                uname,
                aname,
                n_uname,
            }
        }),
        (any::<u32>(), any::<u32>(), text(), text(), any::<u32>()).prop_map(
            |(fid, afid, uname, aname, n_uname)| Request::Attach {
                fid,
                afid,
                uname,
                aname,
                n_uname,
            }
        ),
        (
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(name(), 0..=8)
        )
            .prop_map(|(fid, newfid, names)| Request::Walk { fid, newfid, names }),
        (any::<u32>(), any::<u32>()).prop_map(|(fid, flags)| Request::Lopen { fid, flags }),
        (
            any::<u32>(),
            name(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(|(fid, name, flags, mode, gid)| Request::Lcreate {
                fid,
                name,
                flags,
                mode,
                gid,
            }),
        (any::<u32>(), any::<u64>(), any::<u32>()).prop_map(|(fid, offset, count)| Request::Read {
            fid,
            offset,
            count
        }),
        (
            any::<u32>(),
            any::<u64>(),
            prop::collection::vec(any::<u8>(), 0..2048)
        )
            .prop_map(|(fid, offset, data)| Request::Write { fid, offset, data }),
        any::<u32>().prop_map(|fid| Request::Clunk { fid }),
        (any::<u32>(), any::<u64>()).prop_map(|(fid, mask)| Request::Getattr { fid, mask }),
        (any::<u32>(), any::<u64>(), any::<u32>())
            .prop_map(|(fid, offset, count)| Request::Readdir { fid, offset, count }),
        any::<u16>().prop_map(|oldtag| Request::Flush { oldtag }),
    ]
}

fn getattr() -> impl Strategy<Value = Getattr> {
    (any::<u64>(), qid(), any::<[u32; 3]>(), any::<[u64; 15]>()).prop_map(
        |(valid, qid, [mode, uid, gid], v)| Getattr {
            valid,
            qid,
            mode,
            uid,
            gid,
            nlink: v[0],
            rdev: v[1],
            size: v[2],
            blksize: v[3],
            blocks: v[4],
            atime_sec: v[5],
            atime_nsec: v[6],
            mtime_sec: v[7],
            mtime_nsec: v[8],
            ctime_sec: v[9],
            ctime_nsec: v[10],
            btime_sec: v[11],
            btime_nsec: v[12],
            gen: v[13],
            data_version: v[14],
        },
    )
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        (any::<u32>(), text()).prop_map(|(msize, version)| Response::Version { msize, version }),
        qid().prop_map(|aqid| Response::Auth { aqid }),
        qid().prop_map(|qid| Response::Attach { qid }),
        prop::collection::vec(qid(), 0..=8).prop_map(|qids| Response::Walk { qids }),
        (qid(), any::<u32>()).prop_map(|(qid, iounit)| Response::Lopen { qid, iounit }),
        (qid(), any::<u32>()).prop_map(|(qid, iounit)| Response::Lcreate { qid, iounit }),
        prop::collection::vec(any::<u8>(), 0..2048).prop_map(|data| Response::Read { data }),
        any::<u32>().prop_map(|count| Response::Write { count }),
        Just(Response::Clunk),
        getattr().prop_map(|a| Response::Getattr(Box::new(a))),
        prop::collection::vec(any::<u8>(), 0..2048).prop_map(|data| Response::Readdir { data }),
        Just(Response::Flush),
        any::<u32>().prop_map(|ecode| Response::Lerror { ecode }),
    ]
}

/// A frame whose header is right (so decoding reaches the body) and whose body is noise.
fn framed_noise(types: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(types),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(ty, tag, body)| {
            let mut frame = ((body.len() + 7) as u32).to_le_bytes().to_vec();
            frame.push(ty);
            frame.extend_from_slice(&tag.to_le_bytes());
            frame.extend_from_slice(&body);
            frame
        })
}

const T_TYPES: &[u8] = &[
    msg::TVERSION,
    msg::TAUTH,
    msg::TATTACH,
    msg::TWALK,
    msg::TLOPEN,
    msg::TLCREATE,
    msg::TREAD,
    msg::TWRITE,
    msg::TCLUNK,
    msg::TGETATTR,
    msg::TREADDIR,
    msg::TFLUSH,
    8,
    122,
];

const R_TYPES: &[u8] = &[
    msg::RVERSION,
    msg::RAUTH,
    msg::RATTACH,
    msg::RWALK,
    msg::RLOPEN,
    msg::RLCREATE,
    msg::RREAD,
    msg::RWRITE,
    msg::RCLUNK,
    msg::RGETATTR,
    msg::RREADDIR,
    msg::RFLUSH,
    msg::RLERROR,
    9,
];

/// The oracle for arbitrary input: whatever the decoder accepts must be exactly one message
/// that re-encodes to the very same bytes, so nothing is read leniently, dropped or invented.
fn canonical_request(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((tag, request)) = decode_request(bytes, &Limits::default()) {
        let mut out = Vec::new();
        encode_request(tag, &request, &mut out).unwrap();
        prop_assert_eq!(&out[..], bytes, "{:?} was read leniently", request);
    }
    Ok(())
}

fn canonical_response(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((tag, response)) = decode_response(bytes, &Limits::default()) {
        let mut out = Vec::new();
        encode_response(tag, &response, &mut out).unwrap();
        prop_assert_eq!(&out[..], bytes, "{:?} was read leniently", response);
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_request_round_trips(tag in any::<u16>(), req in request()) {
        let mut frame = Vec::new();
        encode_request(tag, &req, &mut frame).unwrap();
        prop_assert_eq!(u32::from_le_bytes(frame[..4].try_into().unwrap()) as usize, frame.len());
        prop_assert_eq!(frame[4], req.msg_type());
        let decoded = decode_request(&frame, &Limits::default()).unwrap();
        prop_assert_eq!(decoded, (tag, req));
    }

    #[test]
    fn every_response_round_trips(tag in any::<u16>(), resp in response()) {
        let mut frame = Vec::new();
        encode_response(tag, &resp, &mut frame).unwrap();
        prop_assert_eq!(u32::from_le_bytes(frame[..4].try_into().unwrap()) as usize, frame.len());
        prop_assert_eq!(frame[4], resp.msg_type());
        let decoded = decode_response(&frame, &Limits::default()).unwrap();
        prop_assert_eq!(decoded, (tag, resp));
    }

    #[test]
    fn encoding_appends_without_touching_earlier_bytes(req in request(), resp in response()) {
        let mut out = b"prefix".to_vec();
        encode_request(1, &req, &mut out).unwrap();
        encode_response(2, &resp, &mut out).unwrap();
        prop_assert_eq!(&out[..6], b"prefix");
        let first = secure9p::frame_len(&out[6..], u32::MAX).unwrap().unwrap();
        prop_assert_eq!(decode_request(&out[6..6 + first], &Limits::default()).unwrap().1, req);
        prop_assert_eq!(decode_response(&out[6 + first..], &Limits::default()).unwrap().1, resp);
    }

    #[test]
    fn request_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        canonical_request(&bytes)?;
    }

    #[test]
    fn response_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        canonical_response(&bytes)?;
        if let Ok(entries) = secure9p::codec::decode_dirents(&bytes, &Limits::default()) {
            let mut out = Vec::new();
            for entry in &entries {
                secure9p::codec::encode_dirent(entry, &mut out).unwrap();
            }
            prop_assert_eq!(out, bytes, "dirents are read losslessly");
        }
    }

    #[test]
    fn request_decoder_never_panics_on_framed_noise(frame in framed_noise(T_TYPES)) {
        if let Err(e) = decode_request(&frame, &Limits::default()) {
            // The header was sound, so the error must name the tag to answer on.
            prop_assert!(e.tag().is_some());
        }
        canonical_request(&frame)?;
    }

    #[test]
    fn response_decoder_never_panics_on_framed_noise(frame in framed_noise(R_TYPES)) {
        if let Err(e) = decode_response(&frame, &Limits::default()) {
            prop_assert!(e.tag().is_some());
        }
        canonical_response(&frame)?;
    }

    #[test]
    fn truncating_any_request_is_refused(req in request(), cut in any::<prop::sample::Index>()) {
        let mut frame = Vec::new();
        encode_request(7, &req, &mut frame).unwrap();
        let keep = 7 + cut.index(frame.len() - 7);
        prop_assume!(keep < frame.len());
        let mut short = frame[..keep].to_vec();
        // A truthful size field over a body that ends early.
        short[..4].copy_from_slice(&(keep as u32).to_le_bytes());
        prop_assert!(decode_request(&short, &Limits::default()).is_err());
    }
}
