//! The few file operations the live poller needs, as a trait so the polling plan can be tested
//! against an in-memory hive; `NineFs` implements it on `client::NineClient`, pipelining
//! walk + open + read + clunk of four files per round trip.

use std::fmt;

use client::{ClientError, NineClient, Timeouts};
use secure9p::codec::Response;
use secure9p::{ClientError as CodecError, Error as Class};

/// Largest text file the dashboard reads in one go (`/proc/9p/sessions` at 4096 sessions).
pub const READ_MAX: usize = 512 * 1024;

/// A failed file operation: `missing` when the path does not exist (an optional provider),
/// `broken` when the connection is no longer usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsError {
    pub missing: bool,
    pub broken: bool,
    pub text: String,
}

impl FsError {
    pub fn missing(path: &str) -> Self {
        Self {
            missing: true,
            broken: false,
            text: format!("{path}: not found"),
        }
    }

    pub fn broken(text: impl Into<String>) -> Self {
        Self {
            missing: false,
            broken: true,
            text: text.into(),
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<ClientError> for FsError {
    fn from(e: ClientError) -> Self {
        let missing = e.class() == Some(Class::NotFound);
        let broken = matches!(
            e,
            ClientError::Timeout { .. } | ClientError::Hangup | ClientError::Io(_)
        ) || e.class() == Some(Class::Closed);
        Self {
            missing,
            broken,
            text: e.to_string(),
        }
    }
}

/// A cursor read of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamRead {
    pub text: String,
    pub lost: u64,
    pub next: u64,
}

/// What the poller asks of a hive.
pub trait HiveFs: Send {
    fn list(&mut self, path: &str) -> Result<Vec<String>, FsError>;
    fn read(&mut self, path: &str) -> Result<String, FsError>;
    /// Reads several small text files; implementations may pipeline.
    fn read_many(&mut self, paths: &[String]) -> Vec<Result<String, FsError>> {
        paths.iter().map(|p| self.read(p)).collect()
    }
    /// Lists several directories; implementations may pipeline.
    fn list_many(&mut self, paths: &[String]) -> Vec<Result<Vec<String>, FsError>> {
        paths.iter().map(|p| self.list(p)).collect()
    }
    fn tail(&mut self, path: &str, cursor: u64) -> Result<StreamRead, FsError>;
    /// Appends one line to a control file and returns the hive's reply to it.
    fn command(&mut self, path: &str, line: &str) -> Result<String, FsError>;
}

/// Splits the `lost=<n>` line a stream read starts with when the cursor fell behind the ring.
pub fn split_lost(cursor: u64, data: &[u8]) -> StreamRead {
    let marker = data.strip_prefix(b"lost=").and_then(|rest| {
        let end = rest.iter().position(|b| *b == b'\n')?;
        let n: u64 = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
        Some((n, 5 + end + 1))
    });
    let (lost, skip) = marker.unwrap_or((0, 0));
    let body = &data[skip..];
    StreamRead {
        text: lossy(body),
        lost,
        next: cursor + lost + body.len() as u64,
    }
}

fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

type Replies = Vec<Result<Response, CodecError>>;

/// `HiveFs` over one attached Secure9P session.
pub struct NineFs {
    client: NineClient,
}

impl NineFs {
    /// Connects to `addr` and attaches as `role` with `ticket`.
    pub fn open(addr: &str, role: &str, subject: &str, ticket: &str) -> Result<Self, FsError> {
        let client = NineClient::open(addr, role, subject, ticket, Timeouts::default())?;
        Ok(Self { client })
    }

    /// walk + open + (read or readdir at `offset`) + clunk of up to four paths in one round
    /// trip (16 tags in flight); returns the four replies of each path.
    fn open_read_clunk(
        &mut self,
        paths: &[String],
        offset: u64,
        dir: bool,
    ) -> Result<Vec<Replies>, FsError> {
        let root = self.client.root()?;
        let count = self.client.max_read();
        let replies = self.client.batch(|c, out| {
            let mut tags = Vec::with_capacity(paths.len() * 4);
            for path in paths {
                let (walk, fid) = c.walk_path(root, path, out)?;
                tags.push(walk);
                tags.push(c.lopen(fid, 0, out)?);
                tags.push(if dir {
                    c.readdir(fid, offset, count, out)?
                } else {
                    c.read(fid, offset, count, out)?
                });
                tags.push(c.clunk(fid, out)?);
            }
            Ok(tags)
        })?;
        let mut replies = replies.into_iter();
        Ok(paths
            .iter()
            .map(|_| replies.by_ref().take(4).collect())
            .collect())
    }

    fn read_group(&mut self, paths: &[String]) -> Result<Vec<Result<String, FsError>>, FsError> {
        let groups = self.open_read_clunk(paths, 0, false)?;
        Ok(paths
            .iter()
            .zip(groups)
            .map(|(path, replies)| read_reply(path, &replies).map(|d| lossy(&d)))
            .collect())
    }

    fn list_group(
        &mut self,
        paths: &[String],
    ) -> Result<Vec<Result<Vec<String>, FsError>>, FsError> {
        let groups = self.open_read_clunk(paths, 0, true)?;
        let room = self.client.max_read() as usize;
        let mut out = Vec::with_capacity(paths.len());
        for (path, replies) in paths.iter().zip(groups) {
            let data = match read_reply(path, &replies) {
                Ok(data) => data,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            // A nearly full reply may have more entries behind it: list that one in full.
            if data.len() + 256 > room {
                out.push(self.list(path));
                continue;
            }
            let limits = secure9p::codec::Limits::default();
            out.push(
                secure9p::codec::decode_dirents(&data, &limits)
                    .map(|entries| entries.into_iter().map(|e| e.name).collect())
                    .map_err(|e| FsError::broken(format!("{path}: {e:?}"))),
            );
        }
        Ok(out)
    }
}

/// True when the walk reached every element of `path`.
fn walked(path: &str, replies: &[Result<Response, CodecError>]) -> bool {
    let depth = path.split('/').filter(|n| !n.is_empty()).count();
    matches!(replies.first(), Some(Ok(Response::Walk { qids })) if qids.len() == depth)
}

/// The read (or readdir) data if walk, open and read all succeeded.
fn read_reply(path: &str, replies: &[Result<Response, CodecError>]) -> Result<Vec<u8>, FsError> {
    if let Some(Err(e)) = replies.first() {
        if e.error() != Class::NotFound {
            return Err(codec_error(e));
        }
    }
    if !walked(path, replies) {
        return Err(FsError::missing(path));
    }
    match replies.get(2) {
        Some(Ok(Response::Read { data })) | Some(Ok(Response::Readdir { data })) => {
            Ok(data.clone())
        }
        Some(Err(e)) => Err(codec_error(e)),
        _ => Err(FsError::missing(path)),
    }
}

fn codec_error(e: &CodecError) -> FsError {
    FsError {
        missing: e.error() == Class::NotFound,
        broken: e.error() == Class::Closed,
        text: e.to_string(),
    }
}

impl HiveFs for NineFs {
    fn list(&mut self, path: &str) -> Result<Vec<String>, FsError> {
        Ok(self.client.list(path)?)
    }

    fn read(&mut self, path: &str) -> Result<String, FsError> {
        let data = self.client.read_file(path, READ_MAX)?;
        Ok(lossy(&data))
    }

    fn read_many(&mut self, paths: &[String]) -> Vec<Result<String, FsError>> {
        let mut out = Vec::with_capacity(paths.len());
        for group in paths.chunks(4) {
            match self.read_group(group) {
                Ok(results) => out.extend(results),
                Err(e) => out.extend(group.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    fn list_many(&mut self, paths: &[String]) -> Vec<Result<Vec<String>, FsError>> {
        let mut out = Vec::with_capacity(paths.len());
        for group in paths.chunks(4) {
            match self.list_group(group) {
                Ok(results) => out.extend(results),
                Err(e) => out.extend(group.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    /// One round trip: walk, open, read at the cursor, clunk.
    fn tail(&mut self, path: &str, cursor: u64) -> Result<StreamRead, FsError> {
        let mut groups = self.open_read_clunk(&[path.to_string()], cursor, false)?;
        let replies = groups.pop().unwrap_or_default();
        let data = read_reply(path, &replies)?;
        Ok(split_lost(cursor, &data))
    }

    fn command(&mut self, path: &str, line: &str) -> Result<String, FsError> {
        let mut data = line.trim_end().to_string();
        data.push('\n');
        self.client.append(path, data.as_bytes())?;
        // Control files answer the session's last command when read.
        let reply = self.client.read_file(path, 4096)?;
        Ok(lossy(&reply).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_marker_is_split_and_counted() {
        let r = split_lost(0, b"lost=40\nhb 1\n");
        assert_eq!((r.lost, r.next, r.text.as_str()), (40, 45, "hb 1\n"));
        let r = split_lost(45, b"hb 2\n");
        assert_eq!((r.lost, r.next), (0, 50));
        let r = split_lost(7, b"lost=x\n");
        assert_eq!((r.lost, r.next), (0, 14));
    }
}
