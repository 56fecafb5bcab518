//! Streaming replies: `OK <VERB> path=... lines=<n> [truncated=<m>] [clipped=<k>]`, the data
//! lines, then `END`. Replies are bounded by `stream_lines_max` lines and every data line fits
//! one frame; whatever was cut is counted in the `OK` line, never dropped silently.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use secure9p::Error;

use super::{refuse, ConsoleBackend, ConsoleSession, Outcome};
use crate::frame::PREFIX_LEN;
use crate::grammar::{Reply, Verb};

/// Which end of an over-long reply survives the cap.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Listings and file reads keep their beginning.
    First,
    /// Tails keep the newest lines, so the returned cursor still follows the last line sent.
    Last,
}

impl ConsoleSession {
    pub(super) fn listing<B: ConsoleBackend>(
        &mut self,
        verb: Verb,
        path: &str,
        backend: &mut B,
    ) -> Outcome {
        let result = match verb {
            Verb::Ls => backend.ls(path),
            _ => backend.cat(path),
        };
        match result {
            Ok(lines) => self.stream(verb, &[("path", path)], lines, Keep::First),
            Err(error) => self.stream_refusal(verb, path, error, backend),
        }
    }

    pub(super) fn tail<B: ConsoleBackend>(
        &mut self,
        verb: Verb,
        path: &str,
        cursor: Option<u64>,
        backend: &mut B,
    ) -> Outcome {
        match backend.tail(path, cursor) {
            Ok((lines, next)) => {
                let next = next.to_string();
                self.stream(
                    verb,
                    &[("path", path), ("cursor", &next)],
                    lines,
                    Keep::Last,
                )
            }
            Err(error) => self.stream_refusal(verb, path, error, backend),
        }
    }

    fn stream_refusal<B: ConsoleBackend>(
        &mut self,
        verb: Verb,
        path: &str,
        error: Error,
        backend: &mut B,
    ) -> Outcome {
        Outcome::line(refuse(
            backend,
            verb.label(),
            error,
            error.name(),
            &[("path", path)],
        ))
    }

    fn stream(
        &self,
        verb: Verb,
        head: &[(&str, &str)],
        mut lines: Vec<String>,
        keep: Keep,
    ) -> Outcome {
        let cap = self.limits.stream_lines_max as usize;
        let truncated = lines.len().saturating_sub(cap);
        if truncated > 0 {
            match keep {
                Keep::First => lines.truncate(cap),
                Keep::Last => {
                    lines.drain(..truncated);
                }
            }
        }
        let line_max = (self.limits.frame_max as usize)
            .saturating_sub(PREFIX_LEN)
            .max(1);
        let mut clipped = 0usize;
        for line in &mut lines {
            clipped += usize::from(fit_line(line, line_max));
        }
        let count = lines.len().to_string();
        let truncated = truncated.to_string();
        let clipped_text = clipped.to_string();
        let mut keys: Vec<(&str, &str)> = head.to_vec();
        keys.push(("lines", &count));
        if truncated != "0" {
            keys.push(("truncated", &truncated));
        }
        if clipped > 0 {
            keys.push(("clipped", &clipped_text));
        }
        let mut out = Vec::with_capacity(lines.len() + 2);
        out.push(Reply::ok(verb.label(), &keys));
        out.append(&mut lines);
        out.push(Reply::END.to_string());
        Outcome {
            lines: out,
            close: false,
        }
    }
}

/// Makes a data line safe for one frame: control characters (line breaks included) become
/// U+FFFD, and a line over `max` bytes is cut at a character boundary. Returns true if cut.
fn fit_line(line: &mut String, max: usize) -> bool {
    if line.chars().any(|c| c.is_control() && c != '\t') {
        *line = line
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect();
    }
    if line.len() <= max {
        return false;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_line_cuts_on_char_boundary() {
        let mut line = String::from("aéé");
        assert!(fit_line(&mut line, 4));
        assert_eq!(line, "aé");
        let mut line = String::from("a\nb");
        assert!(!fit_line(&mut line, 16));
        assert_eq!(line, "a\u{FFFD}b");
    }
}
