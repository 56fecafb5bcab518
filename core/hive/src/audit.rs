//! `/log/queen.log`: the append-only audit ring and its line format.

use crate::ring::{Ring, RingRead};
use alloc::string::String;
use core::fmt::Write;

/// Longest audit line kept; longer values are cut with a `...` marker so a hostile input can
/// never push a line past the ring's record bound.
pub const AUDIT_LINE_MAX: usize = 400;

// A whole audit line (with its newline) fits the smallest log ring a manifest may set, and the
// ring's `u16` record lengths, so `Ring::push` never refuses one.
const _: () = assert!(AUDIT_LINE_MAX < manifest::LOG_RING_MIN as usize);
const _: () = assert!(AUDIT_LINE_MAX < u16::MAX as usize);

/// The audit journal. Every accept and deny the hive decides is one line here.
#[derive(Debug, Clone)]
pub struct AuditLog {
    ring: Ring,
    lines: u64,
}

impl AuditLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            ring: Ring::new(capacity),
            lines: 0,
        }
    }

    /// Appends `t=<ms> ev=<event> k=v ...` in the log style of the `key=value` format
    /// (`kv::Style::Log`): values other than plain tokens are quoted, control characters
    /// dropped, so one audit line is always one line.
    pub fn record(&mut self, now_ms: u64, event: &str, fields: &[(&str, &str)]) {
        let mut line = String::with_capacity(96);
        let _ = write!(line, "t={now_ms} ev={event}");
        for (key, value) in fields {
            kv::push_pair(&mut line, key, value, kv::Style::Log);
        }
        if line.len() > AUDIT_LINE_MAX {
            let mut cut = AUDIT_LINE_MAX - 3;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push_str("...");
        }
        line.push('\n');
        debug_assert!(line.len() <= AUDIT_LINE_MAX + 1);
        let kept = self.ring.push(line.as_bytes());
        debug_assert!(kept, "an audit line always fits the ring");
        self.lines += 1;
    }

    /// `(start offset, total lines, retained text)`, what a snapshot keeps of the log.
    pub fn retained(&self) -> (u64, u64, String) {
        let text = String::from_utf8_lossy(&self.ring.retained()).into_owned();
        (self.ring.start(), self.lines, text)
    }

    /// Replaces the log with snapshot contents: offsets continue from `start`.
    pub fn restore(&mut self, start: u64, lines: u64, text: &[u8]) {
        self.ring = Ring::starting_at(self.ring.capacity(), start);
        self.lines = 0;
        self.restore_lines(text);
        self.lines = self.lines.max(lines);
    }

    /// Appends journaled lines (newline-terminated) as they were written.
    pub fn restore_lines(&mut self, text: &[u8]) {
        for line in text.split_inclusive(|b| *b == b'\n') {
            if self.ring.push(line) {
                self.lines += 1;
            }
        }
    }

    pub fn read(&self, cursor: u64, max: usize) -> RingRead {
        self.ring.read(cursor, max)
    }

    /// Total lines ever written (retained or not).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    pub fn end(&self) -> u64 {
        self.ring.end()
    }

    pub fn start(&self) -> u64 {
        self.ring.start()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_single_and_quoted() {
        let mut log = AuditLog::new(4096);
        log.record(12, "deny", &[("who", "w1"), ("detail", "a b\n\"c\"")]);
        let read = log.read(0, 4096);
        let text = core::str::from_utf8(&read.data).unwrap();
        assert_eq!(text, "t=12 ev=deny who=w1 detail=\"a b \\\"c\\\"\"\n");
    }

    #[test]
    fn long_values_are_cut() {
        let mut log = AuditLog::new(4096);
        let long = "x".repeat(2000);
        log.record(1, "deny", &[("detail", &long)]);
        let read = log.read(0, 4096);
        assert_eq!(read.data.len(), AUDIT_LINE_MAX + 1);
        assert!(read.data.ends_with(b"...\n"));
    }
}
