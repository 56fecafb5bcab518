//! Why a ticket was refused; each variant has a short kebab-case name for logs and replies.

use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    /// The text or the claims bytes do not follow the encoding (bad prefix, hex, version,
    /// field, length or trailing bytes), or claims to mint break a field limit.
    Malformed,
    /// The text is longer than the caller allows; refused before any parsing.
    TooLong,
    /// More than [`crate::MAX_SCOPES`] scopes.
    TooManyScopes,
    /// The key id names no key in the keyring (never provisioned or retired).
    UnknownKey,
    /// The MAC does not match the claims under the named key.
    BadMac,
    Expired,
    Revoked,
    /// The revocation set is full even after purging lapsed entries.
    RevocationsFull,
}

impl TicketError {
    /// Short kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketError::Malformed => "malformed",
            TicketError::TooLong => "too-long",
            TicketError::TooManyScopes => "too-many-scopes",
            TicketError::UnknownKey => "unknown-key",
            TicketError::BadMac => "bad-mac",
            TicketError::Expired => "expired",
            TicketError::Revoked => "revoked",
            TicketError::RevocationsFull => "revocations-full",
        }
    }
}

impl fmt::Display for TicketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TicketError {}
