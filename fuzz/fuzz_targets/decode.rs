//! Arbitrary bytes into both decoders and into a live session over a two-file backend: no
//! input may panic, and every delimited request must get exactly one answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure9p::codec::{decode_dirents, Limits, Request, VERSION};
use secure9p::{
    decode_request, decode_response, encode_request, frame_len, Attr, Backend, DirEntry, Error,
    Qid, RequestKind, Session, QT_DIR, QT_FILE,
};

/// Node 0 is the root directory holding file 1 ("data", read-write) and file 2 ("ro").
struct Flat {
    data: Vec<u8>,
    admits: u32,
}

impl Backend for Flat {
    type Node = u8;

    fn attach(&mut self, _u: &str, _a: &str, ticket: Option<&[u8]>) -> Result<u8, Error> {
        match ticket {
            Some(t) if t.starts_with(b"bad") => Err(Error::Perm),
            _ => Ok(0),
        }
    }

    fn admit(&mut self, _kind: RequestKind) -> Result<(), Error> {
        // Revoke after a while so the closed path is exercised too.
        self.admits += 1;
        if self.admits > 200 {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn walk(&mut self, from: &u8, name: &str) -> Result<u8, Error> {
        match (*from, name) {
            (0, "data") => Ok(1),
            (0, "ro") => Ok(2),
            _ => Err(Error::NotFound),
        }
    }

    fn qid(&self, node: &u8) -> Qid {
        let ty = if *node == 0 { QT_DIR } else { QT_FILE };
        Qid {
            ty,
            version: 0,
            path: u64::from(*node),
        }
    }

    fn open(&mut self, node: &u8, flags: u32) -> Result<(), Error> {
        if *node == 2 && flags & 3 != 0 {
            return Err(Error::Perm);
        }
        Ok(())
    }

    fn read(&mut self, node: &u8, offset: u64, count: u32, out: &mut Vec<u8>) -> Result<(), Error> {
        if *node == 0 {
            return Err(Error::Invalid);
        }
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        let end = start.saturating_add(count as usize).min(self.data.len());
        out.extend_from_slice(&self.data[start..end]);
        Ok(())
    }

    fn write(&mut self, node: &u8, _offset: u64, data: &[u8]) -> Result<u32, Error> {
        if *node != 1 {
            return Err(Error::Perm);
        }
        if self.data.len() + data.len() > 4096 {
            return Err(Error::Quota);
        }
        self.data.extend_from_slice(data);
        Ok(data.len() as u32)
    }

    fn list(&mut self, dir: &u8) -> Result<Vec<DirEntry>, Error> {
        if *dir != 0 {
            return Err(Error::Invalid);
        }
        Ok([1u8, 2]
            .iter()
            .map(|n| DirEntry {
                qid: self.qid(n),
                name: if *n == 1 { "data" } else { "ro" }.into(),
            })
            .collect())
    }

    fn getattr(&mut self, node: &u8) -> Result<Attr, Error> {
        Ok(Attr {
            qid: self.qid(node),
            mode: 0o100644,
            size: self.data.len() as u64,
            mtime_ms: 1,
        })
    }
}

fn drive_session(bytes: &[u8]) {
    let limits = Limits {
        fids: 8,
        ..Limits::default()
    };
    let mut session: Session<u8> = Session::new(limits);
    let mut backend = Flat {
        data: Vec::new(),
        admits: 0,
    };
    let mut out = Vec::new();
    // Most inputs would die at "version first"; start from an attached session.
    let version = Request::Version {
        msize: 8192,
        version: VERSION.into(),
    };
    let attach = Request::Attach {
        fid: 0,
        afid: u32::MAX,
        uname: "f".into(),
        aname: "queen".into(),
        n_uname: 0,
    };
    let mut preamble = Vec::new();
    let _ = encode_request(0xffff, &version, &mut preamble);
    let _ = encode_request(0, &attach, &mut preamble);
    let mut input = preamble;
    input.extend_from_slice(bytes);

    let mut pos = 0;
    while pos < input.len() {
        out.clear();
        match session.handle_batch(&input[pos..], &mut backend, &mut out) {
            Ok(0) => break,
            Ok(used) => {
                // Every frame the batch consumed was answered once, in order, under its tag.
                let asked = request_tags(&input[pos..pos + used]);
                assert_eq!(asked, check_replies(&out), "one answer per request");
                pos += used;
            }
            Err(_) => {
                // A fatal frame ends the batch: the answers written before it still match
                // the requests before it.
                let asked = request_tags(&input[pos..]);
                let answered = check_replies(&out);
                assert!(answered.len() <= asked.len());
                assert_eq!(
                    answered,
                    asked[..answered.len()],
                    "answers in request order"
                );
                break;
            }
        }
    }
    session.close(&mut backend);
    assert_eq!(session.fid_count(), 0);
}

/// The tags of the whole frames at the front of `input`, read from their size fields alone.
fn request_tags(mut input: &[u8]) -> Vec<u16> {
    let mut tags = Vec::new();
    while input.len() >= 7 {
        let size = u32::from_le_bytes([input[0], input[1], input[2], input[3]]) as usize;
        if size < 7 || size > input.len() {
            break;
        }
        tags.push(u16::from_le_bytes([input[5], input[6]]));
        input = &input[size..];
    }
    tags
}

/// Replies are whole, decodable frames within the configured msize (a `Tversion` inside the
/// batch may have lowered the negotiated one after earlier replies were written); returns
/// their tags in order.
fn check_replies(mut out: &[u8]) -> Vec<u16> {
    let limits = Limits::default();
    let mut tags = Vec::new();
    while !out.is_empty() {
        let len = match frame_len(out, 8192) {
            Ok(Some(len)) => len,
            other => panic!("engine wrote a bad frame: {other:?}"),
        };
        assert!(len <= out.len());
        if let Err(e) = decode_response(&out[..len], &limits) {
            panic!("engine wrote an undecodable reply: {e:?}");
        }
        tags.push(u16::from_le_bytes([out[5], out[6]]));
        out = &out[len..];
    }
    tags
}

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits::default();
    let _ = decode_request(bytes, &limits);
    let _ = decode_response(bytes, &limits);
    let _ = decode_dirents(bytes, &limits);
    drive_session(bytes);
});
