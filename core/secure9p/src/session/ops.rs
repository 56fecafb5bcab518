//! One method per served request. Each either appends its response to `out` and returns
//! `Ok`, or returns the refusal for the caller to answer as `Rlerror`.

use super::fids::Fid;
use super::{respond, Phase, Session};
use crate::codec::dirent::put_dirent;
use crate::codec::msg::{RREAD, RREADDIR};
use crate::codec::{
    self, wire, Dirent, Getattr, Request, Response, DIRENT_FIXED_LEN, IOHDRSZ, MSIZE_MIN, NOFID,
    QT_AUTH, RREAD_OVERHEAD, VERSION, VERSION_UNKNOWN,
};
use crate::{Attr, Backend, Error, Qid};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// `O_ACCMODE` and its values, as Linux clients send them in `Tlopen`/`Tlcreate`.
const O_ACCMODE: u32 = 3;
const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;

impl<N: Clone> Session<N> {
    pub(super) fn dispatch<B: Backend<Node = N>>(
        &mut self,
        tag: u16,
        request: Request,
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let response = match request {
            Request::Version { msize, version } => self.version(msize, &version, backend)?,
            Request::Auth { afid, aname, .. } => {
                if !backend.auth_fid_needed(&aname) {
                    return Err(Error::NotFound);
                }
                self.auth(afid)?
            }
            Request::Attach {
                fid,
                afid,
                uname,
                aname,
                ..
            } => self.attach(fid, afid, &uname, &aname, backend)?,
            Request::Walk { fid, newfid, names } => self.walk(fid, newfid, &names, backend)?,
            Request::Lopen { fid, flags } => self.lopen(fid, flags, backend)?,
            Request::Lcreate {
                fid, name, flags, ..
            } => self.lcreate(fid, &name, flags, backend)?,
            Request::Read { fid, offset, count } => {
                return self.read(tag, fid, offset, count, backend, out)
            }
            Request::Write { fid, offset, data } => self.write(fid, offset, &data, backend)?,
            Request::Clunk { fid } => self.clunk(fid, backend)?,
            Request::Getattr { fid, .. } => self.getattr(fid, backend)?,
            Request::Readdir { fid, offset, count } => {
                return self.readdir(tag, fid, offset, count, backend, out)
            }
            Request::Flush { .. } => Response::Flush,
        };
        respond(tag, &response, out);
        Ok(())
    }

    /// `Tversion` resets the session; msize is negotiated down, never up.
    fn version<B: Backend<Node = N>>(
        &mut self,
        msize: u32,
        version: &str,
        backend: &mut B,
    ) -> Result<Response, Error> {
        if msize < MSIZE_MIN {
            return Err(Error::Invalid);
        }
        self.release_fids(backend);
        self.attached = false;
        let msize = msize.min(self.limits.msize);
        let version = if version == VERSION {
            self.msize = msize;
            self.phase = Phase::Ready;
            VERSION
        } else {
            self.phase = Phase::Fresh;
            VERSION_UNKNOWN
        };
        Ok(Response::Version {
            msize,
            version: String::from(version),
        })
    }

    fn auth(&mut self, afid: u32) -> Result<Response, Error> {
        let entry = Fid::Auth { ticket: Vec::new() };
        self.fids.insert(afid, entry, self.limits.fids)?;
        Ok(Response::Auth {
            aqid: Qid {
                ty: QT_AUTH,
                version: 0,
                path: u64::from(afid),
            },
        })
    }

    /// `Tattach`: the ticket text buffered on `afid` (if any) goes to the backend, which
    /// decides whether this subject may take this role.
    fn attach<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        afid: u32,
        uname: &str,
        aname: &str,
        backend: &mut B,
    ) -> Result<Response, Error> {
        // Checked first so a refused attach has no side effect in the backend.
        self.fids.check_new(fid, self.limits.fids)?;
        let ticket = if afid == NOFID {
            None
        } else {
            match self.fids.get(afid) {
                None => return Err(Error::Closed),
                Some(Fid::Node { .. }) => return Err(Error::Invalid),
                Some(Fid::Auth { ticket }) => Some(ticket.as_slice()),
            }
        };
        let node = backend.attach(uname, aname, ticket)?;
        let qid = backend.qid(&node);
        self.fids
            .insert(fid, Fid::Node { node, open: None }, self.limits.fids)?;
        self.attached = true;
        Ok(Response::Attach { qid })
    }

    /// `Twalk`: a partial walk answers the qids reached and leaves `newfid` alone; a failure
    /// on the first element is the error itself.
    fn walk<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        newfid: u32,
        names: &[String],
        backend: &mut B,
    ) -> Result<Response, Error> {
        let start = self.closed_node(fid)?.clone();
        if newfid != fid {
            self.fids.check_new(newfid, self.limits.fids)?;
        }
        let mut node = start;
        let mut qids = Vec::with_capacity(names.len());
        for name in names {
            match backend.walk(&node, name) {
                Ok(next) => {
                    qids.push(backend.qid(&next));
                    node = next;
                }
                Err(e) if qids.is_empty() => return Err(e),
                Err(_) => return Ok(Response::Walk { qids }),
            }
        }
        if newfid == fid {
            self.replace_node(fid, node, None, backend)?;
        } else {
            let entry = Fid::Node { node, open: None };
            self.fids.insert(newfid, entry, self.limits.fids)?;
        }
        Ok(Response::Walk { qids })
    }

    fn lopen<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        flags: u32,
        backend: &mut B,
    ) -> Result<Response, Error> {
        let node = self.closed_node(fid)?;
        backend.open(node, flags)?;
        let qid = backend.qid(node);
        if let Some(Fid::Node { open, .. }) = self.fids.get_mut(fid) {
            *open = Some(flags);
        }
        Ok(Response::Lopen {
            qid,
            iounit: self.iounit(),
        })
    }

    /// `Tlcreate`: the fid moves from the directory to the new file, opened with `flags`.
    fn lcreate<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        name: &str,
        flags: u32,
        backend: &mut B,
    ) -> Result<Response, Error> {
        let dir = self.closed_node(fid)?;
        let created = backend.create(dir, name, flags)?;
        let qid = backend.qid(&created);
        self.replace_node(fid, created, Some(flags), backend)?;
        Ok(Response::Lcreate {
            qid,
            iounit: self.iounit(),
        })
    }

    /// `Tread` streams the backend's bytes straight into the response frame.
    fn read<B: Backend<Node = N>>(
        &mut self,
        tag: u16,
        fid: u32,
        offset: u64,
        count: u32,
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let node = match self.fids.get(fid) {
            None => return Err(Error::Closed),
            Some(Fid::Auth { .. }) => {
                // Nothing flows from server to client during the ticket handshake.
                respond(tag, &Response::Read { data: Vec::new() }, out);
                return Ok(());
            }
            Some(Fid::Node { open: None, .. }) => return Err(Error::Invalid),
            Some(Fid::Node {
                open: Some(flags), ..
            }) if flags & O_ACCMODE == O_WRONLY => return Err(Error::Perm),
            Some(Fid::Node { node, .. }) => node,
        };
        let count = count.min(self.max_payload());
        let (start, data_start) = begin_data_frame(out, RREAD, tag);
        backend.read(node, offset, count, out)?;
        end_data_frame(out, start, data_start, count)
    }

    fn write<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        offset: u64,
        data: &[u8],
        backend: &mut B,
    ) -> Result<Response, Error> {
        let written = match self.fids.get_mut(fid) {
            None => return Err(Error::Closed),
            Some(Fid::Auth { ticket }) => {
                if ticket.len() + data.len() > self.limits.ticket_max as usize {
                    return Err(Error::TooBig);
                }
                ticket.extend_from_slice(data);
                data.len()
            }
            Some(Fid::Node { open: None, .. }) => return Err(Error::Invalid),
            Some(Fid::Node {
                open: Some(flags), ..
            }) if *flags & O_ACCMODE == O_RDONLY => return Err(Error::Perm),
            Some(Fid::Node { node, .. }) => {
                let accepted = backend.write(node, offset, data)?;
                (accepted as usize).min(data.len())
            }
        };
        // `data` came from one frame, so its length fits a u32.
        Ok(Response::Write {
            count: u32::try_from(written).unwrap_or(u32::MAX),
        })
    }

    /// `Tclunk`: the fid is gone whatever the backend thinks; a second clunk is `Closed`.
    fn clunk<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        backend: &mut B,
    ) -> Result<Response, Error> {
        match self.fids.remove(fid) {
            None => Err(Error::Closed),
            Some(Fid::Auth { .. }) => Ok(Response::Clunk),
            Some(Fid::Node { node, .. }) => {
                backend.clunk(&node);
                Ok(Response::Clunk)
            }
        }
    }

    fn getattr<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        backend: &mut B,
    ) -> Result<Response, Error> {
        let attr = backend.getattr(self.node(fid)?)?;
        Ok(Response::Getattr(Box::new(fill_getattr(&attr))))
    }

    /// `Treaddir` on an opened directory: dirents with `offset = index + 1`, as many whole
    /// entries as fit in `count`.
    fn readdir<B: Backend<Node = N>>(
        &mut self,
        tag: u16,
        fid: u32,
        offset: u64,
        count: u32,
        backend: &mut B,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let node = match self.fids.get(fid) {
            None => return Err(Error::Closed),
            Some(Fid::Node {
                node,
                open: Some(_),
            }) => node,
            Some(_) => return Err(Error::Invalid),
        };
        let entries = backend.list(node)?;
        let budget = count.min(self.max_payload()) as usize;
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let (start, data_start) = begin_data_frame(out, RREADDIR, tag);
        for (index, entry) in entries.iter().enumerate().skip(skip) {
            if out.len() - data_start + DIRENT_FIXED_LEN + entry.name.len() > budget {
                if out.len() == data_start {
                    // Not even one entry fits: an empty reply would read as end-of-directory.
                    return Err(Error::Invalid);
                }
                break;
            }
            let ty = Dirent::dtype(&entry.qid);
            put_dirent(out, &entry.qid, index as u64 + 1, ty, &entry.name)?;
        }
        end_data_frame(out, start, data_start, budget as u32)
    }

    /// The node behind `fid`: unknown fids are `Closed`, auth fids `Invalid`.
    fn node(&self, fid: u32) -> Result<&N, Error> {
        match self.fids.get(fid) {
            None => Err(Error::Closed),
            Some(Fid::Auth { .. }) => Err(Error::Invalid),
            Some(Fid::Node { node, .. }) => Ok(node),
        }
    }

    /// Like `node`, for requests that need a fid that is not yet opened (walk, open, create).
    fn closed_node(&self, fid: u32) -> Result<&N, Error> {
        match self.fids.get(fid) {
            Some(Fid::Node { open: Some(_), .. }) => Err(Error::Invalid),
            _ => self.node(fid),
        }
    }

    /// Points `fid` at `node`, telling the backend the previous node is no longer held.
    fn replace_node<B: Backend<Node = N>>(
        &mut self,
        fid: u32,
        node: N,
        open: Option<u32>,
        backend: &mut B,
    ) -> Result<(), Error> {
        let Some(entry) = self.fids.get_mut(fid) else {
            return Err(Error::Closed);
        };
        let old = core::mem::replace(entry, Fid::Node { node, open });
        if let Fid::Node { node, .. } = old {
            backend.clunk(&node);
        }
        Ok(())
    }

    fn iounit(&self) -> u32 {
        self.msize.saturating_sub(IOHDRSZ)
    }

    /// Data bytes an `Rread`/`Rreaddir` may carry within the negotiated msize.
    fn max_payload(&self) -> u32 {
        self.msize.saturating_sub(RREAD_OVERHEAD as u32)
    }
}

/// Starts an `Rread`/`Rreaddir` whose data is appended in place; returns the frame start and
/// where the data begins.
fn begin_data_frame(out: &mut Vec<u8>, ty: u8, tag: u16) -> (usize, usize) {
    let start = codec::begin_frame(out, ty, tag);
    wire::put_u32(out, 0);
    (start, out.len())
}

/// Clamps the data to `max` (a backend may not overrun `count`) and writes both lengths.
fn end_data_frame(
    out: &mut Vec<u8>,
    start: usize,
    data_start: usize,
    max: u32,
) -> Result<(), Error> {
    out.truncate(data_start + (out.len() - data_start).min(max as usize));
    let len = u32::try_from(out.len() - data_start).map_err(|_| Error::TooBig)?;
    out[data_start - 4..data_start].copy_from_slice(&len.to_le_bytes());
    codec::end_frame(out, start)
}

/// The full 9P2000.L attribute block from what the backend knows; the hive has no users, so
/// ownership is root and every node has one link.
fn fill_getattr(attr: &Attr) -> Getattr {
    let sec = attr.mtime_ms / 1000;
    let nsec = (attr.mtime_ms % 1000) * 1_000_000;
    Getattr {
        valid: Getattr::VALID_BASIC,
        qid: attr.qid,
        mode: attr.mode,
        uid: 0,
        gid: 0,
        nlink: 1,
        rdev: 0,
        size: attr.size,
        blksize: 4096,
        blocks: attr.size.div_ceil(512),
        atime_sec: sec,
        atime_nsec: nsec,
        mtime_sec: sec,
        mtime_nsec: nsec,
        ctime_sec: sec,
        ctime_nsec: nsec,
        btime_sec: 0,
        btime_nsec: 0,
        gen: 0,
        data_version: 0,
    }
}
