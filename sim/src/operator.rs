//! The operator host of a hive: runs the scenario's cohsh scripts over the TCP console at
//! their virtual times, checks `EXPECT` lines, and provisions spawned workers: it reads each
//! new worker's ticket from `/shard/<s>/worker/<id>/ticket` over its queen session and hands
//! it to the worker's site over the provisioning port.

use crate::console_client::ConsoleClient;
use crate::provision::{provision, SiteLoad};
use crate::transcript::digest;
use crate::world::World;
use cohscript::{check, parse_reply, Command, Reply, Step};
use hal::CONSOLE_PORT;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Longest wait for one reply before the command counts as unanswered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between attempts to open the console.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// The operator host's software: one task per script of this hive.
pub async fn run(world: Rc<World>, hive: usize) -> turmoil::Result {
    let load = Rc::new(RefCell::new(SiteLoad::default()));
    let scripts: Vec<usize> = (0..world.scenario.operators.len())
        .filter(|&i| world.scenario.operators[i].hive == hive)
        .collect();
    let mut tasks = Vec::new();
    for script in scripts {
        let (world, load) = (world.clone(), load.clone());
        tasks.push(tokio::task::spawn_local(async move {
            run_script(world, script, load).await
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    // Stay up so a crash or restart of this host means something.
    std::future::pending::<()>().await;
    Ok(())
}

/// A console to the hive's Queen, reopened on demand after a failure.
pub struct Session {
    world: Rc<World>,
    hive: usize,
    client: Option<ConsoleClient>,
}

impl Session {
    pub fn new(world: Rc<World>, hive: usize) -> Self {
        Self {
            world,
            hive,
            client: None,
        }
    }

    /// Sends one console line and returns the reply lines, or `None` when the Queen could
    /// not be reached or did not answer in time (the session is dropped and reopened later).
    pub async fn call(&mut self, line: &str, label: &str) -> Option<Vec<String>> {
        let lines = self.call_many(&[line.to_string()], label).await?;
        lines.into_iter().next()
    }

    /// Pipelines several lines of the same verb and returns their replies in order.
    pub async fn call_many(&mut self, lines: &[String], label: &str) -> Option<Vec<Vec<String>>> {
        // A console the Queen hung up on (it crashed, or closed the session) is reopened
        // before anything is sent on it, so no command is lost in a dead connection.
        if self.client.as_mut().is_some_and(ConsoleClient::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = self.open().await;
        }
        let client = self.client.as_mut()?;
        let work = async {
            for line in lines {
                client.send(line).await?;
            }
            let mut replies = Vec::with_capacity(lines.len());
            for _ in lines {
                replies.push(client.reply(label).await?);
            }
            Ok::<_, std::io::Error>(replies)
        };
        match tokio::time::timeout(REPLY_TIMEOUT, work).await {
            Ok(Ok(replies)) => Some(replies),
            _ => {
                self.client = None;
                None
            }
        }
    }

    async fn open(&self) -> Option<ConsoleClient> {
        let cell = &self.world.hives[self.hive];
        let host = cell.spec.queen_host();
        for _ in 0..4 {
            let attempt = ConsoleClient::open(
                &host,
                CONSOLE_PORT,
                &cell.console_token,
                &cell.operator_ticket,
            );
            if let Ok(Ok(client)) = tokio::time::timeout(REPLY_TIMEOUT, attempt).await {
                return Some(client);
            }
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        None
    }
}

async fn run_script(world: Rc<World>, index: usize, load: Rc<RefCell<SiteLoad>>) {
    let spec = world.scenario.operators[index].clone();
    let hive = world.hives[spec.hive].name.clone();
    let start = spec.at_us.saturating_sub(world.now_us());
    tokio::time::sleep(Duration::from_micros(start)).await;
    let mut session = Session::new(world.clone(), spec.hive);
    let mut last: Option<Reply> = None;
    for step in &spec.steps {
        match step {
            Step::Run { command, text, .. } => {
                world.tally.borrow_mut().commands += 1;
                world.record(&hive, "op", "op.cmd", None, vec![("line", text.clone())]);
                let lines = session
                    .call(&command.console_line(), command.reply_label())
                    .await;
                last = Some(report_reply(
                    &world,
                    &hive,
                    (command, text),
                    lines.as_deref(),
                ));
                if let (Command::Spawn { json }, Some(reply)) = (command, &last) {
                    if reply.ok {
                        provision(&world, spec.hive, &mut session, json, &load).await;
                    }
                }
            }
            Step::Wait { ms, .. } => tokio::time::sleep(Duration::from_millis(*ms)).await,
            expect => {
                let verdict = match &last {
                    Some(reply) => check(expect, reply),
                    None => Err(format!("line {}: EXPECT before any command", expect.line())),
                };
                let line = (spec.first_line + expect.line() - 1).to_string();
                let fields = match verdict {
                    Ok(()) => vec![("result", "pass".to_string()), ("line", line)],
                    Err(why) => {
                        world.tally.borrow_mut().expectations_failed += 1;
                        vec![("result", "fail".to_string()), ("line", line), ("why", why)]
                    }
                };
                world.record(&hive, "op", "op.expect", None, fields);
            }
        }
    }
    world.record(&hive, "op", "op.done", None, vec![]);
}

/// One operator command and its whole reply, kept beside the transcript (which holds only a
/// digest of the data) so `cargo sim run --replies` can compare bodies across targets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpReply {
    pub hive: String,
    pub command: String,
    pub status: String,
    pub lines: Vec<String>,
}

/// Records the reply: its status line, and for data lines only a count and a digest.
fn report_reply(
    world: &World,
    hive: &str,
    (command, text): (&Command, &str),
    lines: Option<&[String]>,
) -> Reply {
    let keep = |status: &str, data: Vec<String>| {
        world.replies.borrow_mut().push(OpReply {
            hive: hive.to_string(),
            command: text.to_string(),
            status: status.to_string(),
            lines: data,
        });
    };
    let Some(lines) = lines else {
        keep("ERR transport", Vec::new());
        let reply = Reply::synthetic(command.reply_label(), Some("cut"));
        world.record(
            hive,
            "op",
            "op.reply",
            None,
            vec![("status", "ERR transport".to_string())],
        );
        return reply;
    };
    let status_index = lines.iter().position(|l| parse_reply(l).is_some());
    let status = status_index.map_or_else(String::new, |i| lines[i].clone());
    let data: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| Some(*i) != status_index && l.as_str() != "END")
        .map(|(_, l)| l.as_str())
        .collect();
    keep(&status, data.iter().map(|l| l.to_string()).collect());
    let mut fields = vec![("status", status.clone())];
    if !data.is_empty() {
        fields.push(("data", data.len().to_string()));
        fields.push(("digest", digest(data.join("\n").as_bytes())));
    }
    world.record(hive, "op", "op.reply", None, fields);
    parse_reply(&status).unwrap_or_else(|| Reply::synthetic(command.reply_label(), Some("invalid")))
}
