//! The TCP console handshake: the first line must be `AUTH <token>` carrying the hive's
//! provisioned token. The comparison is constant-time so response timing reveals nothing about
//! how much of a guess was right.

use secure9p::Error;
use subtle::ConstantTimeEq;

use crate::grammar::{parse, Command};

/// Why a handshake was refused; the session answers `ERR AUTH reason=<reason>` and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRefusal {
    /// The token is wrong, or no token is provisioned for this hive.
    InvalidToken,
    /// The line was not `AUTH <token>`.
    ExpectedToken,
    /// The handshake frame itself was malformed.
    InvalidLength,
}

impl AuthRefusal {
    /// The `reason=` value on the wire.
    pub fn reason(self) -> &'static str {
        match self {
            AuthRefusal::InvalidToken => "invalid-token",
            AuthRefusal::ExpectedToken => "expected-token",
            AuthRefusal::InvalidLength => "invalid-length",
        }
    }

    /// The error class reported to the backend for pressure counters and audit.
    pub fn error(self) -> Error {
        match self {
            AuthRefusal::InvalidToken | AuthRefusal::ExpectedToken => Error::Perm,
            AuthRefusal::InvalidLength => Error::TooBig,
        }
    }
}

/// Constant-time equality of a presented token with the provisioned one. Only the lengths
/// may leak, which a fixed-size provisioned token makes uninteresting.
pub fn token_matches(expected: &[u8], presented: &[u8]) -> bool {
    bool::from(expected.ct_eq(presented))
}

/// Checks a handshake line against the provisioned token. An absent or empty provisioned token
/// refuses every attempt: there is no built-in default.
pub fn check_auth(line: &str, provisioned: Option<&[u8]>) -> Result<(), AuthRefusal> {
    let token = match parse(line) {
        Ok(Command::Auth { token }) => token,
        _ => return Err(AuthRefusal::ExpectedToken),
    };
    match provisioned {
        Some(expected) if !expected.is_empty() && token_matches(expected, token.as_bytes()) => {
            Ok(())
        }
        _ => Err(AuthRefusal::InvalidToken),
    }
}
