//! A blocking Secure9P client over TCP on the core's sans-IO `ClientCodec`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use secure9p::codec::{Limits, Response};
use secure9p::{ClientCodec, ClientError, Error};

const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;

pub struct Nine {
    stream: TcpStream,
    codec: ClientCodec,
    inbuf: Vec<u8>,
    root: Option<u32>,
}

/// A refusal by the hive, or a transport failure.
#[derive(Debug)]
pub enum NineError {
    Remote(Error),
    Local(String),
}

impl std::fmt::Display for NineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Remote(e) => write!(f, "refused: {e:?}"),
            Self::Local(e) => f.write_str(e),
        }
    }
}

impl Nine {
    pub fn connect(addr: &str) -> Result<Self, NineError> {
        let local = |e: std::io::Error| NineError::Local(format!("{addr}: {e}"));
        let stream = TcpStream::connect(addr).map_err(local)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(local)?;
        stream.set_nodelay(true).map_err(local)?;
        let limits = Limits::from_manifest(&manifest::Manifest::default());
        Ok(Self {
            stream,
            codec: ClientCodec::new(limits),
            inbuf: Vec::new(),
            root: None,
        })
    }

    /// Encodes one request with `step`, sends it and waits for its reply. `step`'s own result
    /// (a fid it allocated) comes back with the reply.
    fn call<T>(
        &mut self,
        step: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<T, ClientError>,
    ) -> Result<(T, Response), NineError> {
        let mut out = Vec::new();
        let value =
            step(&mut self.codec, &mut out).map_err(|e| NineError::Local(format!("{e:?}")))?;
        self.stream
            .write_all(&out)
            .map_err(|e| NineError::Local(format!("send: {e}")))?;
        loop {
            if let Ok(Some(len)) = self.codec.frame_len(&self.inbuf) {
                if self.inbuf.len() >= len {
                    let frame: Vec<u8> = self.inbuf.drain(..len).collect();
                    return match self.codec.parse(&frame) {
                        Ok((_, response)) => Ok((value, response)),
                        Err(ClientError::Remote(e)) => Err(NineError::Remote(e)),
                        Err(e) => Err(NineError::Local(format!("{e:?}"))),
                    };
                }
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| NineError::Local(format!("read: {e}")))?;
            if n == 0 {
                return Err(NineError::Local("connection closed by the hive".into()));
            }
            self.inbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Tversion, Tauth, the ticket written to the afid, Tattach.
    pub fn attach(&mut self, role: &str, uname: &str, ticket: &str) -> Result<(), NineError> {
        self.call(|c, out| c.version(out))?;
        let (afid, _) = self.call(|c, out| c.auth(uname, role, out).map(|(_, fid)| fid))?;
        self.call(|c, out| c.write(afid, 0, ticket.as_bytes(), out))?;
        let (root, _) =
            self.call(|c, out| c.attach(Some(afid), uname, role, out).map(|(_, fid)| fid))?;
        self.root = Some(root);
        Ok(())
    }

    fn open(&mut self, path: &str, flags: u32) -> Result<u32, NineError> {
        let root = self.root.ok_or(NineError::Local("not attached".into()))?;
        let (fid, walked) = self.call(|c, out| c.walk_path(root, path, out).map(|(_, f)| f))?;
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        let qids = walked
            .into_qids()
            .map_err(|e| NineError::Local(format!("{e:?}")))?;
        if qids.len() < depth {
            return Err(NineError::Remote(Error::NotFound));
        }
        if let Err(e) = self.call(|c, out| c.lopen(fid, flags, out)) {
            self.clunk(fid);
            return Err(e);
        }
        Ok(fid)
    }

    fn clunk(&mut self, fid: u32) {
        let _ = self.call(|c, out| c.clunk(fid, out));
    }

    /// Appends `data` to `path` in one write; returns the count the hive took.
    pub fn append(&mut self, path: &str, data: &[u8]) -> Result<u32, NineError> {
        let fid = self.open(path, O_WRONLY)?;
        let result = self.call(|c, out| c.write(fid, 0, data, out));
        self.clunk(fid);
        result?
            .1
            .into_count()
            .map_err(|e| NineError::Local(format!("{e:?}")))
    }

    /// Reads up to one message of `path` from offset 0.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, NineError> {
        let fid = self.open(path, O_RDONLY)?;
        let result = self.call(|c, out| c.read(fid, 0, 8000, out));
        self.clunk(fid);
        result?
            .1
            .into_data()
            .map_err(|e| NineError::Local(format!("{e:?}")))
    }
}
