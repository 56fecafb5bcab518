//! Worker shard labels: the first byte of SHA-256(worker id), as two hex digits.

use sha2::{Digest, Sha256};

/// A two-character shard label (`/shard/<label>/worker/<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardLabel([u8; 2]);

impl ShardLabel {
    pub fn of(worker_id: &str) -> Self {
        let digest = Sha256::digest(worker_id.as_bytes());
        let hex = b"0123456789abcdef";
        ShardLabel([
            hex[usize::from(digest[0] >> 4)],
            hex[usize::from(digest[0] & 0xf)],
        ])
    }

    /// The label spelled by `text`, if it is one: exactly two lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        match *text.as_bytes() {
            [a, b] if hex(a) && hex(b) => Some(ShardLabel([a, b])),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from ASCII hex digits, so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or("00")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_is_first_sha256_byte() {
        // printf w0001 | sha256sum -> 9fbbdf1e...
        assert_eq!(ShardLabel::of("w0001").as_str(), "9f");
    }

    #[test]
    fn parse_accepts_only_labels() {
        assert_eq!(ShardLabel::parse("9f"), Some(ShardLabel::of("w0001")));
        for text in ["9F", "9", "9f0", "", "g0", "/f"] {
            assert_eq!(ShardLabel::parse(text), None, "{text:?}");
        }
    }
}
