//! Heartbeat agents for the workers a hosted hive spawns: one thread drives every agent's
//! sans-IO state machine (`cohesix_worker::HeartbeatAgent`) over an in-memory pipe to the
//! Secure9P port (`hal_std::LocalLinks`), so 10,000 workers cost neither 10,000 threads nor
//! 20,000 file descriptors. Agents wait in a timer queue keyed by their next wake-up, and a
//! pipe with replies is named by the links, so a loop iteration costs O(agents due), not
//! O(agents).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hal_std::LocalLinks;
use manifest::Manifest;
use mio::{Events, Poll, Token, Waker};
use secure9p::Limits;
use worker::{AgentConfig, HeartbeatAgent};

use super::pump_loop::NewWorker;
use super::HiveStats;

/// The token of the waker that announces new workers and replies.
const WAKE: Token = Token(usize::MAX);
/// Longest sleep with nothing due, so the stop flag is seen promptly.
const SLEEP_MAX: Duration = Duration::from_millis(100);
/// Retry delay for bytes a full pipe did not take.
const RETRY_MS: u64 = 1;

/// How the hosted agents behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// Time between heartbeats (must be under the manifest's heartbeat deadline).
    pub heartbeat_ms: u64,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            heartbeat_ms: 5_000,
        }
    }
}

struct Slot {
    agent: HeartbeatAgent,
    /// The open pipe, if any.
    pipe: Option<u64>,
    /// Bytes the pipe did not take yet.
    out: Vec<u8>,
    /// This slot's entry in the timer queue.
    wake_at: Option<u64>,
}

pub struct AgentHost {
    links: LocalLinks,
    options: AgentOptions,
    deadline_ms: u64,
    limits: Limits,
    rx: Receiver<NewWorker>,
    poll: Poll,
    waker: Arc<Waker>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// Open pipe -> slot.
    by_pipe: BTreeMap<u64, usize>,
    /// `(wake_ms, slot)`, one entry per live agent.
    timers: BTreeSet<(u64, usize)>,
    stop: Arc<AtomicBool>,
    stats: Arc<HiveStats>,
    boot: Instant,
}

impl AgentHost {
    pub fn new(
        links: LocalLinks,
        options: AgentOptions,
        manifest: &Manifest,
        rx: Receiver<NewWorker>,
        stop: Arc<AtomicBool>,
        stats: Arc<HiveStats>,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        links.set_client_waker(Arc::clone(&waker));
        Ok(Self {
            links,
            options,
            deadline_ms: u64::from(manifest.hive.heartbeat_deadline_ms),
            limits: Limits::from_manifest(manifest),
            rx,
            poll,
            waker,
            slots: Vec::new(),
            free: Vec::new(),
            by_pipe: BTreeMap::new(),
            timers: BTreeSet::new(),
            stop,
            stats,
            boot: Instant::now(),
        })
    }

    /// Wakes the host when new workers were sent.
    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.boot.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(16);
        let mut timeout = Duration::ZERO;
        while !self.stop.load(Ordering::Relaxed) {
            if self.poll.poll(&mut events, Some(timeout)).is_err() {
                // Interrupted; the timers below catch up.
                events.clear();
            }
            let now = self.now_ms();
            self.admit_new(now);
            for pipe in self.links.take_client_ready() {
                if let Some(index) = self.by_pipe.get(&pipe).copied() {
                    self.service_io(index, now);
                    self.drive(index, now);
                }
            }
            while let Some(&(at, index)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                if let Some(Some(slot)) = self.slots.get_mut(index) {
                    slot.wake_at = None;
                }
                self.drive(index, now);
            }
            let next = self.timers.first().map_or(u64::MAX, |(at, _)| *at);
            let wait_ms = next.saturating_sub(self.now_ms());
            timeout = Duration::from_millis(wait_ms).min(SLEEP_MAX);
        }
    }

    fn admit_new(&mut self, now: u64) {
        let mut admitted = Vec::new();
        while let Ok(new) = self.rx.try_recv() {
            let mut hasher = DefaultHasher::new();
            new.id.hash(&mut hasher);
            let config = AgentConfig::heartbeat(&new.id, &new.ticket)
                .with_heartbeat_ms(self.options.heartbeat_ms)
                .with_deadline_ms(self.deadline_ms)
                .with_limits(self.limits)
                .with_jitter_seed(hasher.finish());
            let slot = Slot {
                agent: HeartbeatAgent::new(config, now),
                pipe: None,
                out: Vec::new(),
                wake_at: None,
            };
            let index = match self.free.pop() {
                Some(index) => {
                    self.slots[index] = Some(slot);
                    index
                }
                None => {
                    self.slots.push(Some(slot));
                    self.slots.len() - 1
                }
            };
            admitted.push(index);
        }
        for index in admitted {
            self.drive(index, now);
        }
        let running = self.slots.len() - self.free.len();
        self.stats
            .agents_running
            .store(running as u64, Ordering::Relaxed);
    }

    /// One agent: connect if it wants to, advance its timers, send what it queued, drop it
    /// once its authority is gone for good, and queue it for its next wake-up.
    fn drive(&mut self, index: usize, now: u64) {
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return;
        };
        if slot.pipe.is_none() && slot.agent.wants_connect(now) {
            match self.links.connect(hal::NINEP_PORT) {
                Ok(pipe) => {
                    slot.pipe = Some(pipe);
                    self.by_pipe.insert(pipe, index);
                    slot.agent.on_connected(now);
                }
                Err(_) => slot.agent.on_connect_failed(now),
            }
        }
        let wake = slot.agent.poll(now);
        flush(&self.links, slot, now);
        self.drop_if_gone(index);
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return;
        };
        if let Some(old) = slot.wake_at.take() {
            self.timers.remove(&(old, index));
        }
        match wake {
            Some(at) => {
                // A pipe that did not take everything is tried again shortly.
                let at = if slot.out.is_empty() {
                    at
                } else {
                    at.min(now + RETRY_MS)
                };
                let at = at.max(now + 1);
                slot.wake_at = Some(at);
                self.timers.insert((at, index));
            }
            None => {
                if let Some(pipe) = slot.pipe.take() {
                    self.by_pipe.remove(&pipe);
                    self.links.client_close(pipe);
                }
                self.slots[index] = None;
                self.free.push(index);
                self.stats.agents_stopped.fetch_add(1, Ordering::Relaxed);
                self.stats.agents_running.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Replies (or a hang-up) on one agent's pipe.
    fn service_io(&mut self, index: usize, now: u64) {
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return;
        };
        let Some(pipe) = slot.pipe else {
            return;
        };
        let mut buf = [0u8; 8192];
        loop {
            match self.links.client_read(pipe, &mut buf) {
                Ok(0) => {
                    slot.agent.on_disconnected(now);
                    break;
                }
                Ok(n) => slot.agent.on_bytes(&buf[..n], now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    slot.agent.on_disconnected(now);
                    break;
                }
            }
        }
    }

    /// An open pipe the agent no longer wants (cut, revoked, hung up) is closed.
    fn drop_if_gone(&mut self, index: usize) {
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return;
        };
        if slot.pipe.is_some() && !slot.agent.is_connected() {
            if let Some(pipe) = slot.pipe.take() {
                self.by_pipe.remove(&pipe);
                self.links.client_close(pipe);
            }
            slot.out.clear();
        }
    }
}

/// Moves the agent's queued bytes to its pipe; what a full pipe does not take waits.
fn flush(links: &LocalLinks, slot: &mut Slot, now: u64) {
    let Some(pipe) = slot.pipe else {
        return;
    };
    slot.agent.poll_transmit(&mut slot.out);
    while !slot.out.is_empty() {
        match links.client_write(pipe, &slot.out) {
            Ok(n) => {
                slot.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => {
                slot.agent.on_disconnected(now);
                return;
            }
        }
    }
}
