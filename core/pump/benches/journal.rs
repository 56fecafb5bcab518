//! The Queen journal's costs: what journaling adds to a control command, and how long a
//! restarted queen takes to replay a hive of 1,000 and 10,000 workers (goal: under 1 s for
//! 10,000), from the journal alone and from a snapshot.
//!
//! `cargo bench -p cohesix-pump --bench journal`; docs/performance.md records the results.

use std::hint::black_box;

use cohesix_pump::{Provision, Pump};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hal::mem::{MemHal, MemStore};
use hive::{Hive, SystemEvent};
use journal::Writer;
use manifest::Manifest;
use ticket::Keyring;

const SEED: &[u8] = b"journal-bench";
const SPAWN_ONE: &str = r#"{"spawn":"heartbeat"}"#;

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(SEED, "hive"));
    keys
}

fn manifest() -> Manifest {
    let mut manifest = Manifest::default();
    manifest.hive.workers_max = 65_536;
    // Replay is measured as it is: no snapshot is folded in while booting.
    manifest.journal.snapshot_every = 1 << 20;
    manifest
}

fn hive() -> Hive {
    let mut hive = Hive::new(manifest(), keys(), 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0)
        .expect("boot completes");
    hive
}

/// A store holding the journal of `workers` spawns of one worker each (the longest journal
/// for that many workers), optionally folded into a snapshot.
fn journal_of(workers: u32, snapshot: bool) -> MemStore {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    let mut hive = hive();
    for i in 0..workers {
        hive.ctl(SPAWN_ONE, "bench", u64::from(i)).expect("spawn");
        let entries = hive.take_journal();
        writer.append(&mut store, u64::from(i), &entries).expect("append");
    }
    if snapshot {
        writer
            .snapshot(&mut store, u64::from(workers), &hive.snapshot())
            .expect("snapshot");
    }
    store
}

fn boot(store: &MemStore) -> Pump {
    let mut hal = MemHal::new(1).with_store(store.clone());
    let provision = Provision {
        keys: keys(),
        console_token: None,
        platform: "bench",
        hive_id: Some(0),
    };
    Pump::boot(&mut hal, manifest(), provision)
        .expect("journal reads back")
        .0
}

/// A spawn decided in memory (the baseline) against the same spawn made durable.
fn append_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal/control-command");
    group.bench_function("spawn, in memory only", |b| {
        let mut hive = hive();
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            black_box(hive.ctl(SPAWN_ONE, "bench", now).ok());
            black_box(hive.take_journal());
            if hive.registry().len() >= 60_000 {
                hive = self::hive();
            }
        });
    });
    group.bench_function("spawn, journaled", |b| {
        let mut hive = hive();
        let mut store = MemStore::new();
        let mut writer = Writer::new();
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            black_box(hive.ctl(SPAWN_ONE, "bench", now).ok());
            let entries = hive.take_journal();
            writer.append(&mut store, now, &entries).expect("append");
            if hive.registry().len() >= 60_000 {
                hive = self::hive();
                store = MemStore::new();
                writer = Writer::new();
            }
        });
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal/replay");
    group.sample_size(10);
    for workers in [1_000u32, 10_000] {
        let from_journal = journal_of(workers, false);
        group.bench_with_input(
            BenchmarkId::new("journal", workers),
            &from_journal,
            |b, store| b.iter(|| black_box(boot(store))),
        );
        let from_snapshot = journal_of(workers, true);
        group.bench_with_input(
            BenchmarkId::new("snapshot", workers),
            &from_snapshot,
            |b, store| b.iter(|| black_box(boot(store))),
        );
    }
    group.finish();
}

criterion_group!(benches, append_cost, replay);
criterion_main!(benches);
