//! Synthetic hives for benchmarks, snapshot tests and demos: deterministic (no clock, no
//! randomness), with every panel populated.

use crate::model::{DashboardWorkerState, Model, Row};
use crate::transcript::Record;

/// States cycle through this pattern: mostly ONLINE, a few of every other state.
const PATTERN: [DashboardWorkerState; 20] = {
    use DashboardWorkerState::*;
    [
        Online, Online, Online, Online, Online, Online, Online, Online, Pending, Online, Online,
        Online, Degraded, Online, Online, Draining, Online, Offline, Online, Booting,
    ]
};

/// A model with `workers` workers, a telemetry tail on every twentieth, leases, a queue,
/// sessions, pressure and a full audit tail.
pub fn model(workers: usize) -> Model {
    let mut m = Model::new("alpha");
    m.lifecycle = String::from("ONLINE");
    for i in 0..workers {
        let id = format!("w{:05}", i + 1);
        m.set_state(&id, PATTERN[i % PATTERN.len()], "fixture");
        if let Some(w) = m.worker_mut(&id) {
            w.kind = String::from(if i % 10 == 3 { "gpu" } else { "heartbeat" });
            w.site = format!("s{}", i % 8 + 1);
            w.shard = format!("{:02x}", (i * 37) % 256);
            w.ops = format!("{}/500", i % 500);
        }
        if i % 20 == 0 {
            for k in 0..24u64 {
                let load = (k * 7 + i as u64) % 50;
                m.apply(&Record {
                    t_us: (k + 1) * 1_000_000,
                    hive: String::from("alpha"),
                    src: format!("s{}", i % 8 + 1),
                    ev: String::from("telemetry"),
                    fields: vec![
                        (String::from("id"), id.clone()),
                        (String::from("seq"), k.to_string()),
                        (String::from("load"), load.to_string()),
                    ],
                });
            }
        }
    }
    for g in 0..4 {
        m.leases.push(Row {
            key: format!("GPU-{g}"),
            detail: format!("worker=w{:05} mem_mb=4096 ttl_s=120", g * 10 + 4),
        });
    }
    for j in 0..3 {
        m.queue.push(Row {
            key: format!("j-{j}"),
            detail: format!("worker=w{:05} priority={j}", j + 2),
        });
    }
    m.sessions.active = workers as u64 + 1;
    m.sessions.opened = workers as u64 + 3;
    m.sessions.closed = 2;
    m.pressure = [0, 1, 0, 2, 0, 0];
    m.now_ms = 60_000;
    m
}
