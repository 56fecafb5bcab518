//! One store record of the journal: a small header that lets a reader tell a whole record from
//! a torn or corrupted one without trusting anything inside it.
//!
//! ```text
//! magic "CJ" | kind:u8 | len:u32 LE | check: first 8 bytes of BLAKE3(kind | payload) | payload
//! ```

use alloc::vec::Vec;

const MAGIC: [u8; 2] = *b"CJ";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 2 + 1 + 4 + 8;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A batch of authority entries, in the order they were decided.
    Batch = 1,
    /// A snapshot of the whole authority state.
    Snapshot = 2,
    /// Audit lines of one turn, newline-terminated.
    Audit = 3,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        match byte {
            1 => Some(Kind::Batch),
            2 => Some(Kind::Snapshot),
            3 => Some(Kind::Audit),
            _ => None,
        }
    }
}

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than its header or its declared length: what a torn write leaves.
    Short,
    /// Longer than its declared length, or a bad magic or kind.
    Malformed,
    /// The bytes are all there but do not match their check.
    Checksum,
}

fn check(kind: u8, payload: &[u8]) -> [u8; 8] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[kind]);
    hasher.update(payload);
    let mut out = [0u8; 8];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    out
}

/// Frames `payload` as one record of `kind`.
pub fn encode(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("journal records are far below 4 GiB");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&check(kind as u8, payload));
    out.extend_from_slice(payload);
    out
}

/// The kind and payload of a whole, intact record.
pub fn decode(record: &[u8]) -> Result<(Kind, &[u8]), FrameError> {
    let Some((header, payload)) = record.split_at_checked(HEADER_LEN) else {
        // A torn header: any prefix of a good header is short, not malformed.
        let good_prefix = record.iter().zip(MAGIC.iter()).all(|(a, b)| a == b);
        return Err(if good_prefix {
            FrameError::Short
        } else {
            FrameError::Malformed
        });
    };
    if header[..2] != MAGIC {
        return Err(FrameError::Malformed);
    }
    let kind = Kind::from_byte(header[2]).ok_or(FrameError::Malformed)?;
    let len = u32::from_le_bytes([header[3], header[4], header[5], header[6]]) as usize;
    if payload.len() < len {
        return Err(FrameError::Short);
    }
    if payload.len() > len {
        return Err(FrameError::Malformed);
    }
    if header[7..HEADER_LEN] != check(header[2], payload) {
        return Err(FrameError::Checksum);
    }
    Ok((kind, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_layout() {
        let record = encode(Kind::Batch, b"hello");
        assert_eq!(&record[..3], b"CJ\x01");
        assert_eq!(&record[3..7], &5u32.to_le_bytes());
        assert_eq!(record.len(), HEADER_LEN + 5);
        assert_eq!(decode(&record), Ok((Kind::Batch, &b"hello"[..])));
    }

    #[test]
    fn a_flipped_payload_bit_fails_the_check() {
        let mut record = encode(Kind::Audit, b"line\n");
        let last = record.len() - 1;
        record[last] ^= 1;
        assert_eq!(decode(&record), Err(FrameError::Checksum));
    }

    proptest! {
        /// Every strict prefix of a record (what a torn write leaves) reads as `Short`, never
        /// as a record.
        #[test]
        fn every_torn_prefix_is_short(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let record = encode(Kind::Batch, &payload);
            for cut in 0..record.len() {
                prop_assert_eq!(decode(&record[..cut]), Err(FrameError::Short));
            }
            prop_assert_eq!(decode(&record), Ok((Kind::Batch, payload.as_slice())));
        }

        /// Arbitrary bytes never decode unless they carry a matching check.
        #[test]
        fn garbage_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok((kind, payload)) = decode(&bytes) {
                prop_assert_eq!(encode(kind, payload), bytes);
            }
        }
    }
}
