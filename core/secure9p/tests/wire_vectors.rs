//! Hand-written 9P2000.L wire vectors for every message the hive serves, request and reply.
//!
//! Each vector is spelled out field by field from the protocol definition (the Linux
//! `include/net/9p/9p.h` message numbers and the 9P2000.L field layouts: little-endian
//! integers, `s` = `len[2]` + UTF-8 bytes, the 13-byte qid `type[1] version[4] path[8]`),
//! never produced by this crate's encoder. Every vector must decode to the typed message
//! and the typed message must encode to exactly the vector, so a mistake made the same way in
//! both directions of the codec (two fields swapped, a width changed, a wrong type number)
//! fails here even though every round trip still passes.

use secure9p::codec::{
    decode_dirents, encode_dirent, Dirent, Getattr, Limits, Request, Response, DT_DIR, DT_REG,
};
use secure9p::{decode_request, decode_response, encode_request, encode_response, Qid};

/// Joins hex fields (spaces allowed inside a field) into bytes.
fn hex(fields: &[&str]) -> Vec<u8> {
    let digits: String = fields.concat().split_whitespace().collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd hex digit count in {fields:?}"
    );
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Guards the vectors themselves: the literal size field must count the whole frame.
fn checked(fields: &[&str]) -> Vec<u8> {
    let bytes = hex(fields);
    let size = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(
        size,
        bytes.len(),
        "vector's size field is wrong: {fields:?}"
    );
    bytes
}

fn request_vector(fields: &[&str], tag: u16, expected: Request) {
    let bytes = checked(fields);
    let decoded = decode_request(&bytes, &Limits::default()).expect("vector decodes");
    assert_eq!(decoded, (tag, expected.clone()), "decoding {fields:?}");
    let mut out = Vec::new();
    encode_request(tag, &expected, &mut out).unwrap();
    assert_eq!(out, bytes, "encoding {expected:?}");
}

fn response_vector(fields: &[&str], tag: u16, expected: Response) {
    let bytes = checked(fields);
    let decoded = decode_response(&bytes, &Limits::default()).expect("vector decodes");
    assert_eq!(decoded, (tag, expected.clone()), "decoding {fields:?}");
    let mut out = Vec::new();
    encode_response(tag, &expected, &mut out).unwrap();
    assert_eq!(out, bytes, "encoding {expected:?}");
}

// "9P2000.L" as s: len[2]=8 then the bytes.
const S_9P2000L: &str = "0800 3950323030302e4c";

// A directory qid: type=0x80 (QTDIR) version=0x04030201 path=0x1122334455667788.
const QID_DIR: &str = "80 01020304 8877665544332211";
fn qid_dir() -> Qid {
    Qid {
        ty: 0x80,
        version: 0x0403_0201,
        path: 0x1122_3344_5566_7788,
    }
}

// An append-only file qid: type=0x40 (QTAPPEND) version=7 path=0x2a.
const QID_APPEND: &str = "40 07000000 2a00000000000000";
fn qid_append() -> Qid {
    Qid {
        ty: 0x40,
        version: 7,
        path: 0x2a,
    }
}

#[test]
fn version() {
    // size[4] Tversion=100 tag[2]=NOTAG msize[4]=8192 version[s]
    request_vector(
        &["15000000", "64", "ffff", "00200000", S_9P2000L],
        0xffff,
        Request::Version {
            msize: 8192,
            version: "9P2000.L".into(),
        },
    );
    // Rversion=101 msize[4]=4096
    response_vector(
        &["15000000", "65", "ffff", "00100000", S_9P2000L],
        0xffff,
        Response::Version {
            msize: 4096,
            version: "9P2000.L".into(),
        },
    );
}

#[test]
fn auth() {
    // Tauth=102 tag=1 afid[4]=5 uname[s]="w7" aname[s]="worker" n_uname[4]=1000
    request_vector(
        &[
            "1b000000",
            "66",
            "0100",
            "05000000",
            "0200 7737",
            "0600 776f726b6572",
            "e8030000",
        ],
        1,
        Request::Auth {
            afid: 5,
            uname: "w7".into(),
            aname: "worker".into(),
            n_uname: 1000,
        },
    );
    // Rauth=103 aqid[13] (QTAUTH=0x08)
    response_vector(
        &["14000000", "67", "0100", "08 00000000 0900000000000000"],
        1,
        Response::Auth {
            aqid: Qid {
                ty: 0x08,
                version: 0,
                path: 9,
            },
        },
    );
}

#[test]
fn attach() {
    // Tattach=104 tag=2 fid[4]=0 afid[4]=NOFID uname[s]="q" aname[s]="queen" n_uname[4]=0
    request_vector(
        &[
            "1d000000",
            "68",
            "0200",
            "00000000",
            "ffffffff",
            "0100 71",
            "0500 717565656e",
            "00000000",
        ],
        2,
        Request::Attach {
            fid: 0,
            afid: u32::MAX,
            uname: "q".into(),
            aname: "queen".into(),
            n_uname: 0,
        },
    );
    // Rattach=105 qid[13]
    response_vector(
        &["14000000", "69", "0200", QID_DIR],
        2,
        Response::Attach { qid: qid_dir() },
    );
}

#[test]
fn walk() {
    // Twalk=110 tag=3 fid[4]=1 newfid[4]=2 nwname[2]=2 "proc" "boot"
    request_vector(
        &[
            "1d000000",
            "6e",
            "0300",
            "01000000",
            "02000000",
            "0200",
            "0400 70726f63",
            "0400 626f6f74",
        ],
        3,
        Request::Walk {
            fid: 1,
            newfid: 2,
            names: vec!["proc".into(), "boot".into()],
        },
    );
    // A clone walk: nwname=0.
    request_vector(
        &["11000000", "6e", "0300", "01000000", "02000000", "0000"],
        3,
        Request::Walk {
            fid: 1,
            newfid: 2,
            names: vec![],
        },
    );
    // Rwalk=111 nwqid[2]=2 then two qids.
    response_vector(
        &["23000000", "6f", "0300", "0200", QID_DIR, QID_APPEND],
        3,
        Response::Walk {
            qids: vec![qid_dir(), qid_append()],
        },
    );
}

#[test]
fn lopen_and_lcreate() {
    // Tlopen=12 tag=4 fid[4]=2 flags[4]=O_WRONLY|O_APPEND (0x401)
    request_vector(
        &["0f000000", "0c", "0400", "02000000", "01040000"],
        4,
        Request::Lopen {
            fid: 2,
            flags: 0x401,
        },
    );
    // Rlopen=13 qid[13] iounit[4]=8168
    response_vector(
        &["18000000", "0d", "0400", QID_APPEND, "e81f0000"],
        4,
        Response::Lopen {
            qid: qid_append(),
            iounit: 8168,
        },
    );
    // Tlcreate=14 tag=5 fid[4]=3 name[s]="x" flags[4]=0x42 mode[4]=0o644 gid[4]=0
    request_vector(
        &[
            "1a000000", "0e", "0500", "03000000", "0100 78", "42000000", "a4010000", "00000000",
        ],
        5,
        Request::Lcreate {
            fid: 3,
            name: "x".into(),
            flags: 0x42,
            mode: 0o644,
            gid: 0,
        },
    );
    // Rlcreate=15 qid[13] iounit[4]=0
    response_vector(
        &["18000000", "0f", "0500", QID_APPEND, "00000000"],
        5,
        Response::Lcreate {
            qid: qid_append(),
            iounit: 0,
        },
    );
}

#[test]
fn read_and_write() {
    // Tread=116 tag=6 fid[4]=2 offset[8]=0x100000000 count[4]=512
    request_vector(
        &[
            "17000000",
            "74",
            "0600",
            "02000000",
            "0000000001000000",
            "00020000",
        ],
        6,
        Request::Read {
            fid: 2,
            offset: 1 << 32,
            count: 512,
        },
    );
    // Rread=117 count[4]=3 data="ok\n"
    response_vector(
        &["0e000000", "75", "0600", "03000000", "6f6b0a"],
        6,
        Response::Read {
            data: b"ok\n".to_vec(),
        },
    );
    // Twrite=118 tag=7 fid[4]=2 offset[8]=5 count[4]=2 data="hi"
    request_vector(
        &[
            "19000000",
            "76",
            "0700",
            "02000000",
            "0500000000000000",
            "02000000",
            "6869",
        ],
        7,
        Request::Write {
            fid: 2,
            offset: 5,
            data: b"hi".to_vec(),
        },
    );
    // Rwrite=119 count[4]=2
    response_vector(
        &["0b000000", "77", "0700", "02000000"],
        7,
        Response::Write { count: 2 },
    );
}

#[test]
fn clunk_and_flush() {
    // Tclunk=120 tag=8 fid[4]=2; Rclunk=121 has no body.
    request_vector(
        &["0b000000", "78", "0800", "02000000"],
        8,
        Request::Clunk { fid: 2 },
    );
    response_vector(&["07000000", "79", "0800"], 8, Response::Clunk);
    // Tflush=108 tag=9 oldtag[2]=8; Rflush=109 has no body.
    request_vector(
        &["09000000", "6c", "0900", "0800"],
        9,
        Request::Flush { oldtag: 8 },
    );
    response_vector(&["07000000", "6d", "0900"], 9, Response::Flush);
}

#[test]
fn getattr() {
    // Tgetattr=24 tag=10 fid[4]=2 request_mask[8]=P9_GETATTR_BASIC
    request_vector(
        &["13000000", "18", "0a00", "02000000", "ff07000000000000"],
        10,
        Request::Getattr {
            fid: 2,
            mask: 0x7ff,
        },
    );
    // Rgetattr=25: valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8]
    // blksize[8] blocks[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8]
    // ctime_sec[8] ctime_nsec[8] btime_sec[8] btime_nsec[8] gen[8] data_version[8]:
    // 7 + 153 = 160 bytes. Every field has a distinct value so a swap shows.
    let fields = [
        "a0000000",
        "19",
        "0a00",
        "ff07000000000000", // valid
        QID_APPEND,         // qid
        "a4810000",         // mode 0o100644
        "e8030000",         // uid 1000
        "e9030000",         // gid 1001
        "0100000000000000", // nlink 1
        "0200000000000000", // rdev 2
        "0030000000000000", // size 0x3000
        "0010000000000000", // blksize 4096
        "1800000000000000", // blocks 24
        "0300000000000000", // atime_sec
        "0400000000000000", // atime_nsec
        "0500000000000000", // mtime_sec
        "0600000000000000", // mtime_nsec
        "0700000000000000", // ctime_sec
        "0800000000000000", // ctime_nsec
        "0900000000000000", // btime_sec
        "0a00000000000000", // btime_nsec
        "0b00000000000000", // gen
        "0c00000000000000", // data_version
    ];
    response_vector(
        &fields,
        10,
        Response::Getattr(Box::new(Getattr {
            valid: 0x7ff,
            qid: qid_append(),
            mode: 0o100644,
            uid: 1000,
            gid: 1001,
            nlink: 1,
            rdev: 2,
            size: 0x3000,
            blksize: 4096,
            blocks: 24,
            atime_sec: 3,
            atime_nsec: 4,
            mtime_sec: 5,
            mtime_nsec: 6,
            ctime_sec: 7,
            ctime_nsec: 8,
            btime_sec: 9,
            btime_nsec: 10,
            gen: 11,
            data_version: 12,
        })),
    );
    assert_eq!(Getattr::WIRE_LEN, 160 - 7);
}

#[test]
fn readdir_and_its_dirents() {
    // Treaddir=40 tag=11 fid[4]=1 offset[8]=0 count[4]=4096
    request_vector(
        &[
            "17000000",
            "28",
            "0b00",
            "01000000",
            "0000000000000000",
            "00100000",
        ],
        11,
        Request::Readdir {
            fid: 1,
            offset: 0,
            count: 4096,
        },
    );
    // Rreaddir=41 count[4]=bytes of data, then dirents qid[13] offset[8] type[1] name[s].
    let dirents = [
        QID_DIR,
        "0100000000000000",
        "04",
        "0400 70726f63", // "proc", DT_DIR
        QID_APPEND,
        "0200000000000000",
        "08",
        "0900 717565656e2e6c6f67", // "queen.log", DT_REG
    ];
    let data = hex(&dirents);
    assert_eq!(data.len(), 28 + 33);
    let mut frame = vec!["48000000", "29", "0b00", "3d000000"];
    frame.extend_from_slice(&dirents);
    response_vector(&frame, 11, Response::Readdir { data: data.clone() });
    let expected = vec![
        Dirent {
            qid: qid_dir(),
            offset: 1,
            ty: DT_DIR,
            name: "proc".into(),
        },
        Dirent {
            qid: qid_append(),
            offset: 2,
            ty: DT_REG,
            name: "queen.log".into(),
        },
    ];
    assert_eq!(decode_dirents(&data, &Limits::default()).unwrap(), expected);
    let mut out = Vec::new();
    for entry in &expected {
        encode_dirent(entry, &mut out).unwrap();
    }
    assert_eq!(out, data);
    assert_eq!((DT_DIR, DT_REG), (4, 8), "Linux d_type values");
}

#[test]
fn lerror_carries_linux_errno_values() {
    // Rlerror=7 tag=12 ecode[4]
    response_vector(
        &["0b000000", "07", "0c00", "02000000"],
        12,
        Response::Lerror { ecode: 2 },
    );
    // The named refusals map onto the Linux errno numbers a 9P client expects.
    use secure9p::Error;
    let table = [
        (Error::Perm, 1),         // EPERM
        (Error::NotFound, 2),     // ENOENT
        (Error::Closed, 9),       // EBADF
        (Error::Busy, 16),        // EBUSY
        (Error::Invalid, 22),     // EINVAL
        (Error::TooBig, 90),      // EMSGSIZE
        (Error::Unsupported, 95), // EOPNOTSUPP
        (Error::Cut, 107),        // ENOTCONN
        (Error::Quota, 122),      // EDQUOT
    ];
    for (error, errno) in table {
        assert_eq!(error.errno(), errno, "{error:?}");
    }
}

#[test]
fn unserved_types_are_refused_with_their_tag() {
    // Tstatfs=8 tag=13 fid[4]=0: a real 9P2000.L message outside the served subset.
    let bytes = checked(&["0b000000", "08", "0d00", "00000000"]);
    let err = decode_request(&bytes, &Limits::default()).unwrap_err();
    assert_eq!(err.tag(), Some(13));
    assert_eq!(err.error(), secure9p::Error::Unsupported);
}
