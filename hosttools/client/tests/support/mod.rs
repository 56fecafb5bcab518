//! A hive on real loopback sockets: the core pump over the std HAL in a thread.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use cohesix_client::Timeouts;
use hal::Clock;
use hal_std::StdHal;
use manifest::Manifest;
use pump::{Provision, Pump};
use ticket::{Claims, Keyring, Role};

pub const TOKEN: &str = "client-test-token";

pub fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"client-tests", "hive"));
    keys
}

pub fn ticket(role: Role, subject: &str, ticket_id: u64) -> String {
    let claims = Claims::new(1, ticket_id, role, subject, 0, 3_600_000);
    ticket::mint(&keys(), &claims).unwrap()
}

pub fn queen() -> String {
    ticket(Role::Queen, "operator", 1 << 40)
}

pub fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        reply: Duration::from_secs(5),
    }
}

pub struct Hive {
    pub console: SocketAddr,
    pub ninep: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hive {
    pub fn start() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut hal = StdHal::bind(any, any).unwrap();
        let console = hal.local_addr(hal::CONSOLE_PORT).unwrap();
        let ninep = hal.local_addr(hal::NINEP_PORT).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let provision = Provision {
                keys: keys(),
                console_token: Some(TOKEN.as_bytes().to_vec()),
                platform: "test",
                hive_id: Some(0),
            };
            let mut pump = Pump::new(Manifest::default(), provision, hal.now_ms());
            while !flag.load(Ordering::Relaxed) {
                let turn = pump.turn(&mut hal);
                let idle = turn.bytes_in == 0 && turn.bytes_out == 0 && turn.accepted == 0;
                if idle && !hal.has_pending() {
                    let _ = hal.wait(Duration::from_millis(2));
                }
            }
        });
        Self {
            console,
            ninep,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Hive {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
