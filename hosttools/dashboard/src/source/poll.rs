//! The live polling plan. Reading 1,000 status files every frame is far too slow, so each poll
//! does a bounded amount of work:
//!
//! 1. the audit log `/log/queen.log` from its cursor: every spawn, state change, revocation and
//!    refusal for all workers arrives here in one stream;
//! 2. `/proc/pressure/*` and `/proc/lifecycle/state` (five small files, one round trip);
//! 3. `/proc/9p/sessions` every `sessions_every` polls;
//! 4. the roster: `ls /shard`, then `shards_per_poll` shard directories in rotation;
//! 5. status files of the workers on screen (at most `focus_max`) plus a rotating slice of
//!    `rotate` others, pipelined four per round trip, so a missed audit line is corrected
//!    within `workers / rotate` polls;
//! 6. the telemetry ring of the selected worker from its cursor.
//!
//! Optional providers (`/proc/root`, `/proc/lease`, `/proc/schedule`) are asked once and
//! dropped from the plan when absent.

use std::collections::{BTreeMap, BTreeSet};

use super::fs::{FsError, HiveFs};

/// Bounds of one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPlan {
    pub focus_max: usize,
    pub rotate: usize,
    pub shards_per_poll: usize,
    pub sessions_every: u64,
    /// Stream reads of the audit log per poll.
    pub log_reads: usize,
}

impl Default for PollPlan {
    fn default() -> Self {
        Self {
            focus_max: 64,
            rotate: 64,
            shards_per_poll: 32,
            sessions_every: 4,
            log_reads: 16,
        }
    }
}

/// One fact learned by a poll, applied to the model on the UI thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Boot(String),
    Audit(String),
    /// Audit lines that aged out of the ring before they were read.
    Lost(u64),
    Status(String),
    Listed {
        shard: String,
        id: String,
    },
    Absent(String),
    Pressure {
        class: String,
        text: String,
    },
    Lifecycle(String),
    Sessions(String),
    Telemetry {
        id: String,
        text: String,
    },
    /// `/proc/root/reachable` and `/proc/root/cut_reason`.
    Root {
        reachable: String,
        reason: String,
    },
    /// A summary file's text, by path (`/proc/lease/active`, `/proc/schedule/queue`).
    Table {
        path: String,
        text: String,
    },
    /// The dashboard's own link to the hive.
    Link(Result<(), String>),
    Reply(Result<String, String>),
}

/// A small state file's value: the hive writes `key=value`; a bare value is taken as is.
fn value_of(text: &str, key: &str) -> String {
    let text = text.trim();
    text.strip_prefix(key)
        .and_then(|rest| rest.strip_prefix('='))
        .unwrap_or(text)
        .to_string()
}

const PRESSURE: [&str; 4] = ["busy", "quota", "cut", "policy"];
const OPTIONAL: [&str; 4] = [
    "/proc/root/reachable",
    "/proc/root/cut_reason",
    "/proc/lease/active",
    "/proc/schedule/queue",
];

/// Polling state that survives reconnects: cursors, roster and rotation positions.
#[derive(Debug, Clone, Default)]
pub struct Poller {
    plan: PollPlan,
    booted: bool,
    log_cursor: u64,
    shards: Vec<String>,
    shard_turn: usize,
    /// Worker id → shard, as last listed.
    roster: BTreeMap<String, String>,
    rotate_turn: usize,
    focus: Vec<String>,
    telemetry: Option<(String, u64)>,
    absent: BTreeSet<&'static str>,
    polls: u64,
}

impl Poller {
    pub fn new(plan: PollPlan) -> Self {
        Self {
            plan,
            ..Self::default()
        }
    }

    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Workers on screen, selected first.
    pub fn set_focus(&mut self, ids: &[String]) {
        self.focus = ids.iter().take(self.plan.focus_max).cloned().collect();
    }

    /// Runs one poll; stops early (returning the error) when the connection breaks.
    pub fn poll(&mut self, fs: &mut dyn HiveFs, out: &mut Vec<Update>) -> Result<(), FsError> {
        self.polls += 1;
        if !self.booted {
            out.push(Update::Boot(fs.read("/proc/boot")?));
            self.booted = true;
        }
        self.poll_log(fs, out)?;
        self.poll_proc(fs, out)?;
        self.poll_roster(fs, out)?;
        self.poll_status(fs, out)?;
        self.poll_telemetry(fs, out)?;
        out.push(Update::Link(Ok(())));
        Ok(())
    }

    fn poll_log(&mut self, fs: &mut dyn HiveFs, out: &mut Vec<Update>) -> Result<(), FsError> {
        for _ in 0..self.plan.log_reads {
            let read = fs.tail("/log/queen.log", self.log_cursor)?;
            if read.lost > 0 {
                out.push(Update::Lost(read.lost));
            }
            self.log_cursor = read.next;
            if read.text.is_empty() {
                break;
            }
            out.extend(read.text.lines().map(|l| Update::Audit(l.to_string())));
        }
        Ok(())
    }

    fn poll_proc(&mut self, fs: &mut dyn HiveFs, out: &mut Vec<Update>) -> Result<(), FsError> {
        let mut paths: Vec<String> = PRESSURE
            .iter()
            .map(|c| format!("/proc/pressure/{c}"))
            .collect();
        paths.push(String::from("/proc/lifecycle/state"));
        let optional: Vec<&'static str> = OPTIONAL
            .iter()
            .copied()
            .filter(|p| !self.absent.contains(p))
            .collect();
        paths.extend(optional.iter().map(|p| p.to_string()));
        let results = fs.read_many(&paths);
        let mut root = (None, String::new());
        for (path, result) in paths.iter().zip(results) {
            let text = match result {
                Ok(text) => text,
                Err(e) if e.broken => return Err(e),
                Err(_) => {
                    if let Some(p) = OPTIONAL.iter().find(|p| *p == path) {
                        self.absent.insert(p);
                    }
                    continue;
                }
            };
            if let Some(class) = path.strip_prefix("/proc/pressure/") {
                let class = class.to_string();
                out.push(Update::Pressure { class, text });
            } else if path == "/proc/lifecycle/state" {
                out.push(Update::Lifecycle(value_of(&text, "state")));
            } else if path == "/proc/root/reachable" {
                root.0 = Some(value_of(&text, "reachable"));
            } else if path == "/proc/root/cut_reason" {
                root.1 = value_of(&text, "cut_reason");
            } else {
                out.push(Update::Table {
                    path: path.clone(),
                    text,
                });
            }
        }
        if let Some(reachable) = root.0 {
            out.push(Update::Root {
                reachable,
                reason: root.1,
            });
        }
        if self.polls % self.plan.sessions_every.max(1) == 1 {
            out.push(Update::Sessions(fs.read("/proc/9p/sessions")?));
        }
        Ok(())
    }

    fn poll_roster(&mut self, fs: &mut dyn HiveFs, out: &mut Vec<Update>) -> Result<(), FsError> {
        self.shards = match fs.list("/shard") {
            Ok(names) => names,
            Err(e) if e.missing => Vec::new(),
            Err(e) => return Err(e),
        };
        let live: BTreeSet<&String> = self.shards.iter().collect();
        let vanished: Vec<String> = self
            .roster
            .iter()
            .filter(|(_, s)| !live.contains(s))
            .map(|(id, _)| id.clone())
            .collect();
        for id in vanished {
            self.roster.remove(&id);
            out.push(Update::Absent(id));
        }
        let n = self.shards.len();
        let turn: Vec<String> = (0..self.plan.shards_per_poll.min(n))
            .map(|k| self.shards[(self.shard_turn + k) % n].clone())
            .collect();
        let paths: Vec<String> = turn.iter().map(|s| format!("/shard/{s}/worker")).collect();
        for (shard, listed) in turn.iter().zip(fs.list_many(&paths)) {
            let ids = match listed {
                Ok(ids) => ids,
                Err(e) if e.broken => return Err(e),
                Err(_) => Vec::new(),
            };
            self.merge_shard(shard, ids, out);
        }
        self.shard_turn = if n == 0 {
            0
        } else {
            (self.shard_turn + self.plan.shards_per_poll) % n
        };
        Ok(())
    }

    /// Folds one shard listing into the roster: new ids are listed, missing ones are absent.
    fn merge_shard(&mut self, shard: &str, ids: Vec<String>, out: &mut Vec<Update>) {
        let listed: BTreeSet<&String> = ids.iter().collect();
        let gone: Vec<String> = self
            .roster
            .iter()
            .filter(|(id, s)| s.as_str() == shard && !listed.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.roster.remove(&id);
            out.push(Update::Absent(id));
        }
        for id in ids {
            if self.roster.insert(id.clone(), shard.to_string()).is_none() {
                out.push(Update::Listed {
                    shard: shard.to_string(),
                    id,
                });
            }
        }
    }

    /// The workers whose status this poll reads: focus first, then the rotating slice.
    pub fn status_targets(&mut self) -> Vec<(String, String)> {
        let mut picked: Vec<(String, String)> = Vec::new();
        for id in &self.focus {
            if let Some(shard) = self.roster.get(id) {
                picked.push((id.clone(), shard.clone()));
            }
        }
        let n = self.roster.len();
        if n == 0 {
            return picked;
        }
        let start = self.rotate_turn % n;
        let slice = self
            .roster
            .iter()
            .cycle()
            .skip(start)
            .take(self.plan.rotate.min(n));
        for (id, shard) in slice {
            if !picked.iter().any(|(p, _)| p == id) {
                picked.push((id.clone(), shard.clone()));
            }
        }
        self.rotate_turn = (start + self.plan.rotate) % n;
        picked
    }

    fn poll_status(&mut self, fs: &mut dyn HiveFs, out: &mut Vec<Update>) -> Result<(), FsError> {
        let targets = self.status_targets();
        let paths: Vec<String> = targets
            .iter()
            .map(|(id, shard)| format!("/shard/{shard}/worker/{id}/status"))
            .collect();
        for result in fs.read_many(&paths) {
            match result {
                Ok(text) => out.extend(text.lines().map(|l| Update::Status(l.to_string()))),
                Err(e) if e.broken => return Err(e),
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn poll_telemetry(
        &mut self,
        fs: &mut dyn HiveFs,
        out: &mut Vec<Update>,
    ) -> Result<(), FsError> {
        let Some(id) = self.focus.first().cloned() else {
            return Ok(());
        };
        let Some(shard) = self.roster.get(&id).cloned() else {
            return Ok(());
        };
        let cursor = match &self.telemetry {
            Some((current, cursor)) if *current == id => *cursor,
            _ => 0,
        };
        let path = format!("/shard/{shard}/worker/{id}/telemetry");
        match fs.tail(&path, cursor) {
            Ok(read) => {
                self.telemetry = Some((id.clone(), read.next));
                if !read.text.is_empty() {
                    out.push(Update::Telemetry {
                        id,
                        text: read.text,
                    });
                }
                Ok(())
            }
            Err(e) if e.broken => Err(e),
            Err(_) => Ok(()),
        }
    }
}
