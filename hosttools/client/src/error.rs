//! Typed client errors. A refusal from the hive keeps its wire identity: the console
//! `reason=`/`detail=` of an `ERR` line, or the errno of a Secure9P `Rlerror`, both mapped onto
//! the one error class of `secure9p::Error`.

use std::fmt;
use std::io;
use std::time::Duration;

use secure9p::Error as Class;

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The hive refused: a console `ERR` line or a Secure9P `Rlerror`.
    #[error("{0}")]
    Refused(Refusal),
    /// Refused on this side before anything was sent (tag window full, fid limit, size).
    #[error("not sent: {0}")]
    Local(Class),
    /// No reply within the call's deadline; the connection is no longer usable.
    #[error("timed out waiting for {op}")]
    Timeout { op: &'static str },
    /// The hive closed the connection.
    #[error("connection closed by the hive")]
    Hangup,
    /// The connection failed at the socket level.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that do not follow the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The error class, when the failure is one of the hive's named refusals.
    pub fn class(&self) -> Option<Class> {
        match self {
            ClientError::Refused(r) => Some(r.class),
            ClientError::Local(class) => Some(*class),
            ClientError::Timeout { .. } | ClientError::Hangup | ClientError::Io(_) => None,
            ClientError::Protocol(_) => Some(Class::Invalid),
        }
    }

    /// The console `reason=` of a refusal (`busy`, `quota`, `policy`, `invalid-token`, ...).
    pub fn reason(&self) -> Option<&str> {
        match self {
            ClientError::Refused(r) => Some(&r.reason),
            ClientError::Local(class) => Some(class.reason()),
            _ => None,
        }
    }

    /// The Linux errno of the refusal (`Rlerror` value, or the class's errno for console
    /// refusals).
    pub fn errno(&self) -> Option<u32> {
        self.class().map(Class::errno)
    }

    /// The refusal itself, if the hive refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ClientError::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// Whether trying the same call again later can succeed: a full queue (`busy`), an
    /// attach back-off, a timeout, or a connection that could not be made. The client never
    /// retries by itself; see `retry`.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Refused(r) => r.class == Class::Busy || r.is_backoff(),
            ClientError::Local(class) => *class == Class::Busy,
            ClientError::Timeout { .. } => true,
            ClientError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::WouldBlock
            ),
            ClientError::Hangup | ClientError::Protocol(_) => false,
        }
    }

    /// How long the hive asked the caller to wait (`delay_ms=` of an attach back-off).
    pub fn retry_after(&self) -> Option<Duration> {
        self.refusal().and_then(Refusal::delay)
    }

    /// Maps an I/O failure of a read or write, turning timeouts into `Timeout`.
    pub(crate) fn from_io(op: &'static str, error: io::Error) -> ClientError {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout { op },
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => ClientError::Hangup,
            _ => ClientError::Io(error),
        }
    }
}

/// A refusal as the hive stated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The console verb label (`ATTACH`, `CAT`, ...) or the Secure9P operation (`walk`, ...).
    pub verb: String,
    /// The console `reason=`; for Secure9P, the class's console reason.
    pub reason: String,
    /// The console `detail=` tag; for Secure9P, the class name (`perm`, `not-found`, ...).
    pub detail: Option<String>,
    /// The error class behind the refusal.
    pub class: Class,
    /// The errno carried by `Rlerror`, when the refusal came over Secure9P.
    pub errno: Option<u32>,
    /// Every other `k=v` of the `ERR` line (`path`, `delay_ms`, ...), in order.
    pub fields: Vec<(String, String)>,
}

impl Refusal {
    /// A Secure9P refusal of `op`.
    pub fn ninep(op: &str, class: Class) -> Self {
        Self {
            verb: op.to_string(),
            reason: class.reason().to_string(),
            detail: Some(class.name().to_string()),
            class,
            errno: Some(class.errno()),
            fields: Vec::new(),
        }
    }

    /// A console refusal; the class comes from the detail when it names one (`detail=perm`),
    /// otherwise from the reason.
    pub fn console(
        verb: &str,
        reason: &str,
        detail: Option<&str>,
        fields: Vec<(String, String)>,
    ) -> Self {
        let class = detail
            .and_then(class_by_name)
            .unwrap_or_else(|| class_by_reason(reason));
        Self {
            verb: verb.to_string(),
            reason: reason.to_string(),
            detail: detail.map(str::to_string),
            class,
            errno: None,
            fields,
        }
    }

    /// A `k=v` of the refusal.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True for an attach refused only because the back-off of earlier failures is running.
    pub fn is_backoff(&self) -> bool {
        self.detail.as_deref() == Some("backoff")
    }

    /// The back-off the hive announced with `delay_ms=`.
    pub fn delay(&self) -> Option<Duration> {
        let ms: u64 = self.field("delay_ms")?.parse().ok()?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused: reason={}", self.verb, self.reason)?;
        if let Some(detail) = &self.detail {
            write!(f, " detail={detail}")?;
        }
        if let Some(errno) = self.errno {
            write!(f, " errno={errno}")?;
        }
        for (k, v) in &self.fields {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

fn class_by_name(name: &str) -> Option<Class> {
    Class::ALL.into_iter().find(|c| c.name() == name)
}

/// The class a console `reason=` stands for. `policy` covers both `Perm` and `Closed`; without
/// a detail naming which, `Perm` is the reading that never suggests a retry.
fn class_by_reason(reason: &str) -> Class {
    match reason {
        "busy" => Class::Busy,
        "quota" => Class::Quota,
        "cut" => Class::Cut,
        "unsupported" => Class::Unsupported,
        "policy" | "invalid-token" | "expected-token" => Class::Perm,
        "invalid-length" => Class::TooBig,
        _ => Class::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_refusals_take_their_class_from_the_detail() {
        let r = Refusal::console("CAT", "policy", Some("closed"), Vec::new());
        assert_eq!(r.class, Class::Closed);
        let r = Refusal::console("ATTACH", "policy", Some("backoff"), Vec::new());
        assert_eq!(r.class, Class::Perm);
        let r = Refusal::console("LS", "invalid", Some("not-found"), Vec::new());
        assert_eq!(ClientError::Refused(r).errno(), Some(2));
    }

    #[test]
    fn ninep_refusals_carry_errno_and_reason() {
        let e = ClientError::Refused(Refusal::ninep("walk", Class::NotFound));
        assert_eq!(e.errno(), Some(2));
        assert_eq!(e.reason(), Some("invalid"));
        assert_eq!(
            e.to_string(),
            "walk refused: reason=invalid detail=not-found errno=2"
        );
    }

    #[test]
    fn only_transient_failures_invite_a_retry() {
        let busy = ClientError::Refused(Refusal::ninep("attach", Class::Busy));
        assert!(busy.is_transient());
        let backoff = Refusal::console(
            "ATTACH",
            "quota",
            Some("backoff"),
            vec![("delay_ms".into(), "250".into())],
        );
        let backoff = ClientError::Refused(backoff);
        assert!(backoff.is_transient());
        assert_eq!(backoff.retry_after(), Some(Duration::from_millis(250)));
        let bad_ticket = Refusal::console(
            "ATTACH",
            "policy",
            Some("perm"),
            vec![("delay_ms".into(), "250".into())],
        );
        assert!(!ClientError::Refused(bad_ticket).is_transient());
        let perm = ClientError::Refused(Refusal::ninep("attach", Class::Perm));
        assert!(!perm.is_transient());
        assert!(!ClientError::Hangup.is_transient());
    }
}
