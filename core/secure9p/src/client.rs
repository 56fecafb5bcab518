//! A sans-IO Secure9P client: it hands out tags and fids, builds request frames and reads
//! replies into typed results. Host tools put the frames on a socket; tests hand them straight
//! to a `Session`.

use crate::codec::msg::{RLERROR, TATTACH, TAUTH, TCLUNK, TVERSION, TWALK};
use crate::codec::{
    self, decode_dirents, DecodeError, Dirent, Getattr, Limits, Request, Response, NOFID, NOTAG,
    RREAD_OVERHEAD, VERSION,
};
use crate::{Error, Qid};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a client call produced no usable result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered `Rlerror` (or refused the protocol version, as `Unsupported`).
    Remote(Error),
    /// The reply bytes are not a valid response.
    Decode(DecodeError),
    /// The reply type does not answer the request sent on that tag.
    Unexpected { tag: u16, ty: u8 },
    /// A reply on a tag that is not in flight.
    UnknownTag(u16),
    /// Refused before sending: tag window full (`Busy`), fid limit reached (`Quota`), or the
    /// request does not fit the negotiated msize (`TooBig`).
    Local(Error),
}

impl ClientError {
    /// The named refusal behind this failure.
    pub fn error(&self) -> Error {
        match self {
            ClientError::Remote(e) | ClientError::Local(e) => *e,
            ClientError::Decode(e) => e.error(),
            ClientError::Unexpected { .. } | ClientError::UnknownTag(_) => Error::Invalid,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Remote(e) => write!(f, "server refused: {e}"),
            ClientError::Decode(e) => write!(f, "bad reply: {e}"),
            ClientError::Unexpected { tag, ty } => {
                write!(f, "unexpected reply type {ty} on tag {tag}")
            }
            ClientError::UnknownTag(tag) => write!(f, "reply on unknown tag {tag}"),
            ClientError::Local(e) => write!(f, "not sent: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ClientError {}

/// A request awaiting its reply, with what the reply means for the fid bookkeeping.
#[derive(Debug, Clone, Copy)]
struct Pending {
    tag: u16,
    ty: u8,
    /// The fid the request uses (walk: source fid).
    fid: u32,
    /// The fid the request creates (auth, attach, walk), or NOFID.
    new_fid: u32,
    /// Names in a walk, to tell a partial walk from a whole one.
    names: usize,
}

/// Client-side state of one Secure9P connection.
#[derive(Debug, Clone)]
pub struct ClientCodec {
    limits: Limits,
    next_tag: u16,
    pending: Vec<Pending>,
    next_fid: u32,
    free_fids: Vec<u32>,
}

impl ClientCodec {
    /// `limits.msize` is the msize offered in `Tversion`; the server may lower it.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            next_tag: 0,
            pending: Vec::new(),
            next_fid: 0,
            free_fids: Vec::new(),
        }
    }

    pub fn msize(&self) -> u32 {
        self.limits.msize
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Fids this client believes the server holds for it.
    pub fn live_fids(&self) -> usize {
        self.next_fid as usize - self.free_fids.len()
    }

    /// Largest `Tread`/`Treaddir` count whose reply fits the msize.
    pub fn max_read(&self) -> u32 {
        self.limits.msize.saturating_sub(RREAD_OVERHEAD as u32)
    }

    /// Largest `Twrite` payload that fits the msize (`size type tag fid offset count`).
    pub fn max_write(&self) -> u32 {
        self.limits.msize.saturating_sub(23)
    }

    /// `codec::frame_len` under the negotiated msize.
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        codec::frame_len(buf, self.limits.msize)
    }

    pub fn version(&mut self, out: &mut Vec<u8>) -> Result<u16, ClientError> {
        let request = Request::Version {
            msize: self.limits.msize,
            version: String::from(VERSION),
        };
        self.send(&request, NOFID, NOFID, out)
    }

    /// `Tauth`: returns the tag and the afid to write the ticket text to.
    pub fn auth(
        &mut self,
        uname: &str,
        aname: &str,
        out: &mut Vec<u8>,
    ) -> Result<(u16, u32), ClientError> {
        let afid = self.alloc_fid()?;
        let request = Request::Auth {
            afid,
            uname: String::from(uname),
            aname: String::from(aname),
            n_uname: NOFID,
        };
        self.send_with_fid(&request, NOFID, afid, out)
    }

    /// `Tattach` with the ticket written to `afid` (or none): returns the tag and root fid.
    pub fn attach(
        &mut self,
        afid: Option<u32>,
        uname: &str,
        aname: &str,
        out: &mut Vec<u8>,
    ) -> Result<(u16, u32), ClientError> {
        let fid = self.alloc_fid()?;
        let request = Request::Attach {
            fid,
            afid: afid.unwrap_or(NOFID),
            uname: String::from(uname),
            aname: String::from(aname),
            n_uname: NOFID,
        };
        self.send_with_fid(&request, NOFID, fid, out)
    }

    /// `Twalk` from `fid` to a new fid: returns the tag and the new fid (kept only if the
    /// whole walk succeeds).
    pub fn walk(
        &mut self,
        fid: u32,
        names: &[&str],
        out: &mut Vec<u8>,
    ) -> Result<(u16, u32), ClientError> {
        let newfid = self.alloc_fid()?;
        let request = Request::Walk {
            fid,
            newfid,
            names: names.iter().map(|n| String::from(*n)).collect(),
        };
        self.send_with_fid(&request, fid, newfid, out)
    }

    /// `walk` over the non-empty elements of a slash-separated path.
    pub fn walk_path(
        &mut self,
        fid: u32,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(u16, u32), ClientError> {
        let names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
        self.walk(fid, &names, out)
    }

    pub fn lopen(&mut self, fid: u32, flags: u32, out: &mut Vec<u8>) -> Result<u16, ClientError> {
        self.send(&Request::Lopen { fid, flags }, fid, NOFID, out)
    }

    pub fn lcreate(
        &mut self,
        fid: u32,
        name: &str,
        flags: u32,
        mode: u32,
        out: &mut Vec<u8>,
    ) -> Result<u16, ClientError> {
        let request = Request::Lcreate {
            fid,
            name: String::from(name),
            flags,
            mode,
            gid: 0,
        };
        self.send(&request, fid, NOFID, out)
    }

    /// `Tread`; `count` is clamped to what a reply can carry.
    pub fn read(
        &mut self,
        fid: u32,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
    ) -> Result<u16, ClientError> {
        let count = count.min(self.max_read());
        self.send(&Request::Read { fid, offset, count }, fid, NOFID, out)
    }

    /// `Twrite`; data beyond `max_write` is refused locally rather than split.
    pub fn write(
        &mut self,
        fid: u32,
        offset: u64,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u16, ClientError> {
        let request = Request::Write {
            fid,
            offset,
            data: data.to_vec(),
        };
        self.send(&request, fid, NOFID, out)
    }

    pub fn clunk(&mut self, fid: u32, out: &mut Vec<u8>) -> Result<u16, ClientError> {
        self.send(&Request::Clunk { fid }, fid, NOFID, out)
    }

    pub fn getattr(&mut self, fid: u32, out: &mut Vec<u8>) -> Result<u16, ClientError> {
        let request = Request::Getattr {
            fid,
            mask: Getattr::VALID_BASIC,
        };
        self.send(&request, fid, NOFID, out)
    }

    pub fn readdir(
        &mut self,
        fid: u32,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
    ) -> Result<u16, ClientError> {
        let count = count.min(self.max_read());
        self.send(&Request::Readdir { fid, offset, count }, fid, NOFID, out)
    }

    pub fn flush(&mut self, oldtag: u16, out: &mut Vec<u8>) -> Result<u16, ClientError> {
        self.send(&Request::Flush { oldtag }, NOFID, NOFID, out)
    }

    /// Reads one reply frame: matches it to its request, keeps the fid bookkeeping in step,
    /// and turns `Rlerror` into `ClientError::Remote`.
    pub fn parse(&mut self, frame: &[u8]) -> Result<(u16, Response), ClientError> {
        let (tag, response) =
            codec::decode_response(frame, &self.limits).map_err(ClientError::Decode)?;
        let index = self
            .pending
            .iter()
            .position(|p| p.tag == tag)
            .ok_or(ClientError::UnknownTag(tag))?;
        let pending = self.pending.remove(index);
        let ty = response.msg_type();
        if ty != RLERROR && ty != pending.ty + 1 {
            self.forget_new_fid(&pending);
            return Err(ClientError::Unexpected { tag, ty });
        }
        self.settle(&pending, &response)?;
        Ok((tag, response))
    }

    /// Updates msize and fids for a reply of the right type.
    fn settle(&mut self, pending: &Pending, response: &Response) -> Result<(), ClientError> {
        match response {
            Response::Lerror { ecode } => {
                let error = Error::from_errno(*ecode);
                self.forget_new_fid(pending);
                if pending.ty == TCLUNK && error == Error::Closed {
                    self.release_fid(pending.fid);
                }
                Err(ClientError::Remote(error))
            }
            Response::Version { msize, version } => {
                // The server dropped every fid.
                self.next_fid = 0;
                self.free_fids.clear();
                if version != VERSION {
                    return Err(ClientError::Remote(Error::Unsupported));
                }
                self.limits.msize = self.limits.msize.min(*msize);
                Ok(())
            }
            Response::Walk { qids } if qids.len() < pending.names => {
                self.forget_new_fid(pending);
                Ok(())
            }
            Response::Clunk => {
                self.release_fid(pending.fid);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn send(
        &mut self,
        request: &Request,
        fid: u32,
        new_fid: u32,
        out: &mut Vec<u8>,
    ) -> Result<u16, ClientError> {
        if self.pending.len() >= self.limits.tags as usize {
            return Err(ClientError::Local(Error::Busy));
        }
        let tag = if request.msg_type() == TVERSION {
            NOTAG
        } else {
            self.alloc_tag()
        };
        let start = out.len();
        codec::encode_request(tag, request, out).map_err(ClientError::Local)?;
        if out.len() - start > self.limits.msize as usize {
            out.truncate(start);
            return Err(ClientError::Local(Error::TooBig));
        }
        let names = match request {
            Request::Walk { names, .. } => names.len(),
            _ => 0,
        };
        self.pending.push(Pending {
            tag,
            ty: request.msg_type(),
            fid,
            new_fid,
            names,
        });
        Ok(tag)
    }

    /// `send` for requests that create `new_fid`; the fid is returned to the pool if the
    /// request never leaves.
    fn send_with_fid(
        &mut self,
        request: &Request,
        fid: u32,
        new_fid: u32,
        out: &mut Vec<u8>,
    ) -> Result<(u16, u32), ClientError> {
        match self.send(request, fid, new_fid, out) {
            Ok(tag) => Ok((tag, new_fid)),
            Err(e) => {
                self.release_fid(new_fid);
                Err(e)
            }
        }
    }

    fn alloc_tag(&mut self) -> u16 {
        loop {
            let tag = self.next_tag;
            self.next_tag = self.next_tag.wrapping_add(1);
            // The window is far smaller than the tag space, so a free tag is always near.
            if tag != NOTAG && !self.pending.iter().any(|p| p.tag == tag) {
                return tag;
            }
        }
    }

    fn alloc_fid(&mut self) -> Result<u32, ClientError> {
        if self.live_fids() >= self.limits.fids as usize {
            return Err(ClientError::Local(Error::Quota));
        }
        if let Some(fid) = self.free_fids.pop() {
            return Ok(fid);
        }
        let fid = self.next_fid;
        self.next_fid += 1;
        Ok(fid)
    }

    fn release_fid(&mut self, fid: u32) {
        if fid < self.next_fid && !self.free_fids.contains(&fid) {
            self.free_fids.push(fid);
        }
    }

    /// A create-type request failed: the fid it would have made does not exist.
    fn forget_new_fid(&mut self, pending: &Pending) {
        let creates = matches!(pending.ty, TAUTH | TATTACH | TWALK);
        if creates && pending.new_fid != NOFID && pending.new_fid != pending.fid {
            self.release_fid(pending.new_fid);
        }
    }
}

/// Typed views of a reply, for callers that know what they asked for.
impl Response {
    /// The qid of `Rauth`, `Rattach`, `Rlopen` or `Rlcreate`.
    pub fn into_qid(self) -> Result<Qid, ClientError> {
        match self {
            Response::Auth { aqid: qid }
            | Response::Attach { qid }
            | Response::Lopen { qid, .. }
            | Response::Lcreate { qid, .. } => Ok(qid),
            other => Err(unexpected(&other)),
        }
    }

    pub fn into_qids(self) -> Result<Vec<Qid>, ClientError> {
        match self {
            Response::Walk { qids } => Ok(qids),
            other => Err(unexpected(&other)),
        }
    }

    /// The data of `Rread`.
    pub fn into_data(self) -> Result<Vec<u8>, ClientError> {
        match self {
            Response::Read { data } => Ok(data),
            other => Err(unexpected(&other)),
        }
    }

    /// The count of `Rwrite`.
    pub fn into_count(self) -> Result<u32, ClientError> {
        match self {
            Response::Write { count } => Ok(count),
            other => Err(unexpected(&other)),
        }
    }

    pub fn into_getattr(self) -> Result<Getattr, ClientError> {
        match self {
            Response::Getattr(attr) => Ok(*attr),
            other => Err(unexpected(&other)),
        }
    }

    /// The entries of `Rreaddir`.
    pub fn into_dirents(self, limits: &Limits) -> Result<Vec<Dirent>, ClientError> {
        match self {
            Response::Readdir { data } => {
                decode_dirents(&data, limits).map_err(ClientError::Decode)
            }
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(response: &Response) -> ClientError {
    ClientError::Unexpected {
        tag: NOTAG,
        ty: response.msg_type(),
    }
}
