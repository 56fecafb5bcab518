//! Console replies: the `OK <VERB> k=v ...` / `ERR <VERB> reason=... k=v ...` status line, and a
//! whole response (lines before the status, the status, streamed data up to `END`).

use crate::error::{ClientError, Refusal};

/// The streaming verbs: their `OK` line is followed by data lines and `END`.
pub const STREAMING: [&str; 4] = ["LS", "CAT", "TAIL", "LOG"];

/// One parsed status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    /// The verb label, upper case (`ATTACH`, `ECHO`, `FRAME`, ...).
    pub verb: String,
    /// Every `k=v` in order, values unquoted.
    pub fields: Vec<(String, String)>,
    /// The line as received.
    pub line: String,
}

impl Reply {
    /// Parses a status line; `None` when the line is not `OK ...` or `ERR ...`.
    pub fn parse(line: &str) -> Option<Reply> {
        let (ok, rest) = if let Some(rest) = line.strip_prefix("OK") {
            (true, rest)
        } else {
            (false, line.strip_prefix("ERR")?)
        };
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        let rest = rest.trim_start();
        let (verb, pairs) = rest.split_once(' ').unwrap_or((rest, ""));
        Some(Reply {
            ok,
            verb: verb.to_string(),
            fields: parse_pairs(pairs),
            line: line.to_string(),
        })
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn reason(&self) -> Option<&str> {
        self.field("reason")
    }

    pub fn detail(&self) -> Option<&str> {
        self.field("detail")
    }

    /// Whether data lines and `END` follow this line.
    pub fn streams(&self) -> bool {
        self.ok && STREAMING.contains(&self.verb.as_str())
    }

    /// The refusal an `ERR` line states (`None` for `OK`).
    pub fn refusal(&self) -> Option<Refusal> {
        if self.ok {
            return None;
        }
        let reason = self.reason().unwrap_or("invalid");
        let rest: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(k, _)| k != "reason" && k != "detail")
            .cloned()
            .collect();
        Some(Refusal::console(&self.verb, reason, self.detail(), rest))
    }
}

/// A whole response to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Lines before the status line (`PONG`, help text).
    pub preamble: Vec<String>,
    pub reply: Reply,
    /// Data lines of a streaming reply, without `END`.
    pub data: Vec<String>,
}

impl Response {
    pub fn ok(&self) -> bool {
        self.reply.ok
    }

    /// The response as an error when the hive refused.
    pub fn into_result(self) -> Result<Response, ClientError> {
        match self.reply.refusal() {
            Some(refusal) => Err(ClientError::Refused(refusal)),
            None => Ok(self),
        }
    }

    /// Every line in wire order, `END` included for streams, as the original console prints.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = self.preamble.clone();
        lines.push(self.reply.line.clone());
        lines.extend(self.data.iter().cloned());
        if self.reply.streams() {
            lines.push(String::from("END"));
        }
        lines
    }
}

/// Splits `k=v k2="v 2"` into pairs; a word without `=` is kept with an empty key.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find(['=', ' ']).unwrap_or(rest.len());
        if rest[key_end..].starts_with('=') {
            let key = &rest[..key_end];
            let (value, after) = take_value(&rest[key_end + 1..]);
            pairs.push((key.to_string(), value));
            rest = after.trim_start();
        } else {
            pairs.push((String::new(), rest[..key_end].to_string()));
            rest = rest[key_end..].trim_start();
        }
    }
    pairs
}

/// One value, as the shared `kv` parser reads it (the inverse of `console::quote`). An
/// unterminated quote keeps what it had; the line is the hive's, not ours to refuse.
fn take_value(text: &str) -> (String, &str) {
    kv::take_value(text).unwrap_or_else(|kv::Unterminated(value)| (value, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ok_and_err_lines() {
        let ok = Reply::parse("OK ECHO path=/queen/ctl bytes=12").unwrap();
        assert!(ok.ok);
        assert_eq!(ok.verb, "ECHO");
        assert_eq!(ok.field("bytes"), Some("12"));
        let err = Reply::parse("ERR ATTACH reason=policy detail=perm delay_ms=250").unwrap();
        let refusal = err.refusal().unwrap();
        assert_eq!(refusal.reason, "policy");
        assert_eq!(refusal.detail.as_deref(), Some("perm"));
        assert_eq!(refusal.field("delay_ms"), Some("250"));
        assert_eq!(Reply::parse("OK").unwrap().verb, "");
        assert!(Reply::parse("OKAY X").is_none());
        assert!(Reply::parse("PONG").is_none());
    }

    #[test]
    fn unquotes_values() {
        let r = Reply::parse(r#"OK SPAWN payload="a \"b\" c\n" bytes=3"#).unwrap();
        assert_eq!(r.field("payload"), Some("a \"b\" c\n"));
        assert_eq!(r.field("bytes"), Some("3"));
        let bare = Reply::parse(r#"OK SPAWN payload={"spawn":"heartbeat"} bytes=21"#).unwrap();
        assert_eq!(bare.field("payload"), Some(r#"{"spawn":"heartbeat"}"#));
    }

    #[test]
    fn round_trips_console_quoting() {
        for value in [
            "plain",
            "two words",
            "q\"uote",
            "back\\slash",
            "",
            "line\nbreak",
        ] {
            let line = console::Reply::ok("X", &[("k", value), ("n", "1")]);
            let parsed = Reply::parse(&line).unwrap();
            assert_eq!(parsed.field("k"), Some(value), "{line}");
            assert_eq!(parsed.field("n"), Some("1"));
        }
    }

    #[test]
    fn response_lines_put_end_after_streams() {
        let response = Response {
            preamble: vec![],
            reply: Reply::parse("OK LS path=/ lines=1").unwrap(),
            data: vec!["proc".into()],
        };
        assert_eq!(response.lines(), ["OK LS path=/ lines=1", "proc", "END"]);
    }

    proptest::proptest! {
        #[test]
        fn status_lines_are_recognised_exactly(line in "(OK|ERR|OKAY|ER|)( ?)\\PC{0,80}") {
            // The model: a status line is `OK` or `ERR`, alone or followed by a space.
            let status = ["OK", "ERR"].iter().any(|w| {
                line.strip_prefix(w).is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
            });
            let parsed = Reply::parse(&line);
            proptest::prop_assert_eq!(parsed.is_some(), status, "{:?}", line);
            if let Some(reply) = parsed {
                proptest::prop_assert_eq!(reply.ok, line.starts_with("OK"));
                proptest::prop_assert_eq!(&reply.line, &line);
                proptest::prop_assert!(!reply.verb.contains(' '));
                // Every bare word and `k=v` after the verb is kept, in order.
                let words = line.split(' ').filter(|w| !w.is_empty()).count();
                let plain = |c: char| c != '"' && (c == ' ' || !c.is_whitespace());
                if line.chars().all(plain) {
                    proptest::prop_assert_eq!(reply.fields.len() + 2, words.max(2));
                }
            }
            let _ = parse_pairs(&line);
        }
    }
}
