//! What cohsh prints: the reply lines as the console wrote them, or one JSON object per reply
//! (`--json`) for scripts and other programs.

use std::io::Write;

use client::{ClientError, Response};
use serde_json::{json, Map, Value};

/// Where and how replies are printed.
pub struct Printer<W: Write> {
    out: W,
    json: bool,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, json: bool) -> Self {
        Self { out, json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// One reply to `command`.
    pub fn response(&mut self, command: &str, response: &Response) {
        if self.json {
            self.json_line(&response_json(command, response));
        } else {
            for line in response.lines() {
                self.text(&line);
            }
        }
    }

    /// A failure that produced no reply (connection lost, timeout).
    pub fn failure(&mut self, command: &str, error: &ClientError) {
        if self.json {
            self.json_line(&error_json(command, error));
        } else {
            self.text(&format!("error: {error}"));
        }
    }

    /// A line of text (ignored in JSON mode unless it is a JSON value).
    pub fn text(&mut self, line: &str) {
        // A closed stdout (a pipe to `head`) ends output, not the session.
        let _ = writeln!(self.out, "{line}");
    }

    pub fn json_line(&mut self, value: &Value) {
        let _ = writeln!(self.out, "{value}");
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// `{"command", "ok", "verb", "fields", "reason", "detail", "errno", "lines", "preamble"}`.
pub fn response_json(command: &str, response: &Response) -> Value {
    let reply = &response.reply;
    let mut fields = Map::new();
    for (k, v) in &reply.fields {
        fields.insert(k.clone(), Value::from(v.as_str()));
    }
    let refusal = reply.refusal();
    json!({
        "command": command,
        "ok": reply.ok,
        "verb": reply.verb,
        "status": reply.line,
        "fields": fields,
        "reason": reply.reason(),
        "detail": reply.detail(),
        "errno": refusal.map(|r| r.class.errno()),
        "preamble": response.preamble,
        "lines": response.data,
    })
}

/// `{"command", "ok": false, "error", "reason", "errno"}` for failures without a reply.
pub fn error_json(command: &str, error: &ClientError) -> Value {
    json!({
        "command": command,
        "ok": false,
        "error": error.to_string(),
        "reason": error.reason(),
        "errno": error.errno(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::Reply;

    #[test]
    fn json_carries_reason_and_errno() {
        let response = Response {
            preamble: vec![],
            reply: Reply::parse("ERR CAT reason=invalid detail=not-found path=/x").unwrap(),
            data: vec![],
        };
        let value = response_json("cat /x", &response);
        assert_eq!(value["ok"], false);
        assert_eq!(value["reason"], "invalid");
        assert_eq!(value["errno"], 2);
        assert_eq!(value["fields"]["path"], "/x");

        let mut printer = Printer::new(Vec::new(), false);
        printer.response("cat /x", &response);
        let text = String::from_utf8(printer.into_inner()).unwrap();
        assert_eq!(text, "ERR CAT reason=invalid detail=not-found path=/x\n");
    }
}
