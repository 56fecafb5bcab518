//! Spawned workers come ONLINE through in-process heartbeat agents on real loopback sockets,
//! report telemetry, and stop when killed.

mod support;

use std::time::Duration;

use cohsh::Transport;
use support::{say, Hive};

#[test]
fn spawned_workers_come_online_and_killed_ones_stop() {
    let hive = Hive::start_with(|c| {
        c.agents = Some(cohsh::serve::AgentOptions { heartbeat_ms: 200 });
    });
    let mut queen = hive.queen(Transport::NineP);
    assert!(say(&mut queen, "spawn heartbeat count=20 ttl_s=600")[0].starts_with("OK SPAWN"));
    let online = hive
        .hive
        .wait_for(Duration::from_secs(20), |s| s.workers() == (0, 20, 0));
    assert!(online, "workers: {:?}", hive.hive.stats().workers());

    let status = format!(
        "/shard/{}/worker/w0007/status",
        hive::ShardLabel::of("w0007").as_str()
    );
    let lines = say(&mut queen, &format!("cat {status}"));
    assert!(lines[1].contains("state=ONLINE"), "{lines:?}");

    // Heartbeats arrive in the worker's telemetry.
    let telemetry = status.replace("/status", "/telemetry");
    // Waits for the event (telemetry lines), bounded generously rather than timed.
    let beating = (0..400).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        say(&mut queen, &format!("cat {telemetry}")).len() > 3
    });
    assert!(beating, "no heartbeats in {telemetry}");

    assert_eq!(say(&mut queen, "kill w0007")[0], "OK KILL id=w0007");
    let stopped = hive.hive.wait_for(Duration::from_secs(10), |s| {
        s.workers() == (0, 19, 0)
            && s.agents_stopped.load(std::sync::atomic::Ordering::Relaxed) == 1
    });
    assert!(stopped, "workers: {:?}", hive.hive.stats().workers());
    let gone = say(&mut queen, &format!("cat {status}"));
    assert!(gone[0].starts_with("ERR CAT reason=invalid"), "{gone:?}");
}

#[test]
fn without_agents_spawned_workers_stay_pending() {
    let hive = Hive::start_with(|c| c.agents = None);
    let mut queen = hive.queen(Transport::Console);
    assert!(say(&mut queen, "spawn heartbeat count=3")[0].starts_with("OK SPAWN"));
    assert!(hive
        .hive
        .wait_for(Duration::from_secs(5), |s| s.workers() == (3, 0, 0)));
    // Not a fixed sleep: wait for the hive to publish its counts forty more times (each
    // publication follows served turns), ample for an agent's connection to have come in.
    let turns = |s: &cohsh::serve::HiveStats| s.turns.load(std::sync::atomic::Ordering::Relaxed);
    let seen = turns(hive.hive.stats());
    assert!(hive
        .hive
        .wait_for(Duration::from_secs(30), |s| turns(s) >= seen + 40));
    assert_eq!(hive.hive.stats().workers(), (3, 0, 0));
    let running = &hive.hive.stats().agents_running;
    assert_eq!(running.load(std::sync::atomic::Ordering::Relaxed), 0);
}
