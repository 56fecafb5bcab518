//! The status line of a console reply: `OK <VERB> k=v ...` or `ERR <VERB> reason=.. detail=..`.

/// A parsed status line. `fields` keeps every `k=v` pair in order, `reason`/`detail` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    pub label: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl Reply {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A reply built by a transport that has no status lines (Secure9P): an error class
    /// becomes `reason=`, as the console would have written it.
    pub fn synthetic(label: &str, reason: Option<&str>) -> Self {
        Reply {
            ok: reason.is_none(),
            label: label.into(),
            reason: reason.map(Into::into),
            detail: None,
            fields: reason
                .map(|r| vec![("reason".to_string(), r.to_string())])
                .unwrap_or_default(),
        }
    }
}

/// The first `OK`/`ERR` line among a reply's lines (`ping` answers `PONG` first).
pub fn status_line<'a, I: IntoIterator<Item = &'a str>>(lines: I) -> Option<Reply> {
    lines.into_iter().find_map(parse_reply)
}

/// Parses a status line; `None` when the line is not one.
pub fn parse_reply(line: &str) -> Option<Reply> {
    let (ok, rest) = if let Some(rest) = line.strip_prefix("OK ") {
        (true, rest)
    } else if let Some(rest) = line.strip_prefix("ERR ") {
        (false, rest)
    } else {
        return None;
    };
    let (label, mut rest) = match rest.split_once(' ') {
        Some((label, rest)) => (label, rest),
        None => (rest, ""),
    };
    if label.is_empty() {
        return None;
    }
    let mut fields = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (key, after) = rest.split_once('=')?;
        let (value, after) = kv::take_value(after).ok()?;
        fields.push((key.to_string(), value));
        rest = after;
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Some(Reply {
        ok,
        label: label.to_string(),
        reason: get("reason"),
        detail: get("detail"),
        fields,
    })
}
