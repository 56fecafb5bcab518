//! An in-memory backend for dispatcher tests: a few files and directories, an append log, and
//! a record of every refusal and detach.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cohesix_console::{
    encode_frame, ConsoleBackend, ConsoleLimits, ConsoleSession, FrameDecoder, Outcome, Transport,
};
use secure9p::Error;

pub const GOOD_TICKET: &str = "cohesix-ticket-00.11";

#[derive(Default)]
pub struct Fake {
    pub dirs: BTreeMap<String, Vec<String>>,
    pub files: BTreeMap<String, Vec<String>>,
    pub appended: Vec<(String, String)>,
    pub refusals: Vec<(String, Error, String)>,
    pub attaches: Vec<(String, Option<String>, bool, u64)>,
    pub tails: Vec<(String, Option<u64>)>,
    pub detaches: usize,
}

impl Fake {
    pub fn new() -> Self {
        let mut fake = Fake::default();
        fake.dirs.insert(
            "/".into(),
            vec!["proc".into(), "queen".into(), "log".into()],
        );
        fake.files.insert(
            "/proc/boot".into(),
            vec!["platform=sim".into(), "uptime_ms=5".into()],
        );
        fake.files.insert(
            "/log/queen.log".into(),
            vec![
                "t=1 ev=boot".into(),
                "t=2 ev=attach".into(),
                "t=3 ev=spawn".into(),
            ],
        );
        fake
    }

    pub fn last_refusal(&self) -> Option<(&str, Error, &str)> {
        self.refusals
            .last()
            .map(|(v, e, d)| (v.as_str(), *e, d.as_str()))
    }
}

impl ConsoleBackend for Fake {
    fn attach(
        &mut self,
        role: &str,
        ticket: Option<&str>,
        serial: bool,
        now_ms: u64,
    ) -> Result<(), Error> {
        self.attaches
            .push((role.into(), ticket.map(String::from), serial, now_ms));
        match (role, ticket) {
            ("queen", None) if serial => Ok(()),
            ("queen" | "worker-heartbeat", Some(GOOD_TICKET)) => Ok(()),
            ("queen" | "worker-heartbeat", _) => Err(Error::Perm),
            _ => Err(Error::NotFound),
        }
    }

    fn ls(&mut self, path: &str) -> Result<Vec<String>, Error> {
        self.dirs.get(path).cloned().ok_or(Error::NotFound)
    }

    fn cat(&mut self, path: &str) -> Result<Vec<String>, Error> {
        self.files.get(path).cloned().ok_or(Error::NotFound)
    }

    fn tail(&mut self, path: &str, cursor: Option<u64>) -> Result<(Vec<String>, u64), Error> {
        self.tails.push((path.into(), cursor));
        let lines = self.files.get(path).ok_or(Error::NotFound)?;
        let from = cursor.unwrap_or(0) as usize;
        let out = lines.iter().skip(from).cloned().collect();
        Ok((out, lines.len() as u64))
    }

    fn echo(&mut self, path: &str, line: &str) -> Result<usize, Error> {
        if path.starts_with("/proc") {
            return Err(Error::Perm);
        }
        self.appended.push((path.into(), line.into()));
        Ok(line.len() + 1)
    }

    fn refused(&mut self, verb: &str, error: Error, detail: &str) {
        self.refusals.push((verb.into(), error, detail.into()));
    }

    fn detached(&mut self) {
        self.detaches += 1;
    }
}

pub fn limits() -> ConsoleLimits {
    ConsoleLimits::default()
}

pub const TOKEN: &[u8] = b"hive-token-7f3a";

pub fn tcp() -> ConsoleSession {
    ConsoleSession::new(Transport::Tcp, Some(TOKEN), limits())
}

pub fn serial() -> ConsoleSession {
    ConsoleSession::new(Transport::Serial, None, limits())
}

pub fn lines(outcome: &Outcome) -> Vec<&str> {
    outcome.lines.iter().map(String::as_str).collect()
}

/// A TCP session past the handshake and attached as queen.
pub fn attached_tcp(fake: &mut Fake) -> ConsoleSession {
    let mut s = tcp();
    s.handle_line("AUTH hive-token-7f3a", 0, fake);
    let out = s.handle_line(&format!("ATTACH queen {GOOD_TICKET}"), 0, fake);
    assert_eq!(lines(&out), ["OK ATTACH role=queen"]);
    s
}

pub fn frames(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        encode_frame(line, &mut out);
    }
    out
}

pub fn decode(bytes: &[u8]) -> Vec<String> {
    let mut d = FrameDecoder::new(&limits());
    let _ = d.push(bytes);
    let mut out = Vec::new();
    while let Ok(Some(line)) = d.next_line(true) {
        out.push(line);
    }
    out
}
