//! The 9P2000.L wire subset: `size[4] type[1] tag[2]` framing, little-endian, in both
//! directions. Decoders enforce the Secure9P limits while parsing and reject anything that is
//! not exactly one well-formed message.

pub(crate) mod dirent;
mod message;
mod name;
mod request;
mod response;
pub(crate) mod wire;

pub use dirent::{decode_dirents, encode_dirent, Dirent, DIRENT_FIXED_LEN, DT_DIR, DT_REG};
pub use message::{Getattr, Request, Response};
pub use name::validate_name;
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};

use crate::Error;
use alloc::vec::Vec;
use core::fmt;

/// The fid value meaning "no fid" (an attach without an auth fid).
pub const NOFID: u32 = u32::MAX;
/// The tag value meaning "no tag" (conventionally used by `Tversion`).
pub const NOTAG: u16 = u16::MAX;
/// The only protocol version served.
pub const VERSION: &str = "9P2000.L";
/// The version string a server answers when it speaks none of the client's dialects.
pub const VERSION_UNKNOWN: &str = "unknown";
/// `size[4] type[1] tag[2]`.
pub const HEADER_LEN: usize = 7;
/// Header plus `count[4]`: the overhead of an `Rread`/`Rreaddir` around its data.
pub const RREAD_OVERHEAD: usize = HEADER_LEN + 4;
/// The classic 9P I/O header allowance; `iounit = msize - IOHDRSZ`.
pub const IOHDRSZ: u32 = 24;
/// Smallest msize a session agrees to: every fixed-size reply (`Rgetattr` is 160 bytes) fits.
pub const MSIZE_MIN: u32 = 256;
/// Qid type bit of an auth fid.
pub const QT_AUTH: u8 = 0x08;
/// `type[1] version[4] path[8]`.
pub const QID_LEN: usize = 13;

// The smallest msize any manifest can negotiate carries every reply whose size is fixed by
// the protocol and the limits (docs/interfaces.md §3.3), so no limit combination leaves a
// request that can only be answered with a frame the session may not send.
const _: () = {
    let msize = MSIZE_MIN as usize;
    assert!(MSIZE_MIN == manifest::SECURE9P_MSIZE_MIN);
    // Rgetattr: the largest fixed-size reply.
    assert!(HEADER_LEN + Getattr::WIRE_LEN <= msize);
    // Rwalk at the deepest walk a manifest may allow: nwqid[2] and one qid per name.
    assert!(HEADER_LEN + 2 + manifest::SECURE9P_WALK_DEPTH_MAX as usize * QID_LEN <= msize);
    // Rreaddir holding one entry with the longest name a manifest may allow.
    assert!(RREAD_OVERHEAD + DIRENT_FIXED_LEN + manifest::SECURE9P_NAME_MAX as usize <= msize);
    // Rversion: msize[4] and the version string.
    assert!(HEADER_LEN + 4 + 2 + VERSION.len() <= msize);
    // Rlerror: ecode[4].
    assert!(HEADER_LEN + 4 <= msize);
    // Twrite's fixed part (fid[4] offset[8] count[4]) within the I/O header allowance, so
    // `msize - IOHDRSZ` bytes of data always fit one Twrite.
    assert!(HEADER_LEN + 4 + 8 + 4 <= IOHDRSZ as usize);
    assert!(IOHDRSZ < MSIZE_MIN);
};

/// 9P2000.L message type numbers of the served subset.
pub mod msg {
    pub const TLERROR: u8 = 6;
    pub const RLERROR: u8 = 7;
    pub const TLOPEN: u8 = 12;
    pub const RLOPEN: u8 = 13;
    pub const TLCREATE: u8 = 14;
    pub const RLCREATE: u8 = 15;
    pub const TGETATTR: u8 = 24;
    pub const RGETATTR: u8 = 25;
    pub const TREADDIR: u8 = 40;
    pub const RREADDIR: u8 = 41;
    pub const TVERSION: u8 = 100;
    pub const RVERSION: u8 = 101;
    pub const TAUTH: u8 = 102;
    pub const RAUTH: u8 = 103;
    pub const TATTACH: u8 = 104;
    pub const RATTACH: u8 = 105;
    pub const TFLUSH: u8 = 108;
    pub const RFLUSH: u8 = 109;
    pub const TWALK: u8 = 110;
    pub const RWALK: u8 = 111;
    pub const TREAD: u8 = 116;
    pub const RREAD: u8 = 117;
    pub const TWRITE: u8 = 118;
    pub const RWRITE: u8 = 119;
    pub const TCLUNK: u8 = 120;
    pub const RCLUNK: u8 = 121;
}

/// The bounds a decoder and a session enforce, taken from the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame in either direction, size field included.
    pub msize: u32,
    /// Most names in one `Twalk` (and qids in one `Rwalk`).
    pub walk_depth: u32,
    /// Longest path element in bytes.
    pub name_max: u32,
    /// Requests in flight per session (per batch, since every request is answered in turn).
    pub tags: u32,
    /// Fids a session may hold at once.
    pub fids: u32,
    /// Longest ticket text accepted on an auth fid.
    pub ticket_max: u32,
    /// Requests one `handle_batch` call runs; the rest wait in the caller's buffer for the
    /// next call, so one busy connection cannot hold a pump turn (docs/interfaces.md §3.3).
    pub batch: u32,
}

impl Limits {
    pub fn from_manifest(manifest: &manifest::Manifest) -> Self {
        let s = &manifest.secure9p;
        Self {
            msize: s.msize,
            walk_depth: s.walk_depth,
            name_max: s.name_max,
            tags: s.tags_per_session,
            fids: s.fids_per_session,
            ticket_max: manifest.ticket.text_max,
            batch: s.batch_max,
        }
    }
}

impl Default for Limits {
    /// The reference hive's limits (docs/interfaces.md §3.3).
    fn default() -> Self {
        Self::from_manifest(&manifest::Manifest::default())
    }
}

/// Why bytes are not one acceptable message. The first four variants mean the stream framing
/// itself is broken (the connection must close); the rest carry the tag so the request can be
/// answered with `Rlerror`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than the four bytes of a size field.
    Short { len: usize },
    /// The size field is smaller than the 7-byte header.
    Undersized { size: u32 },
    /// The size field is larger than the negotiated msize.
    Oversized { size: u32, msize: u32 },
    /// The frame handed in is not exactly as long as its size field says.
    Length { size: u32, len: usize },
    /// A message type outside the served subset (answered with `EOPNOTSUPP`).
    UnknownType { tag: u16, ty: u8 },
    /// A field runs past the end of the frame.
    Truncated { tag: u16 },
    /// Bytes remain after the last field.
    Trailing { tag: u16 },
    /// A field breaks a Secure9P limit (`TooBig`) or the grammar (`Invalid`).
    Refused { tag: u16, error: Error },
}

impl DecodeError {
    /// True when the byte stream can no longer be split into frames.
    pub fn is_fatal(&self) -> bool {
        self.tag().is_none()
    }

    /// The tag to answer on, when the header was readable.
    pub fn tag(&self) -> Option<u16> {
        match *self {
            DecodeError::Short { .. }
            | DecodeError::Undersized { .. }
            | DecodeError::Oversized { .. }
            | DecodeError::Length { .. } => None,
            DecodeError::UnknownType { tag, .. }
            | DecodeError::Truncated { tag }
            | DecodeError::Trailing { tag }
            | DecodeError::Refused { tag, .. } => Some(tag),
        }
    }

    /// The named refusal this maps onto (and so the errno of the `Rlerror`).
    pub fn error(&self) -> Error {
        match *self {
            DecodeError::Oversized { .. } => Error::TooBig,
            DecodeError::UnknownType { .. } => Error::Unsupported,
            DecodeError::Refused { error, .. } => error,
            DecodeError::Short { .. }
            | DecodeError::Undersized { .. }
            | DecodeError::Length { .. }
            | DecodeError::Truncated { .. }
            | DecodeError::Trailing { .. } => Error::Invalid,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Short { len } => write!(f, "frame of {len} bytes has no size field"),
            DecodeError::Undersized { size } => write!(f, "size field {size} is below 7"),
            DecodeError::Oversized { size, msize } => {
                write!(f, "size field {size} exceeds msize {msize}")
            }
            DecodeError::Length { size, len } => {
                write!(f, "size field {size} disagrees with frame length {len}")
            }
            DecodeError::UnknownType { tag, ty } => {
                write!(f, "message type {ty} is not served (tag {tag})")
            }
            DecodeError::Truncated { tag } => write!(f, "truncated message (tag {tag})"),
            DecodeError::Trailing { tag } => write!(f, "trailing bytes (tag {tag})"),
            DecodeError::Refused { tag, error } => write!(f, "refused field: {error} (tag {tag})"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// Peeks at the size prefix of the next frame in `buf`: `Ok(None)` until four bytes are
/// buffered, `Ok(Some(size))` once the frame length is known (the frame may still be
/// incomplete), and an error when the size can never be valid under `msize`.
pub fn frame_len(buf: &[u8], msize: u32) -> Result<Option<usize>, DecodeError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let size = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    check_size(size, msize)?;
    usize::try_from(size)
        .map(Some)
        .map_err(|_| DecodeError::Oversized { size, msize })
}

fn check_size(size: u32, msize: u32) -> Result<(), DecodeError> {
    if size < HEADER_LEN as u32 {
        return Err(DecodeError::Undersized { size });
    }
    if size > msize {
        return Err(DecodeError::Oversized { size, msize });
    }
    Ok(())
}

/// Splits one whole frame into `(type, tag)` and a reader positioned at its body.
pub(crate) fn open_frame(frame: &[u8], msize: u32) -> Result<(u8, wire::Reader<'_>), DecodeError> {
    let Some(size) = frame_len(frame, msize)? else {
        return Err(DecodeError::Short { len: frame.len() });
    };
    if size != frame.len() {
        return Err(DecodeError::Length {
            size: size as u32,
            len: frame.len(),
        });
    }
    let ty = frame[4];
    let tag = u16::from_le_bytes([frame[5], frame[6]]);
    Ok((ty, wire::Reader::new(frame, HEADER_LEN, tag)))
}

/// Starts a frame in `out` and returns where it begins, for `end_frame`.
pub(crate) fn begin_frame(out: &mut Vec<u8>, ty: u8, tag: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    wire::put_u8(out, ty);
    wire::put_u16(out, tag);
    start
}

/// Writes the size field of the frame begun at `start`; a frame past `u32` is dropped.
pub(crate) fn end_frame(out: &mut Vec<u8>, start: usize) -> Result<(), Error> {
    let Ok(size) = u32::try_from(out.len() - start) else {
        out.truncate(start);
        return Err(Error::TooBig);
    };
    out[start..start + 4].copy_from_slice(&size.to_le_bytes());
    Ok(())
}

/// Runs a body writer inside a frame; on failure `out` is left exactly as it was.
pub(crate) fn write_frame(
    out: &mut Vec<u8>,
    ty: u8,
    tag: u16,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = begin_frame(out, ty, tag);
    if let Err(e) = body(out) {
        out.truncate(start);
        return Err(e);
    }
    end_frame(out, start)
}
