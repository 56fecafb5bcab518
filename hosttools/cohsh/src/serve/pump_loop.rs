//! The hosted hive's main loop: turn the pump, hand spawned workers to the agents, publish
//! counters, and sleep on socket readiness when a turn found no work and no socket reported
//! any, so an idle hive costs no CPU.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hal_std::StdHal;
use hive::{Event, WorkerKind};
use pump::{Provision, Pump};

use super::{HiveStats, ServeConfig};

/// Longest sleep of an idle hive; bounds how late timers (deadlines, budgets) are noticed.
const IDLE_WAIT: Duration = Duration::from_millis(10);
/// How often counters are published and status lines considered.
const PUBLISH_EVERY: Duration = Duration::from_millis(25);

/// A worker the agents should bring online.
pub struct NewWorker {
    pub id: String,
    pub ticket: String,
}

/// Where spawned workers go.
pub struct Spawned {
    pub tx: Sender<NewWorker>,
    pub waker: Arc<mio::Waker>,
}

pub struct PumpLoop {
    config: ServeConfig,
    hal: StdHal,
    spawned: Option<Spawned>,
    stop: Arc<AtomicBool>,
    stats: Arc<HiveStats>,
}

impl PumpLoop {
    pub fn new(
        config: ServeConfig,
        hal: StdHal,
        spawned: Option<Spawned>,
        stop: Arc<AtomicBool>,
        stats: Arc<HiveStats>,
    ) -> Self {
        Self {
            config,
            hal,
            spawned,
            stop,
            stats,
        }
    }

    pub fn run(mut self) {
        let provision = Provision {
            keys: self.config.keys.clone(),
            console_token: Some(self.config.token.as_bytes().to_vec()),
            platform: "hosted",
            hive_id: Some(self.config.hive_id),
        };
        let mut pump = match Pump::boot(&mut self.hal, self.config.manifest.clone(), provision) {
            Ok((pump, report)) => {
                if self.config.log_events && report.restored.entries > 0 {
                    eprintln!(
                        "hive: restored {} journal entries: {} workers, {} revocations{}",
                        report.restored.entries,
                        report.restored.workers,
                        report.restored.revocations,
                        if report.torn {
                            " (a torn final record was dropped)"
                        } else {
                            ""
                        }
                    );
                }
                pump
            }
            Err(error) => {
                eprintln!("hive: cannot boot from the store: {}", error.tag());
                self.stop.store(true, Ordering::SeqCst);
                return;
            }
        };
        // Workers that survived the restart get their agents back, with the tickets they hold.
        let restored: Vec<String> = pump
            .hive()
            .registry()
            .iter()
            .map(|w| w.id.clone())
            .collect();
        for id in &restored {
            self.hand_to_agents(&pump, id);
        }
        let mut handed_seq = pump.hive().registry().next_seq();
        if self.config.serial {
            pump.banner(&mut self.hal);
        }
        let mut events = Vec::new();
        let mut published = Instant::now() - PUBLISH_EVERY;
        let mut last_counts = (0, 0, 0);
        while !self.stop.load(Ordering::Relaxed) {
            let turn = pump.turn(&mut self.hal);
            handed_seq = self.hand_new_workers(&pump, handed_seq);
            pump.drain_events(&mut events);
            self.handle_events(&mut events);
            if published.elapsed() >= PUBLISH_EVERY {
                published = Instant::now();
                last_counts = self.publish(&pump, last_counts);
            }
            // A turn services at most `conns_per_turn` connections, so sockets with work may
            // remain after an idle-looking turn: sleep only when none reported any.
            if !turn.did_work() && !self.hal.has_pending() {
                let _ = self.hal.wait(IDLE_WAIT);
            }
        }
    }

    fn handle_events(&mut self, events: &mut Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut spawned = 0usize;
        let mut online = 0usize;
        for event in events.drain(..) {
            match &event {
                Event::WorkerSpawned { .. } => spawned += 1,
                Event::WorkerOnline { .. } => online += 1,
                other => {
                    if self.config.log_events {
                        eprintln!("hive: {}", describe(other));
                    }
                }
            }
        }
        if self.config.log_events && (spawned > 0 || online > 0) {
            eprintln!("hive: spawned={spawned} online={online}");
        }
    }

    /// Hands every worker spawned since `handed_seq` to the agents; returns the new mark.
    /// Spawns are found from the registry's id sequence, not from core events, so a burst of
    /// spawns larger than `hive.events_max` (whose overflow is dropped) strands no worker.
    fn hand_new_workers(&self, pump: &Pump, handed_seq: u64) -> u64 {
        let next = pump.hive().registry().next_seq();
        for seq in handed_seq + 1..=next {
            self.hand_to_agents(pump, &hive::Registry::id_of_seq(seq));
        }
        if next > handed_seq {
            if let Some(s) = &self.spawned {
                let _ = s.waker.wake();
            }
        }
        next
    }

    fn hand_to_agents(&self, pump: &Pump, id: &str) {
        let Some(spawned) = &self.spawned else {
            return;
        };
        let Some(worker) = pump.hive().registry().get(id) else {
            return;
        };
        // Only heartbeat workers have an agent here; GPU workers come from a gpu-bridge host.
        if worker.kind == WorkerKind::Heartbeat {
            let _ = spawned.tx.send(NewWorker {
                id: worker.id.clone(),
                ticket: worker.ticket.clone(),
            });
        }
    }

    fn publish(&self, pump: &Pump, last: (usize, usize, usize)) -> (usize, usize, usize) {
        let counts = pump.hive().registry().counts();
        let s = &self.stats;
        s.workers_pending.store(counts.0 as u64, Ordering::Relaxed);
        s.workers_online.store(counts.1 as u64, Ordering::Relaxed);
        s.workers_offline.store(counts.2 as u64, Ordering::Relaxed);
        s.connections
            .store(pump.connections() as u64, Ordering::Relaxed);
        s.turns.fetch_add(1, Ordering::Relaxed);
        if self.config.log_events && counts != last {
            eprintln!(
                "hive: workers pending={} online={} offline={}",
                counts.0, counts.1, counts.2
            );
        }
        counts
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::WorkerSpawned { id, .. } => format!("ev=worker.spawned id={id}"),
        Event::WorkerOnline { id } => format!("ev=worker.online id={id}"),
        Event::WorkerOffline { id, reason } => format!("ev=worker.offline id={id} reason={reason}"),
        Event::Revoked { id, reason, .. } => format!("ev=revoke id={id} reason={reason}"),
        Event::Lifecycle { from, to, reason } => {
            format!("ev=lifecycle from={from} to={to} reason={reason}")
        }
        Event::Refused { error, detail } => {
            format!("ev=refused reason={} detail={detail}", error.reason())
        }
    }
}
