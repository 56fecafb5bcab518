use core::fmt;

/// The named refusals of the whole core. Each maps one-to-one onto a 9P errno and a console
/// `reason=`; no other error classes cross a wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Error {
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

impl Error {
    pub const ALL: [Error; 9] = [
        Error::Perm,
        Error::NotFound,
        Error::Busy,
        Error::TooBig,
        Error::Quota,
        Error::Closed,
        Error::Invalid,
        Error::Cut,
        Error::Unsupported,
    ];

    /// Linux errno carried in `Rlerror`.
    pub fn errno(self) -> u32 {
        match self {
            Error::Perm => 1,
            Error::NotFound => 2,
            Error::Closed => 9,
            Error::Busy => 16,
            Error::Invalid => 22,
            Error::TooBig => 90,
            Error::Unsupported => 95,
            Error::Cut => 107,
            Error::Quota => 122,
        }
    }

    /// The inverse of `errno`; unknown numbers read as `Invalid`.
    pub fn from_errno(errno: u32) -> Error {
        Error::ALL
            .into_iter()
            .find(|e| e.errno() == errno)
            .unwrap_or(Error::Invalid)
    }

    /// Console `reason=` value (docs/interfaces.md §1.3).
    pub fn reason(self) -> &'static str {
        match self {
            Error::Busy => "busy",
            Error::Quota => "quota",
            Error::Cut => "cut",
            Error::Perm | Error::Closed => "policy",
            Error::Unsupported => "unsupported",
            Error::NotFound | Error::TooBig | Error::Invalid => "invalid",
        }
    }

    /// Short stable name used in audit lines and console `detail=` tags.
    pub fn name(self) -> &'static str {
        match self {
            Error::Perm => "perm",
            Error::NotFound => "not-found",
            Error::Busy => "busy",
            Error::TooBig => "too-big",
            Error::Quota => "quota",
            Error::Closed => "closed",
            Error::Invalid => "invalid",
            Error::Cut => "cut",
            Error::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        for e in Error::ALL {
            assert_eq!(Error::from_errno(e.errno()), e);
        }
    }
}
