//! Attaches to a live hive: a poller thread owns the Secure9P session and runs the bounded
//! polling plan (`poll.rs`) every refresh; the UI thread folds its updates into the model, so
//! a slow or cut hive never freezes the screen. Lost connections are retried with back-off.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::fs::{FsError, HiveFs, NineFs};
use super::poll::{PollPlan, Poller, Update};
use super::{Control, Source, SourceStatus};
use crate::model::{parse_sessions, Model, Row, TABLE_MAX};
use crate::transcript::parse_audit_line;

/// Updates buffered between the poller and the UI; a full buffer makes the poller wait.
const CHANNEL: usize = 65_536;
/// Updates applied per UI tick, so one huge poll cannot stall a frame for long.
const APPLY_PER_TICK: usize = 20_000;
const BACKOFF_MAX_MS: u64 = 8_000;

/// Where and how to attach.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub addr: String,
    pub role: String,
    pub subject: String,
    pub ticket: String,
    pub refresh_ms: u64,
    pub plan: PollPlan,
}

/// The ticket's subject (the attach `uname`), or `operator` when it cannot be read.
pub fn subject_of(ticket: &str) -> String {
    ticket::decode(ticket, ticket::MAX_TEXT_LEN)
        .map(|(claims, _)| claims.subject.to_string())
        .unwrap_or_else(|_| String::from("operator"))
}

/// Opens a fresh session to the hive (called again after a lost connection).
pub type Connector = Box<dyn FnMut() -> Result<Box<dyn HiveFs>, FsError> + Send>;

enum Command {
    Write { path: String, line: String },
}

struct Shared {
    focus: Mutex<Vec<String>>,
    paused: AtomicBool,
    polls: AtomicU64,
}

pub struct LiveSource {
    label: String,
    updates: Receiver<Update>,
    commands: Sender<Command>,
    shared: Arc<Shared>,
    messages: Vec<String>,
}

impl LiveSource {
    /// Attaches over Secure9P with the options' ticket.
    pub fn attach(options: LiveOptions) -> Self {
        let o = options.clone();
        let connect: Connector = Box::new(move || {
            NineFs::open(&o.addr, &o.role, &o.subject, &o.ticket).map(|f| Box::new(f) as _)
        });
        Self::with_connector(&options.addr, options.refresh_ms, options.plan, connect)
    }

    /// A live source over any connector (tests use an in-memory hive).
    pub fn with_connector(
        label: &str,
        refresh_ms: u64,
        plan: PollPlan,
        connect: Connector,
    ) -> Self {
        let (tx, updates) = mpsc::sync_channel(CHANNEL);
        let (commands, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            focus: Mutex::new(Vec::new()),
            paused: AtomicBool::new(false),
            polls: AtomicU64::new(0),
        });
        let worker = Arc::clone(&shared);
        let refresh = Duration::from_millis(refresh_ms.max(50));
        thread::spawn(move || run(connect, Poller::new(plan), worker, tx, rx, refresh));
        Self {
            label: label.to_string(),
            updates,
            commands,
            shared,
            messages: Vec::new(),
        }
    }

    /// Messages for the status line (replies to commands, link changes).
    pub fn take_messages(&mut self) -> Vec<String> {
        std::mem::take(&mut self.messages)
    }

    fn apply(&mut self, model: &mut Model, update: Update) {
        match update {
            Update::Boot(text) => apply_boot(model, &text),
            Update::Audit(line) => match parse_audit_line(&line, &model.hive) {
                Ok(record) => model.apply(&record),
                Err(_) => model.push_audit(line),
            },
            Update::Lost(n) => model.push_audit(format!("lost={n} (audit ring overran)")),
            Update::Status(line) => {
                model.apply_status(&line);
            }
            Update::Listed { shard, id } => model.apply_listed(&shard, &id),
            Update::Absent(id) => model.apply_absent(&id),
            Update::Pressure { class, text } => model.apply_pressure(&class, &text),
            Update::Lifecycle(state) => model.lifecycle = state,
            Update::Sessions(text) => {
                let opened = model.sessions.opened;
                model.sessions = parse_sessions(&text);
                model.sessions.opened = opened;
            }
            Update::Telemetry { id, text } => model.apply_telemetry(&id, &text),
            Update::Root { reachable, reason } => {
                model.root.known = true;
                model.root.cut.clear();
                if reachable == "no" || reachable == "false" {
                    model.root.cut.insert(String::from("queen"), reason);
                }
            }
            Update::Table { path, text } => {
                let rows = table_rows(&text);
                if path.starts_with("/proc/lease") {
                    model.leases = rows;
                } else {
                    model.queue = rows;
                }
            }
            Update::Link(link) => {
                if let Err(e) = &link {
                    if model.link != Some(link.clone()) {
                        self.messages.push(format!("hive unreachable: {e}"));
                    }
                }
                model.link = Some(link);
            }
            Update::Reply(reply) => self.messages.push(match reply {
                Ok(text) => text,
                Err(e) => format!("refused: {e}"),
            }),
        }
    }
}

fn apply_boot(model: &mut Model, text: &str) {
    for line in text.lines() {
        match line.split_once('=') {
            Some(("hive", name)) => model.hive = name.to_string(),
            Some(("lifecycle", state)) => model.lifecycle = state.to_string(),
            Some(("uptime_ms", ms)) => {
                model.now_ms = model.now_ms.max(ms.parse().unwrap_or(0));
            }
            _ => {}
        }
    }
}

/// One row per line: the first token is the key.
fn table_rows(text: &str) -> Vec<Row> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(TABLE_MAX)
        .map(|l| {
            let (key, detail) = l.trim().split_once(' ').unwrap_or((l.trim(), ""));
            Row {
                key: key.to_string(),
                detail: detail.to_string(),
            }
        })
        .collect()
}

/// The poller thread: connect, poll, sleep; ends when the `LiveSource` is dropped.
fn run(
    mut connect: Connector,
    mut poller: Poller,
    shared: Arc<Shared>,
    tx: SyncSender<Update>,
    commands: Receiver<Command>,
    refresh: Duration,
) {
    let mut fs: Option<Box<dyn HiveFs>> = None;
    let mut backoff_ms = 250;
    let mut wait = Duration::ZERO;
    loop {
        match commands.recv_timeout(wait) {
            Ok(Command::Write { path, line }) => {
                let reply = match fs.as_mut() {
                    Some(f) => f.command(&path, &line).map_err(|e| e.text),
                    None => Err(String::from("not connected")),
                };
                if send(&tx, Update::Reply(reply)).is_err() {
                    return;
                }
                wait = Duration::ZERO;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        wait = refresh;
        if shared.paused.load(Ordering::Relaxed) {
            continue;
        }
        if fs.is_none() {
            match connect() {
                Ok(f) => {
                    fs = Some(f);
                    backoff_ms = 250;
                }
                Err(e) => {
                    if send(&tx, Update::Link(Err(e.text))).is_err() {
                        return;
                    }
                    wait = Duration::from_millis(backoff_ms);
                    backoff_ms = (backoff_ms * 2).min(BACKOFF_MAX_MS);
                    continue;
                }
            }
        }
        if let Ok(focus) = shared.focus.lock() {
            poller.set_focus(&focus);
        }
        let mut out = Vec::new();
        let result = fs.as_mut().map(|f| poller.poll(f.as_mut(), &mut out));
        shared.polls.store(poller.polls(), Ordering::Relaxed);
        if let Some(Err(e)) = result {
            fs = None;
            out.push(Update::Link(Err(e.text)));
        }
        for update in out {
            if send(&tx, update).is_err() {
                return;
            }
        }
    }
}

/// Blocks while the UI catches up; fails only when the UI is gone.
fn send(tx: &SyncSender<Update>, update: Update) -> Result<(), ()> {
    let mut update = update;
    loop {
        match tx.try_send(update) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(u)) => {
                update = u;
                thread::sleep(Duration::from_millis(5));
            }
            Err(TrySendError::Disconnected(_)) => return Err(()),
        }
    }
}

impl Source for LiveSource {
    fn tick(&mut self, model: &mut Model, _elapsed_ms: u64) {
        for _ in 0..APPLY_PER_TICK {
            match self.updates.try_recv() {
                Ok(update) => self.apply(model, update),
                Err(_) => break,
            }
        }
    }

    fn focus(&mut self, ids: &[String]) {
        if let Ok(mut focus) = self.shared.focus.lock() {
            focus.clear();
            focus.extend_from_slice(ids);
        }
    }

    fn control(&mut self, _model: &mut Model, control: Control) -> Result<String, String> {
        let paused = &self.shared.paused;
        match control {
            Control::TogglePause => {
                let now = !paused.load(Ordering::Relaxed);
                paused.store(now, Ordering::Relaxed);
                Ok(String::from(if now { "polling paused" } else { "polling" }))
            }
            Control::Pause => {
                paused.store(true, Ordering::Relaxed);
                Ok(String::from("polling paused"))
            }
            Control::Play => {
                paused.store(false, Ordering::Relaxed);
                Ok(String::from("polling"))
            }
            Control::Write { path, line } => {
                let sent = self.commands.send(Command::Write {
                    path: path.clone(),
                    line: line.clone(),
                });
                sent.map_err(|_| String::from("poller stopped"))?;
                Ok(format!("sent to {path}: {line}"))
            }
            _ => Err(String::from("step, seek and speed apply to replays only")),
        }
    }

    fn status(&self) -> SourceStatus {
        SourceStatus {
            mode: "LIVE",
            label: self.label.clone(),
            paused: self.shared.paused.load(Ordering::Relaxed),
            speed: 1.0,
            position_ms: 0,
            end_ms: 0,
            done: self.shared.polls.load(Ordering::Relaxed),
            total: 0,
        }
    }

    fn messages(&mut self) -> Vec<String> {
        self.take_messages()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unreadable_ticket_attaches_as_operator() {
        assert_eq!(super::subject_of("not-a-ticket"), "operator");
    }
}
