//! Reply lines: `OK <VERB> k=v ...`, `ERR <VERB> reason=<r> [detail=<tag>] k=v ...`, `END`,
//! `PONG`. Values that would break the `k=v` split are double-quoted.

use alloc::borrow::Cow;
use alloc::string::String;

use secure9p::Error;

/// The `reason=` of an `ERR` line: an error class, or a protocol tag such as `invalid-token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'a> {
    Error(Error),
    Tag(&'a str),
}

impl Reason<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Error(e) => e.reason(),
            Reason::Tag(tag) => tag,
        }
    }
}

impl From<Error> for Reason<'_> {
    fn from(error: Error) -> Self {
        Reason::Error(error)
    }
}

impl<'a> From<&'a str> for Reason<'a> {
    fn from(tag: &'a str) -> Self {
        Reason::Tag(tag)
    }
}

/// Reply line builders.
pub struct Reply;

impl Reply {
    /// Ends a streaming reply.
    pub const END: &'static str = "END";
    /// The line `ping` answers before its acknowledgement.
    pub const PONG: &'static str = "PONG";

    /// `OK <VERB> k=v ...`
    pub fn ok(verb: &str, kv: &[(&str, &str)]) -> String {
        let mut line = String::from("OK ");
        line.push_str(verb);
        push_pairs(&mut line, kv);
        line
    }

    /// `ERR <VERB> reason=<reason> [detail=<detail>] k=v ...`
    pub fn err<'a>(
        verb: &str,
        reason: impl Into<Reason<'a>>,
        detail: Option<&str>,
        kv: &[(&str, &str)],
    ) -> String {
        let mut line = String::from("ERR ");
        line.push_str(verb);
        push_pairs(&mut line, &[("reason", reason.into().as_str())]);
        if let Some(detail) = detail {
            push_pairs(&mut line, &[("detail", detail)]);
        }
        push_pairs(&mut line, kv);
        line
    }
}

fn push_pairs(line: &mut String, pairs: &[(&str, &str)]) {
    for (key, value) in pairs {
        kv::push_pair(line, key, value, kv::Style::Reply);
    }
}

/// A value as it appears after `k=`, in the reply style of the `key=value` format
/// ([`kv::Style::Reply`]): bare when it is non-empty, has no whitespace or control characters
/// and does not start with `"`; otherwise double-quoted with `"` and `\` escaped and line
/// breaks written as `\n`/`\r`. Bare JSON such as `{"kill":"w1"}` stays bare, as the original
/// console printed it.
pub fn quote(value: &str) -> Cow<'_, str> {
    kv::quote(value, kv::Style::Reply)
}
