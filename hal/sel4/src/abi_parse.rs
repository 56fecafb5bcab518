//! Extraction of enumerator values from preprocessed C (the generated libsel4 headers after
//! `cc -E`). Shared by `build.rs` and the library so the parser is unit-tested on the host.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

/// Every enumerator of every `enum { ... }` in `text`, with C's numbering rules: an explicit
/// `= value` (a decimal or hex literal, possibly negative, or an earlier enumerator's name)
/// sets the value; otherwise it is one more than the previous enumerator.
pub fn enum_values(text: &str) -> BTreeMap<String, i64> {
    let mut values = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("enum") {
        let after = &rest[start + 4..];
        let (Some(open), Some(close)) = (after.find('{'), after.find('}')) else {
            break;
        };
        if open > close {
            rest = &after[close + 1..];
            continue;
        }
        let body = &after[open + 1..close];
        let mut next: i64 = 0;
        for item in body.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), eval(v.trim(), &values).unwrap_or(next)),
                None => (item, next),
            };
            if is_ident(name) {
                values.insert(name.to_string(), value);
            }
            next = value + 1;
        }
        rest = &after[close + 1..];
    }
    values
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn eval(expr: &str, known: &BTreeMap<String, i64>) -> Option<i64> {
    let expr = expr
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    if let Some(neg) = expr.strip_prefix('-') {
        return eval(neg, known).map(|v| -v);
    }
    let digits = expr.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Ok(v) = digits.parse::<i64>() {
        return Some(v);
    }
    known.get(expr).copied()
}
