//! T-message codec. Decoding validates every Secure9P limit on the way in, so the session
//! engine only ever sees requests that are within bounds.

use super::msg::*;
use super::wire::{self, Reader};
use super::{open_frame, validate_name, write_frame, DecodeError, Limits, Request};
use crate::Error;
use alloc::string::String;
use alloc::vec::Vec;

/// Decodes one whole frame (exactly `size` bytes) into its tag and request.
pub fn decode_request(frame: &[u8], limits: &Limits) -> Result<(u16, Request), DecodeError> {
    let (ty, mut r) = open_frame(frame, limits.msize)?;
    let request = match ty {
        TVERSION => Request::Version {
            msize: r.u32()?,
            version: r.string()?,
        },
        TAUTH => Request::Auth {
            afid: r.u32()?,
            uname: r.string()?,
            aname: r.string()?,
            n_uname: r.u32()?,
        },
        TATTACH => Request::Attach {
            fid: r.u32()?,
            afid: r.u32()?,
            uname: r.string()?,
            aname: r.string()?,
            n_uname: r.u32()?,
        },
        TWALK => decode_walk(&mut r, limits)?,
        TLOPEN => Request::Lopen {
            fid: r.u32()?,
            flags: r.u32()?,
        },
        TLCREATE => Request::Lcreate {
            fid: r.u32()?,
            name: name(&mut r, limits)?,
            flags: r.u32()?,
            mode: r.u32()?,
            gid: r.u32()?,
        },
        TREAD => Request::Read {
            fid: r.u32()?,
            offset: r.u64()?,
            count: r.u32()?,
        },
        TWRITE => Request::Write {
            fid: r.u32()?,
            offset: r.u64()?,
            data: r.data()?,
        },
        TCLUNK => Request::Clunk { fid: r.u32()? },
        TGETATTR => Request::Getattr {
            fid: r.u32()?,
            mask: r.u64()?,
        },
        TREADDIR => Request::Readdir {
            fid: r.u32()?,
            offset: r.u64()?,
            count: r.u32()?,
        },
        TFLUSH => Request::Flush { oldtag: r.u16()? },
        _ => return Err(DecodeError::UnknownType { tag: r.tag(), ty }),
    };
    r.finish()?;
    Ok((r.tag(), request))
}

fn decode_walk(r: &mut Reader<'_>, limits: &Limits) -> Result<Request, DecodeError> {
    let fid = r.u32()?;
    let newfid = r.u32()?;
    // Each name needs at least its two length bytes: checked before the Vec is sized.
    let n = r.count_of(limits.walk_depth, 2)?;
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        names.push(name(r, limits)?);
    }
    Ok(Request::Walk { fid, newfid, names })
}

fn name(r: &mut Reader<'_>, limits: &Limits) -> Result<String, DecodeError> {
    let raw = r.str_bytes()?;
    let name = validate_name(raw, limits.name_max).map_err(|e| r.refuse(e))?;
    Ok(String::from(name))
}

/// Appends one request frame to `out`. Only wire-level impossibilities (a string over 65535
/// bytes, more than 65535 names) fail, with `TooBig`, leaving `out` untouched; limits are the
/// decoder's business.
pub fn encode_request(tag: u16, request: &Request, out: &mut Vec<u8>) -> Result<(), Error> {
    write_frame(out, request.msg_type(), tag, |out| body(request, out))
}

fn body(request: &Request, out: &mut Vec<u8>) -> Result<(), Error> {
    use wire::*;
    match request {
        Request::Version { .. } | Request::Auth { .. } | Request::Attach { .. } => {
            handshake_body(request, out)?;
        }
        Request::Walk { fid, newfid, names } => {
            put_u32(out, *fid);
            put_u32(out, *newfid);
            put_count(out, names.len())?;
            for name in names {
                put_str(out, name)?;
            }
        }
        Request::Lopen { fid, flags } => {
            put_u32(out, *fid);
            put_u32(out, *flags);
        }
        Request::Lcreate {
            fid,
            name,
            flags,
            mode,
            gid,
        } => {
            put_u32(out, *fid);
            put_str(out, name)?;
            put_u32(out, *flags);
            put_u32(out, *mode);
            put_u32(out, *gid);
        }
        Request::Read { fid, offset, count } | Request::Readdir { fid, offset, count } => {
            put_u32(out, *fid);
            put_u64(out, *offset);
            put_u32(out, *count);
        }
        Request::Write { fid, offset, data } => {
            put_u32(out, *fid);
            put_u64(out, *offset);
            put_data(out, data)?;
        }
        Request::Clunk { fid } => put_u32(out, *fid),
        Request::Getattr { fid, mask } => {
            put_u32(out, *fid);
            put_u64(out, *mask);
        }
        Request::Flush { oldtag } => put_u16(out, *oldtag),
    }
    Ok(())
}

/// `Tversion`, `Tauth` and `Tattach` bodies.
fn handshake_body(request: &Request, out: &mut Vec<u8>) -> Result<(), Error> {
    use wire::*;
    match request {
        Request::Version { msize, version } => {
            put_u32(out, *msize);
            put_str(out, version)?;
        }
        Request::Auth {
            afid,
            uname,
            aname,
            n_uname,
        } => {
            put_u32(out, *afid);
            put_str(out, uname)?;
            put_str(out, aname)?;
            put_u32(out, *n_uname);
        }
        Request::Attach {
            fid,
            afid,
            uname,
            aname,
            n_uname,
        } => {
            put_u32(out, *fid);
            put_u32(out, *afid);
            put_str(out, uname)?;
            put_str(out, aname)?;
            put_u32(out, *n_uname);
        }
        _ => debug_assert!(false, "not a handshake request"),
    }
    Ok(())
}
