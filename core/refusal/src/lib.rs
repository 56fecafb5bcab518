//! The core's named refusals (docs/interfaces.md §1.3): every bound, budget and policy check
//! in the core that says no says it with one of these, and each maps one-to-one onto a 9P
//! errno, a console `reason=` and an audit `detail=` name. They live in their own crate, below
//! Secure9P, because they are the whole core's vocabulary, not a detail of one protocol
//! (`secure9p::Error` re-exports this type under its historical name).
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

/// The named refusals of the whole core. Each maps one-to-one onto a 9P errno and a console
/// `reason=`; no other error classes cross a wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refusal {
    /// Visible but not permitted (EPERM).
    Perm,
    /// Absent from this session's view (ENOENT).
    NotFound,
    /// A bounded queue or table is momentarily full (EBUSY).
    Busy,
    /// A message, name, record or walk exceeds its bound (EMSGSIZE).
    TooBig,
    /// A budget or quota is exhausted (EDQUOT).
    Quota,
    /// The session or fid is closed or revoked (EBADF).
    Closed,
    /// Malformed or contradictory input (EINVAL).
    Invalid,
    /// The node is cut off from its authority (ENOTCONN).
    Cut,
    /// Not part of the served subset (EOPNOTSUPP).
    Unsupported,
}

impl Refusal {
    pub const ALL: [Refusal; 9] = [
        Refusal::Perm,
        Refusal::NotFound,
        Refusal::Busy,
        Refusal::TooBig,
        Refusal::Quota,
        Refusal::Closed,
        Refusal::Invalid,
        Refusal::Cut,
        Refusal::Unsupported,
    ];

    /// Linux errno carried in `Rlerror`.
    pub fn errno(self) -> u32 {
        match self {
            Refusal::Perm => 1,
            Refusal::NotFound => 2,
            Refusal::Closed => 9,
            Refusal::Busy => 16,
            Refusal::Invalid => 22,
            Refusal::TooBig => 90,
            Refusal::Unsupported => 95,
            Refusal::Cut => 107,
            Refusal::Quota => 122,
        }
    }

    /// The inverse of `errno`; unknown numbers read as `Invalid`.
    pub fn from_errno(errno: u32) -> Refusal {
        Refusal::ALL
            .into_iter()
            .find(|e| e.errno() == errno)
            .unwrap_or(Refusal::Invalid)
    }

    /// Console `reason=` value (docs/interfaces.md §1.3).
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Busy => "busy",
            Refusal::Quota => "quota",
            Refusal::Cut => "cut",
            Refusal::Perm | Refusal::Closed => "policy",
            Refusal::Unsupported => "unsupported",
            Refusal::NotFound | Refusal::TooBig | Refusal::Invalid => "invalid",
        }
    }

    /// Short stable name used in audit lines and console `detail=` tags.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Perm => "perm",
            Refusal::NotFound => "not-found",
            Refusal::Busy => "busy",
            Refusal::TooBig => "too-big",
            Refusal::Quota => "quota",
            Refusal::Closed => "closed",
            Refusal::Invalid => "invalid",
            Refusal::Cut => "cut",
            Refusal::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        for e in Refusal::ALL {
            assert_eq!(Refusal::from_errno(e.errno()), e);
        }
    }
}
