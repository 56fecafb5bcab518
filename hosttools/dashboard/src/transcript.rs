//! Transcript lines (docs/interfaces.md §11) and audit lines (`/log/queen.log`): one event per
//! line as `key=value` tokens, values optionally double-quoted with `\"` and `\\` escapes.

use std::fmt;

/// Longest line accepted; anything longer is refused rather than half-parsed.
pub const LINE_MAX: usize = 4096;

/// One parsed event line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Event time in microseconds (virtual time for transcripts, hive time for audit lines).
    pub t_us: u64,
    pub hive: String,
    pub src: String,
    pub ev: String,
    /// The remaining `key=value` pairs, in line order.
    pub fields: Vec<(String, String)>,
}

impl Record {
    /// The value of the first field named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as an unsigned number.
    pub fn num(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }

    pub fn t_ms(&self) -> u64 {
        self.t_us / 1000
    }

    /// The line again, in canonical form (six-decimal seconds, quoted where needed).
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "t={}.{:06} hive={} src={} ev={}",
            self.t_us / 1_000_000,
            self.t_us % 1_000_000,
            quote(&self.hive),
            quote(&self.src),
            quote(&self.ev)
        );
        for (k, v) in &self.fields {
            kv::push_pair(&mut line, k, v, kv::Style::Log);
        }
        line
    }

    /// The fields after `ev`, as shown in the audit panel.
    pub fn summary(&self) -> String {
        let mut out = self.ev.clone();
        for (k, v) in &self.fields {
            kv::push_pair(&mut out, k, v, kv::Style::Log);
        }
        out
    }
}

/// Why a line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    TooLong,
    Empty,
    /// A token without `=`, or with an empty key, at this byte column.
    BadToken(usize),
    UnterminatedQuote(usize),
    Missing(&'static str),
    BadTime,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "line longer than {LINE_MAX} bytes"),
            ParseError::Empty => write!(f, "empty line"),
            ParseError::BadToken(col) => write!(f, "token without key=value at column {col}"),
            ParseError::UnterminatedQuote(col) => write!(f, "unterminated quote at column {col}"),
            ParseError::Missing(key) => write!(f, "missing {key}="),
            ParseError::BadTime => write!(f, "t= is not a time"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Splits a line into `key=value` pairs (the shared `kv` parser, bounded by [`LINE_MAX`]).
pub fn tokenize(line: &str) -> Result<Vec<(String, String)>, ParseError> {
    if line.len() > LINE_MAX {
        return Err(ParseError::TooLong);
    }
    kv::pairs(line).map_err(|e| match e {
        kv::KvError::BadToken(col) => ParseError::BadToken(col),
        kv::KvError::UnterminatedQuote(col) => ParseError::UnterminatedQuote(col),
    })
}

/// Quotes a value unless it is a plain token: the log style the hive's audit writer and the
/// simulator's transcripts use.
pub fn quote(value: &str) -> String {
    kv::quote(value, kv::Style::Log).into_owned()
}

/// Parses `t=` seconds with up to six decimals into microseconds.
pub fn parse_secs(text: &str) -> Result<u64, ParseError> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadTime);
    }
    let secs: u64 = whole.parse().map_err(|_| ParseError::BadTime)?;
    let mut micros: u64 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(6) {
        micros = micros * 10 + u64::from(b - b'0');
    }
    secs.checked_mul(1_000_000)
        .and_then(|s| s.checked_add(micros))
        .ok_or(ParseError::BadTime)
}

/// Parses one transcript line: `t=<secs> hive=<h> src=<host> ev=<event> k=v ...`.
pub fn parse_line(line: &str) -> Result<Record, ParseError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut pairs = tokenize(line)?;
    let t = take(&mut pairs, "t").ok_or(ParseError::Missing("t"))?;
    let t_us = parse_secs(&t)?;
    let hive = take(&mut pairs, "hive").ok_or(ParseError::Missing("hive"))?;
    let src = take(&mut pairs, "src").unwrap_or_default();
    let ev = take(&mut pairs, "ev").ok_or(ParseError::Missing("ev"))?;
    Ok(Record {
        t_us,
        hive,
        src,
        ev,
        fields: pairs,
    })
}

/// Parses one audit line from `/log/queen.log`: `t=<ms> ev=<event> k=v ...`.
pub fn parse_audit_line(line: &str, hive: &str) -> Result<Record, ParseError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut pairs = tokenize(line)?;
    let t = take(&mut pairs, "t").ok_or(ParseError::Missing("t"))?;
    let t_ms: u64 = t.parse().map_err(|_| ParseError::BadTime)?;
    let ev = take(&mut pairs, "ev").ok_or(ParseError::Missing("ev"))?;
    Ok(Record {
        t_us: t_ms.saturating_mul(1000),
        hive: hive.to_string(),
        src: String::from("queen"),
        ev,
        fields: pairs,
    })
}

fn take(pairs: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let at = pairs.iter().position(|(k, _)| k == key)?;
    Some(pairs.remove(at).1)
}

/// A parsed transcript: records in file order plus every refused line with its number, so a
/// damaged transcript still replays and says exactly what it skipped.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    pub records: Vec<Record>,
    pub rejected: Vec<(usize, ParseError)>,
}

impl Transcript {
    /// Blank lines and `#` comments are skipped silently; other bad lines are reported.
    pub fn parse(text: &str) -> Self {
        let mut out = Transcript::default();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Ok(record) => out.records.push(record),
                Err(e) => out.rejected.push((n + 1, e)),
            }
        }
        // Stable: equal times keep file order (the writer's sequence number).
        out.records.sort_by_key(|r| r.t_us);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line() {
        let r = parse_line("t=000012.345 hive=a src=site3 ev=worker.online id=w0412 note=\"x y\"")
            .unwrap();
        assert_eq!(r.t_us, 12_345_000);
        assert_eq!(r.hive, "a");
        assert_eq!(r.src, "site3");
        assert_eq!(r.ev, "worker.online");
        assert_eq!(r.get("id"), Some("w0412"));
        assert_eq!(r.get("note"), Some("x y"));
    }

    #[test]
    fn quoted_escapes_round_trip() {
        let r = parse_line(r#"t=1.5 hive=h src=s ev=e v="a \"b\" \\c""#).unwrap();
        assert_eq!(r.get("v"), Some(r#"a "b" \c"#));
        assert_eq!(parse_line(&r.to_line()).unwrap(), r);
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(parse_line("hive=a ev=x"), Err(ParseError::Missing("t")));
        assert_eq!(parse_line("t=x hive=a ev=x"), Err(ParseError::BadTime));
        assert_eq!(parse_line("t=1 hive=a ev"), Err(ParseError::BadToken(11)));
        assert_eq!(
            parse_line("t=1 hive=a ev=x v=\"open"),
            Err(ParseError::UnterminatedQuote(18))
        );
        assert_eq!(parse_line(&"x".repeat(5000)), Err(ParseError::TooLong));
    }

    #[test]
    fn transcript_keeps_going_past_bad_lines() {
        let t = Transcript::parse("# c\nt=2 hive=a ev=b\nnonsense\nt=1 hive=a ev=a\n\n");
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.records[0].ev, "a");
        assert_eq!(t.rejected, vec![(3, ParseError::BadToken(0))]);
    }

    #[test]
    fn audit_lines_use_milliseconds() {
        let r =
            parse_audit_line("t=1500 ev=worker id=w0001 state=ONLINE reason=attach", "h").unwrap();
        assert_eq!(r.t_us, 1_500_000);
        assert_eq!(r.ev, "worker");
        assert_eq!(r.get("state"), Some("ONLINE"));
    }
}
