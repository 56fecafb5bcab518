//! `key=value` lines: the one format every line the hive writes for people and tools uses —
//! audit lines (`/log/queen.log`), console replies, simulator transcripts — and the one parser
//! the host tools read them back with (docs/interfaces.md §11).
//!
//! A value is written bare when it cannot be misread, otherwise double-quoted with `"` and `\`
//! escaped. When "cannot be misread" holds is a [`Style`]: log lines keep only plain ASCII
//! tokens bare, console replies keep anything without white space bare (JSON payloads stay
//! readable, as the original console printed them). Both styles read back with [`take_value`]
//! and [`pairs`].
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// When a value may be written bare, and what happens to control characters inside quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Audit lines, transcripts and the dashboard: bare only when the value is a non-empty run
    /// of printable ASCII without `"`, `\` or `=`, so `grep key=value` and naive splitters
    /// never misread a line. Control characters become spaces: one record is one line.
    Log,
    /// Console replies: bare when non-empty, free of white space and control characters and
    /// not starting with `"`, so `{"kill":"w1"}` stays bare. Line breaks are escaped as
    /// `\n`/`\r` (a script may want them back); other control characters become spaces.
    Reply,
}

impl Style {
    /// Whether `value` is written as it is.
    pub fn is_bare(self, value: &str) -> bool {
        if value.is_empty() {
            return false;
        }
        match self {
            Style::Log => value
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' && c != '='),
            Style::Reply => {
                !value.starts_with('"')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }
        }
    }
}

/// Appends `value` as it appears after `key=`.
pub fn push_value(out: &mut String, value: &str, style: Style) {
    if style.is_bare(value) {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' if style == Style::Reply => out.push_str("\\n"),
            '\r' if style == Style::Reply => out.push_str("\\r"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `value` as it appears after `key=`; borrowed when it is written bare.
pub fn quote(value: &str, style: Style) -> Cow<'_, str> {
    if style.is_bare(value) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    push_value(&mut out, value, style);
    Cow::Owned(out)
}

/// Appends ` key=value` (with the leading space that separates pairs).
pub fn push_pair(out: &mut String, key: &str, value: &str, style: Style) {
    out.push(' ');
    out.push_str(key);
    out.push('=');
    push_value(out, value, style);
}

/// A quote that never closed: the value read up to the end of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated(pub String);

/// Reads one value at the start of `text`: bare up to the next space or tab, or double-quoted
/// with `\"`, `\\`, `\n` and `\r` undone (any other `\x` reads as `x`). Returns the value and
/// the text after it.
pub fn take_value(text: &str) -> Result<(String, &str), Unterminated> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find([' ', '\t']).unwrap_or(text.len());
        return Ok((String::from(&text[..end]), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &quoted[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err(Unterminated(value))
}

/// Why [`pairs`] refused a line; the number is the byte column where the trouble starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvError {
    /// A token without `=`, or with an empty key.
    BadToken(usize),
    UnterminatedQuote(usize),
}

/// Splits a whole line of `key=value` tokens (separated by spaces or tabs) into pairs, in order.
pub fn pairs(line: &str) -> Result<Vec<(String, String)>, KvError> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Ok(out);
        }
        let column = line.len() - rest.len();
        let key_end = rest.find(['=', ' ', '\t']).unwrap_or(rest.len());
        if key_end == 0 || !rest[key_end..].starts_with('=') {
            return Err(KvError::BadToken(column));
        }
        let value_at = &rest[key_end + 1..];
        let (value, after) = take_value(value_at)
            .map_err(|_| KvError::UnterminatedQuote(line.len() - value_at.len()))?;
        out.push((String::from(&rest[..key_end]), value));
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_style_quotes_all_but_plain_tokens() {
        assert_eq!(quote("w1", Style::Log), "w1");
        assert_eq!(quote("", Style::Log), "\"\"");
        assert_eq!(quote("a=b", Style::Log), "\"a=b\"");
        assert_eq!(quote("a b\n\"c\"", Style::Log), "\"a b \\\"c\\\"\"");
        assert_eq!(quote("é", Style::Log), "\"é\"");
    }

    #[test]
    fn reply_style_keeps_json_bare_and_escapes_breaks() {
        assert_eq!(quote(r#"{"kill":"w1"}"#, Style::Reply), r#"{"kill":"w1"}"#);
        assert_eq!(quote(r#""lead"#, Style::Reply), r#""\"lead""#);
        assert_eq!(quote("a\nb", Style::Reply), r#""a\nb""#);
        assert_eq!(quote("", Style::Reply), "\"\"");
    }

    #[test]
    fn bad_lines_are_named_by_column() {
        assert_eq!(pairs("t=1 hive=a ev"), Err(KvError::BadToken(11)));
        assert_eq!(pairs("=x"), Err(KvError::BadToken(0)));
        assert_eq!(
            pairs("t=1 hive=a ev=x v=\"open"),
            Err(KvError::UnterminatedQuote(18))
        );
        assert_eq!(take_value("\"ab"), Err(Unterminated("ab".into())));
    }
}
