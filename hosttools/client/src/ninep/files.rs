//! Whole-file operations over Secure9P: read, list, append, and cursor reads of streams. Each
//! walks a fresh fid from the root and clunks it before returning, so a session holds no fids
//! between calls.

use secure9p::codec::Response;
use secure9p::{QT_APPEND, QT_DIR};

use super::{Fid, NineClient};
use crate::error::{ClientError, Refusal};

pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;

/// A cursor read of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// Whole records, without the `lost=<n>` marker.
    pub data: Vec<u8>,
    /// Bytes that aged out of the ring between the cursor asked for and the oldest record.
    pub lost: u64,
    /// Where the next read should start.
    pub next: u64,
}

impl Tail {
    /// Splits the `lost=<n>` line the hive puts first when the cursor fell behind the ring.
    fn from_read(cursor: u64, mut data: Vec<u8>) -> Tail {
        let lost = lost_marker(&data);
        if let Some((lost, len)) = lost {
            data.drain(..len);
            let next = cursor + lost + data.len() as u64;
            return Tail { data, lost, next };
        }
        let next = cursor + data.len() as u64;
        Tail {
            data,
            lost: 0,
            next,
        }
    }
}

/// `(n, marker length)` when `data` starts with a `lost=<n>\n` line.
fn lost_marker(data: &[u8]) -> Option<(u64, usize)> {
    let rest = data.strip_prefix(b"lost=")?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    let n = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    Some((n, 5 + end + 1))
}

impl NineClient {
    /// Walks to `path` and opens it; on a refused open the fid is released.
    pub fn open_path(&mut self, path: &str, flags: u32) -> Result<(Fid, u8), ClientError> {
        let (fid, _) = self.walk(path)?;
        match self.lopen(fid, flags) {
            Ok(qid) => Ok((fid, qid.ty)),
            Err(e) => {
                let _ = self.clunk(fid);
                Err(e)
            }
        }
    }

    /// The whole content of a file, at most `max` bytes. A stream reads from its oldest
    /// retained record (the `lost=` marker of an aged-out start is dropped, as `cat` does).
    /// A file that fits one reply costs one round trip (walk, open, read and clunk pipelined).
    pub fn read_file(&mut self, path: &str, max: usize) -> Result<Vec<u8>, ClientError> {
        let count = self.max_read().min(u32::try_from(max).unwrap_or(u32::MAX));
        let (ty, chunk) = self.read_once(path, 0, count)?;
        let mut reading = Reading::new(ty, max);
        if !reading.take(chunk, count) {
            return Ok(reading.data);
        }
        // More than one reply's worth: read the rest through a fresh fid.
        let (fid, _) = self.open_path(path, O_RDONLY)?;
        let result = self.read_rest(fid, &mut reading);
        let clunked = self.clunk(fid);
        result?;
        clunked?;
        Ok(reading.data)
    }

    /// walk + open + one read + clunk, pipelined: the qid type and the bytes read.
    fn read_once(
        &mut self,
        path: &str,
        offset: u64,
        count: u32,
    ) -> Result<(u8, Vec<u8>), ClientError> {
        let root = self.root()?;
        let replies = self.batch(|c, out| {
            let (walk, fid) = c.walk_path(root, path, out)?;
            let open = c.lopen(fid, O_RDONLY, out)?;
            let read = c.read(fid, offset, count, out)?;
            let clunk = c.clunk(fid, out)?;
            Ok(vec![walk, open, read, clunk])
        })?;
        let mut replies = Replies::new(replies);
        replies.walked(path)?;
        let qid = replies.next("lopen")?.into_qid();
        let ty = qid.map_err(super::codec_error)?.ty;
        let data = replies.next("read")?.into_data();
        let data = data.map_err(super::codec_error)?;
        replies.next("clunk")?;
        Ok((ty, data))
    }

    fn read_rest(&mut self, fid: Fid, reading: &mut Reading) -> Result<(), ClientError> {
        loop {
            let left = reading.max.saturating_sub(reading.data.len());
            let count = self.max_read().min(u32::try_from(left).unwrap_or(u32::MAX));
            let chunk = self.read(fid, reading.offset, count)?;
            if !reading.take(chunk, count) {
                return Ok(());
            }
        }
    }

    /// Names in a directory; a file lists as its own name (as the console's `ls` does).
    pub fn list(&mut self, path: &str) -> Result<Vec<String>, ClientError> {
        let (fid, ty) = self.open_path(path, O_RDONLY)?;
        if ty & QT_DIR == 0 {
            self.clunk(fid)?;
            let name = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(path);
            return Ok(vec![name.to_string()]);
        }
        let result = self.read_dir(fid);
        let clunked = self.clunk(fid);
        let names = result?;
        clunked?;
        Ok(names)
    }

    fn read_dir(&mut self, fid: Fid) -> Result<Vec<String>, ClientError> {
        let mut names = Vec::new();
        let mut offset = 0u64;
        // Bounded: a directory cannot hold more entries than fit this many replies.
        for _ in 0..4096 {
            let count = self.max_read();
            let entries = self.readdir(fid, offset, count)?;
            let Some(last) = entries.last() else {
                return Ok(names);
            };
            offset = last.offset;
            names.extend(entries.into_iter().map(|e| e.name));
        }
        Err(ClientError::Protocol(String::from("directory without end")))
    }

    /// Appends `data` in one write (append-only files take whole writes atomically); returns
    /// the count the hive accepted.
    pub fn append(&mut self, path: &str, data: &[u8]) -> Result<u32, ClientError> {
        if data.len() > self.max_write() as usize {
            return Err(ClientError::Local(secure9p::Error::TooBig));
        }
        let root = self.root()?;
        // walk + open + write + clunk in one round trip.
        let replies = self.batch(|c, out| {
            let (walk, fid) = c.walk_path(root, path, out)?;
            let open = c.lopen(fid, O_WRONLY, out)?;
            let write = c.write(fid, 0, data, out)?;
            let clunk = c.clunk(fid, out)?;
            Ok(vec![walk, open, write, clunk])
        })?;
        let mut replies = Replies::new(replies);
        replies.walked(path)?;
        replies.next("lopen")?;
        let count = replies.next("write")?;
        replies.next("clunk")?;
        count.into_count().map_err(super::codec_error)
    }

    /// Largest single write.
    pub fn max_write(&self) -> u32 {
        self.codec.max_write()
    }

    /// Records of a stream from `cursor` (the oldest retained when `None`), at most one reply.
    pub fn tail(&mut self, path: &str, cursor: Option<u64>) -> Result<Tail, ClientError> {
        let start = cursor.unwrap_or(0);
        let count = self.max_read();
        let (_, data) = self.read_once(path, start, count)?;
        Ok(Tail::from_read(start, data))
    }
}

/// The chunks of a whole-file read, put together.
struct Reading {
    /// Streams read by cursor and end at an empty read; text ends at a short one.
    stream: bool,
    offset: u64,
    data: Vec<u8>,
    max: usize,
}

impl Reading {
    fn new(ty: u8, max: usize) -> Self {
        Self {
            stream: ty & QT_APPEND != 0,
            offset: 0,
            data: Vec::new(),
            max,
        }
    }

    /// Adds the chunk a read of `asked` bytes returned; false when nothing more can follow.
    fn take(&mut self, chunk: Vec<u8>, asked: u32) -> bool {
        if chunk.is_empty() {
            return false;
        }
        let more = if self.stream {
            let tail = Tail::from_read(self.offset, chunk);
            self.offset = tail.next;
            self.data.extend_from_slice(&tail.data);
            !tail.data.is_empty()
        } else {
            let full = chunk.len() >= asked as usize;
            self.offset += chunk.len() as u64;
            self.data.extend_from_slice(&chunk);
            full
        };
        more && self.data.len() < self.max
    }
}

/// The replies of a pipelined batch, taken in order.
struct Replies {
    replies: std::vec::IntoIter<Result<Response, secure9p::ClientError>>,
}

impl Replies {
    fn new(replies: Vec<Result<Response, secure9p::ClientError>>) -> Self {
        Self {
            replies: replies.into_iter(),
        }
    }

    fn next(&mut self, op: &str) -> Result<Response, ClientError> {
        match self.replies.next() {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(super::refused(op, e)),
            None => Err(ClientError::Protocol(String::from("missing reply"))),
        }
    }

    /// The walk reply; a partial walk means the path does not exist.
    fn walked(&mut self, path: &str) -> Result<(), ClientError> {
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        match self.next("walk")? {
            Response::Walk { qids } if qids.len() < depth => Err(ClientError::Refused(
                Refusal::ninep("walk", secure9p::Error::NotFound),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_strips_the_lost_marker_and_advances() {
        let t = Tail::from_read(0, b"lost=40\nhb 1\n".to_vec());
        assert_eq!(t.lost, 40);
        assert_eq!(t.data, b"hb 1\n");
        assert_eq!(t.next, 45);
        let t = Tail::from_read(45, b"hb 2\n".to_vec());
        assert_eq!((t.lost, t.next), (0, 50));
        assert_eq!(lost_marker(b"lost=x\n"), None);
    }
}
