//! Serial console input: raw bytes to lines, with terminal editing.
//!
//! A line ends at LF, at CR, or at CRLF (terminals differ in what Enter sends). Backspace and
//! DEL erase the last character, other control bytes are dropped, and a line longer than the
//! bound is refused as a whole when it ends, so the line after it is decoded normally.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a serial line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// The line exceeded `max` bytes; it was discarded up to its end.
    TooLong { max: usize },
    /// The line was not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong { max } => write!(f, "line longer than {max} bytes"),
            LineError::InvalidUtf8 => f.write_str("line is not valid UTF-8"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LineError {}

/// Incremental serial line decoder with a bounded input buffer.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    line_max: usize,
    buffer_max: usize,
    raw: VecDeque<u8>,
    line: Vec<u8>,
    overlong: bool,
    /// The previous byte ended a line with CR, so an LF right after it is the same Enter.
    after_cr: bool,
}

impl LineDecoder {
    /// A decoder for lines of at most `line_max` bytes, buffering up to four lines of input.
    pub fn new(line_max: usize) -> Self {
        Self::with_bounds(line_max, line_max.saturating_mul(4))
    }

    /// A decoder with an explicit input buffer bound (at least one byte).
    pub fn with_bounds(line_max: usize, buffer_max: usize) -> Self {
        Self {
            line_max,
            buffer_max: buffer_max.max(1),
            raw: VecDeque::new(),
            line: Vec::new(),
            overlong: false,
            after_cr: false,
        }
    }

    /// Takes bytes and returns how many were accepted; the caller keeps the rest and offers
    /// them again after draining lines.
    #[must_use = "bytes not accepted are lost unless offered again"]
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let room = self.buffer_max.saturating_sub(self.raw.len());
        let taken = room.min(bytes.len());
        self.raw.extend(&bytes[..taken]);
        taken
    }

    /// Bytes `push` would accept now; a reader can take no more than this from its source and
    /// leave the rest there.
    pub fn room(&self) -> usize {
        self.buffer_max.saturating_sub(self.raw.len())
    }

    /// The next finished line (possibly empty), or `None` when no line has ended yet.
    pub fn next_line(&mut self) -> Option<Result<String, LineError>> {
        while let Some(byte) = self.raw.pop_front() {
            let after_cr = core::mem::replace(&mut self.after_cr, false);
            match byte {
                b'\n' if after_cr => {}
                b'\n' => return Some(self.finish()),
                b'\r' => {
                    self.after_cr = true;
                    return Some(self.finish());
                }
                0x08 | 0x7f => self.erase(),
                b'\t' => self.put(byte),
                byte if byte < 0x20 => {}
                byte => self.put(byte),
            }
        }
        None
    }

    /// Bytes of the line being typed (for echo or diagnostics).
    pub fn pending(&self) -> &[u8] {
        &self.line
    }

    fn put(&mut self, byte: u8) {
        if self.overlong {
            return;
        }
        if self.line.len() >= self.line_max {
            self.overlong = true;
            self.line.clear();
            return;
        }
        self.line.push(byte);
    }

    /// Removes the last whole UTF-8 character, not just its last byte.
    fn erase(&mut self) {
        while let Some(byte) = self.line.pop() {
            if byte & 0b1100_0000 != 0b1000_0000 {
                break;
            }
        }
    }

    fn finish(&mut self) -> Result<String, LineError> {
        let bytes = core::mem::take(&mut self.line);
        if core::mem::replace(&mut self.overlong, false) {
            return Err(LineError::TooLong { max: self.line_max });
        }
        String::from_utf8(bytes).map_err(|_| LineError::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erase_removes_whole_characters() {
        let mut d = LineDecoder::new(16);
        let _ = d.push("aé\x7f\n".as_bytes());
        assert_eq!(d.next_line(), Some(Ok(String::from("a"))));
    }
}
