//! Heartbeat agents for the workers a hosted hive spawns: one thread drives every agent's
//! sans-IO state machine (`cohesix_worker::HeartbeatAgent`) over its own non-blocking loopback
//! TCP connection to the Secure9P port, so 1,000 workers cost 1,000 sockets, not 1,000 threads.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use manifest::Manifest;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use secure9p::Limits;
use worker::{AgentConfig, HeartbeatAgent};

use super::pump_loop::NewWorker;
use super::HiveStats;

/// The token of the waker that announces new workers.
const WAKE: Token = Token(usize::MAX);
/// Longest sleep with nothing due, so the stop flag is seen promptly.
const SLEEP_MAX: Duration = Duration::from_millis(100);

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

enum Conn {
    None,
    Connecting { stream: TcpStream, since_ms: u64 },
    Open { stream: TcpStream, out: Vec<u8> },
}

struct Slot {
    agent: HeartbeatAgent,
    conn: Conn,
}

pub struct AgentHost {
    addr: SocketAddr,
    options: AgentOptions,
    deadline_ms: u64,
    limits: Limits,
    rx: Receiver<NewWorker>,
    poll: Poll,
    waker: Arc<Waker>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    stop: Arc<AtomicBool>,
    stats: Arc<HiveStats>,
    boot: Instant,
}

impl AgentHost {
    pub fn new(
        addr: SocketAddr,
        options: AgentOptions,
        manifest: &Manifest,
        rx: Receiver<NewWorker>,
        stop: Arc<AtomicBool>,
        stats: Arc<HiveStats>,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        Ok(Self {
            addr,
            options,
            deadline_ms: u64::from(manifest.hive.heartbeat_deadline_ms),
            limits: Limits::from_manifest(manifest),
            rx,
            poll,
            waker,
            slots: Vec::new(),
            free: Vec::new(),
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
        let mut events = Events::with_capacity(1024);
        let mut timeout = Duration::ZERO;
        while !self.stop.load(Ordering::Relaxed) {
            if self.poll.poll(&mut events, Some(timeout)).is_err() {
                // Interrupted; the sweep below catches up.
                events.clear();
            }
            let now = self.now_ms();
            self.admit_new(now);
            for event in events.iter() {
                let index = event.token().0;
                if index != WAKE.0 {
                    self.service_io(index, now);
                }
            }
            let next = self.sweep(now);
            let wait_ms = next.saturating_sub(self.now_ms());
            timeout = Duration::from_millis(wait_ms).min(SLEEP_MAX);
        }
    }

    fn admit_new(&mut self, now: u64) {
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
                conn: Conn::None,
            };
            match self.free.pop() {
                Some(index) => self.slots[index] = Some(slot),
                None => self.slots.push(Some(slot)),
            }
        }
        let running = self.slots.len() - self.free.len();
        self.stats
            .agents_running
            .store(running as u64, Ordering::Relaxed);
    }

    /// Drives every agent's timers and output; returns the earliest time one needs a sweep.
    fn sweep(&mut self, now: u64) -> u64 {
        let mut next = now + SLEEP_MAX.as_millis() as u64;
        for index in 0..self.slots.len() {
            if let Some(wake) = self.drive(index, now) {
                next = next.min(wake);
            }
        }
        next
    }

    /// One agent: connect if it wants to, advance its timers, send what it queued, and drop
    /// it once its authority is gone for good.
    fn drive(&mut self, index: usize, now: u64) -> Option<u64> {
        let slot = self.slots.get_mut(index)?.as_mut()?;
        if matches!(slot.conn, Conn::None) && slot.agent.wants_connect(now) {
            start_connect(&self.poll, self.addr, index, slot, now);
        }
        check_connecting(slot, now);
        let wake = slot.agent.poll(now);
        flush(slot, now);
        drop_if_gone(&self.poll, slot);
        if wake.is_none() {
            close(&self.poll, slot);
            self.slots[index] = None;
            self.free.push(index);
            self.stats.agents_stopped.fetch_add(1, Ordering::Relaxed);
            self.stats.agents_running.fetch_sub(1, Ordering::Relaxed);
        }
        wake
    }

    /// Readiness on one agent's socket: finish a connect, read replies, send what is queued.
    fn service_io(&mut self, index: usize, now: u64) {
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return;
        };
        check_connecting(slot, now);
        if let Conn::Open { stream, .. } = &mut slot.conn {
            let mut buf = [0u8; 8192];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => {
                        slot.agent.on_disconnected(now);
                        break;
                    }
                    Ok(n) => slot.agent.on_bytes(&buf[..n], now),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        slot.agent.on_disconnected(now);
                        break;
                    }
                }
            }
        }
        flush(slot, now);
        drop_if_gone(&self.poll, slot);
    }
}

/// An open transport the agent no longer wants (cut, revoked, hung up) is closed; a connect
/// in progress is the connect check's to finish or fail.
fn drop_if_gone(poll: &Poll, slot: &mut Slot) {
    if matches!(slot.conn, Conn::Open { .. }) && !slot.agent.is_connected() {
        close(poll, slot);
    }
}

fn start_connect(poll: &Poll, addr: SocketAddr, index: usize, slot: &mut Slot, now: u64) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        slot.agent.on_connect_failed(now);
        return;
    };
    let interest = Interest::READABLE | Interest::WRITABLE;
    if poll
        .registry()
        .register(&mut stream, Token(index), interest)
        .is_err()
    {
        slot.agent.on_connect_failed(now);
        return;
    }
    slot.conn = Conn::Connecting {
        stream,
        since_ms: now,
    };
}

/// Turns a finished non-blocking connect into an open transport (or a failure).
fn check_connecting(slot: &mut Slot, now: u64) {
    let Conn::Connecting { stream, since_ms } = &slot.conn else {
        return;
    };
    let failed = matches!(stream.take_error(), Ok(Some(_)) | Err(_));
    let established = !failed && stream.peer_addr().is_ok();
    let too_slow = now.saturating_sub(*since_ms) > slot.agent.connect_timeout_ms();
    if established {
        let Conn::Connecting { stream, .. } = std::mem::replace(&mut slot.conn, Conn::None) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        slot.conn = Conn::Open {
            stream,
            out: Vec::new(),
        };
        slot.agent.on_connected(now);
    } else if failed || too_slow {
        slot.conn = Conn::None;
        slot.agent.on_connect_failed(now);
    }
}

/// Moves the agent's queued bytes to the socket; what the socket does not take waits for the
/// next writable event.
fn flush(slot: &mut Slot, now: u64) {
    let Conn::Open { stream, out } = &mut slot.conn else {
        return;
    };
    slot.agent.poll_transmit(out);
    while !out.is_empty() {
        match stream.write(out) {
            Ok(n) => {
                out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                slot.agent.on_disconnected(now);
                return;
            }
        }
    }
}

fn close(poll: &Poll, slot: &mut Slot) {
    match std::mem::replace(&mut slot.conn, Conn::None) {
        Conn::Connecting { mut stream, .. } | Conn::Open { mut stream, .. } => {
            let _ = poll.registry().deregister(&mut stream);
        }
        Conn::None => {}
    }
}
