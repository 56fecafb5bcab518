//! A hosted hive under a hostile flood: 5,000 idle TCP connections from 100 loopback source
//! addresses (127.0.1.x) and 1,000 bad console `AUTH`/s from another, against the real
//! hosted HAL on loopback. Measures the time a legitimate operator (127.0.0.1) takes to
//! connect, `AUTH` and `ATTACH queen` (goal: < 1 s), and prints what the flood costs the
//! pump thread in CPU (goal: < 10% of a core).
//!
//! `cargo bench -p cohesix-pump --bench hostile`; docs/performance.md records the results.
//! Every socket is on 127.0.0.0/8 and the flood stops with the bench.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use cohesix_pump::{Provision, Pump};
use criterion::{criterion_group, criterion_main, Criterion};
use hal::{CONSOLE_PORT, NINEP_PORT};
use hal_std::StdHal;
use manifest::Manifest;
use ticket::{Claims, Keyring, Role};

const SEED: &[u8] = b"hostile-bench";
const TOKEN: &[u8] = b"hostile-bench-token";
const IDLE_CONNECTIONS: usize = 5_000;
const IDLE_SOURCES: usize = 100;
const BAD_AUTH_PER_S: u64 = 1_000;

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(SEED, "hive"));
    keys
}

/// Nanoseconds of CPU this thread has used (Linux schedstat), if the kernel says.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

struct Hosted {
    console: SocketAddr,
    ninep: SocketAddr,
    stop: Arc<AtomicBool>,
    cpu_ns: Arc<AtomicU64>,
    thread: Option<thread::JoinHandle<()>>,
}

/// A hosted hive in its own thread, looping as `cohsh serve` does.
fn host() -> Hosted {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut hal = StdHal::bind(any, any).expect("loopback binds");
    let console = hal.local_addr(CONSOLE_PORT).unwrap();
    let ninep = hal.local_addr(NINEP_PORT).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_ns = Arc::new(AtomicU64::new(0));
    let (stop2, cpu2) = (stop.clone(), cpu_ns.clone());
    let thread = thread::spawn(move || {
        let mut manifest = Manifest::default();
        manifest.sessions.max = 16_384;
        let provision = Provision {
            keys: keys(),
            console_token: Some(TOKEN.to_vec()),
            platform: "bench",
            hive_id: Some(7),
        };
        let mut pump = Pump::new(manifest, provision, 0);
        let mut events = Vec::new();
        while !stop2.load(Ordering::Relaxed) {
            let turn = pump.turn(&mut hal);
            pump.drain_events(&mut events);
            events.clear();
            if !turn.did_work() && !hal.has_pending() {
                let _ = hal.wait(Duration::from_millis(10));
            }
            if let Some(ns) = thread_cpu_ns() {
                cpu2.store(ns, Ordering::Relaxed);
            }
        }
    });
    Hosted {
        console,
        ninep,
        stop,
        cpu_ns,
        thread: Some(thread),
    }
}

impl Drop for Hosted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A TCP connection from loopback source address `ip`.
fn connect_from(ip: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((ip, 0)).into())?;
    socket.connect(&to.into())?;
    Ok(socket.into())
}

fn frame(line: &str) -> Vec<u8> {
    let mut out = ((line.len() + 4) as u32).to_le_bytes().to_vec();
    out.extend_from_slice(line.as_bytes());
    out
}

fn read_line(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut body = vec![0u8; (u32::from_le_bytes(len) as usize).saturating_sub(4)];
    stream.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The legitimate operator: connect, AUTH, ATTACH queen.
fn operator_attach(console: SocketAddr, ticket: &str) {
    let mut s = connect_from([127, 0, 0, 1], console).expect("operator connects");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let token = String::from_utf8_lossy(TOKEN);
    s.write_all(&frame(&format!("AUTH {token}"))).unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "OK AUTH");
    s.write_all(&frame(&format!("ATTACH queen {ticket}")))
        .unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "OK ATTACH role=queen");
}

/// Bad AUTH lines at `BAD_AUTH_PER_S` from 127.0.2.1 until `stop`.
fn bad_auth_flood(console: SocketAddr, stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    thread::spawn(move || {
        let start = Instant::now();
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let due = start.elapsed().as_millis() as u64 * BAD_AUTH_PER_S / 1000;
            if sent >= due {
                thread::sleep(Duration::from_millis(1));
                continue;
            }
            if let Ok(mut s) = connect_from([127, 0, 2, 1], console) {
                let _ = s.write_all(&frame("AUTH not-the-token"));
            }
            sent += 1;
        }
        sent
    })
}

fn idle_flood(hive: &Hosted) -> Vec<TcpStream> {
    (0..IDLE_CONNECTIONS)
        .filter_map(|i| {
            let source = [127, 0, 1, (i % IDLE_SOURCES) as u8 + 1];
            let to = if i % 2 == 0 { hive.ninep } else { hive.console };
            connect_from(source, to).ok()
        })
        .collect()
}

fn hostile(c: &mut Criterion) {
    let hive = host();
    let claims = Claims::new(1, 1 << 40, Role::Queen, "operator", 0, 86_400_000).for_hive(7);
    let ticket = ticket::mint(&keys(), &claims).expect("mint");
    let idle = idle_flood(&hive);
    let stop = Arc::new(AtomicBool::new(false));
    let flood = bad_auth_flood(hive.console, stop.clone());
    thread::sleep(Duration::from_millis(500));

    // The flood's cost alone, over two seconds.
    let (cpu0, t0) = (hive.cpu_ns.load(Ordering::Relaxed), Instant::now());
    thread::sleep(Duration::from_secs(2));
    let cpu = hive.cpu_ns.load(Ordering::Relaxed).saturating_sub(cpu0);
    let share = cpu as f64 / t0.elapsed().as_nanos() as f64 * 100.0;
    eprintln!(
        "hostile: {} idle connections opened, 1000 bad AUTH/s: pump thread CPU {share:.1}% of a core (goal < 10%)",
        idle.len()
    );

    let mut group = c.benchmark_group("hostile");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("operator_attach_under_flood", |b| {
        b.iter(|| operator_attach(hive.console, &ticket));
    });
    group.finish();

    stop.store(true, Ordering::Relaxed);
    let sent = flood.join().unwrap_or(0);
    eprintln!("hostile: {sent} bad AUTH lines sent");
    drop(idle);
}

criterion_group!(benches, hostile);
criterion_main!(benches);
