//! Interoperability with an independent 9P2000.L implementation: the `rs9p` crate's message
//! types and codec (written outside this project) talk to a live hive over TCP. Nothing of
//! this project's Secure9P codec is used on the client side, so a wire mistake made the same
//! way in our encoder and decoder shows up here as a decode failure or a wrong field.
//!
//! Covers version, auth (ticket written to the afid), attach, walk, open, read, write, clunk,
//! getattr, readdir, flush and the `Rlerror` errno values, each checked against rs9p's own
//! constants (its errno numbers come from `nix`).

mod support;

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rs9p::serialize::{read_msg, write_msg, Decodable};
use rs9p::{DirEntry, FCall, GetAttrMask, Msg, QIdType, NOFID, NONUNAME, NOTAG, P92000L};
use support::{queen, Hive};

const MSIZE: u32 = 8192;

/// An errno value as Linux (and so rs9p, through nix) numbers it.
macro_rules! errno {
    ($name:ident) => {
        rs9p::errno::$name as i32 as u32
    };
}

struct Conn {
    stream: TcpStream,
}

impl Conn {
    fn open(hive: &Hive) -> Self {
        let stream = TcpStream::connect(hive.ninep).expect("connect to the hive's 9P port");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Conn { stream }
    }

    /// Frames with `size[4]` (rs9p leaves framing to its transport) and sends.
    fn send(&mut self, tag: u16, body: FCall) {
        let mut msg = Vec::new();
        write_msg(&mut msg, &Msg { tag, body }).expect("rs9p encodes");
        let size = u32::try_from(msg.len() + 4).unwrap();
        let mut frame = size.to_le_bytes().to_vec();
        frame.extend_from_slice(&msg);
        self.stream.write_all(&frame).unwrap();
    }

    /// One reply frame without its size field: `type[1] tag[2] body`.
    fn recv_raw(&mut self) -> Vec<u8> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).expect("a reply frame");
        let size = u32::from_le_bytes(size) as usize;
        assert!((7..=MSIZE as usize).contains(&size), "frame size {size}");
        let mut rest = vec![0u8; size - 4];
        self.stream.read_exact(&mut rest).unwrap();
        rest
    }

    fn call(&mut self, tag: u16, body: FCall) -> FCall {
        self.send(tag, body);
        let raw = self.recv_raw();
        let mut cursor = Cursor::new(&raw[..]);
        let reply = read_msg(&mut cursor).unwrap_or_else(|e| panic!("rs9p decodes {raw:?}: {e}"));
        assert_eq!(cursor.position() as usize, raw.len(), "no trailing bytes");
        assert_eq!(reply.tag, tag, "the reply answers the request's tag");
        reply.body
    }

    /// `Treaddir`: rs9p 0.13 reads `Rreaddir`'s `count[4]` as an entry count although the
    /// protocol (and rs9p's own encoder) makes it a byte count, so the entries are split here
    /// with rs9p's `DirEntry` decoder over exactly `count` bytes.
    fn readdir(&mut self, tag: u16, fid: u32, offset: u64) -> Vec<DirEntry> {
        self.send(
            tag,
            FCall::TReadDir {
                fid,
                offset,
                count: 4096,
            },
        );
        let raw = self.recv_raw();
        assert_eq!(raw[0], rs9p::MsgType::RReadDir as u8, "{raw:?}");
        assert_eq!(u16::from_le_bytes([raw[1], raw[2]]), tag);
        let count = u32::from_le_bytes(raw[3..7].try_into().unwrap()) as usize;
        assert_eq!(
            count,
            raw.len() - 7,
            "count is the byte length of the entries"
        );
        let mut data = Cursor::new(&raw[7..]);
        let mut entries = Vec::new();
        while (data.position() as usize) < count {
            entries.push(DirEntry::decode(&mut data).expect("rs9p decodes a dirent"));
        }
        entries
    }

    fn walk(&mut self, tag: u16, fid: u32, newfid: u32, path: &[&str]) -> FCall {
        let wnames = path.iter().map(|s| s.to_string()).collect();
        self.call(
            tag,
            FCall::TWalk {
                fid,
                newfid,
                wnames,
            },
        )
    }

    fn clunk(&mut self, tag: u16, fid: u32) {
        assert_eq!(self.call(tag, FCall::TClunk { fid }), FCall::RClunk);
    }

    /// Version, auth with the queen's ticket written to the afid, attach: root is fid 0.
    fn handshake(&mut self) {
        let version = self.call(
            NOTAG,
            FCall::TVersion {
                msize: 1 << 20,
                version: P92000L.into(),
            },
        );
        assert_eq!(
            version,
            FCall::RVersion {
                msize: MSIZE,
                version: P92000L.into()
            },
            "msize is negotiated down to the hive's"
        );
        let auth = self.call(
            1,
            FCall::TAuth {
                afid: 1,
                uname: "operator".into(),
                aname: "queen".into(),
                n_uname: NONUNAME,
            },
        );
        let FCall::RAuth { aqid } = auth else {
            panic!("Rauth expected, got {auth:?}");
        };
        assert_eq!(aqid.typ, QIdType::AUTH);
        let ticket = queen().into_bytes();
        let written = self.call(
            2,
            FCall::TWrite {
                fid: 1,
                offset: 0,
                data: rs9p::Data(ticket.clone()),
            },
        );
        assert_eq!(
            written,
            FCall::RWrite {
                count: ticket.len() as u32
            }
        );
        let attach = self.call(
            3,
            FCall::TAttach {
                fid: 0,
                afid: 1,
                uname: "operator".into(),
                aname: "queen".into(),
                n_uname: NONUNAME,
            },
        );
        let FCall::RAttach { qid } = attach else {
            panic!("Rattach expected, got {attach:?}");
        };
        assert_eq!(qid.typ, QIdType::DIR);
    }
}

#[test]
fn version_auth_attach_walk_open_read_getattr_clunk() {
    let hive = Hive::start();
    let mut c = Conn::open(&hive);
    c.handshake();
    let walked = c.walk(10, 0, 2, &["proc", "boot"]);
    let FCall::RWalk { wqids } = walked else {
        panic!("Rwalk expected, got {walked:?}");
    };
    assert_eq!(wqids.len(), 2);
    assert_eq!(wqids[0].typ, QIdType::DIR);
    assert_eq!(wqids[1].typ, QIdType::FILE);
    let opened = c.call(11, FCall::TlOpen { fid: 2, flags: 0 });
    let FCall::RlOpen { qid, iounit } = opened else {
        panic!("Rlopen expected, got {opened:?}");
    };
    assert_eq!(qid, wqids[1]);
    assert_eq!(iounit, MSIZE - rs9p::IOHDRSZ);
    let read = c.call(
        12,
        FCall::TRead {
            fid: 2,
            offset: 0,
            count: 4096,
        },
    );
    let FCall::RRead { data } = read else {
        panic!("Rread expected, got {read:?}");
    };
    let text = String::from_utf8(data.0).unwrap();
    assert!(text.contains("platform=test\n"), "{text}");
    let attr = c.call(
        13,
        FCall::TGetAttr {
            fid: 2,
            req_mask: GetAttrMask::BASIC,
        },
    );
    let FCall::RGetAttr { valid, qid, stat } = attr else {
        panic!("Rgetattr expected, got {attr:?}");
    };
    assert!(valid.contains(GetAttrMask::MODE | GetAttrMask::SIZE));
    assert_eq!(qid, wqids[1]);
    assert_eq!(stat.mode & 0o170000, 0o100000, "a regular file");
    assert_eq!(stat.size, text.len() as u64);
    c.clunk(14, 2);
    // A clunked fid is gone: EBADF, on the tag that asked.
    assert_eq!(
        c.call(15, FCall::TClunk { fid: 2 }),
        FCall::RlError {
            ecode: errno!(EBADF)
        }
    );
    assert_eq!(c.call(16, FCall::TFlush { oldtag: 12 }), FCall::RFlush);
}

#[test]
fn readdir_lists_entries_with_resumable_offsets() {
    let hive = Hive::start();
    let mut c = Conn::open(&hive);
    c.handshake();
    assert!(matches!(c.walk(10, 0, 3, &["proc"]), FCall::RWalk { wqids } if wqids.len() == 1));
    assert!(matches!(
        c.call(11, FCall::TlOpen { fid: 3, flags: 0 }),
        FCall::RlOpen { .. }
    ));
    let entries = c.readdir(12, 3, 0);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["boot", "9p", "pressure", "lifecycle", "root"]);
    assert_eq!(entries[0].typ, 8, "DT_REG");
    assert_eq!(entries[1].typ, 4, "DT_DIR");
    assert_eq!(entries[1].qid.typ, QIdType::DIR);
    // Each entry's offset resumes the listing just after it.
    let rest = c.readdir(13, 3, entries[1].offset);
    assert_eq!(rest, entries[2..]);
    assert!(c.readdir(14, 3, entries[4].offset).is_empty());
    c.clunk(15, 3);
}

#[test]
fn write_to_the_queen_control_file_and_read_its_answer() {
    let hive = Hive::start();
    let mut c = Conn::open(&hive);
    c.handshake();
    assert!(
        matches!(c.walk(10, 0, 4, &["queen", "ctl"]), FCall::RWalk { wqids } if wqids.len() == 2)
    );
    assert!(matches!(
        c.call(11, FCall::TlOpen { fid: 4, flags: 1 }),
        FCall::RlOpen { .. }
    ));
    let line = b"{\"spawn\":\"heartbeat\",\"count\":2}\n".to_vec();
    let written = c.call(
        12,
        FCall::TWrite {
            fid: 4,
            offset: 0,
            data: rs9p::Data(line.clone()),
        },
    );
    assert_eq!(
        written,
        FCall::RWrite {
            count: line.len() as u32
        }
    );
    c.clunk(13, 4);
    c.walk(14, 0, 5, &["queen", "ctl"]);
    c.call(15, FCall::TlOpen { fid: 5, flags: 0 });
    let read = c.call(
        16,
        FCall::TRead {
            fid: 5,
            offset: 0,
            count: 4096,
        },
    );
    assert_eq!(
        read,
        FCall::RRead {
            data: rs9p::Data(b"spawn kind=heartbeat count=2 ids=w0001..w0002\n".to_vec())
        }
    );
}

#[test]
fn refusals_are_rlerror_with_linux_errno() {
    let hive = Hive::start();
    let mut c = Conn::open(&hive);
    // Nothing but Tversion before a version is agreed.
    assert_eq!(
        c.call(1, FCall::TClunk { fid: 0 }),
        FCall::RlError {
            ecode: errno!(EINVAL)
        }
    );
    c.handshake();
    // A walk that fails at its first name is an error; one that fails later is a short
    // Rwalk, and in neither case does newfid come to exist.
    assert_eq!(
        c.walk(10, 0, 6, &["nope"]),
        FCall::RlError {
            ecode: errno!(ENOENT)
        }
    );
    let short = c.walk(10, 0, 6, &["proc", "nope"]);
    assert!(
        matches!(&short, FCall::RWalk { wqids } if wqids.len() == 1),
        "{short:?}"
    );
    assert_eq!(
        c.call(10, FCall::TClunk { fid: 6 }),
        FCall::RlError {
            ecode: errno!(EBADF)
        }
    );
    // A read-only file refuses a write open (EPERM), and a real 9P2000.L message outside the
    // served subset is refused with EOPNOTSUPP on its own tag.
    c.walk(11, 0, 7, &["proc", "boot"]);
    assert_eq!(
        c.call(12, FCall::TlOpen { fid: 7, flags: 1 }),
        FCall::RlError {
            ecode: errno!(EPERM)
        }
    );
    assert_eq!(
        c.call(13, FCall::TStatFs { fid: 0 }),
        FCall::RlError {
            ecode: errno!(EOPNOTSUPP)
        }
    );
    assert_eq!(
        c.call(
            14,
            FCall::TMkDir {
                dfid: 0,
                name: "d".into(),
                mode: 0o755,
                gid: 0
            }
        ),
        FCall::RlError {
            ecode: errno!(EOPNOTSUPP)
        }
    );
    // An attach with no ticket at all is refused.
    let mut bare = Conn::open(&hive);
    bare.call(
        NOTAG,
        FCall::TVersion {
            msize: MSIZE,
            version: P92000L.into(),
        },
    );
    let refused = bare.call(
        1,
        FCall::TAttach {
            fid: 0,
            afid: NOFID,
            uname: "operator".into(),
            aname: "queen".into(),
            n_uname: NONUNAME,
        },
    );
    assert_eq!(
        refused,
        FCall::RlError {
            ecode: errno!(EPERM)
        }
    );
}

impl Conn {
    fn version(&mut self) {
        let version = self.call(
            NOTAG,
            FCall::TVersion {
                msize: MSIZE,
                version: P92000L.into(),
            },
        );
        assert!(matches!(version, FCall::RVersion { .. }), "{version:?}");
    }

    /// `Tattach` with no afid and the ticket in `aname`, as stock clients and the original
    /// Cohesix host tools send it.
    fn attach_aname(&mut self, tag: u16, fid: u32, uname: &str, aname: &str) -> FCall {
        self.call(
            tag,
            FCall::TAttach {
                fid,
                afid: NOFID,
                uname: uname.into(),
                aname: aname.into(),
                n_uname: NONUNAME,
            },
        )
    }
}

#[test]
fn a_ticket_in_aname_attaches_without_an_afid() {
    let hive = Hive::start();
    let ticket = queen();

    // A stock client sends its own user name: it is not a role label, so it is ignored and
    // role and subject come from the ticket.
    let mut c = Conn::open(&hive);
    c.version();
    // `Tauth` with a ticket as `aname` has nothing to authenticate: ENOENT, which stock
    // clients read as "attach without an afid".
    let auth = c.call(
        9,
        FCall::TAuth {
            afid: 1,
            uname: "root".into(),
            aname: ticket.clone(),
            n_uname: NONUNAME,
        },
    );
    assert_eq!(
        auth,
        FCall::RlError {
            ecode: errno!(ENOENT)
        }
    );
    let attach = c.attach_aname(1, 0, "root", &ticket);
    assert!(matches!(attach, FCall::RAttach { .. }), "{attach:?}");
    assert!(
        matches!(c.walk(2, 0, 1, &["proc", "boot"]), FCall::RWalk { wqids } if wqids.len() == 2)
    );
    assert!(matches!(
        c.call(3, FCall::TlOpen { fid: 1, flags: 0 }),
        FCall::RlOpen { .. }
    ));
    let read = c.call(
        4,
        FCall::TRead {
            fid: 1,
            offset: 0,
            count: 4096,
        },
    );
    let FCall::RRead { data } = read else {
        panic!("Rread expected, got {read:?}");
    };
    assert!(String::from_utf8_lossy(&data.0).contains("platform="));

    // The role label names the ticket's role: accepted. Another role's label: refused.
    let mut c = Conn::open(&hive);
    c.version();
    let attach = c.attach_aname(1, 0, "queen", &ticket);
    assert!(matches!(attach, FCall::RAttach { .. }), "{attach:?}");
    let mut c = Conn::open(&hive);
    c.version();
    assert_eq!(
        c.attach_aname(1, 0, "worker-heartbeat:w0001", &ticket),
        FCall::RlError {
            ecode: errno!(EPERM)
        }
    );
    // The right role with another identity is refused too.
    let mut c = Conn::open(&hive);
    c.version();
    assert_eq!(
        c.attach_aname(1, 0, "queen:mallory", &ticket),
        FCall::RlError {
            ecode: errno!(EPERM)
        }
    );
    // A forged ticket is verified like one written to an afid, and refused.
    let mut forged = ticket.clone();
    forged.pop();
    forged.push(if ticket.ends_with('0') { '1' } else { '0' });
    let mut c = Conn::open(&hive);
    c.version();
    assert_eq!(
        c.attach_aname(1, 0, "queen", &forged),
        FCall::RlError {
            ecode: errno!(EPERM)
        }
    );
}
