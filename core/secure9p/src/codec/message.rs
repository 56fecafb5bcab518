//! The typed messages of the served subset. Field names follow the 9P2000.L documentation.

use crate::Qid;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A T-message the hive serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Version {
        msize: u32,
        version: String,
    },
    Auth {
        afid: u32,
        uname: String,
        aname: String,
        n_uname: u32,
    },
    Attach {
        fid: u32,
        afid: u32,
        uname: String,
        aname: String,
        n_uname: u32,
    },
    Walk {
        fid: u32,
        newfid: u32,
        names: Vec<String>,
    },
    Lopen {
        fid: u32,
        flags: u32,
    },
    Lcreate {
        fid: u32,
        name: String,
        flags: u32,
        mode: u32,
        gid: u32,
    },
    Read {
        fid: u32,
        offset: u64,
        count: u32,
    },
    Write {
        fid: u32,
        offset: u64,
        data: Vec<u8>,
    },
    Clunk {
        fid: u32,
    },
    Getattr {
        fid: u32,
        mask: u64,
    },
    Readdir {
        fid: u32,
        offset: u64,
        count: u32,
    },
    Flush {
        oldtag: u16,
    },
}

/// An R-message of the served subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Version {
        msize: u32,
        version: String,
    },
    Auth {
        aqid: Qid,
    },
    Attach {
        qid: Qid,
    },
    Walk {
        qids: Vec<Qid>,
    },
    Lopen {
        qid: Qid,
        iounit: u32,
    },
    Lcreate {
        qid: Qid,
        iounit: u32,
    },
    Read {
        data: Vec<u8>,
    },
    Write {
        count: u32,
    },
    Clunk,
    /// Boxed: the attribute block is far larger than every other reply.
    Getattr(Box<Getattr>),
    /// Packed 9P2000.L dirents (see `codec::decode_dirents`).
    Readdir {
        data: Vec<u8>,
    },
    Flush,
    Lerror {
        ecode: u32,
    },
}

/// The `Rgetattr` body, field for field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Getattr {
    pub valid: u64,
    pub qid: Qid,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime_sec: u64,
    pub atime_nsec: u64,
    pub mtime_sec: u64,
    pub mtime_nsec: u64,
    pub ctime_sec: u64,
    pub ctime_nsec: u64,
    pub btime_sec: u64,
    pub btime_nsec: u64,
    pub gen: u64,
    pub data_version: u64,
}

impl Getattr {
    /// `P9_GETATTR_BASIC`: every field up to and including `blocks` is meaningful.
    pub const VALID_BASIC: u64 = 0x0000_07ff;
    /// Encoded body length: `valid[8] qid[13] mode[4] uid[4] gid[4]` plus fifteen `[8]` fields.
    pub const WIRE_LEN: usize = 8 + 13 + 4 + 4 + 4 + 15 * 8;
}

impl Request {
    /// The 9P message type number.
    pub fn msg_type(&self) -> u8 {
        use super::msg::*;
        match self {
            Request::Version { .. } => TVERSION,
            Request::Auth { .. } => TAUTH,
            Request::Attach { .. } => TATTACH,
            Request::Walk { .. } => TWALK,
            Request::Lopen { .. } => TLOPEN,
            Request::Lcreate { .. } => TLCREATE,
            Request::Read { .. } => TREAD,
            Request::Write { .. } => TWRITE,
            Request::Clunk { .. } => TCLUNK,
            Request::Getattr { .. } => TGETATTR,
            Request::Readdir { .. } => TREADDIR,
            Request::Flush { .. } => TFLUSH,
        }
    }
}

impl Response {
    /// The 9P message type number.
    pub fn msg_type(&self) -> u8 {
        use super::msg::*;
        match self {
            Response::Version { .. } => RVERSION,
            Response::Auth { .. } => RAUTH,
            Response::Attach { .. } => RATTACH,
            Response::Walk { .. } => RWALK,
            Response::Lopen { .. } => RLOPEN,
            Response::Lcreate { .. } => RLCREATE,
            Response::Read { .. } => RREAD,
            Response::Write { .. } => RWRITE,
            Response::Clunk => RCLUNK,
            Response::Getattr(_) => RGETATTR,
            Response::Readdir { .. } => RREADDIR,
            Response::Flush => RFLUSH,
            Response::Lerror { .. } => RLERROR,
        }
    }
}
