//! The live polling plan against an in-memory hive: bounded work per poll, the roster and
//! states converge, optional providers are dropped, commands reach `/queen/ctl`, and a lost
//! connection shows on the root badge and is retried.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashboard::model::{DashboardWorkerState, Model};
use dashboard::source::{
    Connector, Control, FsError, HiveFs, LiveSource, PollPlan, Poller, Source, StreamRead, Update,
};

#[derive(Default)]
struct Hive {
    /// id → (shard, state)
    workers: BTreeMap<String, (String, String)>,
    log: String,
    log_start: u64,
    commands: Vec<String>,
    status_reads: usize,
    lists: usize,
    optional_asks: usize,
    broken: bool,
}

impl Hive {
    fn spawn(&mut self, n: usize, state: &str) {
        for i in 0..n {
            let id = format!("w{:04}", self.workers.len() + 1);
            let shard = format!("{:02x}", (i * 151) % 256);
            let t = self.workers.len();
            self.log.push_str(&format!(
                "t={t} ev=spawn id={id} kind=heartbeat ticket={t}\n"
            ));
            self.workers.insert(id, (shard, state.to_string()));
        }
    }

    fn online(&mut self) {
        for (id, (_, state)) in self.workers.iter_mut() {
            *state = String::from("ONLINE");
            self.log.push_str(&format!(
                "t=9 ev=worker id={id} state=ONLINE reason=attach\n"
            ));
        }
    }
}

#[derive(Clone)]
struct Fake(Arc<Mutex<Hive>>);

impl Fake {
    fn with<T>(&self, f: impl FnOnce(&mut Hive) -> T) -> Result<T, FsError> {
        let mut hive = self.0.lock().unwrap();
        if hive.broken {
            return Err(FsError::broken("connection reset"));
        }
        Ok(f(&mut hive))
    }
}

impl HiveFs for Fake {
    fn list(&mut self, path: &str) -> Result<Vec<String>, FsError> {
        self.with(|h| {
            h.lists += 1;
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            match parts.as_slice() {
                ["shard"] => {
                    let mut shards: Vec<String> =
                        h.workers.values().map(|(s, _)| s.clone()).collect();
                    shards.sort();
                    shards.dedup();
                    Ok(shards)
                }
                ["shard", s, "worker"] => Ok(h
                    .workers
                    .iter()
                    .filter(|(_, (shard, _))| shard == s)
                    .map(|(id, _)| id.clone())
                    .collect()),
                _ => Err(FsError::missing(path)),
            }
        })?
    }

    fn read(&mut self, path: &str) -> Result<String, FsError> {
        self.with(|h| {
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            match parts.as_slice() {
                ["proc", "boot"] => Ok(String::from("hive=fake\nuptime_ms=5000\n")),
                ["proc", "pressure", _] => Ok(String::from("3\n")),
                ["proc", "lifecycle", "state"] => Ok(String::from("ONLINE\n")),
                ["proc", "9p", "sessions"] => Ok(String::from(
                    "id=1 state=ACTIVE transport=9p owner=queen since_ms=0\n",
                )),
                ["proc", "root" | "lease" | "schedule", ..] => {
                    h.optional_asks += 1;
                    Err(FsError::missing(path))
                }
                ["shard", s, "worker", id, "status"] => {
                    h.status_reads += 1;
                    match h.workers.get(*id) {
                        Some((shard, state)) if shard == s => Ok(format!(
                            "id={id} kind=heartbeat state={state} reason=- shard={s} site=- \
                             ticket=1 ops=0/- ticks=0/- expires_ms=0 last_seen_ms=1 records=0 sessions=1\n"
                        )),
                        _ => Err(FsError::missing(path)),
                    }
                }
                _ => Err(FsError::missing(path)),
            }
        })?
    }

    fn tail(&mut self, path: &str, cursor: u64) -> Result<StreamRead, FsError> {
        self.with(|h| {
            if path != "/log/queen.log" {
                return Ok(StreamRead {
                    text: String::from("tick=1 load=5\n"),
                    lost: 0,
                    next: cursor + 14,
                });
            }
            let lost = h.log_start.saturating_sub(cursor);
            let from = cursor.max(h.log_start) - h.log_start;
            let rest = &h.log[from as usize..];
            // One read returns at most 8000 bytes of whole lines.
            let mut take = rest.len().min(8000);
            while take > 0 && take < rest.len() && !rest[..take].ends_with('\n') {
                take -= 1;
            }
            Ok(StreamRead {
                text: rest[..take].to_string(),
                lost,
                next: cursor.max(h.log_start) + take as u64,
            })
        })?
    }

    fn command(&mut self, path: &str, line: &str) -> Result<String, FsError> {
        self.with(|h| {
            h.commands.push(format!("{path} {line}"));
            if line.contains("\"spawn\"") {
                h.spawn(5, "PENDING");
            }
            Ok(String::from("OK spawn ids=w0001..w0005"))
        })?
    }
}

fn apply(model: &mut Model, updates: Vec<Update>) {
    for u in updates {
        match u {
            Update::Audit(line) => {
                model.apply(&dashboard::transcript::parse_audit_line(&line, "fake").unwrap())
            }
            Update::Status(line) => {
                model.apply_status(&line);
            }
            Update::Listed { shard, id } => model.apply_listed(&shard, &id),
            _ => {}
        }
    }
}

#[test]
fn each_poll_is_bounded_and_the_roster_converges() {
    let fake = Fake(Arc::new(Mutex::new(Hive::default())));
    fake.0.lock().unwrap().spawn(1000, "ONLINE");
    let plan = PollPlan::default();
    let mut poller = Poller::new(plan);
    let focus: Vec<String> = (1..=40).map(|i| format!("w{i:04}")).collect();
    poller.set_focus(&focus);
    let mut model = Model::new("fake");
    let mut fs = fake.clone();
    let shards = 256;
    for round in 0..(shards / plan.shards_per_poll) {
        let before = {
            let h = fake.0.lock().unwrap();
            (h.status_reads, h.lists)
        };
        let mut out = Vec::new();
        poller.poll(&mut fs, &mut out).unwrap();
        apply(&mut model, out);
        let h = fake.0.lock().unwrap();
        assert!(
            h.status_reads - before.0 <= plan.focus_max + plan.rotate,
            "round {round}"
        );
        assert!(
            h.lists - before.1 <= 1 + plan.shards_per_poll,
            "round {round}"
        );
    }
    assert_eq!(model.len(), 1000);
    // A full rotation listed everyone; the next poll lists nobody new.
    let mut again = Vec::new();
    poller.poll(&mut fs, &mut again).unwrap();
    let relisted = again
        .iter()
        .filter(|u| matches!(u, Update::Listed { .. }))
        .count();
    assert_eq!(relisted, 0);
}

#[test]
fn audit_log_carries_states_and_reports_loss() {
    let fake = Fake(Arc::new(Mutex::new(Hive::default())));
    {
        let mut h = fake.0.lock().unwrap();
        h.spawn(1000, "PENDING");
        h.online();
    }
    let mut poller = Poller::new(PollPlan::default());
    let mut model = Model::new("fake");
    let mut fs = fake.clone();
    let mut out = Vec::new();
    poller.poll(&mut fs, &mut out).unwrap();
    let mut out2 = Vec::new();
    poller.poll(&mut fs, &mut out2).unwrap();
    out.extend(out2);
    apply(&mut model, out);
    assert_eq!(model.count(DashboardWorkerState::Online), 1000);
    // The ring moves on past the cursor: the next read reports the loss.
    {
        let mut h = fake.0.lock().unwrap();
        let len = h.log.len() as u64;
        h.log_start = len + 100;
        h.log.clear();
    }
    let mut out = Vec::new();
    poller.poll(&mut fs, &mut out).unwrap();
    assert!(
        out.iter().any(|u| matches!(u, Update::Lost(100))),
        "{out:?}"
    );
}

#[test]
fn absent_providers_are_asked_once() {
    let fake = Fake(Arc::new(Mutex::new(Hive::default())));
    let mut poller = Poller::new(PollPlan::default());
    let mut fs = fake.clone();
    for _ in 0..5 {
        poller.poll(&mut fs, &mut Vec::new()).unwrap();
    }
    assert_eq!(fake.0.lock().unwrap().optional_asks, 4);
}

fn wait_for(source: &mut LiveSource, model: &mut Model, what: impl Fn(&Model) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        source.tick(model, 10);
        if what(model) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn live_source_follows_spawns_commands_and_link_loss() {
    let hive = Arc::new(Mutex::new(Hive::default()));
    let fake = Fake(Arc::clone(&hive));
    let connect: Connector = Box::new(move || Ok(Box::new(fake.clone()) as Box<dyn HiveFs>));
    let mut source = LiveSource::with_connector("fake", 50, PollPlan::default(), connect);
    let mut model = Model::new("-");
    assert!(wait_for(&mut source, &mut model, |m| m.hive == "fake"));
    hive.lock().unwrap().spawn(1000, "PENDING");
    assert!(wait_for(&mut source, &mut model, |m| m.len() == 1000));
    hive.lock().unwrap().online();
    assert!(wait_for(&mut source, &mut model, |m| m
        .count(DashboardWorkerState::Online)
        == 1000));
    assert_eq!(model.pressure[0], 3);
    assert_eq!(model.sessions.active, 1);

    let spawn = Control::Write {
        path: String::from("/queen/ctl"),
        line: String::from("{\"spawn\":\"heartbeat\",\"count\":5}"),
    };
    source.control(&mut model, spawn).unwrap();
    assert!(wait_for(&mut source, &mut model, |m| m.len() == 1005));
    let messages = source.messages();
    assert!(
        messages.iter().any(|m| m.starts_with("OK spawn")),
        "{messages:?}"
    );
    assert_eq!(hive.lock().unwrap().commands.len(), 1);

    hive.lock().unwrap().broken = true;
    assert!(wait_for(&mut source, &mut model, |m| matches!(
        m.link,
        Some(Err(_))
    )));
    hive.lock().unwrap().broken = false;
    assert!(wait_for(&mut source, &mut model, |m| matches!(
        m.link,
        Some(Ok(()))
    )));
    let replay_only = source.control(&mut model, Control::Seek(0));
    assert!(replay_only.is_err());
}
