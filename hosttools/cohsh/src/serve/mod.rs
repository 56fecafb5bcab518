//! `cohsh serve`: a hosted hive. The unchanged core pump runs on the std HAL (real TCP
//! sockets, the monotonic clock) in one thread; optionally a second thread runs a heartbeat
//! agent for every spawned worker, attaching with the worker's ticket over an in-memory pipe
//! to the Secure9P port (no file descriptor per agent), so spawned workers come ONLINE through
//! the same Secure9P sessions as remote ones would.

mod agents;
mod provision;
mod pump_loop;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use manifest::Manifest;
use ticket::Keyring;

pub use agents::AgentOptions;
pub use provision::{load_manifest, provision, queen_ticket, Provisioned, ServeArgs};

/// Everything a hosted hive needs to start.
#[derive(Clone)]
pub struct ServeConfig {
    pub console_addr: SocketAddr,
    pub ninep_addr: SocketAddr,
    /// Where Secure9P goes instead if binding `ninep_addr` is not permitted.
    pub ninep_fallback: Option<SocketAddr>,
    pub manifest: Manifest,
    pub keys: Keyring,
    /// The TCP console token.
    pub token: String,
    /// Serve the serial console on stdin/stdout.
    pub serial: bool,
    /// Run heartbeat agents for spawned workers.
    pub agents: Option<AgentOptions>,
    /// Keep the store in this directory (memory when `None`).
    pub store_dir: Option<PathBuf>,
    /// Print hive events (spawns, revocations, lifecycle) to stderr.
    pub log_events: bool,
    /// The hive's identity; every ticket it accepts names it.
    pub hive_id: u64,
}

impl ServeConfig {
    /// Loopback on ephemeral ports, default manifest, agents on: for tests.
    pub fn ephemeral(keys: Keyring, token: &str) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            console_addr: any,
            ninep_addr: any,
            ninep_fallback: None,
            manifest: Manifest::default(),
            keys,
            token: token.to_string(),
            serial: false,
            agents: Some(AgentOptions::default()),
            store_dir: None,
            log_events: false,
            // Tests mint tickets with `Claims::new`, which names hive 0.
            hive_id: 0,
        }
    }
}

/// Counters the running hive publishes for its host (status lines, tests, benchmarks).
#[derive(Debug, Default)]
pub struct HiveStats {
    pub workers_pending: AtomicU64,
    pub workers_online: AtomicU64,
    pub workers_offline: AtomicU64,
    pub connections: AtomicU64,
    pub turns: AtomicU64,
    /// Agents whose worker was revoked or refused.
    pub agents_stopped: AtomicU64,
    pub agents_running: AtomicU64,
}

impl HiveStats {
    /// `(pending, online, offline)` workers at the last publication.
    pub fn workers(&self) -> (u64, u64, u64) {
        (
            self.workers_pending.load(Ordering::Relaxed),
            self.workers_online.load(Ordering::Relaxed),
            self.workers_offline.load(Ordering::Relaxed),
        )
    }
}

/// A running hosted hive; stops (and joins its threads) when dropped.
pub struct HostedHive {
    console_addr: SocketAddr,
    ninep_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    stats: Arc<HiveStats>,
    threads: Vec<JoinHandle<()>>,
}

impl HostedHive {
    /// Binds both ports (so a bad address fails here, not in a thread), then starts the pump
    /// and, if configured, the agents.
    pub fn start(config: ServeConfig) -> io::Result<Self> {
        raise_fd_limit();
        let mut hal = bind(&config)?;
        if config.serial {
            hal = with_serial(hal);
        }
        if let Some(dir) = &config.store_dir {
            hal = with_store(hal, dir)?;
        }
        let console_addr = hal.local_addr(hal::CONSOLE_PORT).ok_or_else(unbound)?;
        let ninep_addr = hal.local_addr(hal::NINEP_PORT).ok_or_else(unbound)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(HiveStats::default());
        let mut threads = Vec::new();
        let spawned = match &config.agents {
            Some(options) => {
                let links = hal_std::LocalLinks::new();
                hal = hal.with_local(&links)?;
                let (tx, rx) = mpsc::channel();
                let host = agents::AgentHost::new(
                    links,
                    options.clone(),
                    &config.manifest,
                    rx,
                    Arc::clone(&stop),
                    Arc::clone(&stats),
                )?;
                let waker = host.waker();
                threads.push(spawn("hive-agents", move || host.run())?);
                Some(pump_loop::Spawned { tx, waker })
            }
            None => None,
        };
        let pump =
            pump_loop::PumpLoop::new(config, hal, spawned, Arc::clone(&stop), Arc::clone(&stats));
        threads.push(spawn("hive-pump", move || pump.run())?);
        Ok(Self {
            console_addr,
            ninep_addr,
            stop,
            stats,
            threads,
        })
    }

    pub fn console_addr(&self) -> SocketAddr {
        self.console_addr
    }

    pub fn ninep_addr(&self) -> SocketAddr {
        self.ninep_addr
    }

    pub fn stats(&self) -> &HiveStats {
        &self.stats
    }

    /// Blocks until `stop` is called from elsewhere (or a thread ends).
    pub fn wait(mut self) {
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }

    /// A handle that stops the hive from another thread (a signal handler).
    pub fn stopper(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Polls `cond` on the stats every 10 ms until it holds or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, cond: impl Fn(&HiveStats) -> bool) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < timeout {
            if cond(&self.stats) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        cond(&self.stats)
    }
}

impl Drop for HostedHive {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.to_string()).spawn(f)
}

/// Binds both ports, moving Secure9P to its fallback when the first address is not permitted.
fn bind(config: &ServeConfig) -> io::Result<hal_std::StdHal> {
    match hal_std::StdHal::bind(config.console_addr, config.ninep_addr) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => match config.ninep_fallback {
            Some(fallback) => hal_std::StdHal::bind(config.console_addr, fallback),
            None => Err(e),
        },
        other => other,
    }
}

fn unbound() -> io::Error {
    io::Error::other("a port did not bind")
}

fn with_serial(hal: hal_std::StdHal) -> hal_std::StdHal {
    hal.with_console(hal_std::StdConsole::stdio())
}

fn with_store(hal: hal_std::StdHal, dir: &std::path::Path) -> io::Result<hal_std::StdHal> {
    Ok(hal.with_store(hal_std::StdStore::dir(dir)?))
}

/// Every remote client's connection is a descriptor (in-process agents use none). Raise the
/// soft limit to the hard one; where that fails the hive still runs, with fewer connections.
fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}
