//! R-message codec, used by the session engine to answer and by clients to read answers.

use super::msg::*;
use super::wire::{self, Reader};
use super::{open_frame, write_frame, DecodeError, Getattr, Limits, Response};
use crate::Error;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Decodes one whole frame (exactly `size` bytes) into its tag and response.
pub fn decode_response(frame: &[u8], limits: &Limits) -> Result<(u16, Response), DecodeError> {
    let (ty, mut r) = open_frame(frame, limits.msize)?;
    let response = match ty {
        RVERSION => Response::Version {
            msize: r.u32()?,
            version: r.string()?,
        },
        RAUTH => Response::Auth { aqid: r.qid()? },
        RATTACH => Response::Attach { qid: r.qid()? },
        RWALK => Response::Walk {
            qids: r.qids(limits.walk_depth)?,
        },
        RLOPEN => Response::Lopen {
            qid: r.qid()?,
            iounit: r.u32()?,
        },
        RLCREATE => Response::Lcreate {
            qid: r.qid()?,
            iounit: r.u32()?,
        },
        RREAD => Response::Read { data: r.data()? },
        RWRITE => Response::Write { count: r.u32()? },
        RCLUNK => Response::Clunk,
        RGETATTR => Response::Getattr(Box::new(decode_getattr(&mut r)?)),
        RREADDIR => Response::Readdir { data: r.data()? },
        RFLUSH => Response::Flush,
        RLERROR => Response::Lerror { ecode: r.u32()? },
        _ => return Err(DecodeError::UnknownType { tag: r.tag(), ty }),
    };
    r.finish()?;
    Ok((r.tag(), response))
}

fn decode_getattr(r: &mut Reader<'_>) -> Result<Getattr, DecodeError> {
    Ok(Getattr {
        valid: r.u64()?,
        qid: r.qid()?,
        mode: r.u32()?,
        uid: r.u32()?,
        gid: r.u32()?,
        nlink: r.u64()?,
        rdev: r.u64()?,
        size: r.u64()?,
        blksize: r.u64()?,
        blocks: r.u64()?,
        atime_sec: r.u64()?,
        atime_nsec: r.u64()?,
        mtime_sec: r.u64()?,
        mtime_nsec: r.u64()?,
        ctime_sec: r.u64()?,
        ctime_nsec: r.u64()?,
        btime_sec: r.u64()?,
        btime_nsec: r.u64()?,
        gen: r.u64()?,
        data_version: r.u64()?,
    })
}

/// Appends one response frame to `out`. Only wire-level impossibilities fail (`TooBig`),
/// leaving `out` untouched; fitting the negotiated msize is the engine's job.
pub fn encode_response(tag: u16, response: &Response, out: &mut Vec<u8>) -> Result<(), Error> {
    write_frame(out, response.msg_type(), tag, |out| body(response, out))
}

fn body(response: &Response, out: &mut Vec<u8>) -> Result<(), Error> {
    use wire::*;
    match response {
        Response::Version { msize, version } => {
            put_u32(out, *msize);
            put_str(out, version)?;
        }
        Response::Auth { aqid: qid } | Response::Attach { qid } => put_qid(out, qid),
        Response::Walk { qids } => {
            put_count(out, qids.len())?;
            for qid in qids {
                put_qid(out, qid);
            }
        }
        Response::Lopen { qid, iounit } | Response::Lcreate { qid, iounit } => {
            put_qid(out, qid);
            put_u32(out, *iounit);
        }
        Response::Read { data } | Response::Readdir { data } => put_data(out, data)?,
        Response::Write { count } => put_u32(out, *count),
        Response::Clunk | Response::Flush => {}
        Response::Getattr(attr) => encode_getattr(attr, out),
        Response::Lerror { ecode } => put_u32(out, *ecode),
    }
    Ok(())
}

fn encode_getattr(a: &Getattr, out: &mut Vec<u8>) {
    use wire::*;
    put_u64(out, a.valid);
    put_qid(out, &a.qid);
    put_u32(out, a.mode);
    put_u32(out, a.uid);
    put_u32(out, a.gid);
    for v in [
        a.nlink,
        a.rdev,
        a.size,
        a.blksize,
        a.blocks,
        a.atime_sec,
        a.atime_nsec,
        a.mtime_sec,
        a.mtime_nsec,
        a.ctime_sec,
        a.ctime_nsec,
        a.btime_sec,
        a.btime_nsec,
        a.gen,
        a.data_version,
    ] {
        put_u64(out, v);
    }
}
