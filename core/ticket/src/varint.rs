//! LEB128 unsigned varints and a bounds-checked byte reader for the claims encoding.
//!
//! Only the shortest encoding of each value is accepted, so every claims value has exactly one
//! byte form and a decoded ticket re-encodes to the bytes that were MACed.

use alloc::vec::Vec;

/// Longest LEB128 encoding of a `u64`.
pub const MAX_VARINT_LEN: usize = 10;

pub fn put_u64(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Cursor over untrusted bytes; every read checks what remains and fails with `None`.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(first)
    }

    /// Reads exactly `len` bytes without copying them.
    pub fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(head)
    }

    /// Reads a minimal LEB128 `u64`: at most ten bytes, no bits beyond 64, no zero padding.
    /// `N` raw bytes (a fixed-width field).
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn u64(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        for index in 0..MAX_VARINT_LEN {
            let byte = self.u8()?;
            let payload = u64::from(byte & 0x7f);
            let shift = 7 * index as u32;
            if index == MAX_VARINT_LEN - 1 && payload > 1 {
                return None;
            }
            value |= payload << shift;
            if byte & 0x80 == 0 {
                // A zero final byte after other bytes is padding: not the shortest form.
                if index > 0 && payload == 0 {
                    return None;
                }
                return Some(value);
            }
        }
        None
    }

    pub fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u64()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn encode(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_u64(&mut out, value);
        out
    }

    #[test]
    fn round_trips_edges() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let bytes = encode(value);
            assert!(bytes.len() <= MAX_VARINT_LEN);
            let mut reader = Reader::new(&bytes);
            assert_eq!(reader.u64(), Some(value));
            assert!(reader.is_empty());
        }
        assert_eq!(encode(127), vec![0x7f]);
        assert_eq!(encode(128), vec![0x80, 0x01]);
        assert_eq!(encode(u64::MAX).len(), 10);
    }

    #[test]
    fn refuses_padding_overflow_and_truncation() {
        assert_eq!(Reader::new(&[0x80, 0x00]).u64(), None);
        assert_eq!(Reader::new(&[0x81, 0x80, 0x00]).u64(), None);
        assert_eq!(Reader::new(&[0x80]).u64(), None);
        assert_eq!(Reader::new(&[]).u64(), None);
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(Reader::new(&too_big).u64(), None);
        assert_eq!(Reader::new(&[0xff; 11]).u64(), None);
        let over_u32 = encode(u64::from(u32::MAX) + 1);
        assert_eq!(Reader::new(&over_u32).u32(), None);
    }
}
