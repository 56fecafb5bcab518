//! TCP console framing: `len: u32 LE` counting its own four bytes, then one UTF-8 line.
//!
//! The decoder is fed arbitrary chunks and yields whole lines. Before authentication every
//! malformed frame is fatal (the peer has not shown it speaks the protocol); afterwards a frame
//! with a bad but in-range length is skipped by its declared length so the session survives.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use manifest::ConsoleLimits;

/// Bytes in the length prefix.
pub const PREFIX_LEN: usize = 4;

/// Appends one frame carrying `line` to `out`.
///
/// Trailing CR/LF are dropped, and any CR/LF inside the line becomes a space, because a frame
/// carries exactly one line and a receiver refuses line breaks inside a frame.
pub fn encode_frame(line: &str, out: &mut Vec<u8>) {
    let body = line.trim_end_matches(['\r', '\n']);
    // A line longer than u32::MAX - 4 cannot exist in a bounded console; saturate, never panic.
    let len = u32::try_from(body.len().saturating_add(PREFIX_LEN)).unwrap_or(u32::MAX);
    out.reserve(body.len() + PREFIX_LEN);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend(body.bytes().map(|b| match b {
        b'\r' | b'\n' => b' ',
        other => other,
    }));
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The declared length exceeds the line bound; exactly that frame is skipped.
    InvalidLength,
    /// The payload is not UTF-8 or holds CR/LF; exactly that frame is skipped.
    InvalidLine,
    /// The stream cannot continue; the caller must close the connection.
    Fatal(FrameFault),
}

/// What made a frame error fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFault {
    /// A length below 4 or above `frame_max`, or any bad length before authentication.
    Length,
    /// A payload that is not UTF-8 or holds CR/LF, before authentication.
    Line,
}

impl FrameError {
    pub fn is_fatal(self) -> bool {
        matches!(self, FrameError::Fatal(_))
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::InvalidLength => f.write_str("frame length exceeds the line bound"),
            FrameError::InvalidLine => f.write_str("frame payload is not one UTF-8 line"),
            FrameError::Fatal(FrameFault::Length) => f.write_str("unrecoverable frame length"),
            FrameError::Fatal(FrameFault::Line) => f.write_str("unrecoverable frame payload"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FrameError {}

/// Incremental frame decoder with a bounded buffer.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    frame_max: usize,
    line_max: usize,
    buffer_max: usize,
    buf: Vec<u8>,
    /// Payload bytes of a skipped frame still to be discarded as they arrive. Non-zero only
    /// while `buf` is empty, so skipping never needs buffer space.
    skip: usize,
    poisoned: Option<FrameFault>,
}

impl FrameDecoder {
    /// A decoder bounded by the manifest: frames up to `frame_max`, lines up to `line_max`,
    /// and at most `frame_max` bytes buffered.
    pub fn new(limits: &ConsoleLimits) -> Self {
        let frame_max = limits.frame_max as usize;
        Self::with_bounds(frame_max, limits.line_max as usize, frame_max)
    }

    /// A decoder with explicit bounds. The line bound is clipped to what a frame can carry, and
    /// the buffer always holds at least one largest acceptable frame so decoding can progress.
    pub fn with_bounds(frame_max: usize, line_max: usize, buffer_max: usize) -> Self {
        let frame_max = frame_max.max(PREFIX_LEN);
        let line_max = line_max.min(frame_max - PREFIX_LEN);
        let buffer_max = buffer_max.max(line_max + PREFIX_LEN);
        Self {
            frame_max,
            line_max,
            buffer_max,
            buf: Vec::new(),
            skip: 0,
            poisoned: None,
        }
    }

    /// Takes bytes from `bytes` and returns how many were accepted; the caller keeps the rest
    /// and offers them again after draining lines. After a fatal error every byte is accepted
    /// and dropped, because the connection is closing.
    #[must_use = "bytes not accepted are lost unless offered again"]
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        if self.poisoned.is_some() {
            return bytes.len();
        }
        let skipped = self.skip.min(bytes.len());
        self.skip -= skipped;
        let rest = &bytes[skipped..];
        let room = self.buffer_max.saturating_sub(self.buf.len());
        let taken = room.min(rest.len());
        self.buf.extend_from_slice(&rest[..taken]);
        skipped + taken
    }

    /// The next complete line, `Ok(None)` when more bytes are needed, or the reason the next
    /// frame was refused. `authed` selects the recovery rule for bad lengths and payloads.
    pub fn next_line(&mut self, authed: bool) -> Result<Option<String>, FrameError> {
        if let Some(fault) = self.poisoned {
            return Err(FrameError::Fatal(fault));
        }
        if self.skip > 0 || self.buf.len() < PREFIX_LEN {
            return Ok(None);
        }
        let declared = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        let declared = usize::try_from(declared).unwrap_or(usize::MAX);
        if declared < PREFIX_LEN || declared > self.frame_max {
            return Err(self.poison(FrameFault::Length));
        }
        let payload_len = declared - PREFIX_LEN;
        if payload_len > self.line_max {
            if !authed {
                return Err(self.poison(FrameFault::Length));
            }
            self.skip_frame(declared);
            return Err(FrameError::InvalidLength);
        }
        if self.buf.len() < declared {
            return Ok(None);
        }
        let payload: Vec<u8> = self.buf.drain(..declared).skip(PREFIX_LEN).collect();
        match String::from_utf8(payload) {
            Ok(line) if !line.contains(['\r', '\n']) => Ok(Some(line)),
            _ if authed => Err(FrameError::InvalidLine),
            _ => Err(self.poison(FrameFault::Line)),
        }
    }

    /// Bytes `push` accepts now at the least, so a reader can take no more than this from its
    /// source and leave the rest there.
    pub fn room(&self) -> usize {
        self.buffer_max.saturating_sub(self.buf.len())
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True once a fatal error was reported.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// Forgets all state, for reuse on a new connection.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.skip = 0;
        self.poisoned = None;
    }

    fn skip_frame(&mut self, declared: usize) {
        let in_buffer = declared.min(self.buf.len());
        self.buf.drain(..in_buffer);
        self.skip = declared - in_buffer;
    }

    fn poison(&mut self, fault: FrameFault) -> FrameError {
        self.poisoned = Some(fault);
        self.buf.clear();
        self.skip = 0;
        FrameError::Fatal(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_itself() {
        let mut out = Vec::new();
        encode_frame("PING", &mut out);
        assert_eq!(out, [8, 0, 0, 0, b'P', b'I', b'N', b'G']);
    }

    #[test]
    fn skip_spans_later_pushes() {
        let mut d = FrameDecoder::with_bounds(8192, 8, 64);
        let mut bytes = 20u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"0123");
        assert_eq!(d.push(&bytes), 8);
        assert_eq!(d.next_line(true), Err(FrameError::InvalidLength));
        assert_eq!(d.skip, 12);
        assert_eq!(d.buffered(), 0);
    }
}
