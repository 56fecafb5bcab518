//! `.coh` scripts: cohsh commands interleaved with expectations and waits, one per line.
//!
//! ```text
//! # a comment
//! attach queen
//! EXPECT OK
//! cat /proc/nope
//! EXPECT ERR reason=invalid
//! WAIT 500
//! ```
//! An `EXPECT` checks the reply of the nearest command above it.

use core::fmt;

use crate::command::{parse_command, Command};
use crate::reply::Reply;

/// Longest single wait, so a typo cannot stall a regression run for hours.
pub const WAIT_MAX_MS: u64 = 600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Run {
        line: usize,
        command: Command,
        text: String,
    },
    ExpectOk {
        line: usize,
    },
    ExpectErr {
        line: usize,
        reason: Option<String>,
    },
    Wait {
        line: usize,
        ms: u64,
    },
}

impl Step {
    /// The 1-based line of the script this step came from.
    pub fn line(&self) -> usize {
        match self {
            Step::Run { line, .. }
            | Step::ExpectOk { line }
            | Step::ExpectErr { line, .. }
            | Step::Wait { line, .. } => *line,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Parses a whole script; the first bad line is reported with its number.
pub fn parse_script(src: &str) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    let mut seen_command = false;
    for (index, raw) in src.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fail = |message: String| ScriptError { line, message };
        let step = if let Some(rest) = keyword(text, "EXPECT") {
            if !seen_command {
                return Err(fail("EXPECT before any command".into()));
            }
            parse_expect(rest, line).map_err(fail)?
        } else if let Some(rest) = keyword(text, "WAIT") {
            Step::Wait {
                line,
                ms: parse_wait(rest).map_err(fail)?,
            }
        } else {
            seen_command = true;
            Step::Run {
                line,
                command: parse_command(text).map_err(|e| fail(e.to_string()))?,
                text: text.to_string(),
            }
        };
        steps.push(step);
    }
    Ok(steps)
}

/// `EXPECT`/`WAIT` are upper case so they never collide with a command.
fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

fn parse_expect(rest: &str, line: usize) -> Result<Step, String> {
    let mut words = rest.split_whitespace();
    let step = match words.next() {
        Some("OK") => Step::ExpectOk { line },
        Some("ERR") => {
            let reason = match words.next() {
                None => None,
                Some(word) => match word.strip_prefix("reason=") {
                    Some(reason) if !reason.is_empty() => Some(reason.to_string()),
                    _ => return Err(format!("expected `reason=<class>`, found `{word}`")),
                },
            };
            Step::ExpectErr { line, reason }
        }
        _ => return Err("usage: EXPECT OK | EXPECT ERR [reason=<class>]".into()),
    };
    match words.next() {
        Some(extra) => Err(format!("unexpected `{extra}` after the expectation")),
        None => Ok(step),
    }
}

fn parse_wait(rest: &str) -> Result<u64, String> {
    let ms = rest
        .strip_suffix("ms")
        .unwrap_or(rest)
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("usage: WAIT <milliseconds>, not `WAIT {rest}`"))?;
    if ms > WAIT_MAX_MS {
        return Err(format!("WAIT {ms} is over the {WAIT_MAX_MS} ms limit"));
    }
    Ok(ms)
}

/// Checks an expectation against the reply of the command before it. `Run` and `Wait`
/// steps carry no expectation and always pass.
pub fn check(step: &Step, reply: &Reply) -> Result<(), String> {
    match step {
        Step::ExpectOk { line } if !reply.ok => Err(format!(
            "line {line}: expected OK, got ERR {} reason={}",
            reply.label,
            reply.reason.as_deref().unwrap_or("?")
        )),
        Step::ExpectErr { line, .. } if reply.ok => {
            Err(format!("line {line}: expected ERR, got OK {}", reply.label))
        }
        Step::ExpectErr {
            line,
            reason: Some(want),
        } if reply.reason.as_deref() != Some(want.as_str()) => Err(format!(
            "line {line}: expected ERR reason={want}, got reason={}",
            reply.reason.as_deref().unwrap_or("none")
        )),
        _ => Ok(()),
    }
}
