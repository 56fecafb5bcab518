//! The interactive shell: line editing with history, completion of verbs and of paths (listed
//! live from the hive), and `tail -f` as a polling loop that Ctrl-C stops.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Result;
use client::ClientError;
use cohscript::{parse_command, Command, LIFECYCLE_VERBS};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

use crate::output::Printer;
use crate::session::Session;

/// How often `tail -f` polls.
pub const FOLLOW_PERIOD: Duration = Duration::from_millis(1000);

/// Completion candidates for the text before the cursor: `(start of the word, candidates)`.
/// `list` names the children of a directory.
pub fn candidates(before: &str, mut list: impl FnMut(&str) -> Vec<String>) -> (usize, Vec<String>) {
    let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &before[start..];
    let first_word = before[..start].split_whitespace().next();
    let matching = |options: &[&str]| -> Vec<String> {
        options
            .iter()
            .filter(|o| o.starts_with(word))
            .map(|o| o.to_string())
            .collect()
    };
    match first_word {
        None => (start, matching(Command::VERBS)),
        Some("lifecycle") => (start, matching(LIFECYCLE_VERBS)),
        Some(_) if word.starts_with('/') => {
            let cut = word.rfind('/').map_or(0, |i| i + 1);
            let (dir, prefix) = word.split_at(cut);
            let listed = if dir == "/" {
                "/"
            } else {
                dir.trim_end_matches('/')
            };
            let names = list(listed)
                .into_iter()
                .filter(|n| n.starts_with(prefix))
                .map(|n| format!("{dir}{n}"))
                .collect();
            (start, names)
        }
        Some(_) => (start, Vec::new()),
    }
}

#[derive(Helper, Hinter, Validator, Highlighter)]
struct ShellHelper {
    session: Rc<RefCell<Session>>,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let Ok(mut session) = self.session.try_borrow_mut() else {
            return Ok((pos, Vec::new()));
        };
        let (start, names) = candidates(before, |dir| session.names(dir));
        let pairs = names
            .into_iter()
            .map(|n| Pair {
                display: n.rsplit('/').next().unwrap_or(&n).to_string(),
                replacement: n,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Runs the shell until `quit`, end of input, or a lost connection.
pub fn interactive<W: Write>(
    session: Session,
    prompt: &str,
    history: Option<PathBuf>,
    printer: &mut Printer<W>,
) -> Result<()> {
    let session = Rc::new(RefCell::new(session));
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(ShellHelper {
        session: Rc::clone(&session),
    }));
    if let Some(path) = &history {
        // No history yet is normal on a first run.
        let _ = editor.load_history(path);
    }
    let interrupted = interrupt_flag();
    loop {
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        // The history file outlives the session: it never keeps a ticket.
        let _ = editor.add_history_entry(cohscript::redact(text));
        let command = match parse_command(text) {
            Ok(command) => command,
            Err(e) => {
                printer.text(&format!("error: {e}"));
                continue;
            }
        };
        let mut session = session.borrow_mut();
        let shown = cohscript::redact(text);
        let done = execute(&mut session, &command, &shown, printer, &interrupted);
        printer.flush();
        if done || !session.is_usable() {
            if !matches!(command, Command::Quit) {
                printer.text("connection closed");
            }
            break;
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = client::secret::ensure_private_dir(dir);
        }
        let _ = editor.save_history(path);
    }
    Ok(())
}

/// Runs one command; `true` when the session is over.
fn execute<W: Write>(
    session: &mut Session,
    command: &Command,
    text: &str,
    printer: &mut Printer<W>,
    interrupted: &AtomicBool,
) -> bool {
    if let Command::Tail { path, follow: true } = command {
        interrupted.store(false, Ordering::SeqCst);
        if let Err(e) = follow(session, path, text, printer, interrupted) {
            printer.failure(text, &e);
        }
        return false;
    }
    match session.run(command) {
        Ok(response) => printer.response(text, &response),
        Err(e) => printer.failure(text, &e),
    }
    matches!(command, Command::Quit)
}

/// `tail -f`: polls the stream from its cursor until interrupted or refused.
pub fn follow<W: Write>(
    session: &mut Session,
    path: &str,
    text: &str,
    printer: &mut Printer<W>,
    stop: &AtomicBool,
) -> Result<(), ClientError> {
    let mut cursor = None;
    while !stop.load(Ordering::SeqCst) {
        let (response, next) = session.tail(path, cursor)?;
        if printer.is_json() || !response.ok() {
            printer.response(text, &response);
        } else {
            for line in &response.data {
                printer.text(line);
            }
        }
        printer.flush();
        if !response.ok() {
            return Ok(());
        }
        cursor = Some(next);
        let mut waited = Duration::ZERO;
        while waited < FOLLOW_PERIOD && !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(50));
            waited += Duration::from_millis(50);
        }
    }
    Ok(())
}

/// A flag Ctrl-C raises while a command (not the line editor) has the terminal.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let raised = Arc::clone(&flag);
    // A second handler cannot be installed; the shell then simply ends on Ctrl-C.
    let _ = ctrlc::set_handler(move || raised.store(true, Ordering::SeqCst));
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lister(dir: &str) -> Vec<String> {
        match dir {
            "/" => vec!["proc".into(), "queen".into(), "log".into()],
            "/proc" => vec!["boot".into(), "9p".into(), "pressure".into()],
            _ => vec![],
        }
    }

    #[test]
    fn completes_verbs_paths_and_lifecycle_commands() {
        assert_eq!(
            candidates("l", lister),
            (
                0,
                vec![
                    "lease".into(),
                    "lifecycle".into(),
                    "log".into(),
                    "ls".into()
                ]
            )
        );
        assert_eq!(candidates("cat /p", lister), (4, vec!["/proc".into()]));
        assert_eq!(
            candidates("cat /proc/b", lister),
            (4, vec!["/proc/boot".into()])
        );
        assert_eq!(candidates("ls /", lister).1.len(), 3);
        assert_eq!(
            candidates("lifecycle d", lister),
            (10, vec!["drain".into()])
        );
        assert_eq!(candidates("echo hi", lister), (5, vec![]));
    }
}
