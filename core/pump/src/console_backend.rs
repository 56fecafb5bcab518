//! The console's view of NineDoor: console verbs become path operations of one session.

use alloc::string::String;
use alloc::vec::Vec;
use console::ConsoleBackend;
use ninedoor::{NineDoor, SessionId};
use secure9p::Error;

/// Bytes a single `cat`/`tail` may return before the console caps it.
const STREAM_BYTES_MAX: usize = 64 * 1024;

pub(crate) struct ConsoleAdapter<'a> {
    pub nd: &'a mut NineDoor,
    pub sid: SessionId,
    pub now_ms: u64,
    /// Whether the last failed operation was already counted and audited by NineDoor, so the
    /// console's own `refused` call does not count it twice.
    counted: bool,
    /// Before the handshake: the peer's address. Its refusals go to the security log.
    pre_auth: Option<String>,
}

impl<'a> ConsoleAdapter<'a> {
    pub(crate) fn new(nd: &'a mut NineDoor, sid: SessionId, now_ms: u64) -> Self {
        Self {
            nd,
            sid,
            now_ms,
            counted: false,
            pre_auth: None,
        }
    }

    /// Routes refusals to `/log/security.log` under `source` while the peer has not
    /// authenticated (a flood of bad `AUTH` lines must not evict the queen's audit log).
    pub(crate) fn pre_auth(mut self, source: Option<String>) -> Self {
        self.pre_auth = source;
        self
    }

    fn track<T>(&mut self, op: impl FnOnce(&mut NineDoor) -> Result<T, Error>) -> Result<T, Error> {
        let before = self.nd.hive().refusals();
        let result = op(self.nd);
        self.counted = result.is_err() && self.nd.hive().refusals() > before;
        result
    }

    fn who(&self) -> String {
        self.nd
            .session(self.sid)
            .and_then(|s| s.principal.as_ref())
            .map_or_else(|| String::from("console"), |p| p.subject.clone())
    }
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(String::from)
        .collect()
}

impl ConsoleBackend for ConsoleAdapter<'_> {
    fn attach(
        &mut self,
        role: &str,
        ticket: Option<&str>,
        _serial: bool,
        now_ms: u64,
    ) -> Result<(), Error> {
        let sid = self.sid;
        self.track(|nd| nd.attach(sid, role, "", ticket.map(str::as_bytes), now_ms))
    }

    fn ls(&mut self, path: &str) -> Result<Vec<String>, Error> {
        let (sid, now) = (self.sid, self.now_ms);
        self.track(|nd| {
            nd.admit(sid, now)?;
            nd.ls(sid, path, now)
        })
    }

    fn cat(&mut self, path: &str) -> Result<Vec<String>, Error> {
        let (sid, now) = (self.sid, self.now_ms);
        self.track(|nd| {
            nd.admit(sid, now)?;
            nd.cat(sid, path, STREAM_BYTES_MAX, now)
                .map(|b| lines_of(&b))
        })
    }

    fn tail(&mut self, path: &str, cursor: Option<u64>) -> Result<(Vec<String>, u64), Error> {
        let (sid, now) = (self.sid, self.now_ms);
        self.track(|nd| {
            nd.admit(sid, now)?;
            let read = nd.tail(sid, path, cursor, STREAM_BYTES_MAX, now)?;
            Ok((lines_of(&read.data), read.next))
        })
    }

    fn echo(&mut self, path: &str, line: &str) -> Result<usize, Error> {
        let (sid, now) = (self.sid, self.now_ms);
        self.track(|nd| {
            nd.admit(sid, now)?;
            let mut record = Vec::with_capacity(line.len() + 1);
            record.extend_from_slice(line.as_bytes());
            record.push(b'\n');
            nd.append(sid, path, &record, now)
        })
    }

    fn refused(&mut self, verb: &str, error: Error, detail: &str) {
        if core::mem::take(&mut self.counted) {
            return;
        }
        if let Some(source) = &self.pre_auth {
            self.nd
                .security_refused(self.now_ms, source, verb, error, detail);
            return;
        }
        let who = self.who();
        self.nd
            .hive_mut()
            .record_refusal(self.now_ms, &who, verb, error, detail);
    }
}
