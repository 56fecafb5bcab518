//! Running `.coh` regression scripts: each command's reply is printed, each `EXPECT` checked
//! against the reply of the command above it, `WAIT` sleeps. Every failed expectation is
//! reported with its line; the run goes on so one report shows them all. A ticket on an
//! `attach` line is never echoed: it is shown as `<ticket>`.

use std::io::Write;
use std::thread;
use std::time::Duration;

use client::Response;
use cohscript::{check, parse_script, ScriptError, Step};
use serde_json::json;

use crate::output::{response_json, Printer};
use crate::session::Session;

/// The outcome of one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptReport {
    pub name: String,
    pub commands: usize,
    pub expectations: usize,
    /// `line N: why`, in script order.
    pub failures: Vec<String>,
}

impl ScriptReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// `NAME: N commands, M expectations, K failed`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} commands, {} expectations, {} failed",
            self.name,
            self.commands,
            self.expectations,
            self.failures.len()
        )
    }
}

/// Parses and runs `src` on `session`, printing as it goes.
pub fn run_script<W: Write>(
    session: &mut Session,
    name: &str,
    src: &str,
    printer: &mut Printer<W>,
) -> Result<ScriptReport, ScriptError> {
    let steps = parse_script(src)?;
    let mut report = ScriptReport {
        name: name.to_string(),
        ..ScriptReport::default()
    };
    let mut last: Option<cohscript::Reply> = None;
    for step in &steps {
        match step {
            Step::Run {
                line,
                command,
                text,
            } => {
                report.commands += 1;
                // What is echoed, printed and reported never carries a ticket.
                let shown = cohscript::redact(text);
                last = run_one(session, *line, command, &shown, printer, &mut report);
            }
            Step::Wait { ms, .. } => thread::sleep(Duration::from_millis(*ms)),
            Step::ExpectOk { line } | Step::ExpectErr { line, .. } => {
                report.expectations += 1;
                let verdict = match &last {
                    Some(reply) => check(step, reply),
                    None => Err(format!("line {line}: no reply to check")),
                };
                record(printer, *line, verdict, &mut report);
            }
        }
    }
    if printer.is_json() {
        printer.json_line(&json!({
            "script": report.name,
            "commands": report.commands,
            "expectations": report.expectations,
            "failures": report.failures,
            "passed": report.passed(),
        }));
    } else {
        printer.text(&report.summary());
    }
    Ok(report)
}

fn run_one<W: Write>(
    session: &mut Session,
    line: usize,
    command: &cohscript::Command,
    text: &str,
    printer: &mut Printer<W>,
    report: &mut ScriptReport,
) -> Option<cohscript::Reply> {
    if !printer.is_json() {
        printer.text(&format!("> {text}"));
    }
    match session.run(command) {
        Ok(response) => {
            print_response(printer, line, text, &response);
            cohscript::parse_reply(&response.reply.line)
        }
        Err(error) => {
            let message = format!("line {line}: {text}: {error}");
            if printer.is_json() {
                printer.json_line(&json!({"line": line, "command": text, "ok": false,
                    "error": error.to_string(), "reason": error.reason(), "errno": error.errno()}));
            } else {
                printer.text(&format!("error: {error}"));
            }
            report.failures.push(message);
            None
        }
    }
}

fn print_response<W: Write>(
    printer: &mut Printer<W>,
    line: usize,
    text: &str,
    response: &Response,
) {
    if printer.is_json() {
        let mut value = response_json(text, response);
        value["line"] = json!(line);
        printer.json_line(&value);
    } else {
        printer.response(text, response);
    }
}

fn record<W: Write>(
    printer: &mut Printer<W>,
    line: usize,
    verdict: Result<(), String>,
    report: &mut ScriptReport,
) {
    match verdict {
        Ok(()) => {
            if printer.is_json() {
                printer.json_line(&json!({"line": line, "expect": "pass"}));
            }
        }
        Err(message) => {
            if printer.is_json() {
                printer.json_line(&json!({"line": line, "expect": "fail", "message": message}));
            } else {
                printer.text(&format!("FAIL {message}"));
            }
            report.failures.push(message);
        }
    }
}
