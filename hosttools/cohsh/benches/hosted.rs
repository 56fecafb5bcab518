//! The hosted hive, measured: console and Secure9P round trips, and how long 1,000 spawned
//! workers take to come ONLINE through their heartbeat agents on loopback TCP.
//!
//! `cargo bench -p cohsh --bench hosted`

use std::time::{Duration, Instant};

use client::{ConsoleClient, NineClient, Timeouts};
use cohsh::serve::{queen_ticket, HostedHive, ServeConfig};
use criterion::{criterion_group, criterion_main, Criterion};

const TOKEN: &str = "bench-token";

fn keys() -> ticket::Keyring {
    let mut keys = ticket::Keyring::new();
    keys.insert(1, ticket::Keyring::derive_key(b"bench", "hive"));
    keys
}

fn start(agents: bool) -> (HostedHive, String) {
    let mut config = ServeConfig::ephemeral(keys(), TOKEN);
    if !agents {
        config.agents = None;
    }
    let hive = HostedHive::start(config).expect("hive starts");
    let queen = queen_ticket(&keys(), 0).expect("queen ticket");
    (hive, queen)
}

fn round_trips(c: &mut Criterion) {
    let (hive, queen) = start(false);
    let timeouts = Timeouts::default();
    let mut console =
        ConsoleClient::open(hive.console_addr(), TOKEN, "queen", Some(&queen), timeouts)
            .expect("console attaches");
    c.bench_function("console ping round trip", |b| {
        b.iter(|| console.ping().expect("pong"))
    });
    c.bench_function("console cat /proc/lifecycle/state", |b| {
        b.iter(|| console.cat("/proc/lifecycle/state").expect("state"))
    });
    let mut ninep = NineClient::open(hive.ninep_addr(), "queen", "operator", &queen, timeouts)
        .expect("9p attaches");
    let root = ninep.root().expect("root");
    c.bench_function("9p getattr round trip", |b| {
        b.iter(|| ninep.getattr(root).expect("attr"))
    });
    c.bench_function("9p read_file /proc/lifecycle/state", |b| {
        b.iter(|| {
            ninep
                .read_file("/proc/lifecycle/state", 4096)
                .expect("state")
        })
    });
}

/// Spawns 1,000 heartbeat workers on a fresh hive and times until all are ONLINE.
fn thousand_online(c: &mut Criterion) {
    let mut group = c.benchmark_group("hosted hive");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("1000 workers spawn to ONLINE", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (hive, queen) = start(true);
                let mut console = ConsoleClient::open(
                    hive.console_addr(),
                    TOKEN,
                    "queen",
                    Some(&queen),
                    Timeouts::default(),
                )
                .expect("console attaches");
                let started = Instant::now();
                console
                    .call(r#"SPAWN {"spawn":"heartbeat","count":1000}"#)
                    .expect("spawned");
                let online = hive.wait_for(Duration::from_secs(120), |s| s.workers().1 == 1000);
                assert!(online, "workers: {:?}", hive.stats().workers());
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, round_trips, thousand_online);
criterion_main!(benches);
