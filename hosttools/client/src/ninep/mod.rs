//! The Secure9P client (TCP 564): `secure9p::ClientCodec` on a socket. Tickets ride on
//! `Tauth` (write the ticket text to the afid, then `Tattach`); requests may be pipelined up to
//! the tag window, and every reply is matched to its request by tag.

mod files;

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use secure9p::codec::{Dirent, Getattr, Limits, Response};
use secure9p::{ClientCodec, ClientError as CodecError, Qid};

use crate::error::{ClientError, Refusal};
use crate::options::{connect, Timeouts};

pub use files::{Tail, O_RDONLY, O_WRONLY};

/// A fid held on the hive.
pub type Fid = u32;

/// One Secure9P connection.
pub struct NineClient {
    stream: TcpStream,
    codec: ClientCodec,
    inbuf: Vec<u8>,
    timeouts: Timeouts,
    root: Option<Fid>,
    broken: bool,
}

impl NineClient {
    /// Connects and negotiates the version (`Tversion`, msize at most `limits.msize`).
    pub fn connect(
        addr: impl ToSocketAddrs,
        limits: Limits,
        timeouts: Timeouts,
    ) -> Result<Self, ClientError> {
        let stream = connect(addr, timeouts.connect)?;
        let mut client = Self {
            stream,
            codec: ClientCodec::new(limits),
            inbuf: Vec::new(),
            timeouts,
            root: None,
            broken: false,
        };
        client.rpc("version", |c, out| c.version(out))?;
        Ok(client)
    }

    /// Connects and attaches: the usual way in.
    pub fn open(
        addr: impl ToSocketAddrs,
        role: &str,
        subject: &str,
        ticket: &str,
        timeouts: Timeouts,
    ) -> Result<Self, ClientError> {
        let mut client = Self::connect(addr, Limits::default(), timeouts)?;
        client.attach(role, subject, ticket)?;
        Ok(client)
    }

    /// `Tauth`, the ticket written to the afid, `Tattach`; pipelined in one round trip.
    pub fn attach(&mut self, role: &str, subject: &str, ticket: &str) -> Result<Fid, ClientError> {
        let mut afid = 0;
        let mut fid = 0;
        let replies = self.batch(|c, out| {
            let (auth, a) = c.auth(subject, role, out)?;
            afid = a;
            let write = c.write(afid, 0, ticket.as_bytes(), out)?;
            let (attach, f) = c.attach(Some(afid), subject, role, out)?;
            fid = f;
            Ok(vec![auth, write, attach])
        })?;
        let mut ops = ["auth", "auth-write", "attach"].into_iter();
        for reply in replies {
            let op = ops.next().unwrap_or("attach");
            reply.map_err(|e| refused(op, e))?;
        }
        self.root = Some(fid);
        Ok(fid)
    }

    /// The attached root fid.
    pub fn root(&self) -> Result<Fid, ClientError> {
        self.root.ok_or(ClientError::Local(secure9p::Error::Perm))
    }

    /// The negotiated msize.
    pub fn msize(&self) -> u32 {
        self.codec.msize()
    }

    /// Largest read a single `Tread` can return.
    pub fn max_read(&self) -> u32 {
        self.codec.max_read()
    }

    /// False once the connection is out of step (timeout, hang-up, protocol error).
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    /// `Twalk` from the root along `path`; a partial walk is `NotFound` and leaves no fid.
    pub fn walk(&mut self, path: &str) -> Result<(Fid, Vec<Qid>), ClientError> {
        let root = self.root()?;
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        let mut fid = 0;
        let qids = self
            .rpc("walk", |c, out| {
                let (tag, f) = c.walk_path(root, path, out)?;
                fid = f;
                Ok(tag)
            })?
            .into_qids()
            .map_err(codec_error)?;
        if qids.len() < depth {
            return Err(ClientError::Refused(Refusal::ninep(
                "walk",
                secure9p::Error::NotFound,
            )));
        }
        Ok((fid, qids))
    }

    pub fn lopen(&mut self, fid: Fid, flags: u32) -> Result<Qid, ClientError> {
        self.rpc("lopen", |c, out| c.lopen(fid, flags, out))?
            .into_qid()
            .map_err(codec_error)
    }

    pub fn read(&mut self, fid: Fid, offset: u64, count: u32) -> Result<Vec<u8>, ClientError> {
        self.rpc("read", |c, out| c.read(fid, offset, count, out))?
            .into_data()
            .map_err(codec_error)
    }

    pub fn write(&mut self, fid: Fid, offset: u64, data: &[u8]) -> Result<u32, ClientError> {
        self.rpc("write", |c, out| c.write(fid, offset, data, out))?
            .into_count()
            .map_err(codec_error)
    }

    pub fn readdir(
        &mut self,
        fid: Fid,
        offset: u64,
        count: u32,
    ) -> Result<Vec<Dirent>, ClientError> {
        let limits = *self.codec.limits();
        self.rpc("readdir", |c, out| c.readdir(fid, offset, count, out))?
            .into_dirents(&limits)
            .map_err(codec_error)
    }

    pub fn getattr(&mut self, fid: Fid) -> Result<Getattr, ClientError> {
        self.rpc("getattr", |c, out| c.getattr(fid, out))?
            .into_getattr()
            .map_err(codec_error)
    }

    pub fn clunk(&mut self, fid: Fid) -> Result<(), ClientError> {
        self.rpc("clunk", |c, out| c.clunk(fid, out)).map(drop)
    }

    /// Sends one request and waits for its reply.
    pub fn rpc(
        &mut self,
        op: &'static str,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<u16, CodecError>,
    ) -> Result<Response, ClientError> {
        let mut replies = self.batch(|c, out| build(c, out).map(|tag| vec![tag]))?;
        match replies.pop() {
            Some(reply) => reply.map_err(|e| refused(op, e)),
            None => Err(ClientError::Protocol(String::from("no reply"))),
        }
    }

    /// Sends every request `build` encodes in one write (pipelined) and returns their replies
    /// in the order of the tags it returned. A refusal of one request does not stop the others.
    pub fn batch(
        &mut self,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<Vec<u16>, CodecError>,
    ) -> Result<Vec<Result<Response, CodecError>>, ClientError> {
        if self.broken {
            return Err(ClientError::Hangup);
        }
        let mut out = Vec::new();
        let tags = build(&mut self.codec, &mut out).map_err(codec_error)?;
        let deadline = Instant::now() + self.timeouts.reply;
        let result = self
            .stream
            .write_all(&out)
            .map_err(|e| ClientError::from_io("send", e))
            .and_then(|()| self.collect(&tags, deadline));
        if result.is_err() {
            self.broken = true;
        }
        result
    }

    /// Reads replies until every tag in `tags` is answered.
    fn collect(
        &mut self,
        tags: &[u16],
        deadline: Instant,
    ) -> Result<Vec<Result<Response, CodecError>>, ClientError> {
        let mut replies: Vec<Option<Result<Response, CodecError>>> =
            (0..tags.len()).map(|_| None).collect();
        let mut missing = tags.len();
        while missing > 0 {
            let frame = self.next_frame(deadline)?;
            let (tag, reply) = match self.codec.parse(&frame) {
                Ok((tag, response)) => (tag, Ok(response)),
                Err(CodecError::Remote(e)) => (reply_tag(&frame), Err(CodecError::Remote(e))),
                Err(other) => return Err(ClientError::Protocol(other.to_string())),
            };
            let slot = tags
                .iter()
                .position(|t| *t == tag)
                .ok_or_else(|| ClientError::Protocol(format!("reply on tag {tag}")))?;
            if replies[slot].replace(reply).is_none() {
                missing -= 1;
            }
        }
        Ok(replies.into_iter().flatten().collect())
    }

    fn next_frame(&mut self, deadline: Instant) -> Result<Vec<u8>, ClientError> {
        let mut chunk = [0u8; 8192];
        loop {
            let len = self
                .codec
                .frame_len(&self.inbuf)
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if let Some(len) = len {
                if self.inbuf.len() >= len {
                    return Ok(self.inbuf.drain(..len).collect());
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ClientError::Timeout { op: "reply" });
            }
            self.stream.set_read_timeout(Some(remaining))?;
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| ClientError::from_io("reply", e))?;
            if n == 0 {
                return Err(ClientError::Hangup);
            }
            self.inbuf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The tag of a reply frame (`size[4] type[1] tag[2]`).
fn reply_tag(frame: &[u8]) -> u16 {
    match frame.get(5..7) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => secure9p::NOTAG,
    }
}

fn refused(op: &str, error: CodecError) -> ClientError {
    match error {
        CodecError::Remote(class) => ClientError::Refused(Refusal::ninep(op, class)),
        other => codec_error(other),
    }
}

fn codec_error(error: CodecError) -> ClientError {
    match error {
        CodecError::Local(class) => ClientError::Local(class),
        CodecError::Remote(class) => ClientError::Refused(Refusal::ninep("9p", class)),
        other => ClientError::Protocol(other.to_string()),
    }
}
