//! Little-endian primitives shared by both directions: a bounds-checked reader over one frame
//! and append-only writers. Every length is checked against the bytes left before anything is
//! allocated, so a decoder never allocates more than the frame it was given.

use super::{DecodeError, QID_LEN};
use crate::{Error, Qid};
use alloc::string::String;
use alloc::vec::Vec;

/// A cursor over the body of one frame. It carries the frame's tag so every failure can be
/// answered with `Rlerror` on the right tag.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    tag: u16,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize, tag: u16) -> Self {
        Self { buf, pos, tag }
    }

    pub(crate) fn tag(&self) -> u16 {
        self.tag
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn refuse(&self, error: Error) -> DecodeError {
        DecodeError::Refused {
            tag: self.tag,
            error,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated { tag: self.tag });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A `len[2] bytes[len]` field, borrowed from the frame.
    pub(crate) fn str_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16()?);
        self.bytes(len)
    }

    /// A `string[s]` that must be UTF-8.
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let raw = self.str_bytes()?;
        let text = core::str::from_utf8(raw).map_err(|_| self.refuse(Error::Invalid))?;
        Ok(String::from(text))
    }

    /// A `count[4] data[count]` field.
    pub(crate) fn data(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated { tag: self.tag })?;
        Ok(self.bytes(len)?.to_vec())
    }

    pub(crate) fn qid(&mut self) -> Result<Qid, DecodeError> {
        Ok(Qid {
            ty: self.u8()?,
            version: self.u32()?,
            path: self.u64()?,
        })
    }

    /// `count[2]` followed by that many items of `item_len` bytes, checked before allocating.
    pub(crate) fn count_of(&mut self, max: u32, item_min_len: usize) -> Result<usize, DecodeError> {
        let n = self.u16()?;
        if u32::from(n) > max {
            return Err(self.refuse(Error::TooBig));
        }
        let n = usize::from(n);
        if n.saturating_mul(item_min_len) > self.remaining() {
            return Err(DecodeError::Truncated { tag: self.tag });
        }
        Ok(n)
    }

    pub(crate) fn qids(&mut self, max: u32) -> Result<Vec<Qid>, DecodeError> {
        let n = self.count_of(max, QID_LEN)?;
        let mut qids = Vec::with_capacity(n);
        for _ in 0..n {
            qids.push(self.qid()?);
        }
        Ok(qids)
    }

    /// Every byte of the frame must belong to a field.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::Trailing { tag: self.tag })
        }
    }
}

pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// `len[2] bytes`; a string longer than the wire can describe is `TooBig`.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    let len = u16::try_from(s.len()).map_err(|_| Error::TooBig)?;
    put_u16(out, len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// `count[4] data`.
pub(crate) fn put_data(out: &mut Vec<u8>, data: &[u8]) -> Result<(), Error> {
    let len = u32::try_from(data.len()).map_err(|_| Error::TooBig)?;
    put_u32(out, len);
    out.extend_from_slice(data);
    Ok(())
}

pub(crate) fn put_qid(out: &mut Vec<u8>, qid: &Qid) {
    put_u8(out, qid.ty);
    put_u32(out, qid.version);
    put_u64(out, qid.path);
}

/// `count[2]` for a list of items.
pub(crate) fn put_count(out: &mut Vec<u8>, n: usize) -> Result<(), Error> {
    put_u16(out, u16::try_from(n).map_err(|_| Error::TooBig)?);
    Ok(())
}
