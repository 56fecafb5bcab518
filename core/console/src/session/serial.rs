//! Serial output: `\r\n` line endings and the `cohesix> ` prompt after every reply.

use alloc::string::String;

use super::Outcome;

/// The serial console prompt.
pub const SERIAL_PROMPT: &str = "cohesix> ";

/// Renders an outcome for the serial console: each line ended by `\r\n`, then the prompt
/// unless the session is closing (the pump then starts a fresh serial session and prompts).
pub fn serial_render(outcome: &Outcome) -> String {
    let size: usize = outcome.lines.iter().map(|l| l.len() + 2).sum();
    let mut out = String::with_capacity(size + SERIAL_PROMPT.len());
    for line in &outcome.lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
    if !outcome.close {
        out.push_str(SERIAL_PROMPT);
    }
    out
}
