//! GPU lease broker and scheduler, in process: grant/release throughput on a fleet of GPUs,
//! and the cost of one scheduling decision with 10 and with 10,000 requests queued (the 10
//! deep queue is the baseline the 1,000 and 10,000 deep ones are compared with in the same
//! run: a decision that grew with the queue would cost ten times more at 10,000 than at 1,000).
//!
//! `cargo bench -p cohesix-hive --bench leases`; docs/performance.md records the results.

use std::hint::black_box;

use cohesix_hive::{Hive, Principal, SystemEvent};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use manifest::Manifest;
use ticket::Keyring;

const GPUS: usize = 64;
const WORKERS: u32 = 256;
const TENANTS: u32 = 16;
const DEPTHS: [usize; 3] = [10, 1_000, 10_000];
const NOW: u64 = 1_000;

fn boot() -> Hive {
    let mut m = Manifest::default();
    m.features.gpu = true;
    m.gpu.tenant_leases_max = 4096;
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"lease-bench", "hive"));
    let mut hive = Hive::new(m, keys, 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0)
        .expect("boot completes");
    for t in 0..TENANTS {
        let line = format!(
            r#"{{"spawn":"gpu","count":{},"site":"t{t}"}}"#,
            WORKERS / TENANTS
        );
        hive.ctl(&line, "queen", 0).expect("spawn");
    }
    let q = Principal::serial_queen();
    for g in 0..GPUS {
        let line = format!(
            r#"{{"inventory":{{"gpu":"g{g:03}","bridge":"b{}","mem_mb":16384,"streams":4}}}}"#,
            g / 8
        );
        hive.lease_ctl(&line, &q, None, 0).expect("publish");
    }
    let _ = hive.take_journal();
    hive
}

/// Worker `i` of the run: consecutive `i` cycle through the tenants (worker ids are spawned
/// tenant by tenant), so every depth, even 10, spreads over as many tenants as it can.
fn worker(i: usize) -> String {
    let per_tenant = (WORKERS / TENANTS) as usize;
    let tenant = i % TENANTS as usize;
    let nth = (i / TENANTS as usize) % per_tenant;
    format!("w{:04}", 1 + tenant * per_tenant + nth)
}

/// Grants then releases one lease on a free GPU: the direct `grant` path.
fn grant_release(hive: &mut Hive, i: usize) {
    let q = Principal::serial_queen();
    let line = format!(
        r#"{{"grant":{{"worker":"{}","mem_mb":4096,"ttl_s":600,"priority":1}}}}"#,
        worker(i)
    );
    let ack = hive.lease_ctl(&line, &q, None, NOW).expect("grant");
    let id = ack["lease id=".len()..].split(' ').next().unwrap();
    let release = format!(r#"{{"release":{{"lease":{id}}}}}"#);
    hive.lease_ctl(&release, &q, None, NOW).expect("release");
    black_box(hive.take_journal());
}

/// Every GPU leased and `depth` requests queued across all tenants.
fn saturated(depth: usize) -> Hive {
    let mut hive = boot();
    let q = Principal::serial_queen();
    for i in 0..GPUS {
        let line = format!(
            r#"{{"grant":{{"worker":"{}","mem_mb":4096,"ttl_s":600,"priority":1}}}}"#,
            worker(i)
        );
        hive.lease_ctl(&line, &q, None, NOW).expect("grant");
    }
    for i in 0..depth {
        enqueue(&mut hive, i, (i % 7) as u8);
    }
    let _ = hive.take_journal();
    hive
}

fn enqueue(hive: &mut Hive, i: usize, priority: u8) {
    let q = Principal::serial_queen();
    let line = format!(
        r#"{{"enqueue":{{"worker":"{}","mem_mb":4096,"ttl_s":600,"priority":{priority}}}}}"#,
        worker(i)
    );
    hive.schedule_ctl(&line, &q, NOW).expect("enqueue");
}

/// One decision at a steady depth: a lease is released, the scheduler grants the best queued
/// request in its place, and one request is queued to keep the depth.
fn decide_once(hive: &mut Hive, i: usize) {
    let q = Principal::serial_queen();
    let id = hive.gpus().broker.leases().next().expect("a lease").id;
    let release = format!(r#"{{"release":{{"lease":{id}}}}}"#);
    hive.lease_ctl(&release, &q, None, NOW).expect("release");
    enqueue(hive, i, (i % 7) as u8);
    black_box(hive.take_journal());
}

fn bench_grant_release(c: &mut Criterion) {
    let mut group = c.benchmark_group("lease");
    group.throughput(Throughput::Elements(1));
    let mut hive = boot();
    let mut i = 0;
    group.bench_function("grant_release", |b| {
        b.iter(|| {
            i += 1;
            grant_release(&mut hive, i);
        })
    });
    group.finish();
}

fn bench_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_decision");
    group.throughput(Throughput::Elements(1));
    for depth in DEPTHS {
        let mut hive = saturated(depth);
        let mut i = depth;
        group.bench_with_input(BenchmarkId::from_parameter(depth), &depth, |b, _| {
            b.iter(|| {
                i += 1;
                decide_once(&mut hive, i);
            })
        });
        assert_eq!(hive.gpus().queue.len(), depth, "the depth stayed steady");
        assert!(hive.gpus().queue.decisions > 0, "decisions were made");
    }
    group.finish();
}

/// The decision alone, on the structures themselves (no JSON, journal or audit line): the
/// best tenant head is taken from a queue of `depth`, the broker decides it onto the one free
/// GPU, and the lease and the request are put back so the state stays steady.
fn bench_decision_core(c: &mut Criterion) {
    use cohesix_hive::gpu::{Broker, Lease, Queue, Request};
    let mut group = c.benchmark_group("decision_core");
    group.throughput(Throughput::Elements(1));
    for depth in DEPTHS {
        let m = Manifest::default();
        let mut broker = Broker::new(m.gpu.clone());
        let mut queue = Queue::new(m.schedule.age_step_ms);
        broker.publish("g0", "b0", 16_384, 4).expect("publish");
        for i in 0..depth {
            let id = queue.mint();
            let tenant = format!("t{}", i % TENANTS as usize);
            queue.push(Request {
                id,
                worker: worker(i),
                tenant: tenant.clone(),
                mem_mb: 4096,
                streams: 1,
                ttl_ms: 600_000,
                priority: (i % 7) as u8,
                enqueued_ms: i as u64,
            });
            queue.refresh(&tenant, 0, true);
        }
        group.bench_with_input(BenchmarkId::from_parameter(depth), &depth, |b, _| {
            b.iter(|| {
                let id = queue.best(1)[0];
                let req = queue.remove(id).expect("queued");
                let ask = req.ask();
                let decision = broker.decide(&ask, false).expect("a free GPU");
                let lease = broker.mint();
                broker.insert(Lease {
                    id: lease,
                    gpu: decision.gpu,
                    worker: ask.worker,
                    tenant: ask.tenant,
                    priority: ask.priority,
                    mem_mb: ask.mem_mb,
                    streams: ask.streams,
                    granted_ms: NOW,
                    expires_ms: NOW + ask.ttl_ms,
                });
                black_box(broker.remove(lease));
                let tenant = req.tenant.clone();
                queue.push(req);
                queue.refresh(&tenant, 0, true);
            })
        });
        assert_eq!(queue.len(), depth, "the depth stayed steady");
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_grant_release,
    bench_decision,
    bench_decision_core
);
criterion_main!(benches);
