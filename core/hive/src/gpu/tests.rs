use crate::durable::Entry;
use crate::gpu::GpuStream;
use crate::{Hive, Principal, SystemEvent};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use manifest::Manifest;
use secure9p::Error;
use ticket::{Keyring, Role};

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"test-seed", "hive-a"));
    keys
}

fn manifest() -> Manifest {
    let mut m = Manifest::default();
    m.features.gpu = true;
    m.gpu.tenant_leases_max = 3;
    m
}

fn hive_with(m: Manifest) -> Hive {
    let mut hive = Hive::new(m, keys(), 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0).unwrap();
    hive
}

fn queen() -> Principal {
    Principal::serial_queen()
}

fn bridge(name: &str) -> Principal {
    Principal {
        role: Role::GpuBridge,
        subject: name.to_string(),
        ..Principal::serial_queen()
    }
}

fn worker(id: &str) -> Principal {
    Principal {
        role: Role::WorkerGpu,
        subject: id.to_string(),
        ..Principal::serial_queen()
    }
}

/// Spawns `count` gpu workers for `tenant`; returns their ids.
fn spawn(hive: &mut Hive, tenant: &str, count: u32) -> Vec<String> {
    let line = alloc::format!(r#"{{"spawn":"gpu","count":{count},"site":"{tenant}"}}"#);
    let ack = hive.ctl(&line, "queen", 0).unwrap();
    let ids = ack.rsplit("ids=").next().unwrap();
    let (first, last) = ids.split_once("..").unwrap_or((ids, ids));
    let n = |s: &str| s.trim_start_matches('w').parse::<u64>().unwrap();
    (n(first)..=n(last))
        .map(|i| alloc::format!("w{i:04}"))
        .collect()
}

fn publish(hive: &mut Hive, b: &str, gpus: &[&str]) {
    for g in gpus {
        let line = alloc::format!(r#"{{"inventory":{{"gpu":"{g}","mem_mb":8192,"streams":4}}}}"#);
        hive.lease_ctl(&line, &bridge(b), None, 0).unwrap();
    }
}

fn grant(hive: &mut Hive, w: &str, gpu: Option<&str>, prio: u8, now: u64) -> Result<String, Error> {
    let gpu = gpu.map_or(String::new(), |g| alloc::format!(r#""gpu":"{g}","#));
    let line = alloc::format!(r#"{{"grant":{{{gpu}"mem_mb":1024,"ttl_s":60,"priority":{prio}}}}}"#);
    hive.lease_ctl(&line, &worker(w), None, now)
        .map_err(|r| r.error)
}

fn enqueue(hive: &mut Hive, w: &str, prio: u8, now: u64) -> Result<String, Error> {
    let line = alloc::format!(r#"{{"enqueue":{{"mem_mb":1024,"ttl_s":60,"priority":{prio}}}}}"#);
    hive.schedule_ctl(&line, &worker(w), now)
        .map_err(|r| r.error)
}

fn commands(hive: &Hive, w: &str) -> String {
    String::from_utf8(hive.read_worker_commands(w, 0, usize::MAX).unwrap().data).unwrap()
}

fn active(hive: &Hive) -> String {
    hive.lease_proc("active").unwrap()
}

#[test]
fn grant_busy_preempt_and_the_victim_is_told_why() {
    let mut hive = hive_with(manifest());
    let ws = spawn(&mut hive, "a", 3);
    publish(&mut hive, "b0", &["g0"]);
    let ack = grant(&mut hive, &ws[0], Some("g0"), 1, 10).unwrap();
    assert!(ack.starts_with("lease id=1 gpu=g0 worker=w0001"), "{ack}");
    // Same priority: no capacity, never a double grant.
    assert_eq!(
        grant(&mut hive, &ws[1], Some("g0"), 1, 20),
        Err(Error::Busy)
    );
    assert_eq!(grant(&mut hive, &ws[1], None, 1, 20), Err(Error::Busy));
    let ack = grant(&mut hive, &ws[2], Some("g0"), 5, 30).unwrap();
    assert!(ack.ends_with("preempted=1"), "{ack}");
    assert_eq!(active(&hive).lines().count(), 1);
    assert!(active(&hive).contains("worker=w0003"));
    let told = commands(&hive, &ws[0]);
    assert!(
        told.contains("lease-revoked lease=1 gpu=g0 reason=preempted by=w0003 priority=5"),
        "{told}"
    );
    let pre = hive.lease_proc("preemptions").unwrap();
    assert!(
        pre.contains("victim=w0001 victim_priority=1 by=w0003 by_priority=5"),
        "{pre}"
    );
    // The preempted holder can no longer touch the GPU.
    let job = hive.gpu_append("g0", GpuStream::Job, Some(&ws[0]), b"run\n", 40);
    assert_eq!(job.map_err(|r| r.error), Err(Error::Perm));
    assert!(hive
        .gpu_append("g0", GpuStream::Job, Some(&ws[2]), b"run\n", 40)
        .is_ok());
}

#[test]
fn a_worker_without_a_live_lease_cannot_submit_a_job() {
    let mut hive = hive_with(manifest());
    let ws = spawn(&mut hive, "a", 2);
    publish(&mut hive, "b0", &["g0"]);
    let no = hive.gpu_append("g0", GpuStream::Job, Some(&ws[0]), b"run\n", 0);
    assert_eq!(no.map_err(|r| r.error), Err(Error::Perm));
    grant(&mut hive, &ws[0], Some("g0"), 1, 0).unwrap();
    let other = hive.gpu_append("g0", GpuStream::Job, Some(&ws[1]), b"run\n", 1);
    assert_eq!(other.map_err(|r| r.error), Err(Error::Perm));
    let queen = hive.gpu_append("g0", GpuStream::Job, None, b"run\n", 1);
    assert_eq!(queen.map_err(|r| r.error), Err(Error::Perm));
    hive.gpu_append("g0", GpuStream::Status, Some(&ws[0]), b"step=1\n", 2)
        .unwrap();
    hive.gpu_append("g0", GpuStream::Status, Some(&ws[0]), b"step=2\n", 3)
        .unwrap();
    let status = hive
        .read_gpu_stream("g0", GpuStream::Status, 0, 1024)
        .unwrap();
    assert_eq!(status.data, b"step=1\nstep=2\n");
    // Past its TTL (60 s) the lease is dead even before the tick that ends it.
    let late = hive.gpu_append("g0", GpuStream::Job, Some(&ws[0]), b"run\n", 60_000);
    assert_eq!(late.map_err(|r| r.error), Err(Error::Perm));
    let log = String::from_utf8(hive.audit().read(0, usize::MAX).data).unwrap();
    assert!(log.contains("detail=no-live-lease"), "{log}");
}

#[test]
fn ttl_expiry_renewal_and_release() {
    let mut hive = hive_with(manifest());
    let ws = spawn(&mut hive, "a", 1);
    publish(&mut hive, "b0", &["g0", "g1"]);
    grant(&mut hive, &ws[0], Some("g0"), 1, 0).unwrap();
    grant(&mut hive, &ws[0], Some("g1"), 1, 0).unwrap();
    let renew = r#"{"renew":{"lease":1,"ttl_s":120}}"#;
    hive.lease_ctl(renew, &worker(&ws[0]), Some("g0"), 30_000)
        .unwrap();
    // Renewing lease 1 through the other GPU's ctl names no lease there.
    let wrong = hive.lease_ctl(renew, &worker(&ws[0]), Some("g1"), 30_000);
    assert_eq!(wrong.map_err(|r| r.error), Err(Error::NotFound));
    hive.tick(60_000);
    let act = active(&hive);
    assert!(
        act.contains("lease=1 ") && !act.contains("lease=2 "),
        "{act}"
    );
    assert!(commands(&hive, &ws[0]).contains("lease=2 gpu=g1 reason=ttl"));
    hive.lease_ctl(r#"{"release":{"lease":1}}"#, &worker(&ws[0]), None, 61_000)
        .unwrap();
    assert_eq!(active(&hive), "");
    let s = hive.lease_proc("summary").unwrap();
    assert!(
        s.contains("grants=2 renewals=1 releases=1 expiries=1"),
        "{s}"
    );
}

#[test]
fn tenant_quotas_and_roles() {
    let mut hive = hive_with(manifest());
    let a = spawn(&mut hive, "a", 4);
    publish(&mut hive, "b0", &["g0", "g1", "g2", "g3"]);
    for w in &a[..3] {
        grant(&mut hive, w, None, 1, 0).unwrap();
    }
    assert_eq!(grant(&mut hive, &a[3], None, 1, 0), Err(Error::Quota));
    hive.lease_ctl(r#"{"quota":{"tenant":"a","leases":4}}"#, &queen(), None, 0)
        .unwrap();
    grant(&mut hive, &a[3], None, 1, 0).unwrap();
    // Only the Queen sets quotas; a worker asks only for itself; a bridge publishes only
    // its own GPUs.
    let q = hive.lease_ctl(
        r#"{"quota":{"tenant":"a","leases":9}}"#,
        &worker(&a[0]),
        None,
        0,
    );
    assert_eq!(q.map_err(|r| r.error), Err(Error::Perm));
    let other = r#"{"grant":{"worker":"w0002","mem_mb":1,"ttl_s":1}}"#;
    let r = hive.lease_ctl(other, &worker(&a[0]), None, 0);
    assert_eq!(r.map_err(|r| r.error), Err(Error::Perm));
    let steal = r#"{"inventory":{"gpu":"g0","mem_mb":1,"streams":1}}"#;
    let r = hive.lease_ctl(steal, &bridge("b1"), None, 0);
    assert_eq!(r.map_err(|r| r.error), Err(Error::Perm));
    hive.lease_ctl(r#"{"quota":{"tenant":"a","leases":5}}"#, &queen(), None, 0)
        .unwrap();
    let huge = r#"{"grant":{"mem_mb":999999,"ttl_s":1}}"#;
    let r = hive.lease_ctl(huge, &worker(&a[0]), None, 0);
    assert_eq!(r.map_err(|r| r.error), Err(Error::TooBig));
}

#[test]
fn a_lost_bridge_revokes_its_leases_with_a_named_reason() {
    let mut hive = hive_with(manifest());
    let ws = spawn(&mut hive, "a", 2);
    publish(&mut hive, "b0", &["g0"]);
    publish(&mut hive, "b1", &["g1"]);
    grant(&mut hive, &ws[0], Some("g0"), 1, 0).unwrap();
    grant(&mut hive, &ws[1], Some("g1"), 1, 0).unwrap();
    let ack = hive
        .lease_ctl(r#"{"lost":{"bridge":"b0"}}"#, &queen(), None, 5)
        .unwrap();
    assert_eq!(ack, "lost bridge=b0 revoked=1");
    assert!(commands(&hive, &ws[0]).contains("reason=bridge-lost"));
    assert!(hive.gpu_info("g0").unwrap().contains("state=lost"));
    assert_eq!(
        grant(&mut hive, &ws[0], Some("g0"), 9, 6),
        Err(Error::Closed)
    );
    // Published again, it is back.
    publish(&mut hive, "b0", &["g0"]);
    grant(&mut hive, &ws[0], Some("g0"), 1, 7).unwrap();
    // A killed worker's lease ends with it.
    hive.ctl(r#"{"kill":"w0002"}"#, "queen", 8).unwrap();
    assert!(!active(&hive).contains("worker=w0002"));
}

#[test]
fn the_scheduler_ages_waiting_requests_and_shares_across_tenants() {
    let mut m = manifest();
    m.schedule.age_step_ms = 1000;
    m.gpu.tenant_leases_max = 10;
    let mut hive = hive_with(m);
    let a = spawn(&mut hive, "a", 4);
    let b = spawn(&mut hive, "b", 2);
    publish(&mut hive, "b0", &["g0"]);
    grant(&mut hive, &a[0], Some("g0"), 9, 0).unwrap();
    // An old low-priority request beats a high priority one made 5 s (5 levels) later.
    enqueue(&mut hive, &a[1], 1, 0).unwrap();
    enqueue(&mut hive, &b[0], 3, 5_000).unwrap();
    let q = hive.schedule_proc("queue", 5_000).unwrap();
    assert!(
        q.contains("req=1 worker=w0002 tenant=a priority=1 aged=6"),
        "{q}"
    );
    hive.lease_ctl(r#"{"release":{"lease":1}}"#, &queen(), None, 6_000)
        .unwrap();
    assert!(active(&hive).contains("worker=w0002"), "{}", active(&hive));
    assert!(commands(&hive, &a[1]).contains("lease-granted req=1"));
    // The younger, higher request waits for free capacity: the scheduler never preempts.
    let s = hive.schedule_proc("summary", 6_000).unwrap();
    assert!(s.starts_with("queued=1 "), "{s}");
    assert_eq!(hive.lease_proc("preemptions").unwrap(), "");
}

#[test]
fn the_scheduler_serves_a_tenant_holding_fewer_leases_first() {
    let mut m = manifest();
    m.schedule.age_step_ms = 1000;
    m.gpu.tenant_leases_max = 10;
    let mut hive = hive_with(m);
    let a = spawn(&mut hive, "a", 3);
    let b = spawn(&mut hive, "b", 1);
    publish(&mut hive, "b0", &["g0", "g1"]);
    grant(&mut hive, &a[0], Some("g0"), 1, 0).unwrap();
    grant(&mut hive, &a[1], Some("g1"), 1, 0).unwrap();
    // a's request is older, but a holds two leases (two age steps) and b none.
    enqueue(&mut hive, &a[2], 1, 0).unwrap();
    enqueue(&mut hive, &b[0], 1, 500).unwrap();
    hive.lease_ctl(r#"{"release":{"lease":1}}"#, &queen(), None, 1_000)
        .unwrap();
    let act = active(&hive);
    assert!(act.contains("gpu=g0 worker=w0004 tenant=b"), "{act}");
    // Once a holds only one lease more than b, its older request is next.
    hive.lease_ctl(r#"{"release":{"lease":2}}"#, &queen(), None, 1_000)
        .unwrap();
    assert!(
        active(&hive).contains("gpu=g1 worker=w0003"),
        "{}",
        active(&hive)
    );
}

#[test]
fn a_full_queue_is_busy() {
    let mut m = manifest();
    m.schedule.queue_max = 2;
    let mut hive = hive_with(m);
    let a = spawn(&mut hive, "a", 3);
    publish(&mut hive, "b0", &["g0"]);
    grant(&mut hive, &a[0], Some("g0"), 9, 0).unwrap();
    enqueue(&mut hive, &a[1], 1, 0).unwrap();
    enqueue(&mut hive, &a[2], 1, 0).unwrap();
    assert_eq!(enqueue(&mut hive, &a[2], 1, 0), Err(Error::Busy));
    let bad = hive.schedule_ctl(
        r#"{"enqueue":{"gpu":"g0","mem_mb":1,"ttl_s":1}}"#,
        &queen(),
        0,
    );
    assert_eq!(bad.map_err(|r| r.error), Err(Error::Invalid));
}

#[test]
fn a_killed_workers_queued_requests_go_with_it() {
    let mut hive = hive_with(manifest());
    let a = spawn(&mut hive, "a", 3);
    publish(&mut hive, "b0", &["g0"]);
    grant(&mut hive, &a[0], Some("g0"), 9, 0).unwrap();
    enqueue(&mut hive, &a[1], 1, 0).unwrap();
    enqueue(&mut hive, &a[2], 1, 0).unwrap();
    enqueue(&mut hive, &a[1], 2, 0).unwrap();
    hive.ctl(r#"{"kill":"w0002"}"#, "queen", 1).unwrap();
    let q = hive.schedule_proc("queue", 1).unwrap();
    assert_eq!(q.lines().count(), 1, "{q}");
    assert!(q.starts_with("req=2 worker=w0003"), "{q}");
}

/// The journal a live hive wrote rebuilds the same leases, quotas and queue.
#[test]
fn a_restarted_hive_has_the_same_leases_and_queue() {
    let mut hive = hive_with(manifest());
    let mut journal: Vec<Entry> = Vec::new();
    let a = spawn(&mut hive, "a", 4);
    let b = spawn(&mut hive, "b", 2);
    publish(&mut hive, "b0", &["g0", "g1"]);
    publish(&mut hive, "b1", &["g2"]);
    grant(&mut hive, &a[0], Some("g0"), 1, 0).unwrap();
    grant(&mut hive, &a[1], Some("g1"), 1, 0).unwrap();
    grant(&mut hive, &b[0], Some("g0"), 7, 10).unwrap();
    hive.lease_ctl(r#"{"quota":{"tenant":"b","leases":1}}"#, &queen(), None, 10)
        .unwrap();
    enqueue(&mut hive, &a[2], 2, 20).unwrap();
    enqueue(&mut hive, &b[1], 5, 20).unwrap();
    hive.lease_ctl(r#"{"lost":{"bridge":"b1"}}"#, &queen(), None, 30)
        .unwrap();
    hive.lease_ctl(r#"{"renew":{"lease":2,"ttl_s":300}}"#, &queen(), None, 40)
        .unwrap();
    journal.extend(hive.take_journal());
    let snapshot = hive.snapshot();
    let views = |h: &Hive| {
        (
            h.lease_proc("active").unwrap(),
            h.schedule_proc("queue", 50).unwrap(),
            h.gpu_info("g2").unwrap(),
        )
    };
    let before = views(&hive);
    assert!(before.0.contains("worker=w0005") && before.1.contains("worker=w0006"));
    let boot = |state, entries: &[Entry]| {
        Hive::restore(
            manifest(),
            keys(),
            0,
            50,
            state,
            entries.iter(),
            core::iter::empty(),
        )
        .0
    };
    let from_journal = boot(None, &journal);
    assert_eq!(views(&from_journal), before);
    let from_snapshot = boot(Some(&snapshot), &[]);
    assert_eq!(views(&from_snapshot), before);
    // Lease and request ids continue, never repeat.
    let mut again = from_snapshot;
    again.system_event(SystemEvent::BootComplete, 60).ok();
    publish(&mut again, "b1", &["g2"]);
    let ack = grant(&mut again, &a[3], Some("g2"), 1, 60).unwrap();
    assert!(ack.starts_with("lease id=5 "), "{ack}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Grant(usize, Option<usize>, u8),
        Enqueue(usize, u8),
        Release(u64),
        Tick(u64),
        Lost(usize),
        Publish(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..12usize, proptest::option::of(0..6usize), 0..4u8)
                .prop_map(|(w, g, p)| Op::Grant(w, g, p)),
            (0..12usize, 0..4u8).prop_map(|(w, p)| Op::Enqueue(w, p)),
            (1..40u64).prop_map(Op::Release),
            (1..40_000u64).prop_map(Op::Tick),
            (0..2usize).prop_map(Op::Lost),
            (0..2usize).prop_map(Op::Publish),
        ]
    }

    fn check(hive: &Hive) {
        let b = &hive.gpus().broker;
        let mut seen = alloc::collections::BTreeSet::new();
        let mut per_tenant = alloc::collections::BTreeMap::new();
        for l in b.leases() {
            assert!(seen.insert(l.gpu.clone()), "{} leased twice", l.gpu);
            assert_eq!(b.device(&l.gpu).unwrap().lease, Some(l.id));
            assert!(!b.device(&l.gpu).unwrap().lost);
            *per_tenant.entry(l.tenant.clone()).or_insert(0u32) += 1;
        }
        for (t, n) in per_tenant {
            assert!(n <= b.quota(&t), "tenant {t} holds {n}");
        }
        for p in b.preemptions() {
            assert!(p.victim_priority < p.by_priority, "{p:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn never_a_double_grant_nor_a_quota_exceeded(ops in proptest::collection::vec(op(), 1..60)) {
            let mut hive = hive_with(manifest());
            let mut ws = spawn(&mut hive, "a", 6);
            ws.extend(spawn(&mut hive, "b", 6));
            let gpus = ["g0", "g1", "g2", "g3", "g4", "g5"];
            publish(&mut hive, "b0", &gpus[..3]);
            publish(&mut hive, "b1", &gpus[3..]);
            let mut now = 0;
            let mut journal = Vec::new();
            for op in ops {
                now += 100;
                match op {
                    Op::Grant(w, g, p) => { let _ = grant(&mut hive, &ws[w], g.map(|g| gpus[g]), p, now); }
                    Op::Enqueue(w, p) => { let _ = enqueue(&mut hive, &ws[w], p, now); }
                    Op::Release(l) => {
                        let line = alloc::format!(r#"{{"release":{{"lease":{l}}}}}"#);
                        let _ = hive.lease_ctl(&line, &queen(), None, now);
                    }
                    Op::Tick(dt) => { now += dt; hive.tick(now); }
                    Op::Lost(b) => {
                        let line = alloc::format!(r#"{{"lost":{{"bridge":"b{b}"}}}}"#);
                        let _ = hive.lease_ctl(&line, &queen(), None, now);
                    }
                    Op::Publish(b) => publish(&mut hive, if b == 0 { "b0" } else { "b1" }, if b == 0 { &gpus[..3] } else { &gpus[3..] }),
                }
                check(&hive);
                journal.extend(hive.take_journal());
            }
            let restored = Hive::restore(manifest(), keys(), 0, now, None, journal.iter(), core::iter::empty()).0;
            prop_assert_eq!(restored.lease_proc("active"), hive.lease_proc("active"));
            prop_assert_eq!(restored.schedule_proc("queue", now), hive.schedule_proc("queue", now));
        }
    }
}
